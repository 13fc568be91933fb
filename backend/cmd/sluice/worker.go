package main

// A worker: `sluice http://HOST:6060/repo/<codebase>/`.

import (
	"context"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"sluice/backend/engine"
	"sluice/backend/logging"
	"sluice/backend/metrics"
	"sluice/backend/repoworker"
)

func isRepoURL(arg string) bool {
	return strings.HasPrefix(arg, "http://") || strings.HasPrefix(arg, "https://")
}

// worker runs the codebase at url, following its new versions, until
// SIGINT or SIGTERM (or the script's pipy.exit()).
func worker(url string, o options) int {
	name := o.instanceName
	if name == "" {
		name, _ = os.Hostname()
	}
	uuid := o.instanceUUID
	if uuid == "" {
		uuid = newUUID()
	}
	w, err := repoworker.New(repoworker.Options{URL: url, Token: adminToken(o), Threads: o.threads,
		CallbackBudget: o.budget, UUID: uuid, Name: name, Metrics: metrics.Write})
	if err != nil {
		logging.Errorf("%v", err)
		return 2
	}
	exit := make(chan int, 1)
	engine.SetProcessHooks(func(code int) {
		select {
		case exit <- code:
		default:
		}
	}, func() { w.Kick(true) })
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigs)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go w.Run(ctx)
	sup := w.Supervisor()
	for {
		select {
		case code := <-exit:
			cancel()
			sup.Shutdown(10 * time.Second)
			return code
		case sig := <-sigs:
			if sig == syscall.SIGHUP {
				logging.Infof("[reload] Downloading the codebase again")
				w.Kick(true)
				continue
			}
			logging.Infof("[shutdown] Shutting down...")
			go func() {
				<-sigs
				logging.Infof("[shutdown] Forced to stop")
				os.Exit(1)
			}()
			cancel()
			if left := sup.Shutdown(30 * time.Second); left > 0 {
				logging.Warnf("[shutdown] %d requests still in flight were dropped", left)
			}
			logging.Infof("[shutdown] Stopped.")
			return 0
		}
	}
}
