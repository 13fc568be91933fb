package main

// The console: `sluice` with no script.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"
	"time"

	"sluice"
	"sluice/backend/admin"
	"sluice/backend/engine"
	"sluice/backend/logging"
	"sluice/backend/metrics"
	"sluice/backend/store"
	"sluice/backend/supervisor"
)

// defaultDataDir is where the console keeps its store unless --data says:
// $XDG_DATA_HOME/sluice or ~/.local/share/sluice, ~/Library/Application
// Support/sluice on macOS, %LocalAppData%\sluice on Windows.
func defaultDataDir() (string, error) {
	if d := os.Getenv("XDG_DATA_HOME"); d != "" && runtime.GOOS != "windows" && runtime.GOOS != "darwin" {
		return filepath.Join(d, "sluice"), nil
	}
	switch runtime.GOOS {
	case "windows":
		if d := os.Getenv("LocalAppData"); d != "" {
			return filepath.Join(d, "sluice"), nil
		}
	case "darwin":
		home, err := os.UserHomeDir()
		if err != nil {
			return "", err
		}
		return filepath.Join(home, "Library", "Application Support", "sluice"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("no home folder for the data (give --data): %w", err)
	}
	return filepath.Join(home, ".local", "share", "sluice"), nil
}

func adminToken(o options) string {
	if o.adminToken != "" {
		return o.adminToken
	}
	return os.Getenv("SLUICE_ADMIN_TOKEN")
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// console serves the console until SIGINT or SIGTERM.
func console(o options, stdout io.Writer) int {
	// Keep every line from the start for the console's log panel.
	logs := admin.NewLogBuffer(admin.DefaultLogLines)
	logs.Attach()
	defer logs.Detach()

	addr := o.adminListen
	if addr == "" {
		if o.adminPort < 0 || o.adminPort > 65535 {
			logging.Errorf("[admin] --admin-port must be a port number, not %d", o.adminPort)
			return 2
		}
		addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(o.adminPort))
	} else if _, _, err := net.SplitHostPort(addr); err != nil {
		logging.Errorf("[admin] --admin-listen wants ADDRESS:PORT: %v", err)
		return 2
	}
	loopback := admin.IsLoopback(addr)
	token := adminToken(o)
	generated := false
	if token == "" && !loopback {
		token, generated = randomHex(20), true
	}
	dir := o.data
	if dir == "" {
		var err error
		if dir, err = defaultDataDir(); err != nil {
			logging.Errorf("[store] %v", err)
			return 1
		}
	}
	st, err := store.Open(dir)
	if err != nil {
		logging.Errorf("[store] %v", err)
		return 1
	}
	defer st.Close()
	logging.Infof("[store] Codebases are kept in %s", st.File())
	// The console works on with what the store has if this fails.
	samples, steps, err := admin.BundledCodebases(sluice.Assets)
	if err != nil {
		logging.Errorf("[store] Reading the bundled codebases: %v", err)
	}
	changed, err := st.ImportBundled(samples, steps)
	for _, c := range changed {
		logging.Infof("[store] Imported %s", c)
	}
	if err != nil {
		logging.Errorf("[store] Importing the bundled codebases: %v", err)
	}
	uuid, _ := st.Meta("instance_uuid")
	if uuid == "" {
		uuid = newUUID()
		st.SetMeta("instance_uuid", uuid)
	}
	name := o.instanceName
	if name == "" {
		name, _ = os.Hostname()
	}
	sup := supervisor.New(supervisor.Options{Threads: o.threads, CallbackBudget: o.budget, UUID: uuid, Name: name})
	ui, _ := fs.Sub(sluice.Assets, "web/dist")
	srv := admin.New(admin.Config{Store: st, Supervisor: sup, Token: token, Loopback: loopback, UI: ui, Log: logs,
		Metrics: metrics.Gatherer()})
	defer srv.Close()

	// A script's pipy.exit() stops the program, not the console;
	// pipy.restart() runs it again.
	engine.SetProcessHooks(func(code int) {
		go func() {
			logging.Infof("[program] The script exited with code %d", code)
			sup.Stop()
		}()
	}, func() {
		go srv.Restart()
	})

	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigs)
	logging.Infof("[admin] Starting admin service...")
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		logging.Errorf("[admin] Cannot listen on %s: %v", addr, err)
		return 1
	}
	bound := ln.Addr().(*net.TCPAddr)
	logging.Infof("[listener] Listening on port %d at %s", bound.Port, bound.IP)
	host := bound.IP.String()
	if bound.IP.IsUnspecified() || bound.IP.IsLoopback() {
		host = "localhost"
	}
	link := "http://" + net.JoinHostPort(host, strconv.Itoa(bound.Port)) + "/"
	if token != "" && generated {
		fmt.Fprintf(stdout, "Admin token: %s (clients send \"Authorization: Bearer <token>\")\n", token)
	}
	if token != "" {
		link += "?token=" + token
	}
	fmt.Fprintf(stdout, "You can now view the Sluice console in the browser: %s\n", link)

	// Websockets clear the read and write deadlines when they take over.
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute,
		WriteTimeout: time.Minute, IdleTimeout: 2 * time.Minute,
		ErrorLog: log.New(io.Discard, "", 0)}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()

	for {
		select {
		case err := <-served:
			if !errors.Is(err, http.ErrServerClosed) {
				logging.Errorf("[admin] %v", err)
				return 1
			}
			return 0
		case sig := <-sigs:
			if sig == syscall.SIGHUP {
				if err := srv.Restart(); err != nil {
					logging.Infof("[reload] %v", err)
				}
				continue
			}
			logging.Infof("[shutdown] Shutting down...")
			go func() {
				<-sigs
				logging.Infof("[shutdown] Forced to stop")
				os.Exit(1)
			}()
			srv.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			hs.Shutdown(ctx)
			cancel()
			if left := sup.Shutdown(10 * time.Second); left > 0 {
				logging.Warnf("[shutdown] %d requests still in flight were dropped", left)
			}
			logging.Infof("[shutdown] Stopped.")
			return 0
		}
	}
}

// newUUID returns a random (version 4) UUID.
func newUUID() string {
	b := make([]byte, 16)
	rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
