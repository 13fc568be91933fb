// Package admin is the console's HTTP server: the REST API of Pipy 0.30's
// admin service (so that Pipy's tooling and workers work against Sluice),
// the websockets the browser console uses, the repo endpoints workers pull
// their codebase from, Prometheus metrics, and the console's front end.
//
// Endpoints (Pipy's shapes unless marked as a Sluice extension):
//
//	GET    /api/v1/repo                      codebase paths, one a line
//	GET    /api/v1/repo/<codebase>           info JSON (version, path, main, files, editFiles,
//	                                         erasedFiles, baseFiles, derived, base, instances;
//	                                         Sluice adds readOnly)
//	POST   /api/v1/repo/<codebase>           {} or {"base":"/b"} creates it; {"main":"/x.js"}
//	                                         flags the main entry; {"version":N} commits
//	DELETE /api/v1/repo/<codebase>           deletes it (Sluice)
//	GET    /api/v1/repo/<codebase>/<file>    the file as edited, with an ETag
//	POST   /api/v1/repo/<codebase>/<file>    saves a draft (If-Match: 412 when stale)
//	PATCH  /api/v1/repo/<codebase>/<file>    saves a draft; an empty body drops the draft
//	DELETE /api/v1/repo/<codebase>/<file>    erases the file in the drafts
//	GET    /api/v1/versions/<codebase>       committed versions (Sluice)
//	GET    /api/v1/program                   the running codebase, "" when stopped
//	POST   /api/v1/program                   body = codebase path: runs its working copy (drafts
//	                                         included, as Pipy's GUI does); ?version=N runs a
//	                                         committed version (Sluice)
//	DELETE /api/v1/program                   stops it
//	GET    /api/v1/status                    Pipy's status JSON of the running program
//	GET    /api/v1/log                       log lines after x-log-size; replies x-log-size
//	POST   /api/v1/graph                     script text -> the main module's graph JSON
//	                                         (?path=/x.ts names the file, ?codebase=/c loads it
//	                                         over that codebase's working copy, ?main=/m.js
//	                                         loads from that module and returns path's: Sluice)
//	GET    /api/v1/api                       the scripting API description (Sluice)
//	GET    /api/v1/log/stream                websocket: log backlog, then every line (Sluice)
//	GET    /api/v1/status/stream             websocket: program graphs and counters (Sluice)
//	GET    /repo[/<prefix>/]                 codebases under the prefix, "<path>/" a line
//	GET    /repo/<codebase>/                 manifest: main entry first, etag = version
//	GET    /repo/<codebase>/<file>           committed file, etag = version
//	POST   /repo/<codebase>/                 a worker's status JSON
//	GET    /repo/<codebase>/ (websocket)     worker link: pushes {"version":"N"} on commits
//	GET    /metrics                          Prometheus text
//	GET    anything else                     the console's front end (single-page app)
//
// Errors are one JSON shape, application/json:
//
//	{"status":400,"message":"…","file":"/x.js","line":3,"column":14,"source":"…","detail":"…"}
//
// where the location fields appear only for script errors.
//
// Threading: a Server is an http.Handler safe for concurrent use.
package admin

import (
	"io/fs"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"sluice/backend/store"
	"sluice/backend/supervisor"
)

// Config configures the console's server.
type Config struct {
	Store      *store.Store
	Supervisor *supervisor.Supervisor
	// Token, when set, is required on every call but the front end's files:
	// "Authorization: Bearer <token>", a token=<token> query parameter
	// (which also sets a cookie for the front end) or the sluice_token
	// cookie.
	Token string
	// Loopback is true when the server listens on a loopback address only:
	// requests must then name a loopback host (no DNS rebinding).
	Loopback bool
	// UI holds the front end (web/dist); nil serves a short notice.
	UI fs.FS
	// Log is the log history; nil makes one that subscribes to the logging
	// package.
	Log *LogBuffer
	// Metrics gathers the process's metrics (metrics.Gatherer()); nil
	// serves the supervisor's counters only.
	Metrics prometheus.Gatherer
	// GraphBudget bounds how long POST /api/v1/graph may evaluate a script
	// (default 2s).
	GraphBudget time.Duration
	// InstanceTTL is how long a worker that stopped reporting stays listed
	// (default 30s; workers report every 5s).
	InstanceTTL time.Duration
}

// Limits on requests.
const (
	MaxBodySize   = store.MaxFileSize + 64<<10 // a file upload and some slack
	MaxStatusSize = 1 << 20                    // a worker's status JSON
	maxGraphs     = 2                          // graph loads at once
)

// Server serves the console.
type Server struct {
	cfg   Config
	echo  *echo.Echo
	log   *LogBuffer
	ui    *uiFiles
	hub   *hub
	graph chan struct{} // semaphore for graph loads

	imu       sync.Mutex
	instances map[string]*instance // by uuid
	nextIndex int

	rmu     sync.Mutex
	lastRun runRequest // for pipy.restart() and "/" in POST /api/v1/program
}

// New returns the console's server.
func New(cfg Config) *Server {
	if cfg.GraphBudget <= 0 {
		cfg.GraphBudget = 2 * time.Second
	}
	if cfg.InstanceTTL <= 0 {
		cfg.InstanceTTL = 30 * time.Second
	}
	s := &Server{cfg: cfg, log: cfg.Log, hub: newHub(), graph: make(chan struct{}, maxGraphs),
		instances: map[string]*instance{}}
	if s.log == nil {
		s.log = NewLogBuffer(DefaultLogLines)
		s.log.Attach()
	}
	s.ui = newUIFiles(cfg.UI)
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.handleError
	e.Use(s.guard)
	s.echo = e

	e.GET("/api/v1/repo", s.apiRepoList)
	e.Any("/api/v1/repo/*", s.apiRepo)
	e.GET("/api/v1/versions/*", s.apiVersions)
	e.GET("/api/v1/program", s.programGet)
	e.POST("/api/v1/program", s.programPost)
	e.DELETE("/api/v1/program", s.programDelete)
	e.GET("/api/v1/status", s.statusGet)
	e.GET("/api/v1/status/stream", s.statusStream)
	e.GET("/api/v1/log", s.logGet)
	e.GET("/api/v1/log/stream", s.logStream)
	e.POST("/api/v1/graph", s.graphPost)
	e.GET("/api/v1/api", s.apiDescription)
	e.Match([]string{http.MethodGet, http.MethodHead, http.MethodPost}, "/repo", s.repo)
	e.Match([]string{http.MethodGet, http.MethodHead, http.MethodPost}, "/repo/*", s.repo)
	e.GET("/metrics", s.metricsGet)
	e.GET("/*", s.static)
	e.HEAD("/*", s.static)
	return s
}

// ServeHTTP serves one request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.echo.ServeHTTP(w, r) }

// Log is the log history the server serves.
func (s *Server) Log() *LogBuffer { return s.log }

// Close ends the websockets' goroutines' subscriptions. In-flight requests
// are the http.Server's to end.
func (s *Server) Close() { s.hub.close() }

// isAPI reports whether a path is served by the API (and so needs the token)
// rather than the front end's files.
func isAPI(r *http.Request) bool {
	p := r.URL.Path
	if strings.HasPrefix(p, "/repo/") || p == "/repo" {
		// The front end answers browsers' page loads of /repo/... (as Pipy's
		// GUI does); workers ask without text/html.
		return !wantsHTML(r)
	}
	return strings.HasPrefix(p, "/api/") || p == "/metrics"
}

func wantsHTML(r *http.Request) bool {
	return r.Method == http.MethodGet && strings.Contains(r.Header.Get("Accept"), "text/html") &&
		r.Header.Get("Upgrade") == ""
}
