package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// A contender is one server implementation under test.
type contender struct {
	Name string
	// Base, for a variant of another contender (sluice-nocb), names that
	// contender; the two run back to back in every round.
	Base string
	// Prepare writes the contender's configuration for scenario sc into dir
	// and returns the command line that serves it on port.
	Prepare func(dir string, sc scenario, port, upstreamPort int) ([]string, error)
	// WithScript, set for contenders that run Pipy-style scripts, returns a
	// variant: the same server, called name, running script in place of
	// the scenario's.
	WithScript func(name string, script scriptFunc) contender
}

// group is the name of the contender c runs back to back with: its base,
// or its own.
func (c contender) group() string {
	if c.Base != "" {
		return c.Base
	}
	return c.Name
}

// scriptContender runs a Pipy-style script: sluice, and Pipy itself.
func scriptContender(name, bin string, flags []string) contender {
	return scriptRunner(contender{Name: name}, bin, flags, nil)
}

// scriptRunner completes c to run bin with the script for each scenario
// and flags: script when it is set, otherwise the scenario's.
func scriptRunner(c contender, bin string, flags []string, script scriptFunc) contender {
	name := c.Name
	c.Prepare = func(dir string, sc scenario, port, upstreamPort int) ([]string, error) {
		text := sc.Script
		if script != nil {
			text = script
		}
		file := filepath.Join(dir, name+"-"+sc.Name+".js")
		if err := os.WriteFile(file, []byte(text(port, upstreamPort)), 0o644); err != nil {
			return nil, err
		}
		return append([]string{bin, file}, flags...), nil
	}
	c.WithScript = func(variant string, script scriptFunc) contender {
		return scriptRunner(contender{Name: variant, Base: name}, bin, flags, script)
	}
	return c
}

// blockContenders lists the contenders of sc's block in the main table:
// all of contenders, each script contender followed by its -nocb variant
// when sc has a script without its callback (nginx runs no scripts, so it
// has none).
func blockContenders(sc scenario, contenders []contender) []contender {
	var out []contender
	for _, c := range contenders {
		out = append(out, c)
		if sc.NoCallback != nil && c.WithScript != nil {
			out = append(out, c.WithScript(c.Name+nocbSuffix, sc.NoCallback))
		}
	}
	return out
}

// nginxContender runs nginx with one worker, in the foreground, with every
// path it writes to inside dir.
func nginxContender(bin string) contender {
	return contender{Name: "nginx", Prepare: func(dir string, sc scenario, port, upstreamPort int) ([]string, error) {
		if sc.NginxServer == nil {
			return nil, fmt.Errorf("scenario %s has no nginx configuration", sc.Name)
		}
		prefix := filepath.Join(dir, "nginx-"+sc.Name)
		if err := os.MkdirAll(prefix, 0o755); err != nil {
			return nil, err
		}
		conf := filepath.Join(prefix, "nginx.conf")
		text := nginxConfig(prefix, nginxTempPaths(bin), sc.NginxServer(port, upstreamPort))
		if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
			return nil, err
		}
		return []string{bin, "-p", prefix + "/", "-e", filepath.Join(prefix, "error.log"), "-c", conf}, nil
	}}
}

func nginxConfig(prefix string, tempPaths []string, httpBody string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "worker_processes 1;\ndaemon off;\nmaster_process on;\npid %s/nginx.pid;\nerror_log %s/error.log warn;\n", prefix, prefix)
	b.WriteString("events { worker_connections 4096; }\n")
	b.WriteString("http {\n  access_log off;\n  default_type text/plain;\n  keepalive_requests 1000000;\n")
	for _, t := range tempPaths {
		fmt.Fprintf(&b, "  %s %s/%s;\n", t, prefix, strings.TrimSuffix(t, "_temp_path"))
	}
	b.WriteString(httpBody)
	b.WriteString("}\n")
	return b.String()
}

// nginxTempPaths lists the *_temp_path directives this nginx build knows, so
// that none of them points outside the benchmark's directory (nginx creates
// them at startup, and a non-root user may not write to the defaults).
func nginxTempPaths(bin string) []string {
	out, _ := exec.Command(bin, "-V").CombinedOutput()
	paths := []string{"client_body_temp_path"}
	for _, m := range []string{"proxy", "fastcgi", "uwsgi", "scgi"} {
		if !strings.Contains(string(out), "--without-http_"+m+"_module") {
			paths = append(paths, m+"_temp_path")
		}
	}
	return paths
}

// process is a started server. Each runs in its own process group, so that
// stopping it also stops its children (nginx's workers).
type process struct {
	Name string
	cmd  *exec.Cmd
	log  string        // file holding its stdout and stderr
	done chan struct{} // closed once it has exited
	err  error         // its exit status, valid after done
}

// setProcessGroup puts cmd in a process group of its own and has the kernel
// kill it if the benchmark dies. If cmd was made by exec.CommandContext,
// cancelling kills the whole group.
func setProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if cmd.Cancel != nil {
		cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	}
}

// startProcess runs argv, prefixed with pin, logging to dir/name.log.
func startProcess(name string, pin, argv []string, dir string, env ...string) (*process, error) {
	full := append(append([]string{}, pin...), argv...)
	logPath := filepath.Join(dir, name+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	cmd := exec.Command(full[0], full[1:]...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.Env = append(os.Environ(), env...)
	setProcessGroup(cmd)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	p := &process{Name: name, cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// Pid is the server's process id (taskset execs the server in place).
func (p *process) Pid() int { return p.cmd.Process.Pid }

// Exited reports whether the process has ended.
func (p *process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Stop terminates the process group: SIGTERM, then SIGKILL after a grace
// period.
func (p *process) Stop() {
	if p.Exited() {
		return
	}
	_ = syscall.Kill(-p.Pid(), syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(3 * time.Second):
		_ = syscall.Kill(-p.Pid(), syscall.SIGKILL)
		<-p.done
	}
}

// LogTail returns the last lines the process printed.
func (p *process) LogTail() string {
	b, _ := os.ReadFile(p.log)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > 8 {
		lines = lines[len(lines)-8:]
	}
	return strings.Join(lines, "\n")
}

// failure describes why p stopped working, with what it printed.
func (p *process) failure(what string) error {
	msg := what
	if p.Exited() {
		msg = fmt.Sprintf("%s (exited: %v)", what, p.err)
	}
	if tail := p.LogTail(); tail != "" {
		msg += "\n    " + strings.ReplaceAll(tail, "\n", "\n    ")
	}
	return errors.New(msg)
}

// waitHTTP polls url until it answers, the process exits, or the timeout
// passes. It returns the status and body of the first answer.
func waitHTTP(ctx context.Context, p *process, url string, timeout time.Duration) (int, string, error) {
	client := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	deadline := time.Now().Add(timeout)
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := client.Do(req)
		if err == nil {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			resp.Body.Close()
			return resp.StatusCode, string(body), nil
		}
		switch {
		case ctx.Err() != nil:
			return 0, "", ctx.Err()
		case p.Exited():
			return 0, "", p.failure("exited before answering")
		case time.Now().After(deadline):
			return 0, "", p.failure(fmt.Sprintf("no answer on %s within %v: %v", url, timeout, err))
		}
		select {
		case <-ctx.Done():
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// freePort asks the kernel for an unused loopback port.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// allowedCPUs lists the CPUs this process may run on, from
// Cpus_allowed_list in /proc/self/status (e.g. "0-3,6").
func allowedCPUs() []int {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return nil
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "Cpus_allowed_list:"); ok {
			return parseCPUList(strings.TrimSpace(rest))
		}
	}
	return nil
}

func parseCPUList(s string) []int {
	var cpus []int
	for _, part := range strings.Split(s, ",") {
		var lo, hi int
		if n, _ := fmt.Sscanf(part, "%d-%d", &lo, &hi); n == 2 {
			for c := lo; c <= hi; c++ {
				cpus = append(cpus, c)
			}
		} else if n == 1 {
			cpus = append(cpus, lo)
		}
	}
	return cpus
}
