package admin

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing/fstest"

	"github.com/labstack/echo/v4"

	"sluice/backend/engine"
	"sluice/backend/store"
	"sluice/backend/supervisor"
)

// runRequest is what POST /api/v1/program was asked to run.
type runRequest struct {
	codebase string
	version  int // 0: the working copy
}

func (s *Server) programGet(c echo.Context) error {
	st := s.cfg.Supervisor.State()
	name := ""
	if st.Running {
		name = st.Codebase
	}
	return text(c, http.StatusOK, name)
}

// programPost runs a codebase: its working copy (what the editor shows,
// drafts included, as Pipy's GUI does), or with ?version=N a committed
// version. The body "/" runs the codebase that ran last again.
func (s *Server) programPost(c echo.Context) error {
	body, err := readBody(c, 4<<10)
	if err != nil {
		return err
	}
	req := runRequest{codebase: strings.TrimSpace(string(body))}
	if v := c.QueryParam("version"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return errBadRequest("invalid version %q", v)
		}
		req.version = n
	}
	if req.codebase == "/" || req.codebase == "" {
		s.rmu.Lock()
		last := s.lastRun
		s.rmu.Unlock()
		if last.codebase == "" {
			return errBadRequest("No codebase: give the codebase to run, e.g. /hello")
		}
		req.codebase = last.codebase
		if c.QueryParam("version") == "" {
			req.version = last.version
		}
	}
	if err := s.run(req); err != nil {
		return err
	}
	st := s.cfg.Supervisor.State()
	return c.JSON(http.StatusCreated, map[string]any{"codebase": st.Codebase, "version": st.Version, "generation": st.Generation})
}

// run loads and starts a codebase; the previous program keeps running when
// it fails.
func (s *Server) run(req runRequest) error {
	cb, err := store.CleanCodebasePath(req.codebase)
	if err != nil {
		return storeError(err)
	}
	var sn *store.Snapshot
	var version string
	if req.version == 0 {
		sn, err = s.cfg.Store.Draft(cb)
		if sn != nil {
			version = supervisor.DraftVersion(sn.Version)
		}
	} else {
		sn, err = s.cfg.Store.Snapshot(cb, req.version)
		if sn != nil {
			version = strconv.Itoa(sn.Version)
		}
	}
	if errors.Is(err, store.ErrNotFound) {
		return errBadRequest("No codebase: %v", err)
	} else if err != nil {
		return storeError(err)
	}
	if sn.Main == "" {
		return errBadRequest("No main script in %s", cb)
	}
	if _, ok := sn.Files[sn.Main]; !ok {
		return errBadRequest("No main script: %s has no file %s", cb, sn.Main)
	}
	if err := s.cfg.Supervisor.Start(cb, version, sn.FS(), sn.Main); err != nil {
		return scriptError("Failed to start up: ", err)
	}
	s.rmu.Lock()
	s.lastRun = req
	s.rmu.Unlock()
	return nil
}

// Restart runs what ran last again (pipy.restart() in a script).
func (s *Server) Restart() error {
	s.rmu.Lock()
	last := s.lastRun
	s.rmu.Unlock()
	if last.codebase == "" {
		return fmt.Errorf("nothing ran yet")
	}
	return s.run(last)
}

func (s *Server) programDelete(c echo.Context) error {
	s.cfg.Supervisor.Stop()
	return c.NoContent(http.StatusNoContent)
}

func (s *Server) statusGet(c echo.Context) error {
	return c.JSON(http.StatusOK, s.cfg.Supervisor.Status())
}

// graphPost loads a script without starting it and returns its module's
// graph. The script is the body; ?path= names it (default /main.js; a .ts
// name compiles TypeScript) and ?codebase= loads it over that codebase's
// working copy, so that the modules and files it uses are found. ?main=
// names the module to load first when the script is one that another uses
// (a plugin importing what the main module exports): the codebase loads
// from there, with the script in place, and the script's own graph is
// returned. A script the main module does not use loads by itself.
func (s *Server) graphPost(c echo.Context) error {
	body, err := readBody(c, MaxBodySize)
	if err != nil {
		return err
	}
	path := c.QueryParam("path")
	if path == "" {
		path = "/main.js"
	}
	if _, err := store.CleanFilePath(path); err != nil {
		return storeError(err)
	}
	fsys := fstest.MapFS{}
	if cb := c.QueryParam("codebase"); cb != "" {
		cb, err := store.CleanCodebasePath(cb)
		if err != nil {
			return storeError(err)
		}
		sn, err := s.cfg.Store.Draft(cb)
		if err != nil {
			return storeError(err)
		}
		fsys = sn.FS().(fstest.MapFS)
	}
	fsys[strings.TrimPrefix(path, "/")] = &fstest.MapFile{Data: body, Mode: 0o444}
	select {
	case s.graph <- struct{}{}:
		defer func() { <-s.graph }()
	case <-c.Request().Context().Done():
		return c.Request().Context().Err()
	}
	main := c.QueryParam("main")
	if main == "" {
		main = path
	} else if _, err := store.CleanFilePath(main); err != nil {
		return storeError(err)
	}
	for _, entry := range []string{main, path} {
		p, err := engine.Load(engine.Options{FS: fsys, Main: entry, Threads: 1, CallbackBudget: s.cfg.GraphBudget})
		if err != nil {
			return scriptError("", err)
		}
		for _, m := range p.Modules() {
			if m.Path == path {
				g, _ := m.Graph().JSON()
				p.Stop()
				return c.Blob(http.StatusOK, "application/json", g)
			}
		}
		p.Stop()
	}
	return newError(http.StatusInternalServerError, "the module %s was not loaded", path)
}

func (s *Server) apiDescription(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "no-cache")
	return c.Blob(http.StatusOK, "application/json", engine.DescribeJSON())
}
