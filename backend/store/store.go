// Package store keeps the console's codebases in SQLite (modernc.org/sqlite,
// pure Go): each codebase is a series of immutable versions plus the drafts
// being edited, as in Pipy's repo.
//
//   - A codebase has a path ("/hello", "/tutorials/01-hello") and a main
//     entry ("/hello.js"). Editing a file makes a draft; erasing one marks
//     it erased; a commit turns the drafts and the main entry into a new
//     version, which never changes afterwards. Runs and workers always
//     execute one version (the console's Run may execute the drafts: see
//     Draft).
//   - A codebase may derive from a base codebase. It owns only the files it
//     changes and reads the others from its base. Committing a base gives
//     every codebase derived from it (recursively) a new version on top of
//     the new base version, so their workers pick up the change, as in
//     Pipy.
//   - Codebases never nest: no codebase path is a folder of another, so a
//     URL path names one codebase and one file without ambiguity.
//   - File contents are stored once per distinct content (blobs keyed by
//     SHA-256); a file's ETag is derived from its content.
//
// The database file is sluice.db in the data folder, in WAL mode with a busy
// timeout, migrated with the numbered SQL files embedded from migrations/.
//
// Threading: a Store is safe for concurrent use. Writes are serialized by
// the Store and run in immediate transactions; reads run in read-only
// transactions and see a consistent state.
package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing/fstest"
	"time"

	_ "modernc.org/sqlite" // the "sqlite" database/sql driver
)

// Limits on what a codebase may hold.
const (
	MaxFileSize = 4 << 20 // bytes in one file
	MaxFiles    = 1000    // files in one codebase, its base's included
	MaxPathLen  = 1024    // bytes in a file or codebase path
)

// Errors, matched with errors.Is. The errors returned wrap one of them and
// read as a sentence for the user.
var (
	ErrNotFound     = errors.New("not found")
	ErrExists       = errors.New("already exists")
	ErrReadOnly     = errors.New("read-only")
	ErrInvalid      = errors.New("invalid")
	ErrConflict     = errors.New("conflict")
	ErrPrecondition = errors.New("precondition failed")
	ErrTooLarge     = errors.New("too large")
)

// Error is a store error: Kind is one of the Err values.
type Error struct {
	Kind error
	Msg  string
}

func (e *Error) Error() string { return e.Msg }
func (e *Error) Unwrap() error { return e.Kind }

func errorf(kind error, format string, a ...any) error {
	return &Error{Kind: kind, Msg: fmt.Sprintf(format, a...)}
}

// NewMainScript is the main file of a new codebase that has no base.
const NewMainScript = "pipy()\n"

//go:embed migrations/*.sql
var migrations embed.FS

// Store is an open database of codebases.
type Store struct {
	db   *sql.DB
	wmu  sync.Mutex // serializes writers
	file string

	maxFiles int // MaxFiles; lowered by tests
}

// Open opens (creating if needed) the store in dir.
func Open(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("cannot create the data folder: %w", err)
	}
	file := filepath.Join(dir, "sluice.db")
	if strings.ContainsAny(file, "?#") {
		return nil, fmt.Errorf("the data folder's path may not contain ? or #: %s", dir)
	}
	dsn := file + "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)" +
		"&_pragma=synchronous(NORMAL)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(8)
	s := &Store{db: db, file: file, maxFiles: MaxFiles}
	if err := s.migrate(); err != nil {
		db.Close()
		return nil, fmt.Errorf("opening %s: %w", file, err)
	}
	return s, nil
}

// File is the database file's path.
func (s *Store) File() string { return s.file }

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// migrate applies the embedded migrations not applied yet, each in its own
// transaction, in the order of their numbers.
func (s *Store) migrate() error {
	if _, err := s.db.Exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`); err != nil {
		return err
	}
	entries, err := fs.ReadDir(migrations, "migrations")
	if err != nil {
		return err
	}
	type mig struct {
		n    int
		name string
	}
	var all []mig
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		n, err := strconv.Atoi(num)
		if !ok || err != nil || !strings.HasSuffix(e.Name(), ".sql") {
			return fmt.Errorf("migration %s: the name must be NNNN_name.sql", e.Name())
		}
		all = append(all, mig{n, e.Name()})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].n < all[j].n })
	var newest int
	if err := s.db.QueryRow(`SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&newest); err != nil {
		return err
	}
	if len(all) > 0 && newest > all[len(all)-1].n {
		return fmt.Errorf("the database has schema version %d, newer than this sluice knows (%d)", newest, all[len(all)-1].n)
	}
	for _, m := range all {
		if m.n <= newest {
			continue
		}
		body, err := migrations.ReadFile("migrations/" + m.name)
		if err != nil {
			return err
		}
		err = s.write(func(tx *sql.Tx) error {
			if _, err := tx.Exec(string(body)); err != nil {
				return fmt.Errorf("migration %s: %w", m.name, err)
			}
			_, err := tx.Exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
				m.n, m.name, time.Now().UnixMilli())
			return err
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// write runs fn in an immediate transaction, one writer at a time.
func (s *Store) write(fn func(tx *sql.Tx) error) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	tx, err := s.db.Begin()
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// read runs fn in a read-only transaction.
func (s *Store) read(fn func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(context.Background(), &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return err
	}
	defer tx.Rollback()
	return fn(tx)
}

// Meta returns a value stored under key, or "" when there is none.
func (s *Store) Meta(key string) (string, error) {
	var v string
	err := s.db.QueryRow(`SELECT value FROM meta WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return v, err
}

// SetMeta stores value under key.
func (s *Store) SetMeta(key, value string) error {
	return s.write(func(tx *sql.Tx) error {
		_, err := tx.Exec(`INSERT INTO meta (key, value) VALUES (?, ?)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value)
		return err
	})
}

// ---------------------------------------------------------------------------
// Paths

// CleanCodebasePath checks a codebase path such as "/tutorials/01-hello" and
// returns it without a trailing slash. Each name is made of letters, digits,
// '.', '_' and '-', and does not start with a dot.
func CleanCodebasePath(p string) (string, error) {
	p = strings.TrimSuffix(p, "/")
	if err := checkPath(p, "codebase"); err != nil {
		return "", err
	}
	for _, seg := range strings.Split(p[1:], "/") {
		if seg[0] == '.' {
			return "", errorf(ErrInvalid, "invalid codebase path %q: a name may not start with a dot", p)
		}
		for _, r := range seg {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
				return "", errorf(ErrInvalid, "invalid codebase path %q: names may hold only letters, digits, '.', '_' and '-'", p)
			}
		}
	}
	return p, nil
}

// CleanFilePath checks a file path inside a codebase, such as
// "/plugins/router.js": it starts with a slash, and no name in it is empty,
// "." or "..", or holds a backslash, a NUL or another control character.
func CleanFilePath(p string) (string, error) {
	if err := checkPath(p, "file"); err != nil {
		return "", err
	}
	return p, nil
}

func checkPath(p, what string) error {
	switch {
	case p == "" || p == "/":
		return errorf(ErrInvalid, "missing %s path", what)
	case len(p) > MaxPathLen:
		return errorf(ErrInvalid, "%s path longer than %d bytes", what, MaxPathLen)
	case p[0] != '/':
		return errorf(ErrInvalid, "invalid %s path %q: it must start with /", what, p)
	}
	for _, seg := range strings.Split(p[1:], "/") {
		switch seg {
		case "":
			return errorf(ErrInvalid, "invalid %s path %q: empty name", what, p)
		case ".", "..":
			return errorf(ErrInvalid, "invalid %s path %q: %q is not allowed", what, p, seg)
		}
		for _, r := range seg {
			if r < 0x20 || r == 0x7f || r == '\\' || r == 0xfffd {
				return errorf(ErrInvalid, "invalid %s path %q: control characters, backslashes and invalid UTF-8 are not allowed", what, p)
			}
		}
	}
	return nil
}

// ---------------------------------------------------------------------------
// Rows and trees

type codebaseRow struct {
	id       int64
	path     string
	baseID   sql.NullInt64
	main     string
	version  int
	readOnly bool
}

// tree maps file paths to blob hashes.
type tree map[string]string

func (t tree) paths() []string {
	out := make([]string, 0, len(t))
	for p := range t {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

const codebaseCols = `id, path, base_id, main, version, read_only`

func scanCodebase(row interface{ Scan(...any) error }) (*codebaseRow, error) {
	c := &codebaseRow{}
	err := row.Scan(&c.id, &c.path, &c.baseID, &c.main, &c.version, &c.readOnly)
	return c, err
}

func getCodebase(tx *sql.Tx, path string) (*codebaseRow, error) {
	c, err := scanCodebase(tx.QueryRow(`SELECT `+codebaseCols+` FROM codebases WHERE path = ?`, path))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errorf(ErrNotFound, "codebase %s not found", path)
	}
	return c, err
}

func getCodebaseByID(tx *sql.Tx, id int64) (*codebaseRow, error) {
	c, err := scanCodebase(tx.QueryRow(`SELECT `+codebaseCols+` FROM codebases WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errorf(ErrNotFound, "codebase #%d not found", id)
	}
	return c, err
}

func ownFiles(tx *sql.Tx, id int64, version int) (tree, error) {
	rows, err := tx.Query(`SELECT path, hash FROM version_files WHERE codebase_id = ? AND version = ?`, id, version)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	t := tree{}
	for rows.Next() {
		var p, h string
		if err := rows.Scan(&p, &h); err != nil {
			return nil, err
		}
		t[p] = h
	}
	return t, rows.Err()
}

type versionRow struct {
	main        string
	baseVersion sql.NullInt64
	created     int64
}

func getVersion(tx *sql.Tx, c *codebaseRow, version int) (*versionRow, error) {
	v := &versionRow{}
	err := tx.QueryRow(`SELECT main, base_version, created_at FROM versions WHERE codebase_id = ? AND version = ?`,
		c.id, version).Scan(&v.main, &v.baseVersion, &v.created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errorf(ErrNotFound, "codebase %s has no version %d", c.path, version)
	}
	return v, err
}

// maxDepth bounds base chains (they cannot loop, but a damaged database
// must not hang the console).
const maxDepth = 64

// committedTree is every file of version of c, its bases' included, and the
// version's main entry.
func committedTree(tx *sql.Tx, c *codebaseRow, version int) (main string, files tree, err error) {
	return committedTreeDepth(tx, c, version, 0)
}

func committedTreeDepth(tx *sql.Tx, c *codebaseRow, version, depth int) (string, tree, error) {
	if depth > maxDepth {
		return "", nil, fmt.Errorf("codebase %s: base chain too deep", c.path)
	}
	v, err := getVersion(tx, c, version)
	if err != nil {
		return "", nil, err
	}
	files := tree{}
	if c.baseID.Valid && v.baseVersion.Valid {
		base, err := getCodebaseByID(tx, c.baseID.Int64)
		if err != nil {
			return "", nil, err
		}
		_, files, err = committedTreeDepth(tx, base, int(v.baseVersion.Int64), depth+1)
		if err != nil {
			return "", nil, err
		}
	}
	own, err := ownFiles(tx, c.id, version)
	if err != nil {
		return "", nil, err
	}
	for p, h := range own {
		files[p] = h
	}
	return v.main, files, nil
}

// baseTree is the files c inherits at its current version.
func baseTree(tx *sql.Tx, c *codebaseRow) (tree, error) {
	if !c.baseID.Valid {
		return tree{}, nil
	}
	v, err := getVersion(tx, c, c.version)
	if err != nil {
		return nil, err
	}
	base, err := getCodebaseByID(tx, c.baseID.Int64)
	if err != nil {
		return nil, err
	}
	_, files, err := committedTree(tx, base, int(v.baseVersion.Int64))
	return files, err
}

type draftRow struct {
	hash   string
	erased bool
}

func drafts(tx *sql.Tx, id int64) (map[string]draftRow, error) {
	rows, err := tx.Query(`SELECT path, hash FROM drafts WHERE codebase_id = ?`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]draftRow{}
	for rows.Next() {
		var p string
		var h sql.NullString
		if err := rows.Scan(&p, &h); err != nil {
			return nil, err
		}
		out[p] = draftRow{hash: h.String, erased: !h.Valid}
	}
	return out, rows.Err()
}

// working is a codebase's working copy: the current version with the
// drafts applied. An erased own file uncovers the base's file of the same
// path, if any, as in Pipy.
type working struct {
	files  tree // the working copy
	own    tree // own files of the current version
	base   tree // inherited files
	drafts map[string]draftRow
}

// editable is a codebase that may be changed, with its working tree.
func editable(tx *sql.Tx, path string) (*codebaseRow, *working, error) {
	c, err := writable(tx, path)
	if err != nil {
		return nil, nil, err
	}
	w, err := workingTree(tx, c)
	if err != nil {
		return nil, nil, err
	}
	return c, w, nil
}

func workingTree(tx *sql.Tx, c *codebaseRow) (*working, error) {
	w := &working{files: tree{}}
	var err error
	if w.base, err = baseTree(tx, c); err != nil {
		return nil, err
	}
	if w.own, err = ownFiles(tx, c.id, c.version); err != nil {
		return nil, err
	}
	if w.drafts, err = drafts(tx, c.id); err != nil {
		return nil, err
	}
	for p, h := range w.base {
		w.files[p] = h
	}
	for p, h := range w.own {
		w.files[p] = h
	}
	for p, d := range w.drafts {
		switch {
		case !d.erased:
			w.files[p] = d.hash
		case w.base[p] != "":
			w.files[p] = w.base[p]
		default:
			delete(w.files, p)
		}
	}
	return w, nil
}

func hashOf(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// ETagOf is the entity tag of a file's content.
func ETagOf(data []byte) string { return etag(hashOf(data)) }

func etag(hash string) string { return `"` + hash[:24] + `"` }

func putBlob(tx *sql.Tx, data []byte) (string, error) {
	h := hashOf(data)
	if data == nil {
		data = []byte{}
	}
	_, err := tx.Exec(`INSERT INTO blobs (hash, size, data) VALUES (?, ?, ?) ON CONFLICT (hash) DO NOTHING`, h, len(data), data)
	return h, err
}

func getBlob(tx *sql.Tx, hash string) ([]byte, error) {
	var data []byte
	err := tx.QueryRow(`SELECT data FROM blobs WHERE hash = ?`, hash).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("blob %s is missing", hash)
	}
	if data == nil {
		data = []byte{}
	}
	return data, err
}

// dropBlobs deletes the given blobs if nothing refers to them any more.
func dropBlobs(tx *sql.Tx, hashes ...string) error {
	for _, h := range hashes {
		if h == "" {
			continue
		}
		if _, err := tx.Exec(`DELETE FROM blobs WHERE hash = ?1
			AND NOT EXISTS (SELECT 1 FROM version_files WHERE hash = ?1)
			AND NOT EXISTS (SELECT 1 FROM drafts WHERE hash = ?1)`, h); err != nil {
			return err
		}
	}
	return nil
}

// matchETag checks an If-Match value against the current hash ("" when the
// file does not exist). An empty ifMatch matches anything.
func matchETag(ifMatch, hash, file string) error {
	ifMatch = strings.TrimSpace(ifMatch)
	if ifMatch == "" {
		return nil
	}
	if ifMatch == "*" {
		if hash == "" {
			return errorf(ErrPrecondition, "%s does not exist", file)
		}
		return nil
	}
	if hash != "" {
		cur := etag(hash)
		for _, t := range strings.Split(ifMatch, ",") {
			if strings.TrimPrefix(strings.TrimSpace(t), "W/") == cur {
				return nil
			}
		}
	}
	return errorf(ErrPrecondition, "%s was changed since it was read (its ETag is no longer %s); reload it and save again", file, ifMatch)
}

// ---------------------------------------------------------------------------
// Codebases

// Info describes a codebase the way Pipy's GET /api/v1/repo/<codebase> does.
type Info struct {
	Path        string
	Version     int
	Main        string // the main entry being edited (committed by Commit)
	Base        string // the base codebase's path, "" when not derived
	ReadOnly    bool
	Files       []string // files the codebase owns in its current version
	EditFiles   []string // drafts
	ErasedFiles []string // own files erased in the drafts
	BaseFiles   []string // files inherited from the base
	Derived     []string // codebases derived from this one
}

// List returns every codebase path, sorted.
func (s *Store) List() ([]string, error) {
	var out []string
	err := s.read(func(tx *sql.Tx) error {
		rows, err := tx.Query(`SELECT path FROM codebases ORDER BY path`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var p string
			if err := rows.Scan(&p); err != nil {
				return err
			}
			out = append(out, p)
		}
		return rows.Err()
	})
	return out, err
}

// Info describes the codebase at path.
func (s *Store) Info(path string) (*Info, error) {
	var info *Info
	err := s.read(func(tx *sql.Tx) error {
		c, err := getCodebase(tx, path)
		if err != nil {
			return err
		}
		info = &Info{Path: c.path, Version: c.version, Main: c.main, ReadOnly: c.readOnly,
			Files: []string{}, EditFiles: []string{}, ErasedFiles: []string{}, BaseFiles: []string{}, Derived: []string{}}
		own, err := ownFiles(tx, c.id, c.version)
		if err != nil {
			return err
		}
		info.Files = append(info.Files, own.paths()...)
		ds, err := drafts(tx, c.id)
		if err != nil {
			return err
		}
		for p, d := range ds {
			if d.erased {
				info.ErasedFiles = append(info.ErasedFiles, p)
			} else {
				info.EditFiles = append(info.EditFiles, p)
			}
		}
		sort.Strings(info.EditFiles)
		sort.Strings(info.ErasedFiles)
		if c.baseID.Valid {
			base, err := getCodebaseByID(tx, c.baseID.Int64)
			if err != nil {
				return err
			}
			info.Base = base.path
			bt, err := baseTree(tx, c)
			if err != nil {
				return err
			}
			info.BaseFiles = append(info.BaseFiles, bt.paths()...)
		}
		rows, err := tx.Query(`SELECT path FROM codebases WHERE base_id = ? ORDER BY path`, c.id)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var p string
			if err := rows.Scan(&p); err != nil {
				return err
			}
			info.Derived = append(info.Derived, p)
		}
		return rows.Err()
	})
	return info, err
}

// Resolve splits a path such as "/tutorials/01-hello/hello.js" into the
// codebase it falls in and the file inside it ("" when the path names the
// codebase itself). It returns ErrNotFound when no codebase contains it.
func (s *Store) Resolve(p string) (codebase, file string, err error) {
	if err := checkPath(strings.TrimSuffix(p, "/"), "codebase or file"); err != nil {
		return "", "", err
	}
	var candidates []any
	for i := 1; i <= len(p); i++ {
		if i == len(p) || p[i] == '/' {
			candidates = append(candidates, p[:i])
		}
	}
	err = s.read(func(tx *sql.Tx) error {
		q := `SELECT path FROM codebases WHERE path IN (?` + strings.Repeat(",?", len(candidates)-1) + `) ORDER BY length(path) DESC LIMIT 1`
		return tx.QueryRow(q, candidates...).Scan(&codebase)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", errorf(ErrNotFound, "no codebase contains %s", p)
	}
	if err != nil {
		return "", "", err
	}
	file = p[len(codebase):]
	if file == "" || file == "/" {
		return codebase, "", nil
	}
	if _, err := CleanFilePath(file); err != nil {
		return "", "", err
	}
	return codebase, file, nil
}

// Create makes a codebase. Without a base it starts with version 1 holding
// /main.js = "pipy()", flagged main. With a base it starts with version 1
// holding no files of its own and the base's main entry.
func (s *Store) Create(path, base string) error {
	p, err := CleanCodebasePath(path)
	if err != nil {
		return err
	}
	return s.write(func(tx *sql.Tx) error {
		if base == "" {
			_, err := createTx(tx, p, nil, false, map[string][]byte{"/main.js": []byte(NewMainScript)}, "/main.js")
			return err
		}
		b, err := CleanCodebasePath(base)
		if err != nil {
			return err
		}
		bc, err := getCodebase(tx, b)
		if err != nil {
			return errorf(ErrNotFound, "base codebase %s not found", b)
		}
		bv, err := getVersion(tx, bc, bc.version)
		if err != nil {
			return err
		}
		_, err = createTx(tx, p, bc, false, nil, bv.main)
		return err
	})
}

// createTx inserts a codebase at version 1 with the given own files.
func createTx(tx *sql.Tx, path string, base *codebaseRow, readOnly bool, files map[string][]byte, main string) (*codebaseRow, error) {
	var n int
	if err := tx.QueryRow(`SELECT COUNT(*) FROM codebases WHERE path = ?`, path).Scan(&n); err != nil {
		return nil, err
	}
	if n > 0 {
		return nil, errorf(ErrExists, "codebase %s already exists", path)
	}
	var other string
	err := tx.QueryRow(`SELECT path FROM codebases WHERE substr(?1, 1, length(path) + 1) = path || '/'
		OR substr(path, 1, length(?1) + 1) = ?1 || '/' LIMIT 1`, path).Scan(&other)
	if err == nil {
		return nil, errorf(ErrConflict, "codebase %s cannot be created: codebases do not nest, and %s exists", path, other)
	} else if !errors.Is(err, sql.ErrNoRows) {
		return nil, err
	}
	now := time.Now().UnixMilli()
	var baseID, baseVersion any
	if base != nil {
		baseID, baseVersion = base.id, base.version
	}
	res, err := tx.Exec(`INSERT INTO codebases (path, base_id, main, version, read_only, created_at) VALUES (?, ?, ?, 1, ?, ?)`,
		path, baseID, main, readOnly, now)
	if err != nil {
		return nil, err
	}
	id, err := res.LastInsertId()
	if err != nil {
		return nil, err
	}
	if _, err := tx.Exec(`INSERT INTO versions (codebase_id, version, main, base_version, created_at) VALUES (?, 1, ?, ?, ?)`,
		id, main, baseVersion, now); err != nil {
		return nil, err
	}
	for p, data := range files {
		if len(data) > MaxFileSize {
			return nil, errorf(ErrTooLarge, "%s is larger than %d bytes", p, MaxFileSize)
		}
		h, err := putBlob(tx, data)
		if err != nil {
			return nil, err
		}
		if _, err := tx.Exec(`INSERT INTO version_files (codebase_id, version, path, hash) VALUES (?, 1, ?, ?)`, id, p, h); err != nil {
			return nil, err
		}
	}
	return getCodebaseByID(tx, id)
}

// Delete removes a codebase with all its versions and drafts. Read-only
// codebases and codebases that others derive from cannot be deleted.
func (s *Store) Delete(path string) error {
	return s.write(func(tx *sql.Tx) error {
		c, err := getCodebase(tx, path)
		if err != nil {
			return err
		}
		if c.readOnly {
			return errorf(ErrReadOnly, "codebase %s is read-only", c.path)
		}
		var derived string
		err = tx.QueryRow(`SELECT path FROM codebases WHERE base_id = ? ORDER BY path LIMIT 1`, c.id).Scan(&derived)
		if err == nil {
			return errorf(ErrConflict, "codebase %s cannot be deleted: %s derives from it", c.path, derived)
		} else if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if _, err := tx.Exec(`DELETE FROM codebases WHERE id = ?`, c.id); err != nil {
			return err
		}
		_, err = tx.Exec(`DELETE FROM blobs WHERE hash NOT IN (SELECT hash FROM version_files)
			AND hash NOT IN (SELECT hash FROM drafts WHERE hash IS NOT NULL)`)
		return err
	})
}

func writable(tx *sql.Tx, path string) (*codebaseRow, error) {
	c, err := getCodebase(tx, path)
	if err != nil {
		return nil, err
	}
	if c.readOnly {
		return nil, errorf(ErrReadOnly, "codebase %s is read-only; derive a codebase from it to make changes", c.path)
	}
	return c, nil
}

// SetMain flags file as the main entry. Like the drafts, it takes effect for
// workers at the next commit.
func (s *Store) SetMain(path, file string) error {
	_, err := s.Update(path, file, -1)
	return err
}

// Update flags main as the main entry (unless it is "") and commits
// version (unless it is negative), in one transaction: both happen or
// neither does. See SetMain and Commit.
func (s *Store) Update(path, main string, version int) ([]Update, error) {
	if main != "" {
		if _, err := CleanFilePath(main); err != nil {
			return nil, err
		}
	}
	var updates []Update
	err := s.write(func(tx *sql.Tx) error {
		c, err := writable(tx, path)
		if err != nil {
			return err
		}
		if main != "" && main != c.main {
			if _, err := tx.Exec(`UPDATE codebases SET main = ? WHERE id = ?`, main, c.id); err != nil {
				return err
			}
			c.main = main
		}
		if version >= 0 {
			updates, err = commitTx(tx, c, version)
		}
		return err
	})
	return updates, err
}

// Update names a codebase that got a new version.
type Update struct {
	Path    string
	Version int
}

// Commit publishes the drafts and the main entry of the codebase as version
// (which must be newer than the current one; the current one is a no-op, as
// in Pipy). Every codebase derived from it, recursively, gets a new version
// on top of it. It returns the codebases that got a new version.
func (s *Store) Commit(path string, version int) ([]Update, error) {
	if version < 0 {
		return nil, errorf(ErrInvalid, "invalid version %d", version)
	}
	return s.Update(path, "", version)
}

func commitTx(tx *sql.Tx, c *codebaseRow, version int) ([]Update, error) {
	if version == c.version {
		return nil, nil
	}
	if version < c.version {
		return nil, errorf(ErrInvalid, "version %d is not newer than the current version %d of %s", version, c.version, c.path)
	}
	w, err := workingTree(tx, c)
	if err != nil {
		return nil, err
	}
	if _, ok := w.files[c.main]; !ok {
		return nil, errorf(ErrInvalid, "cannot commit %s: its main entry %s does not exist", c.path, c.main)
	}
	own := tree{}
	for p, h := range w.own {
		own[p] = h
	}
	for p, d := range w.drafts {
		if d.erased {
			delete(own, p)
		} else {
			own[p] = d.hash
		}
	}
	var baseVersion any
	if c.baseID.Valid {
		b, err := getCodebaseByID(tx, c.baseID.Int64)
		if err != nil {
			return nil, err
		}
		baseVersion = b.version
	}
	if err := addVersion(tx, c, version, c.main, baseVersion, own); err != nil {
		return nil, err
	}
	if _, err := tx.Exec(`DELETE FROM drafts WHERE codebase_id = ?`, c.id); err != nil {
		return nil, err
	}
	updates := []Update{{c.path, version}}
	return updates, upgradeDerived(tx, c.id, version, &updates, 0)
}

func addVersion(tx *sql.Tx, c *codebaseRow, version int, main string, baseVersion any, own tree) error {
	if _, err := tx.Exec(`INSERT INTO versions (codebase_id, version, main, base_version, created_at) VALUES (?, ?, ?, ?, ?)`,
		c.id, version, main, baseVersion, time.Now().UnixMilli()); err != nil {
		return err
	}
	for p, h := range own {
		if _, err := tx.Exec(`INSERT INTO version_files (codebase_id, version, path, hash) VALUES (?, ?, ?, ?)`, c.id, version, p, h); err != nil {
			return err
		}
	}
	_, err := tx.Exec(`UPDATE codebases SET version = ? WHERE id = ?`, version, c.id)
	return err
}

// upgradeDerived gives each codebase derived from base a new version built
// on base's version baseVersion, recursively.
func upgradeDerived(tx *sql.Tx, base int64, baseVersion int, updates *[]Update, depth int) error {
	if depth > maxDepth {
		return fmt.Errorf("base chain too deep")
	}
	rows, err := tx.Query(`SELECT `+codebaseCols+` FROM codebases WHERE base_id = ? ORDER BY path`, base)
	if err != nil {
		return err
	}
	var derived []*codebaseRow
	for rows.Next() {
		d, err := scanCodebase(rows)
		if err != nil {
			rows.Close()
			return err
		}
		derived = append(derived, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, d := range derived {
		v, err := getVersion(tx, d, d.version)
		if err != nil {
			return err
		}
		own, err := ownFiles(tx, d.id, d.version)
		if err != nil {
			return err
		}
		next := d.version + 1
		if err := addVersion(tx, d, next, v.main, baseVersion, own); err != nil {
			return err
		}
		*updates = append(*updates, Update{d.path, next})
		if err := upgradeDerived(tx, d.id, next, updates, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// VersionInfo describes one committed version.
type VersionInfo struct {
	Version     int       `json:"version"`
	Main        string    `json:"main"`
	BaseVersion int       `json:"baseVersion,omitempty"`
	Created     time.Time `json:"created"`
}

// Versions lists the committed versions of a codebase, oldest first.
func (s *Store) Versions(path string) ([]VersionInfo, error) {
	var out []VersionInfo
	err := s.read(func(tx *sql.Tx) error {
		c, err := getCodebase(tx, path)
		if err != nil {
			return err
		}
		rows, err := tx.Query(`SELECT version, main, base_version, created_at FROM versions WHERE codebase_id = ? ORDER BY version`, c.id)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var v VersionInfo
			var bv sql.NullInt64
			var created int64
			if err := rows.Scan(&v.Version, &v.Main, &bv, &created); err != nil {
				return err
			}
			v.BaseVersion = int(bv.Int64)
			v.Created = time.UnixMilli(created).UTC()
			out = append(out, v)
		}
		return rows.Err()
	})
	return out, err
}

// ---------------------------------------------------------------------------
// Files

// ReadFile returns a file of the codebase's working copy (drafts included)
// and its ETag.
func (s *Store) ReadFile(path, file string) (data []byte, tag string, err error) {
	err = s.read(func(tx *sql.Tx) error {
		c, err := getCodebase(tx, path)
		if err != nil {
			return err
		}
		w, err := workingTree(tx, c)
		if err != nil {
			return err
		}
		h, ok := w.files[file]
		if !ok {
			return errorf(ErrNotFound, "file %s not found in codebase %s", file, c.path)
		}
		tag = etag(h)
		data, err = getBlob(tx, h)
		return err
	})
	return data, tag, err
}

// WriteFile saves a draft of a file and returns its new ETag. With ifMatch
// set (an If-Match header's value) the file's current ETag must match it.
// Saving the committed content again drops the draft.
func (s *Store) WriteFile(path, file string, data []byte, ifMatch string) (string, error) {
	f, err := CleanFilePath(file)
	if err != nil {
		return "", err
	}
	if len(data) > MaxFileSize {
		return "", errorf(ErrTooLarge, "%s is larger than %d bytes", f, MaxFileSize)
	}
	h := hashOf(data)
	err = s.write(func(tx *sql.Tx) error {
		c, w, err := editable(tx, path)
		if err != nil {
			return err
		}
		if err := matchETag(ifMatch, w.files[f], f); err != nil {
			return err
		}
		if _, ok := w.files[f]; !ok && len(w.files) >= s.maxFiles {
			return errorf(ErrTooLarge, "codebase %s already has %d files, the most it may hold", c.path, s.maxFiles)
		}
		committed := w.own[f]
		if committed == "" {
			committed = w.base[f]
		}
		old := w.drafts[f].hash
		if committed == h {
			if _, err := tx.Exec(`DELETE FROM drafts WHERE codebase_id = ? AND path = ?`, c.id, f); err != nil {
				return err
			}
			return dropBlobs(tx, old)
		}
		if _, err := putBlob(tx, data); err != nil {
			return err
		}
		if _, err := tx.Exec(`INSERT INTO drafts (codebase_id, path, hash) VALUES (?, ?, ?)
			ON CONFLICT (codebase_id, path) DO UPDATE SET hash = excluded.hash`, c.id, f, h); err != nil {
			return err
		}
		if old != h {
			return dropBlobs(tx, old)
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	return etag(h), nil
}

// ResetFile drops the draft of a file (an edit or an erasure).
func (s *Store) ResetFile(path, file, ifMatch string) error {
	f, err := CleanFilePath(file)
	if err != nil {
		return err
	}
	return s.write(func(tx *sql.Tx) error {
		c, w, err := editable(tx, path)
		if err != nil {
			return err
		}
		if err := matchETag(ifMatch, w.files[f], f); err != nil {
			return err
		}
		if _, err := tx.Exec(`DELETE FROM drafts WHERE codebase_id = ? AND path = ?`, c.id, f); err != nil {
			return err
		}
		return dropBlobs(tx, w.drafts[f].hash)
	})
}

// EraseFile erases a file in the drafts. A file the codebase inherits from
// its base cannot be erased; erasing the codebase's own version of a base
// file uncovers the base's.
func (s *Store) EraseFile(path, file, ifMatch string) error {
	f, err := CleanFilePath(file)
	if err != nil {
		return err
	}
	return s.write(func(tx *sql.Tx) error {
		c, w, err := editable(tx, path)
		if err != nil {
			return err
		}
		cur, ok := w.files[f]
		if !ok {
			return errorf(ErrNotFound, "file %s not found in codebase %s", f, c.path)
		}
		if err := matchETag(ifMatch, cur, f); err != nil {
			return err
		}
		d := w.drafts[f]
		switch {
		case w.own[f] != "":
			if _, err := tx.Exec(`INSERT INTO drafts (codebase_id, path, hash) VALUES (?, ?, NULL)
				ON CONFLICT (codebase_id, path) DO UPDATE SET hash = NULL`, c.id, f); err != nil {
				return err
			}
		case !d.erased && d.hash != "":
			if _, err := tx.Exec(`DELETE FROM drafts WHERE codebase_id = ? AND path = ?`, c.id, f); err != nil {
				return err
			}
		default:
			return errorf(ErrInvalid, "%s is inherited from the base codebase; a derived codebase cannot erase it", f)
		}
		return dropBlobs(tx, d.hash)
	})
}

// ---------------------------------------------------------------------------
// Snapshots

// Snapshot is every file of one version of a codebase (or of its working
// copy), held in memory.
type Snapshot struct {
	Codebase string
	Version  int  // the committed version (for a draft: the one it edits)
	Draft    bool // the working copy, drafts included
	Main     string
	Files    map[string][]byte // by path, e.g. "/proxy.js"
}

// Paths lists the files with the main entry first and the others sorted,
// as Pipy's manifest does.
func (sn *Snapshot) Paths() []string {
	return manifestOrder(sn.Main, slices.Collect(func(yield func(string) bool) {
		for p := range sn.Files {
			if !yield(p) {
				return
			}
		}
	}))
}

func manifestOrder(main string, paths []string) []string {
	sort.Strings(paths)
	out := make([]string, 0, len(paths)+1)
	out = append(out, main)
	for _, p := range paths {
		if p != main {
			out = append(out, p)
		}
	}
	return out
}

// FS returns the files as a read-only file system rooted at the codebase.
func (sn *Snapshot) FS() fs.FS {
	m := fstest.MapFS{}
	for p, data := range sn.Files {
		m[strings.TrimPrefix(p, "/")] = &fstest.MapFile{Data: data, Mode: 0o444}
	}
	return m
}

// Snapshot returns a committed version of a codebase (0: the latest).
func (s *Store) Snapshot(path string, version int) (*Snapshot, error) {
	var sn *Snapshot
	err := s.read(func(tx *sql.Tx) error {
		c, err := getCodebase(tx, path)
		if err != nil {
			return err
		}
		if version == 0 {
			version = c.version
		}
		main, files, err := committedTree(tx, c, version)
		if err != nil {
			return err
		}
		sn = &Snapshot{Codebase: c.path, Version: version, Main: main}
		sn.Files, err = blobs(tx, files)
		return err
	})
	return sn, err
}

// Draft returns the working copy of a codebase: its latest version with the
// drafts and the edited main entry. The console's Run executes it, as
// Pipy's GUI does.
func (s *Store) Draft(path string) (*Snapshot, error) {
	var sn *Snapshot
	err := s.read(func(tx *sql.Tx) error {
		c, err := getCodebase(tx, path)
		if err != nil {
			return err
		}
		w, err := workingTree(tx, c)
		if err != nil {
			return err
		}
		sn = &Snapshot{Codebase: c.path, Version: c.version, Draft: true, Main: c.main}
		sn.Files, err = blobs(tx, w.files)
		return err
	})
	return sn, err
}

func blobs(tx *sql.Tx, t tree) (map[string][]byte, error) {
	out := make(map[string][]byte, len(t))
	for p, h := range t {
		data, err := getBlob(tx, h)
		if err != nil {
			return nil, err
		}
		out[p] = data
	}
	return out, nil
}

// Manifest returns the latest version of a codebase and its file paths,
// main entry first: what a worker downloads.
func (s *Store) Manifest(path string) (version int, paths []string, err error) {
	err = s.read(func(tx *sql.Tx) error {
		c, err := getCodebase(tx, path)
		if err != nil {
			return err
		}
		main, files, err := committedTree(tx, c, c.version)
		if err != nil {
			return err
		}
		version, paths = c.version, manifestOrder(main, files.paths())
		return nil
	})
	return version, paths, err
}

// CommittedFile returns a file of the latest version of a codebase and that
// version.
func (s *Store) CommittedFile(path, file string) (data []byte, version int, err error) {
	err = s.read(func(tx *sql.Tx) error {
		c, err := getCodebase(tx, path)
		if err != nil {
			return err
		}
		_, files, err := committedTree(tx, c, c.version)
		if err != nil {
			return err
		}
		h, ok := files[file]
		if !ok {
			return errorf(ErrNotFound, "file %s not found in version %d of codebase %s", file, c.version, c.path)
		}
		version = c.version
		data, err = getBlob(tx, h)
		return err
	})
	return data, version, err
}

// Version returns the latest version of a codebase.
func (s *Store) Version(path string) (int, error) {
	var v int
	err := s.read(func(tx *sql.Tx) error {
		c, err := getCodebase(tx, path)
		if err != nil {
			return err
		}
		v = c.version
		return nil
	})
	return v, err
}
