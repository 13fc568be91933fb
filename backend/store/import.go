package store

import (
	"bytes"
	"database/sql"
	"io/fs"
	"path"
	"sort"
	"strings"
)

// ImportOptions says how Import treats the codebases it finds.
type ImportOptions struct {
	// ReadOnly codebases cannot be edited, committed or deleted through the
	// store's methods; users derive a codebase from them to make changes.
	ReadOnly bool
	// Update gives an existing read-only codebase a new version when the
	// bundled files differ from its latest version (a newer binary ships
	// newer tutorials). Writable codebases are never touched once they exist.
	Update bool
	// Main picks the main entry among a codebase's file paths; nil uses
	// GuessMain.
	Main func(paths []string) string
}

// Import finds the codebases under root in fsys and stores each one that
// does not exist yet as prefix + its folder's path below root: a folder
// that directly holds a .js or .ts file is a codebase, made of every file
// below it (hidden files and folders excepted). It returns the paths of the
// codebases it created or updated.
func (s *Store) Import(fsys fs.FS, root, prefix string, opts ImportOptions) ([]string, error) {
	found, err := findCodebases(fsys, root)
	if err != nil {
		return nil, err
	}
	mainOf := opts.Main
	if mainOf == nil {
		mainOf = GuessMain
	}
	var changed []string
	for _, dir := range found {
		rel := strings.TrimPrefix(strings.TrimPrefix(dir, root), "/")
		cbPath, err := CleanCodebasePath(strings.TrimSuffix(prefix, "/") + "/" + rel)
		if err != nil {
			return changed, err
		}
		files, err := readTree(fsys, dir)
		if err != nil {
			return changed, err
		}
		paths := make([]string, 0, len(files))
		for p := range files {
			paths = append(paths, p)
		}
		sort.Strings(paths)
		main := mainOf(paths)
		did := false
		err = s.write(func(tx *sql.Tx) error {
			c, err := getCodebase(tx, cbPath)
			if err != nil {
				_, err := createTx(tx, cbPath, nil, opts.ReadOnly, files, main)
				did = err == nil
				return err
			}
			if !opts.Update || !c.readOnly || !opts.ReadOnly {
				return nil
			}
			curMain, cur, err := committedTree(tx, c, c.version)
			if err != nil {
				return err
			}
			if curMain == main && sameTree(cur, files) {
				return nil
			}
			own := tree{}
			for p, data := range files {
				h, err := putBlob(tx, data)
				if err != nil {
					return err
				}
				own[p] = h
			}
			if err := addVersion(tx, c, c.version+1, main, nil, own); err != nil {
				return err
			}
			if _, err := tx.Exec(`UPDATE codebases SET main = ? WHERE id = ?`, main, c.id); err != nil {
				return err
			}
			var updates []Update
			did = true
			return upgradeDerived(tx, c.id, c.version+1, &updates, 0)
		})
		if err != nil {
			return changed, err
		}
		if did {
			changed = append(changed, cbPath)
		}
	}
	return changed, nil
}

func sameTree(t tree, files map[string][]byte) bool {
	if len(t) != len(files) {
		return false
	}
	for p, data := range files {
		if t[p] != hashOf(data) {
			return false
		}
	}
	return true
}

// GuessMain picks a main entry: the first of main, proxy, hello and index
// (.js, then .ts) at the top, else the first top-level script by name.
func GuessMain(paths []string) string {
	has := map[string]bool{}
	for _, p := range paths {
		has[p] = true
	}
	for _, name := range []string{"main", "proxy", "hello", "index"} {
		for _, ext := range []string{".js", ".ts"} {
			if has["/"+name+ext] {
				return "/" + name + ext
			}
		}
	}
	for _, p := range paths {
		if isScript(p) && strings.Count(p, "/") == 1 {
			return p
		}
	}
	if len(paths) > 0 {
		return paths[0]
	}
	return "/main.js"
}

func isScript(name string) bool {
	ext := path.Ext(name)
	return ext == ".js" || ext == ".ts"
}

func hidden(name string) bool { return strings.HasPrefix(name, ".") || name == "node_modules" }

// findCodebases lists the codebase folders under root, outermost first.
func findCodebases(fsys fs.FS, root string) ([]string, error) {
	var out []string
	var walk func(dir string) error
	walk = func(dir string) error {
		entries, err := fs.ReadDir(fsys, dir)
		if err != nil {
			return err
		}
		if dir != root {
			for _, e := range entries {
				if !e.IsDir() && isScript(e.Name()) && !hidden(e.Name()) {
					out = append(out, dir)
					return nil
				}
			}
		}
		for _, e := range entries {
			if e.IsDir() && !hidden(e.Name()) {
				if err := walk(path.Join(dir, e.Name())); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if _, err := fs.Stat(fsys, root); err != nil {
		return nil, nil // nothing bundled
	}
	return out, walk(root)
}

// readTree reads every file below dir, by codebase path ("/plugins/x.js").
func readTree(fsys fs.FS, dir string) (map[string][]byte, error) {
	files := map[string][]byte{}
	err := fs.WalkDir(fsys, dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != dir && hidden(d.Name()) {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		rel := "/" + strings.TrimPrefix(strings.TrimPrefix(p, dir), "/")
		if _, err := CleanFilePath(rel); err != nil {
			return err
		}
		files[rel] = bytes.Clone(data)
		return nil
	})
	return files, err
}

// ImportBundled imports the sample codebases under codebases/ (writable, on
// the first start only) and the tutorials under tutorials/ (read-only, as
// /tutorials/<step>, updated when the binary's copy changes) from assets.
func (s *Store) ImportBundled(assets fs.FS) (changed []string, err error) {
	done, err := s.Meta("samples_imported")
	if err != nil {
		return nil, err
	}
	if done == "" {
		changed, err = s.Import(assets, "codebases", "/", ImportOptions{})
		if err != nil {
			return changed, err
		}
		if err := s.SetMeta("samples_imported", "1"); err != nil {
			return changed, err
		}
	}
	more, err := s.Import(assets, "tutorials", "/tutorials", ImportOptions{ReadOnly: true, Update: true})
	return append(changed, more...), err
}
