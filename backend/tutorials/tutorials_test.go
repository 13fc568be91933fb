package tutorials_test

import (
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"net"
	"os"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"

	"sluice"
	_ "sluice/backend/filters"
	"sluice/backend/logging"
	"sluice/backend/metrics"
	"sluice/backend/tutorials"
)

// bundled reads the tutorials as the binary embeds them.
func bundled(t *testing.T) *tutorials.Set {
	t.Helper()
	sub, err := fs.Sub(sluice.Assets, "tutorials")
	if err != nil {
		t.Fatal(err)
	}
	set, err := tutorials.Load(sub)
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// freePorts picks a free port for every documented port, n times over, so
// that instances running side by side never share one. The ports are
// taken below the kernel's range of ephemeral ports: the test's own
// outbound connections (and those of other test processes) take their
// source ports from that range, and one of them holding a port would stop
// a listener from binding it later.
func freePorts(t *testing.T, n int) []map[int]int {
	t.Helper()
	lo, hi := 20000, 32000
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		var first, last int
		if _, err := fmt.Sscan(string(b), &first, &last); err == nil && first > 11000 {
			lo, hi = 10000, first-1
		}
	}
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	out := make([]map[int]int, n)
	p := lo + rand.IntN(hi-lo)
	for i := range out {
		out[i] = map[int]int{}
		for _, doc := range tutorials.Ports {
			for tries := 0; ; tries++ {
				if tries > hi-lo {
					t.Fatal("no free ports")
				}
				if p++; p > hi {
					p = lo
				}
				// As the scripts bind: every address, TCP.
				ln, err := net.Listen("tcp", fmt.Sprintf(":%d", p))
				if err == nil {
					lns = append(lns, ln)
					out[i][doc] = p
					break
				}
			}
		}
	}
	return out
}

// skips collects what was skipped, for the summary at the end.
type skips struct {
	mu    sync.Mutex
	lines []string
}

func (s *skips) add(format string, a ...any) {
	s.mu.Lock()
	s.lines = append(s.lines, fmt.Sprintf(format, a...))
	s.mu.Unlock()
}

// TestSteps runs every step: its expected exchanges on one instance, then
// the curl commands of its README on a fresh one, comparing what they
// print with the text. Steps run side by side on ports of their own.
// Exchanges that need a filter or class not built yet are skipped, and
// the skips are listed at the end.
func TestSteps(t *testing.T) {
	if !testing.Verbose() {
		logging.SetOutput(io.Discard)
		t.Cleanup(func() { logging.SetOutput(os.Stderr) })
	}
	set := bundled(t)
	if len(set.Steps) < 18 {
		t.Errorf("%d steps, want at least 18", len(set.Steps))
	}
	// Two sets of ports per step: its exchanges and its README run on
	// separate instances.
	ports := freePorts(t, 2*len(set.Steps))
	var skipped skips
	t.Cleanup(func() {
		if len(skipped.lines) == 0 {
			t.Logf("every step and every exchange ran")
			return
		}
		sort.Strings(skipped.lines)
		t.Logf("skipped, for features not registered yet:\n  %s", strings.Join(skipped.lines, "\n  "))
	})
	for i, st := range set.Steps {
		t.Run(st.Dir, func(t *testing.T) {
			t.Parallel()
			if miss := tutorials.Missing(st.Requires); len(miss) > 0 {
				skipped.add("%s: the whole step (needs %s)", st.Dir, strings.Join(miss, ", "))
				t.Skipf("needs %s", strings.Join(miss, ", "))
			}
			opts := tutorials.Options{Ports: ports[2*i], Threads: 2}
			t.Run("expect", func(t *testing.T) {
				freshMetrics(t, st)
				in, err := st.Start(opts)
				if err != nil {
					t.Fatalf("starting: %v", err)
				}
				defer in.Stop()
				c := in.NewClient()
				defer c.Close()
				for j, e := range st.Expect {
					label := fmt.Sprintf("#%d", j+1)
					if e.Name != "" {
						label += " (" + e.Name + ")"
					}
					if miss := tutorials.Missing(e.Requires); len(miss) > 0 {
						skipped.add("%s: exchange %s (needs %s)", st.Dir, label, strings.Join(miss, ", "))
						t.Logf("skipped exchange %s: needs %s", label, strings.Join(miss, ", "))
						continue
					}
					if err := c.Check(e); err != nil {
						t.Errorf("exchange %s: %v", label, err)
					}
				}
			})
			t.Run("readme", func(t *testing.T) {
				if miss := tutorials.Missing(st.AllRequires()); len(miss) > 0 {
					skipped.add("%s: the README's commands (need %s)", st.Dir, strings.Join(miss, ", "))
					t.Skipf("needs %s", strings.Join(miss, ", "))
				}
				cmds, err := tutorials.Commands(st.README)
				if err != nil {
					t.Fatal(err)
				}
				freshMetrics(t, st)
				opts.Ports = ports[2*i+1]
				in, err := st.Start(opts)
				if err != nil {
					t.Fatalf("starting: %v", err)
				}
				defer in.Stop()
				for _, cmd := range cmds {
					out, err := in.Run(cmd)
					if err != nil {
						t.Fatalf("README line %d: $ %s: %v", cmd.Line, cmd.Text, err)
					}
					if got := tutorials.Terminal(out); got != cmd.Output {
						t.Errorf("README line %d: $ %s\nthe text says:\n%s\nbut it prints:\n%s", cmd.Line, cmd.Text, cmd.Output, got)
					}
				}
			})
		})
	}
}

var scriptMetric = regexp.MustCompile(`new stats\.(?:Counter|Gauge|Histogram)\(\s*['"]([^'"]+)['"]`)

// freshMetrics forgets the metrics the step's scripts define: metrics are
// process-wide and outlive a program, so a second run of a step in the
// same process (its README after its exchanges) would start from the
// counts of the first. A reader's sluice --tutorial starts from zero.
//
// Only steps that show metrics do this: the files of a later step may
// still hold the plugin that defines them, unused, while the step that
// shows them runs alongside.
func freshMetrics(t *testing.T, st *tutorials.Step) {
	if st.MetricsPort == 0 {
		return
	}
	files, err := st.Files()
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range files {
		for _, m := range scriptMetric.FindAllSubmatch(b, -1) {
			metrics.Default.Remove(string(m[1]))
		}
	}
}

// TestManifests checks what does not need running: every step's codebase
// has its main module and the services' main modules, every README has the
// parts a step needs and commands to try, and the files a step inherits
// from its base are not copied needlessly.
func TestManifests(t *testing.T) {
	set := bundled(t)
	for _, st := range set.Steps {
		files, err := st.Files()
		if err != nil {
			t.Errorf("%s: %v", st.Dir, err)
			continue
		}
		if files[st.Main] == nil {
			t.Errorf("%s: main module %s is not in its codebase", st.Dir, st.Main)
		}
		for _, sv := range st.Services {
			if sv.Codebase == st.Dir {
				t.Errorf("%s: service %s runs the step itself", st.Dir, sv.Name)
			}
		}
		for _, heading := range []string{"## What you will learn", "## The code", "## Try it", "## Exercise"} {
			if !strings.Contains(st.README, "\n"+heading+"\n") {
				t.Errorf("%s/README.md: no %q section", st.Dir, heading)
			}
		}
		if !strings.HasPrefix(st.README, "# ") {
			t.Errorf("%s/README.md: does not start with a title", st.Dir)
		}
		cmds, err := tutorials.Commands(st.README)
		if err != nil {
			t.Errorf("%s: %v", st.Dir, err)
		} else if len(cmds) == 0 {
			t.Errorf("%s/README.md: no command to try", st.Dir)
		}
		if len(st.Expect) == 0 {
			t.Errorf("%s: no expectations", st.Dir)
		}
		if b := st.BaseStep(); b != nil {
			own, _ := st.OwnFiles()
			inherited, _ := b.Files()
			for _, name := range own {
				if string(inherited[name]) == string(files[name]) {
					t.Errorf("%s/%s: the same as in its base %s; leave it out", st.Dir, name, b.Dir)
				}
			}
		}
		for _, r := range st.AllRequires() {
			if strings.ContainsAny(r, " ()") {
				t.Errorf("%s: requirement %q is not a filter or class name", st.Dir, r)
			}
		}
	}
}

func TestAvailable(t *testing.T) {
	for _, name := range []string{"serveHTTP", "algo.URLRouter", "Message"} {
		if !tutorials.Available(name) {
			t.Errorf("%s: not available", name)
		}
	}
	for _, name := range []string{"noSuchFilter", "algo.NoSuchClass", "1+1", "x; y"} {
		if tutorials.Available(name) {
			t.Errorf("%s: available", name)
		}
	}
}
