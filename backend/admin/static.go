package admin

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
)

// uiFiles serves the front end: a file when the path names one, else
// index.html (the single-page app routes /repo/<codebase>/ and the like
// itself). Every reply has an ETag from the content and is never cached
// without asking.
type uiFiles struct {
	fsys fs.FS
	mu   sync.Mutex
	tags map[string]string
}

func newUIFiles(fsys fs.FS) *uiFiles { return &uiFiles{fsys: fsys, tags: map[string]string{}} }

const noUI = `<!doctype html>
<meta charset="utf-8">
<title>Sluice console</title>
<p>The console's front end is not part of this build. The API is at <code>/api/v1/</code>.</p>
`

func (u *uiFiles) read(name string) ([]byte, string, bool) {
	if u.fsys == nil {
		return nil, "", false
	}
	data, err := fs.ReadFile(u.fsys, name)
	if err != nil {
		return nil, "", false
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	tag, ok := u.tags[name]
	if !ok {
		sum := sha256.Sum256(data)
		tag = `"` + hex.EncodeToString(sum[:12]) + `"`
		u.tags[name] = tag
	}
	return data, tag, true
}

func (s *Server) static(c echo.Context) error {
	r := c.Request()
	if strings.HasPrefix(r.URL.Path, "/api/") {
		return errNotFound("no such API: %s %s", r.Method, r.URL.Path)
	}
	name := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
	if name == "" {
		name = "index.html"
	}
	data, tag, ok := s.ui.read(name)
	if !ok || strings.HasSuffix(r.URL.Path, "/") && name != "index.html" {
		if ext := path.Ext(name); ext != "" && ext != ".html" && !strings.HasPrefix(r.URL.Path, "/repo/") {
			return errNotFound("%s not found", r.URL.Path)
		}
		name = "index.html"
		if data, tag, ok = s.ui.read(name); !ok {
			return c.HTMLBlob(http.StatusOK, []byte(noUI))
		}
	}
	h := c.Response().Header()
	ctype := mime.TypeByExtension(path.Ext(name))
	if ctype == "" {
		ctype = http.DetectContentType(data)
	}
	h.Set("Content-Type", ctype)
	h.Set("ETag", tag)
	h.Set("X-Content-Type-Options", "nosniff")
	// The names carry no content hash (app.js, app.css), so every file is
	// revalidated: a new binary's front end shows at the next load, and an
	// unchanged one costs a 304.
	h.Set("Cache-Control", "no-cache")
	http.ServeContent(c.Response(), r, name, time.Time{}, bytes.NewReader(data))
	return nil
}
