package main

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"sluice"
	"sluice/backend/engine"
	"sluice/backend/logging"
	"sluice/backend/tutorials"
)

// serveTutorial runs a step of the bundled tutorials, with its helper
// services, until SIGINT or SIGTERM. "list" lists the steps.
func serveTutorial(id string, o options, stdout io.Writer) int {
	sub, err := fs.Sub(sluice.Assets, "tutorials")
	if err == nil {
		var set *tutorials.Set
		if set, err = tutorials.Load(sub); err == nil {
			return runStep(set, id, o, stdout)
		}
	}
	logging.Errorf("[tutorial] The bundled tutorials do not load: %v", err)
	return 1
}

func runStep(set *tutorials.Set, id string, o options, stdout io.Writer) int {
	st := set.Step(id)
	if st == nil || id == "list" {
		w := stdout
		if id != "list" {
			logging.Errorf("[tutorial] No step %q; the steps are:", id)
			w = os.Stderr
		}
		for _, s := range set.Steps {
			fmt.Fprintf(w, "%s  %-24s %s\n", s.ID, s.Title, s.Summary)
		}
		if id != "list" {
			return 2
		}
		return 0
	}
	if miss := tutorials.Missing(st.Requires); len(miss) > 0 {
		logging.Errorf("[tutorial] Step %s needs %s, which this build of Sluice does not have yet", st.ID, strings.Join(miss, ", "))
		return 1
	}
	logging.Infof("[tutorial] Step %s: %s (tutorials/%s/README.md)", st.ID, st.Title, st.Dir)
	in, err := st.Start(tutorials.Options{
		Threads:        o.threads,
		CallbackBudget: o.budget,
		OnLoad: func(name string, p *engine.Program) {
			if name == "" {
				printDiagrams(p)
			} else {
				logging.Infof("[tutorial] Service %s: %s", name, p.Main())
			}
		},
	})
	if err != nil {
		reportLoadError(err)
		logging.Errorf("[tutorial] Failed to start step %s", st.ID)
		return 1
	}
	logging.Infof("[tutorial] Step %s is running; press Ctrl-C to stop it", st.ID)
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)
	<-sigs
	logging.Infof("[shutdown] Shutting down...")
	go func() {
		<-sigs
		logging.Infof("[shutdown] Forced to stop")
		os.Exit(1)
	}()
	done := make(chan struct{})
	go func() { in.Stop(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
	}
	logging.Infof("[shutdown] Stopped.")
	return 0
}
