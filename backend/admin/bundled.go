package admin

import (
	"bytes"
	"io/fs"
	"path"

	"sluice/backend/store"
	"sluice/backend/tutorials"
)

// BundledCodebases lists what the console imports from the binary's assets
// (the root package's embed): the sample codebases under codebases/, each
// as /<folder>, and the tutorial steps under tutorials/, each as the
// read-only /tutorials/<NN-name> deriving from its base step as the step's
// tutorial.json says, with its README.md and tutorial.json among its files;
// the tutorials' helper services become /tutorials/services/<name>.
func BundledCodebases(assets fs.FS) (samples, tutorialSteps []store.Bundled, err error) {
	samples, err = store.FindCodebases(assets, "codebases", "/", nil)
	if err != nil {
		return nil, nil, err
	}
	sub, err := fs.Sub(assets, "tutorials")
	if err != nil {
		return samples, nil, err
	}
	if _, err := fs.Stat(sub, "."); err != nil {
		return samples, nil, nil
	}
	set, err := tutorials.Load(sub)
	if err != nil {
		return samples, nil, err
	}
	for _, st := range set.Steps {
		names, err := st.OwnFiles()
		if err != nil {
			return samples, nil, err
		}
		files := map[string][]byte{}
		for _, n := range append(names, "README.md", "tutorial.json") {
			data, err := fs.ReadFile(sub, path.Join(st.Dir, n))
			if err != nil {
				return samples, nil, err
			}
			files["/"+n] = bytes.Clone(data)
		}
		b := store.Bundled{Path: "/tutorials/" + st.Dir, Main: "/" + st.Main, Files: files}
		if st.Base != "" {
			b.Base = "/tutorials/" + st.Base
		}
		tutorialSteps = append(tutorialSteps, b)
	}
	services, err := store.FindCodebases(sub, "services", "/tutorials/services", nil)
	if err != nil {
		return samples, nil, err
	}
	return samples, append(tutorialSteps, services...), nil
}
