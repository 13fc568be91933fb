package admin

import (
	"strings"
	"testing"

	"sluice"
	"sluice/backend/store"
)

// The binary's samples and tutorials import, every codebase has its main
// entry, and tutorial steps derive from their base steps.
func TestBundledCodebases(t *testing.T) {
	t.Parallel()
	samples, steps, err := BundledCodebases(sluice.Assets)
	if err != nil {
		t.Fatal(err)
	}
	if len(samples) == 0 {
		t.Fatal("no sample codebases")
	}
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	changed, err := st.ImportBundled(samples, steps)
	if err != nil {
		t.Fatal(err)
	}
	if len(changed) != len(samples)+len(steps) {
		t.Fatalf("imported %d of %d codebases", len(changed), len(samples)+len(steps))
	}
	for _, b := range append(samples, steps...) {
		sn, err := st.Snapshot(b.Path, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := sn.Files[sn.Main]; !ok {
			t.Errorf("%s: no main entry %s among %v", b.Path, sn.Main, sn.Paths())
		}
		info, err := st.Info(b.Path)
		if err != nil {
			t.Fatal(err)
		}
		tutorial := strings.HasPrefix(b.Path, "/tutorials/")
		if info.ReadOnly != tutorial {
			t.Errorf("%s: read-only %v", b.Path, info.ReadOnly)
		}
		if info.Base != b.Base {
			t.Errorf("%s: base %q, want %q", b.Path, info.Base, b.Base)
		}
		if tutorial && !strings.HasPrefix(b.Path, "/tutorials/services/") {
			if _, ok := sn.Files["/README.md"]; !ok {
				t.Errorf("%s: no README.md", b.Path)
			}
		}
	}
	// A second start changes nothing.
	if changed, err := st.ImportBundled(samples, steps); err != nil || len(changed) != 0 {
		t.Fatalf("second import: %v %v", changed, err)
	}
}
