package admin

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/labstack/echo/v4"

	"sluice/backend/store"
	"sluice/backend/supervisor"
)

const (
	wsWriteTimeout = 10 * time.Second
	wsPingEvery    = 20 * time.Second
	wsLogQueue     = 4096 // lines a slow log client may fall behind before lines are dropped
	countersEvery  = 250 * time.Millisecond
)

var upgrader = websocket.Upgrader{
	ReadBufferSize:  4 << 10,
	WriteBufferSize: 16 << 10,
	// guard has checked the Origin already.
	CheckOrigin: func(*http.Request) bool { return true },
	Error: func(w http.ResponseWriter, r *http.Request, status int, reason error) {
		body, _ := json.Marshal(&apiError{Status: status, Message: "websocket: " + reason.Error()})
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		w.Write(append(body, '\n'))
	},
}

// hub tells websocket goroutines about commits and about the server
// closing.
type hub struct {
	mu   sync.Mutex
	subs map[string]map[chan struct{}]struct{}
	done chan struct{}
	once sync.Once
}

func newHub() *hub {
	return &hub{subs: map[string]map[chan struct{}]struct{}{}, done: make(chan struct{})}
}

// watch returns a channel that receives after each commit to codebase.
func (h *hub) watch(codebase string) (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	h.mu.Lock()
	if h.subs[codebase] == nil {
		h.subs[codebase] = map[chan struct{}]struct{}{}
	}
	h.subs[codebase][ch] = struct{}{}
	h.mu.Unlock()
	return ch, func() {
		h.mu.Lock()
		delete(h.subs[codebase], ch)
		if len(h.subs[codebase]) == 0 {
			delete(h.subs, codebase)
		}
		h.mu.Unlock()
	}
}

func (h *hub) notify(codebase string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.subs[codebase] {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

func (h *hub) close() { h.once.Do(func() { close(h.done) }) }

// wsConn is an upgraded connection with a reader goroutine that handles
// control frames and hands text messages to onText.
type wsConn struct {
	c      *websocket.Conn
	closed chan struct{} // closed when the peer goes away
}

func (s *Server) upgrade(c echo.Context, onText func([]byte)) (*wsConn, bool) {
	conn, err := upgrader.Upgrade(c.Response(), c.Request(), nil)
	if err != nil {
		return nil, false // Upgrade has replied
	}
	conn.SetReadLimit(MaxStatusSize)
	w := &wsConn{c: conn, closed: make(chan struct{})}
	go func() {
		defer close(w.closed)
		for {
			kind, msg, err := conn.ReadMessage()
			if err != nil {
				return
			}
			if kind == websocket.TextMessage && onText != nil {
				onText(msg)
			}
		}
	}()
	return w, true
}

func (w *wsConn) send(msg []byte) bool {
	w.c.SetWriteDeadline(time.Now().Add(wsWriteTimeout))
	return w.c.WriteMessage(websocket.TextMessage, msg) == nil
}

func (w *wsConn) ping() bool {
	return w.c.WriteControl(websocket.PingMessage, nil, time.Now().Add(wsWriteTimeout)) == nil
}

func (w *wsConn) close() {
	w.c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""),
		time.Now().Add(time.Second))
	w.c.Close()
}

// logStream sends the log backlog, then every new line, one text message a
// line. A client that falls too far behind is told how many lines it missed.
func (s *Server) logStream(c echo.Context) error {
	if !websocket.IsWebSocketUpgrade(c.Request()) {
		return errBadRequest("this is a websocket: connect with Upgrade: websocket")
	}
	ws, ok := s.upgrade(c, nil)
	if !ok {
		return nil
	}
	defer ws.close()
	lines := make(chan string, wsLogQueue)
	var dropped atomic.Int64
	backlog, cancel := s.log.Subscribe(func(l string) {
		select {
		case lines <- l:
		default:
			dropped.Add(1)
		}
	})
	defer cancel()
	for _, l := range backlog {
		if !ws.send([]byte(l)) {
			return nil
		}
	}
	ping := time.NewTicker(wsPingEvery)
	defer ping.Stop()
	for {
		select {
		case l := <-lines:
			if n := dropped.Swap(0); n > 0 {
				if !ws.send([]byte("[console] " + strconv.FormatInt(n, 10) + " log lines dropped: the connection is too slow")) {
					return nil
				}
			}
			if !ws.send([]byte(l)) {
				return nil
			}
		case <-ping.C:
			if !ws.ping() {
				return nil
			}
		case <-ws.closed:
			return nil
		case <-s.hub.done:
			return nil
		}
	}
}

// programMessage tells the console what runs, with its modules' graphs.
type programMessage struct {
	Type       string            `json:"type"` // "program"
	Running    bool              `json:"running"`
	Codebase   string            `json:"codebase"`
	Version    string            `json:"version"`
	Main       string            `json:"main"`
	Generation int               `json:"generation"`
	Status     supervisor.Status `json:"status"`
}

// statusStream pushes a "program" message when the running program changes
// (and first thing), and a "counters" message whenever its figures change
// (sampled four times a second).
func (s *Server) statusStream(c echo.Context) error {
	if !websocket.IsWebSocketUpgrade(c.Request()) {
		return errBadRequest("this is a websocket: connect with Upgrade: websocket")
	}
	ws, ok := s.upgrade(c, nil)
	if !ok {
		return nil
	}
	defer ws.close()
	sup := s.cfg.Supervisor
	var lastCounters []byte
	sendProgram := func() bool {
		st := sup.State()
		msg, _ := json.Marshal(&programMessage{Type: "program", Running: st.Running, Codebase: st.Codebase,
			Version: st.Version, Main: st.Main, Generation: st.Generation, Status: sup.Status()})
		return ws.send(msg)
	}
	sendCounters := func(force bool) bool {
		st := sup.State()
		cs, _ := json.Marshal(sup.Counters())
		if !force && bytes.Equal(cs, lastCounters) {
			return true
		}
		lastCounters = cs
		msg, _ := json.Marshal(&struct {
			Type       string          `json:"type"`
			Generation int             `json:"generation"`
			Counters   json.RawMessage `json:"counters"`
		}{"counters", st.Generation, cs})
		return ws.send(msg)
	}
	changed := sup.Changed()
	if !sendProgram() || !sendCounters(true) {
		return nil
	}
	tick := time.NewTicker(countersEvery)
	defer tick.Stop()
	lastPing := time.Now()
	for {
		select {
		case <-changed:
			changed = sup.Changed()
			if !sendProgram() || !sendCounters(true) {
				return nil
			}
		case <-tick.C:
			if !sendCounters(false) {
				return nil
			}
			if time.Since(lastPing) > wsPingEvery {
				lastPing = time.Now()
				if !ws.ping() {
					return nil
				}
			}
		case <-ws.closed:
			return nil
		case <-s.hub.done:
			return nil
		}
	}
}

// versionMessage tells a worker the latest version of its codebase.
type versionMessage struct {
	Version string `json:"version"`
}

// workerLink is the websocket a worker opens on /repo/<codebase>/: the
// console sends {"version":"N"} at once and after every commit that gives
// the codebase a new version; the worker may send its status JSON, as it
// would POST it.
func (s *Server) workerLink(c echo.Context, p string) error {
	if !strings.HasSuffix(p, "/") || p == "/" {
		return errNotFound("workers link to /repo/<codebase>/")
	}
	cb, err := store.CleanCodebasePath(p)
	if err != nil {
		return storeError(err)
	}
	if _, err := s.cfg.Store.Version(cb); err != nil {
		return storeError(err)
	}
	updates, cancel := s.hub.watch(cb)
	defer cancel()
	ws, ok := s.upgrade(c, func(msg []byte) {
		if st, metrics, err := parseStatus(msg); err == nil {
			s.register(cb, st, metrics)
		}
	})
	if !ok {
		return nil
	}
	defer ws.close()
	last := -1
	sendVersion := func() bool {
		v, err := s.cfg.Store.Version(cb)
		if err != nil {
			return false // deleted
		}
		if v == last {
			return true
		}
		last = v
		msg, _ := json.Marshal(&versionMessage{Version: strconv.Itoa(v)})
		return ws.send(msg)
	}
	if !sendVersion() {
		return nil
	}
	ping := time.NewTicker(wsPingEvery)
	defer ping.Stop()
	for {
		select {
		case <-updates:
			if !sendVersion() {
				return nil
			}
		case <-ping.C:
			if !ws.ping() {
				return nil
			}
		case <-ws.closed:
			return nil
		case <-s.hub.done:
			return nil
		}
	}
}
