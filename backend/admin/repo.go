package admin

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"sluice/backend/store"
	"sluice/backend/supervisor"
)

// readBody reads a request body of at most limit bytes.
func readBody(c echo.Context, limit int64) ([]byte, error) {
	r := c.Request()
	if r.ContentLength > limit {
		return nil, newError(http.StatusRequestEntityTooLarge, "request body larger than %d bytes", limit)
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Response(), r.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, newError(http.StatusRequestEntityTooLarge, "request body larger than %d bytes", limit)
		}
		return nil, errBadRequest("reading the request body: %v", err)
	}
	return body, nil
}

func text(c echo.Context, status int, body string) error {
	return c.Blob(status, "text/plain; charset=utf-8", []byte(body))
}

// ---------------------------------------------------------------------------
// /api/v1/repo

func (s *Server) apiRepoList(c echo.Context) error {
	list, err := s.cfg.Store.List()
	if err != nil {
		return storeError(err)
	}
	return text(c, http.StatusOK, strings.Join(list, "\n"))
}

// infoJSON is Pipy's codebase info, plus readOnly.
type infoJSON struct {
	Version     int                          `json:"version"`
	Path        string                       `json:"path"`
	Main        string                       `json:"main"`
	Files       []string                     `json:"files"`
	EditFiles   []string                     `json:"editFiles"`
	ErasedFiles []string                     `json:"erasedFiles"`
	BaseFiles   []string                     `json:"baseFiles"`
	Derived     []string                     `json:"derived"`
	Base        string                       `json:"base,omitempty"`
	ReadOnly    bool                         `json:"readOnly"`
	Instances   map[string]supervisor.Status `json:"instances"`
}

func (s *Server) info(c echo.Context, status int, codebase string) error {
	i, err := s.cfg.Store.Info(codebase)
	if err != nil {
		return storeError(err)
	}
	return c.JSON(status, &infoJSON{Version: i.Version, Path: i.Path, Main: i.Main, Files: i.Files,
		EditFiles: i.EditFiles, ErasedFiles: i.ErasedFiles, BaseFiles: i.BaseFiles, Derived: i.Derived,
		Base: i.Base, ReadOnly: i.ReadOnly, Instances: s.instancesOf(i.Path)})
}

// apiRepo dispatches /api/v1/repo/<codebase>[/<file>].
func (s *Server) apiRepo(c echo.Context) error {
	r := c.Request()
	p := strings.TrimPrefix(r.URL.Path, "/api/v1/repo")
	if p == "" || p == "/" {
		if r.Method == http.MethodGet {
			return s.apiRepoList(c)
		}
		return errBadRequest("invalid codebase or filename")
	}
	if strings.HasSuffix(p, "/") && r.Method != http.MethodGet {
		return errBadRequest("invalid codebase or filename: %s ends with a slash", p)
	}
	cb, file, err := s.cfg.Store.Resolve(p)
	switch {
	case errors.Is(err, store.ErrNotFound):
		if r.Method == http.MethodPost {
			return s.createCodebase(c, p)
		}
		return errNotFound("codebase or file %s not found", p)
	case err != nil:
		return storeError(err)
	}
	switch r.Method {
	case http.MethodGet:
		if file == "" {
			return s.info(c, http.StatusOK, cb)
		}
		data, tag, err := s.cfg.Store.ReadFile(cb, file)
		if err != nil {
			return storeError(err)
		}
		c.Response().Header().Set("ETag", tag)
		c.Response().Header().Set("Cache-Control", "no-cache")
		if inm := r.Header.Get("If-None-Match"); inm != "" && etagListHas(inm, tag) {
			return c.NoContent(http.StatusNotModified)
		}
		return c.Blob(http.StatusOK, "text/plain; charset=utf-8", data)
	case http.MethodPost:
		if file == "" {
			return s.updateCodebase(c, cb)
		}
		body, err := readBody(c, MaxBodySize)
		if err != nil {
			return err
		}
		return s.saveFile(c, cb, file, body)
	case http.MethodPatch:
		if file == "" {
			return errBadRequest("PATCH applies to files; %s is a codebase", cb)
		}
		body, err := readBody(c, MaxBodySize)
		if err != nil {
			return err
		}
		if len(body) == 0 {
			if err := s.cfg.Store.ResetFile(cb, file, r.Header.Get("If-Match")); err != nil {
				return storeError(err)
			}
			return c.NoContent(http.StatusCreated)
		}
		return s.saveFile(c, cb, file, body)
	case http.MethodDelete:
		if file == "" {
			if err := s.cfg.Store.Delete(cb); err != nil {
				return storeError(err)
			}
			return c.NoContent(http.StatusNoContent)
		}
		if err := s.cfg.Store.EraseFile(cb, file, r.Header.Get("If-Match")); err != nil {
			return storeError(err)
		}
		return c.NoContent(http.StatusNoContent)
	}
	return echo.ErrMethodNotAllowed
}

func etagListHas(list, tag string) bool {
	for _, t := range strings.Split(list, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || t == tag {
			return true
		}
	}
	return false
}

func (s *Server) saveFile(c echo.Context, cb, file string, body []byte) error {
	r := c.Request()
	if r.Header.Get("If-None-Match") == "*" {
		if _, _, err := s.cfg.Store.ReadFile(cb, file); err == nil {
			return newError(http.StatusPreconditionFailed, "%s already exists", file)
		}
	}
	tag, err := s.cfg.Store.WriteFile(cb, file, body, r.Header.Get("If-Match"))
	if err != nil {
		return storeError(err)
	}
	c.Response().Header().Set("ETag", tag)
	return c.NoContent(http.StatusCreated)
}

// repoRequest is the JSON body of POST /api/v1/repo/<codebase>.
type repoRequest struct {
	Base    *string  `json:"base"`
	Main    *string  `json:"main"`
	Version *float64 `json:"version"`
}

func parseRepoRequest(c echo.Context) (*repoRequest, error) {
	body, err := readBody(c, 64<<10)
	if err != nil {
		return nil, err
	}
	req := &repoRequest{}
	if len(bytes.TrimSpace(body)) == 0 {
		return req, nil
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, errBadRequest("invalid JSON: %v", err)
	}
	field := func(name string, dst any, what string) error {
		v, ok := raw[name]
		if !ok || string(v) == "null" {
			return nil
		}
		if err := json.Unmarshal(v, dst); err != nil {
			return errBadRequest("invalid %s", what)
		}
		return nil
	}
	if err := field("base", &req.Base, "base codebase (want a string)"); err != nil {
		return nil, err
	}
	if err := field("main", &req.Main, "main filename (want a string)"); err != nil {
		return nil, err
	}
	if err := field("version", &req.Version, "version number"); err != nil {
		return nil, err
	}
	if v := req.Version; v != nil && (*v != math.Trunc(*v) || *v < 0 || *v > math.MaxInt32) {
		return nil, errBadRequest("invalid version number %v", *v)
	}
	return req, nil
}

func (s *Server) createCodebase(c echo.Context, p string) error {
	req, err := parseRepoRequest(c)
	if err != nil {
		return err
	}
	cb, err := store.CleanCodebasePath(p)
	if err != nil {
		return storeError(err)
	}
	base := ""
	if req.Base != nil {
		if base, err = store.CleanCodebasePath(*req.Base); err != nil {
			return storeError(err)
		}
		if _, err := s.cfg.Store.Version(base); err != nil {
			return errBadRequest("base codebase %s not found", base)
		}
	}
	if req.Main != nil {
		if _, err := store.CleanFilePath(*req.Main); err != nil {
			return storeError(err)
		}
	}
	if err := s.cfg.Store.Create(cb, base); err != nil {
		return storeError(err)
	}
	if req.Main != nil {
		if err := s.cfg.Store.SetMain(cb, *req.Main); err != nil {
			return storeError(err)
		}
	}
	return s.info(c, http.StatusCreated, cb)
}

func (s *Server) updateCodebase(c echo.Context, cb string) error {
	req, err := parseRepoRequest(c)
	if err != nil {
		return err
	}
	main, version := "", -1
	if req.Main != nil {
		if main = *req.Main; main == "" {
			return errBadRequest("invalid main filename: empty")
		}
	}
	if req.Version != nil {
		version = int(*req.Version)
	}
	if main != "" || version >= 0 {
		updates, err := s.cfg.Store.Update(cb, main, version)
		if err != nil {
			return storeError(err)
		}
		for _, u := range updates {
			s.hub.notify(u.Path)
		}
	}
	return s.info(c, http.StatusCreated, cb)
}

func (s *Server) apiVersions(c echo.Context) error {
	cb := strings.TrimSuffix(strings.TrimPrefix(c.Request().URL.Path, "/api/v1/versions"), "/")
	if _, err := store.CleanCodebasePath(cb); err != nil {
		return storeError(err)
	}
	vs, err := s.cfg.Store.Versions(cb)
	if err != nil {
		return storeError(err)
	}
	return c.JSON(http.StatusOK, vs)
}

// ---------------------------------------------------------------------------
// /repo: what workers pull

func (s *Server) repo(c echo.Context) error {
	r := c.Request()
	if wantsHTML(r) {
		return s.static(c)
	}
	p := strings.TrimPrefix(r.URL.Path, "/repo")
	if p == "" {
		p = "/"
	}
	// No Date header: Pipy's workers download again whenever the etag or
	// the date changes, and a Date changes every second.
	c.Response().Header()["Date"] = nil
	if r.Method == http.MethodPost {
		return s.workerStatus(c, p)
	}
	if strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		return s.workerLink(c, p)
	}
	if strings.HasSuffix(p, "/") {
		if p != "/" {
			cb := strings.TrimSuffix(p, "/")
			if _, err := store.CleanCodebasePath(cb); err != nil {
				return storeError(err)
			}
			version, paths, err := s.cfg.Store.Manifest(cb)
			if err == nil {
				c.Response().Header().Set("ETag", strconv.Itoa(version))
				return text(c, http.StatusOK, strings.Join(paths, "\n"))
			}
			if !errors.Is(err, store.ErrNotFound) {
				return storeError(err)
			}
		}
		// A folder of codebases: list them.
		list, err := s.cfg.Store.List()
		if err != nil {
			return storeError(err)
		}
		var sb strings.Builder
		for _, cb := range list {
			if strings.HasPrefix(cb, p) || p == "/" {
				sb.WriteString(cb + "/\n")
			}
		}
		if sb.Len() == 0 {
			return errNotFound("no codebase under %s", p)
		}
		return text(c, http.StatusOK, sb.String())
	}
	cb, file, err := s.cfg.Store.Resolve(p)
	if err != nil {
		return storeError(err)
	}
	if file == "" {
		return errNotFound("%s is a codebase: its manifest is /repo%s/ (with a trailing slash)", cb, cb)
	}
	data, version, err := s.cfg.Store.CommittedFile(cb, file)
	if err != nil {
		return storeError(err)
	}
	c.Response().Header().Set("ETag", strconv.Itoa(version))
	return c.Blob(http.StatusOK, "text/plain; charset=utf-8", data)
}

// instance is a worker that reported its status.
type instance struct {
	index    int
	codebase string
	status   supervisor.Status
	metrics  string // the worker's Prometheus text, when it sends it
	seen     time.Time
}

// parseStatus checks a status JSON as Pipy's Status::from_json does. A
// Sluice worker adds "metrics": its Prometheus text.
func parseStatus(body []byte) (*supervisor.Status, string, error) {
	var raw struct {
		Timestamp *float64                    `json:"timestamp"`
		UUID      *string                     `json:"uuid"`
		Name      *string                     `json:"name"`
		Version   *string                     `json:"version"`
		Modules   map[string]*json.RawMessage `json:"modules"`
		Metrics   string                      `json:"metrics"`
	}
	if err := json.Unmarshal(body, &raw); err != nil || raw.Timestamp == nil || raw.UUID == nil || raw.Name == nil ||
		raw.Version == nil || raw.Modules == nil || *raw.UUID == "" {
		return nil, "", errBadRequest("invalid JSON: a status needs timestamp, uuid, name, version and modules")
	}
	st := &supervisor.Status{Timestamp: int64(*raw.Timestamp), UUID: *raw.UUID, Name: *raw.Name, Version: *raw.Version,
		Modules: map[string]supervisor.ModuleStatus{}}
	for path, m := range raw.Modules {
		var mod struct {
			Graph json.RawMessage `json:"graph"`
		}
		if m == nil || json.Unmarshal(*m, &mod) != nil || len(mod.Graph) == 0 || mod.Graph[0] != '{' {
			continue
		}
		st.Modules[path] = supervisor.ModuleStatus{Graph: mod.Graph}
	}
	return st, raw.Metrics, nil
}

func (s *Server) workerStatus(c echo.Context, p string) error {
	if !strings.HasSuffix(p, "/") || p == "/" {
		return newError(http.StatusMethodNotAllowed, "workers post their status to /repo/<codebase>/")
	}
	cb, err := store.CleanCodebasePath(p)
	if err != nil {
		return storeError(err)
	}
	if _, err := s.cfg.Store.Version(cb); err != nil {
		return storeError(err)
	}
	body, err := readBody(c, MaxStatusSize)
	if err != nil {
		return err
	}
	st, metrics, err := parseStatus(body)
	if err != nil {
		return err
	}
	s.register(cb, st, metrics)
	return c.NoContent(http.StatusCreated)
}

func (s *Server) register(cb string, st *supervisor.Status, metrics string) {
	s.imu.Lock()
	defer s.imu.Unlock()
	in, ok := s.instances[st.UUID]
	if !ok {
		in = &instance{index: s.nextIndex}
		s.nextIndex++
		s.instances[st.UUID] = in
	}
	in.codebase, in.status, in.seen = cb, *st, time.Now()
	if metrics != "" {
		in.metrics = metrics
	}
}

// instancesOf lists the workers of a codebase heard from lately, by index.
func (s *Server) instancesOf(cb string) map[string]supervisor.Status {
	s.imu.Lock()
	defer s.imu.Unlock()
	out := map[string]supervisor.Status{}
	for uuid, in := range s.instances {
		if time.Since(in.seen) > s.cfg.InstanceTTL {
			delete(s.instances, uuid)
			continue
		}
		if in.codebase == cb {
			out[strconv.Itoa(in.index)] = in.status
		}
	}
	return out
}

// instanceList is every live instance, sorted by index (for metrics).
func (s *Server) instanceList() []instance {
	s.imu.Lock()
	defer s.imu.Unlock()
	var out []instance
	for _, in := range s.instances {
		if time.Since(in.seen) <= s.cfg.InstanceTTL {
			out = append(out, *in)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].index < out[j].index })
	return out
}
