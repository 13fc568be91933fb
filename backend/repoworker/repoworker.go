// Package repoworker runs a codebase pulled from a console, as Pipy's
// `pipy http://host:6060/repo/<codebase>/` does: it downloads the
// manifest (the main entry first, then the other files, one path a line;
// its etag is the version) and every file into memory, runs them, posts its
// status to the manifest's URL every few seconds, and switches to a new
// version as soon as one is committed.
//
// The console pushes new versions over a websocket opened on the manifest's
// URL; when that link is down the worker polls the manifest every second
// (Pipy's own console has no push: against it the worker polls). A new
// version starts as a new generation: listeners on the same ports stay
// open, new connections go to the new version and connections in flight
// finish on the old one, so no request is dropped. A version that fails to
// load is logged and the running one keeps serving.
//
// A URL whose body is not a manifest is a single script, run as the main
// entry.
//
// Threading: Run owns the worker; Kick and Supervisor may be called from
// any goroutine.
package repoworker

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing/fstest"
	"time"

	"github.com/gorilla/websocket"

	"sluice/backend/logging"
	"sluice/backend/store"
	"sluice/backend/supervisor"
)

// Options configures a worker.
type Options struct {
	URL            string        // the manifest, e.g. http://127.0.0.1:6060/repo/hello/
	Token          string        // the console's token, if it wants one
	Threads        int           // 0 = number of CPUs
	CallbackBudget time.Duration // 0 = the engine's default
	UUID, Name     string        // this instance, as the console lists it
	PollInterval   time.Duration // manifest checks while the push link is down (default 1s)
	ReportInterval time.Duration // status posts, and checks while the link is up (default 5s)
	Client         *http.Client  // default: one with a 10s timeout
	// Metrics writes the process's metrics in Prometheus text; they go to
	// the console with each status report, which serves them under
	// instance="<name>". nil sends none.
	Metrics func(w io.Writer) error
}

// Worker pulls and runs one codebase.
type Worker struct {
	opts     Options
	url      *url.URL
	base     string // the URL up to its last slash: files are base + path
	sup      *supervisor.Supervisor
	kick     chan struct{}
	linkUp   atomic.Bool
	version  string // the version last loaded or tried; Run's goroutine only
	lastErr  string // the last download error logged; Run's goroutine only
	reloaded chan struct{}
}

// New checks the URL and returns a worker that has not started.
func New(opts Options) (*Worker, error) {
	u, err := url.Parse(opts.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("invalid codebase URL %q: want http://HOST:PORT/repo/<codebase>/", opts.URL)
	}
	if u.Path == "" {
		u.Path = "/"
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = time.Second
	}
	if opts.ReportInterval <= 0 {
		opts.ReportInterval = 5 * time.Second
	}
	if opts.Client == nil {
		opts.Client = &http.Client{Timeout: 10 * time.Second}
	}
	w := &Worker{opts: opts, url: u, kick: make(chan struct{}, 1), reloaded: make(chan struct{}, 1),
		sup: supervisor.New(supervisor.Options{Threads: opts.Threads, CallbackBudget: opts.CallbackBudget,
			UUID: opts.UUID, Name: opts.Name})}
	w.base = u.Path[:strings.LastIndexByte(u.Path, '/')]
	return w, nil
}

// Supervisor runs the pulled versions.
func (w *Worker) Supervisor() *supervisor.Supervisor { return w.sup }

// Kick makes the worker check for a new version now; with force it
// downloads and restarts even when the version has not changed (SIGHUP).
func (w *Worker) Kick(force bool) {
	if force {
		select {
		case w.reloaded <- struct{}{}:
		default:
		}
	}
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// Run pulls, runs and follows the codebase until ctx ends. It leaves the
// program running: the caller shuts the supervisor down.
func (w *Worker) Run(ctx context.Context) {
	logging.Infof("[codebase] Pulling %s", w.url.Redacted())
	go w.link(ctx)
	statusDue := make(chan struct{}, 1)
	go w.report(ctx, statusDue)
	for {
		select {
		case <-w.reloaded:
			w.version = ""
		default:
		}
		if w.check(ctx) {
			select {
			case statusDue <- struct{}{}:
			default:
			}
		}
		wait := w.opts.PollInterval
		if w.linkUp.Load() {
			wait = w.opts.ReportInterval
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-w.kick:
		case <-t.C:
		}
		t.Stop()
	}
}

func (w *Worker) request(ctx context.Context, method, u string, body []byte) (*http.Response, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, err
	}
	if w.opts.Token != "" {
		req.Header.Set("Authorization", "Bearer "+w.opts.Token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return w.opts.Client.Do(req)
}

func (w *Worker) fileURL(p string) string {
	u := *w.url
	u.Path = w.base + p
	u.RawPath = ""
	u.RawQuery = ""
	return u.String()
}

// fail logs a download problem once until it changes.
func (w *Worker) fail(format string, a ...any) {
	msg := fmt.Sprintf(format, a...)
	if msg != w.lastErr {
		logging.Errorf("[codebase] %s", msg)
		w.lastErr = msg
	}
}

// check looks at the manifest's version and, when it is new, downloads and
// starts it. It reports whether a new version started.
func (w *Worker) check(ctx context.Context) bool {
	resp, err := w.request(ctx, http.MethodHead, w.url.String(), nil)
	if err != nil {
		w.fail("HEAD %s -> %v", w.url.Redacted(), err)
		return false
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		w.fail("HEAD %s -> %s", w.url.Redacted(), resp.Status)
		return false
	}
	if tag := resp.Header.Get("Etag"); tag != "" && tag == w.version {
		return false
	}
	for attempt := 0; attempt < 3; attempt++ {
		version, files, main, err := w.download(ctx)
		if errors.Is(err, errVersionChanged) {
			continue // a commit landed mid-download: start over
		}
		if err != nil {
			w.fail("%v", err)
			return false
		}
		w.lastErr = ""
		if version == w.version && version != "" {
			return false
		}
		w.version = version
		fsys := fstest.MapFS{}
		for p, data := range files {
			fsys[strings.TrimPrefix(p, "/")] = &fstest.MapFile{Data: data, Mode: 0o444}
		}
		if err := w.sup.Start(w.url.Redacted(), version, fsys, main); err != nil {
			logging.Errorf("[restart] Failed reloading codebase version %s; the previous version keeps running", version)
			return false
		}
		return true
	}
	return false
}

var errVersionChanged = errors.New("the version changed during the download")

// download fetches the manifest and its files, or the single script.
func (w *Worker) download(ctx context.Context) (version string, files map[string][]byte, main string, err error) {
	body, version, err := w.get(ctx, w.url.String())
	if err != nil {
		return "", nil, "", err
	}
	files = map[string][]byte{}
	var paths []string
	if !isManifest(body) {
		name := w.url.Path[len(w.base):]
		if name == "/" || name == "" {
			name = "/main.js"
		}
		files[name] = body
		paths = []string{name}
		body = nil
	}
	for line := range strings.SplitSeq(string(body), "\n") {
		if p := strings.TrimSpace(line); p != "" {
			if _, err := store.CleanFilePath(p); err != nil {
				return "", nil, "", fmt.Errorf("bad manifest from %s: %v", w.url.Redacted(), err)
			}
			paths = append(paths, p)
		}
	}
	if len(paths) == 0 {
		return "", nil, "", fmt.Errorf("empty manifest from %s", w.url.Redacted())
	}
	for _, p := range paths {
		if files[p] != nil {
			continue
		}
		data, v, err := w.get(ctx, w.fileURL(p))
		if err != nil {
			return "", nil, "", err
		}
		if v != "" && version != "" && v != version {
			return "", nil, "", errVersionChanged
		}
		files[p] = data
	}
	if version == "" {
		// No etag: tell versions apart by their content.
		h := sha256.New()
		for _, p := range paths {
			fmt.Fprintf(h, "%s\n%d\n", p, len(files[p]))
			h.Write(files[p])
		}
		version = "sha256:" + hex.EncodeToString(h.Sum(nil))[:16]
	}
	return version, files, paths[0], nil
}

func isManifest(b []byte) bool {
	return len(b) > 1 && b[0] == '/' && b[1] != '/' && b[1] != '*'
}

func (w *Worker) get(ctx context.Context, u string) ([]byte, string, error) {
	resp, err := w.request(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, "", fmt.Errorf("GET %s -> %v", redact(u), err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, store.MaxFileSize+1))
	if err != nil {
		return nil, "", fmt.Errorf("GET %s -> %v", redact(u), err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, "", fmt.Errorf("GET %s -> %s", redact(u), resp.Status)
	}
	logging.Infof("[codebase] GET %s -> %d bytes", redact(u), len(body))
	return body, resp.Header.Get("Etag"), nil
}

func redact(u string) string {
	if p, err := url.Parse(u); err == nil {
		return p.Redacted()
	}
	return u
}

// report posts the status (with the metrics) now and then, and right
// after a new version started.
func (w *Worker) report(ctx context.Context, due <-chan struct{}) {
	t := time.NewTicker(w.opts.ReportInterval)
	defer t.Stop()
	for {
		st := w.sup.Status()
		if st.Version != "" {
			report := struct {
				supervisor.Status
				Metrics string `json:"metrics,omitempty"`
			}{Status: st}
			if w.opts.Metrics != nil {
				var buf bytes.Buffer
				w.opts.Metrics(&buf)
				report.Metrics = buf.String()
			}
			body, _ := json.Marshal(report)
			if resp, err := w.request(ctx, http.MethodPost, w.url.String(), body); err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-due:
		}
	}
}

// link keeps a websocket open to the console, which pushes
// {"version":"N"} on commits; each message makes the worker check.
func (w *Worker) link(ctx context.Context) {
	u := *w.url
	if u.Scheme == "https" {
		u.Scheme = "wss"
	} else {
		u.Scheme = "ws"
	}
	header := http.Header{}
	if w.opts.Token != "" {
		header.Set("Authorization", "Bearer "+w.opts.Token)
	}
	dialer := websocket.Dialer{HandshakeTimeout: 5 * time.Second}
	for ctx.Err() == nil {
		conn, resp, err := dialer.DialContext(ctx, u.String(), header)
		if resp != nil && resp.Body != nil {
			resp.Body.Close()
		}
		if err == nil {
			w.linkUp.Store(true)
			stop := context.AfterFunc(ctx, func() { conn.Close() })
			for {
				// Any message ({"version":"N"}) means: look at the manifest.
				if _, _, err := conn.ReadMessage(); err != nil {
					break
				}
				w.Kick(false)
			}
			stop()
			conn.Close()
			w.linkUp.Store(false)
			w.Kick(false) // look once right away, then poll until the link is back
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}
