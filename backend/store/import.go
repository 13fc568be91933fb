package store

import (
	"bytes"
	"database/sql"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
)

// Bundled is a codebase shipped inside the binary (a sample or a tutorial
// step).
type Bundled struct {
	Path  string            // e.g. "/tutorials/05-plugins"
	Base  string            // a codebase it derives from (imported first), or ""
	Main  string            // e.g. "/main.js"
	Files map[string][]byte // its own files, by path ("/plugins/router.js")
}

// ImportOptions says how Import treats the codebases.
type ImportOptions struct {
	// ReadOnly codebases cannot be edited, committed or deleted through the
	// store's methods; users derive a codebase from them to make changes.
	ReadOnly bool
	// Update gives an existing read-only codebase a new version when its
	// bundled files or main entry differ from its latest version (a newer
	// binary ships newer tutorials); the codebases derived from it follow.
	// Writable codebases are never touched once they exist.
	Update bool
}

// Import stores each bundled codebase that does not exist yet (and updates
// existing ones as opts says). Bases are imported before the codebases
// deriving from them. It returns the paths of the codebases it created or
// gave a new version.
func (s *Store) Import(list []Bundled, opts ImportOptions) ([]string, error) {
	byPath := map[string]*Bundled{}
	for i := range list {
		byPath[list[i].Path] = &list[i]
	}
	var changed []string
	done := map[string]bool{}
	var visit func(b *Bundled, depth int) error
	visit = func(b *Bundled, depth int) error {
		if done[b.Path] {
			return nil
		}
		if depth > maxDepth {
			return fmt.Errorf("bundled codebase %s: its bases loop", b.Path)
		}
		if base := byPath[b.Base]; base != nil {
			if err := visit(base, depth+1); err != nil {
				return err
			}
		}
		done[b.Path] = true
		did, err := s.importOne(b, opts)
		if did {
			changed = append(changed, b.Path)
		}
		return err
	}
	for i := range list {
		if err := visit(&list[i], 0); err != nil {
			return changed, err
		}
	}
	return changed, nil
}

func (s *Store) importOne(b *Bundled, opts ImportOptions) (did bool, err error) {
	p, err := CleanCodebasePath(b.Path)
	if err != nil {
		return false, err
	}
	main, err := CleanFilePath(b.Main)
	if err != nil {
		return false, fmt.Errorf("bundled codebase %s: %w", p, err)
	}
	for f := range b.Files {
		if _, err := CleanFilePath(f); err != nil {
			return false, fmt.Errorf("bundled codebase %s: %w", p, err)
		}
	}
	err = s.write(func(tx *sql.Tx) error {
		var base *codebaseRow
		if b.Base != "" {
			if base, err = getCodebase(tx, b.Base); err != nil {
				return fmt.Errorf("bundled codebase %s: base %s: %w", p, b.Base, err)
			}
		}
		c, err := getCodebase(tx, p)
		if err != nil {
			_, err := createTx(tx, p, base, opts.ReadOnly, b.Files, main)
			did = err == nil
			return err
		}
		if !opts.Update || !opts.ReadOnly || !c.readOnly {
			return nil
		}
		v, err := getVersion(tx, c, c.version)
		if err != nil {
			return err
		}
		own, err := ownFiles(tx, c.id, c.version)
		if err != nil {
			return err
		}
		if v.main == main && sameTree(own, b.Files) {
			return nil
		}
		next := tree{}
		for f, data := range b.Files {
			h, err := putBlob(tx, data)
			if err != nil {
				return err
			}
			next[f] = h
		}
		var baseVersion any
		if base != nil && c.baseID.Valid && base.id == c.baseID.Int64 {
			baseVersion = base.version
		} else if c.baseID.Valid {
			baseVersion = v.baseVersion
		}
		if err := addVersion(tx, c, c.version+1, main, baseVersion, next); err != nil {
			return err
		}
		if _, err := tx.Exec(`UPDATE codebases SET main = ? WHERE id = ?`, main, c.id); err != nil {
			return err
		}
		did = true
		var updates []Update
		return upgradeDerived(tx, c.id, c.version+1, &updates, 0)
	})
	return did, err
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

// FindCodebases reads the codebases under root in fsys, named prefix + their
// folder's path below root: a folder that directly holds a .js or .ts file
// is a codebase, made of every file below it (hidden files and folders
// excepted). mainOf picks the main entry (nil: GuessMain).
func FindCodebases(fsys fs.FS, root, prefix string, mainOf func(paths []string) string) ([]Bundled, error) {
	dirs, err := findCodebaseDirs(fsys, root)
	if err != nil {
		return nil, err
	}
	if mainOf == nil {
		mainOf = GuessMain
	}
	var out []Bundled
	for _, dir := range dirs {
		rel := strings.TrimPrefix(strings.TrimPrefix(dir, root), "/")
		files, err := ReadTree(fsys, dir)
		if err != nil {
			return nil, err
		}
		paths := make([]string, 0, len(files))
		for p := range files {
			paths = append(paths, p)
		}
		sort.Strings(paths)
		out = append(out, Bundled{Path: strings.TrimSuffix(prefix, "/") + "/" + rel, Main: mainOf(paths), Files: files})
	}
	return out, nil
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

// findCodebaseDirs lists the codebase folders under root, outermost first.
func findCodebaseDirs(fsys fs.FS, root string) ([]string, error) {
	if _, err := fs.Stat(fsys, root); err != nil {
		return nil, nil // nothing bundled
	}
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
	return out, walk(root)
}

// ReadTree reads every file below dir in fsys, keyed by its codebase path
// ("/plugins/x.js"); hidden files and folders are left out.
func ReadTree(fsys fs.FS, dir string) (map[string][]byte, error) {
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

// ImportBundled imports the samples (writable, on the first start only:
// a sample the user deleted stays deleted) and the tutorials (read-only,
// updated whenever the binary's copy changes).
func (s *Store) ImportBundled(samples, tutorials []Bundled) (changed []string, err error) {
	done, err := s.Meta("samples_imported")
	if err != nil {
		return nil, err
	}
	if done == "" {
		changed, err = s.Import(samples, ImportOptions{})
		if err != nil {
			return changed, err
		}
		if err := s.SetMeta("samples_imported", "1"); err != nil {
			return changed, err
		}
	}
	more, err := s.Import(tutorials, ImportOptions{ReadOnly: true, Update: true})
	return append(changed, more...), err
}
