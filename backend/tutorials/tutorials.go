// Package tutorials reads the bundled step-by-step tutorials and runs them.
//
// The tutorials folder (tutorials/ at the module root, embedded by the root
// package) holds one folder per step, named NN-name, each with a README.md
// (the text), a tutorial.json (the manifest: title, main module, base step,
// helper services, expected exchanges) and the step's codebase files. A step
// may derive from a base step: its codebase is the base's codebase with the
// step's own files laid over it. Helper codebases that are not steps (a log
// collector, ...) live under services/. The format is described for authors
// in tutorials/README.md.
//
// Load reads a tutorials folder; Step.Files and Step.Codebase materialise a
// step's codebase (optionally with its ports remapped, for tests);
// Step.Start runs a step and its helper services in the current process;
// a Client sends a step's expected exchanges and checks the replies; and
// Commands reads the commands of a step's README, which Instance.Run runs
// as a reader would, so that what they print can be compared with the text.
// Available and Missing tell which filters and classes a build has.
package tutorials

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing/fstest"
	"time"
)

// Manifest is a step's tutorial.json.
type Manifest struct {
	// Title is the step's name as shown in a list of steps.
	Title string `json:"title"`
	// Summary is one sentence on what the step teaches.
	Summary string `json:"summary,omitempty"`
	// Base names the step this one derives from ("07-load-balancing"): the
	// base's codebase (with its own base under it) lies under this step's
	// files. Empty for a step that stands alone.
	Base string `json:"base,omitempty"`
	// Main is the entry module, relative to the codebase root ("main.js").
	Main string `json:"main"`
	// Requires lists what the step's codebase needs just to load: filter
	// names ("acceptTLS") or global classes ("crypto.JWT", "XML").
	Requires []string `json:"requires,omitempty"`
	// Services are helper programs the step talks to (mock upstreams, a log
	// collector), started next to it.
	Services []Service `json:"services,omitempty"`
	// MetricsPort, when set, is where the process's metrics are served
	// (GET /metrics, Prometheus text) while the step runs, as the console
	// serves them on its own port.
	MetricsPort int `json:"metricsPort,omitempty"`
	// Expect is the list of exchanges to check, in order.
	Expect []Expectation `json:"expect"`
}

// Service is a helper program of a step.
type Service struct {
	// Name is what the logs call it ("upstreams").
	Name string `json:"name"`
	// Codebase is a step ("02-echo", whose codebase is used as is) or a
	// folder under the tutorials root ("services/log-collector").
	Codebase string `json:"codebase"`
	// Main is the entry module in that codebase.
	Main string `json:"main"`
}

// Expectation is one step of a check: an exchange, or a pause.
type Expectation struct {
	// Name says what is checked, for the test log.
	Name string `json:"name,omitempty"`
	// Requires lists the filters or classes the exchange needs beyond the
	// step's own Requires; the exchange is skipped while one is missing.
	Requires []string `json:"requires,omitempty"`
	// Sleep, alone in an expectation, waits that long (a cache's TTL).
	Sleep Duration `json:"sleep,omitempty"`
	// Connection, when set, sends the request on the connection of that
	// name: consecutive exchanges with the same name share one connection,
	// which closes when an exchange names another one or none. Without it
	// each exchange has a connection of its own, closed after it, as curl
	// does.
	Connection string `json:"connection,omitempty"`
	// RetryFor repeats the exchange (each time on a fresh connection) until
	// the response matches or that much time has passed: for effects that
	// show up a moment later, like logs shipped in batches.
	RetryFor Duration `json:"retryFor,omitempty"`
	// Repeat sends the request that many times (default 1); every response
	// must match.
	Repeat int `json:"repeat,omitempty"`
	// TakesAtLeast, with Repeat, is the shortest time all the repetitions
	// may take (a rate limit makes them wait).
	TakesAtLeast Duration  `json:"takesAtLeast,omitempty"`
	Request      *Request  `json:"request,omitempty"`
	Response     *Response `json:"response,omitempty"`
}

// Request is what an exchange sends, as curl would send it.
type Request struct {
	// Method defaults to GET, or POST when there is a body.
	Method string `json:"method,omitempty"`
	// Port is the port as the tutorial documents it (8000, 8080, ...).
	Port int `json:"port"`
	// Path defaults to "/".
	Path    string            `json:"path,omitempty"`
	Headers map[string]string `json:"headers,omitempty"`
	Body    string            `json:"body,omitempty"`
	// TLS sends the request over TLS for the server name "localhost",
	// trusting the certificate in CA (a file of the step's codebase), or
	// any certificate when CA is empty.
	TLS bool   `json:"tls,omitempty"`
	CA  string `json:"ca,omitempty"`
}

// Response is what an exchange expects back. Zero fields are not checked,
// except Status, which defaults to 200.
type Response struct {
	Status int `json:"status,omitempty"`
	// Body is the exact body expected, when given.
	Body *string `json:"body,omitempty"`
	// BodyContains lists texts the body must contain.
	BodyContains []string `json:"bodyContains,omitempty"`
	// BodyMatches is a regular expression the body must match.
	BodyMatches string `json:"bodyMatches,omitempty"`
	// Headers maps header names (any case) to their exact expected values.
	Headers map[string]string `json:"headers,omitempty"`
	// HeadersAbsent lists headers that must not be there.
	HeadersAbsent []string `json:"headersAbsent,omitempty"`
}

// Duration is a time.Duration written as "3s" in JSON.
type Duration time.Duration

// UnmarshalJSON reads "1.5s" or a number of seconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		var n float64
		if err := json.Unmarshal(b, &n); err != nil {
			return fmt.Errorf("duration: want \"1.5s\" or a number of seconds, got %s", b)
		}
		*d = Duration(n * float64(time.Second))
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("duration: %w", err)
	}
	*d = Duration(v)
	return nil
}

// MarshalJSON writes the duration as "3s".
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// Ports are the fixed ports the tutorials use. Tests remap every one of them
// to a free port in every code file of a step and its services, and in the
// URLs of the README's commands, so steps can run side by side.
var Ports = []int{
	8000, // the proxy
	8080, // the hello service (step 02), the first upstream
	8081, // the echo service
	8082, // the who-am-I service
	8123, // the log collector (step 11)
	8443, // the proxy's TLS port (step 20)
	6060, // the metrics (step 19), where the console serves them
}

// Step is one step of the tutorials.
type Step struct {
	Manifest
	// ID is the step's number as written in its folder name ("07").
	ID string
	// Dir is the step's folder ("07-load-balancing").
	Dir string
	// README is the step's text.
	README string

	set *Set
}

// Set is every step of a tutorials folder, in order.
type Set struct {
	Steps []*Step
	fsys  fs.FS
	byDir map[string]*Step
}

var stepDir = regexp.MustCompile(`^(\d\d)-[a-z0-9-]+$`)

// Load reads the steps of a tutorials folder (fsys is rooted at it). It
// checks that every manifest reads, every base and service codebase
// exists, and that no base chain loops.
func Load(fsys fs.FS) (*Set, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, err
	}
	s := &Set{fsys: fsys, byDir: map[string]*Step{}}
	for _, e := range entries {
		m := stepDir.FindStringSubmatch(e.Name())
		if !e.IsDir() || m == nil {
			continue
		}
		st := &Step{ID: m[1], Dir: e.Name(), set: s}
		b, err := fs.ReadFile(fsys, path.Join(e.Name(), "tutorial.json"))
		if err != nil {
			return nil, fmt.Errorf("step %s: %w", e.Name(), err)
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&st.Manifest); err != nil {
			return nil, fmt.Errorf("%s/tutorial.json: %w", e.Name(), err)
		}
		if st.Title == "" || st.Main == "" {
			return nil, fmt.Errorf("%s/tutorial.json: title and main are required", e.Name())
		}
		readme, err := fs.ReadFile(fsys, path.Join(e.Name(), "README.md"))
		if err != nil {
			return nil, fmt.Errorf("step %s: %w", e.Name(), err)
		}
		st.README = string(readme)
		s.Steps = append(s.Steps, st)
		s.byDir[st.Dir] = st
	}
	sort.Slice(s.Steps, func(i, j int) bool { return s.Steps[i].Dir < s.Steps[j].Dir })
	for _, st := range s.Steps {
		seen := map[string]bool{}
		for b := st; b.Base != ""; {
			if seen[b.Dir] {
				return nil, fmt.Errorf("step %s: its bases loop", st.Dir)
			}
			seen[b.Dir] = true
			next := s.byDir[b.Base]
			if next == nil {
				return nil, fmt.Errorf("step %s: base %q is not a step", b.Dir, b.Base)
			}
			b = next
		}
		for _, sv := range st.Services {
			if s.byDir[sv.Codebase] == nil {
				if _, err := fs.Stat(fsys, sv.Codebase); err != nil {
					return nil, fmt.Errorf("step %s: service %s: codebase %q not found", st.Dir, sv.Name, sv.Codebase)
				}
			}
		}
		for i, e := range st.Expect {
			if (e.Request == nil) == (e.Sleep == 0) {
				return nil, fmt.Errorf("step %s: expectation %d: give either a request or a sleep", st.Dir, i+1)
			}
		}
	}
	return s, nil
}

// Step finds a step by number ("7" or "07") or folder name.
func (s *Set) Step(id string) *Step {
	if st := s.byDir[id]; st != nil {
		return st
	}
	if n, err := strconv.Atoi(id); err == nil {
		for _, st := range s.Steps {
			if m, _ := strconv.Atoi(st.ID); m == n {
				return st
			}
		}
	}
	return nil
}

// BaseStep returns the step this one derives from, or nil.
func (st *Step) BaseStep() *Step { return st.set.byDir[st.Base] }

// skipped are the files of a step folder that are not part of its codebase.
var skipped = map[string]bool{"README.md": true, "tutorial.json": true}

// Files returns the step's codebase: its base's files (recursively) with
// the step's own files over them, keyed by path relative to the codebase
// root. The README and the manifest are not part of it.
func (st *Step) Files() (map[string][]byte, error) {
	files := map[string][]byte{}
	if b := st.BaseStep(); b != nil {
		var err error
		if files, err = b.Files(); err != nil {
			return nil, err
		}
	}
	if err := readTree(st.set.fsys, st.Dir, files); err != nil {
		return nil, err
	}
	return files, nil
}

// OwnFiles returns the names of the files the step itself adds or changes.
func (st *Step) OwnFiles() ([]string, error) {
	files := map[string][]byte{}
	if err := readTree(st.set.fsys, st.Dir, files); err != nil {
		return nil, err
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	return names, nil
}

func readTree(fsys fs.FS, dir string, into map[string][]byte) error {
	return fs.WalkDir(fsys, dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel := strings.TrimPrefix(p, dir+"/")
		if skipped[rel] {
			return nil
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		into[rel] = b
		return nil
	})
}

// codebaseFiles returns the files of a service's codebase: a step's
// codebase, or a folder under the tutorials root.
func (s *Set) codebaseFiles(name string) (map[string][]byte, error) {
	if st := s.byDir[name]; st != nil {
		return st.Files()
	}
	files := map[string][]byte{}
	if err := readTree(s.fsys, name, files); err != nil {
		return nil, err
	}
	return files, nil
}

// Codebase returns the step's codebase as a file system, with every port
// of Ports replaced as the map says in its code files (nil: unchanged).
func (st *Step) Codebase(ports map[int]int) (fs.FS, error) {
	files, err := st.Files()
	if err != nil {
		return nil, err
	}
	return codebaseFS(files, ports), nil
}

func codebaseFS(files map[string][]byte, ports map[int]int) fstest.MapFS {
	out := fstest.MapFS{}
	for name, b := range files {
		if len(ports) > 0 && isCode(name) {
			b = RemapPorts(b, ports)
		}
		out[name] = &fstest.MapFile{Data: b, Mode: 0o644}
	}
	return out
}

// isCode tells the files whose port numbers are remapped.
func isCode(name string) bool {
	switch path.Ext(name) {
	case ".js", ".ts", ".mjs", ".json":
		return true
	}
	return false
}

var number = regexp.MustCompile(`\b\d{4,5}\b`)

// RemapPorts replaces each whole number that is a key of ports by its value.
func RemapPorts(b []byte, ports map[int]int) []byte {
	return number.ReplaceAllFunc(b, func(m []byte) []byte {
		n, _ := strconv.Atoi(string(m))
		if to, ok := ports[n]; ok {
			return []byte(strconv.Itoa(to))
		}
		return m
	})
}

// AllRequires returns what the step needs to load and what any of its
// exchanges need, without repeats.
func (st *Step) AllRequires() []string {
	seen := map[string]bool{}
	var out []string
	add := func(names []string) {
		for _, n := range names {
			if !seen[n] {
				seen[n] = true
				out = append(out, n)
			}
		}
	}
	add(st.Requires)
	for _, e := range st.Expect {
		add(e.Requires)
	}
	return out
}
