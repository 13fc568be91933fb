# Sluice build, run, test and benchmark targets.
SHELL := /bin/bash
GO    ?= go
BIN   := bin/sluice

# Extra flags for the load benchmark, e.g. make bench BENCHFLAGS='-scenario hello -rounds 5'.
BENCHFLAGS ?=

.PHONY: build web run test bench fuzz clean

build: web
	$(GO) build -o $(BIN) ./backend/cmd/sluice

# The console's front end (web/): esbuild bundles web/src into web/dist/app.js
# and app.css beside the committed web/dist/index.html, which embed.go embeds.
# Without node_modules (npm ci) the build is skipped, and a binary built then
# serves a page that says how to build the front end.
web:
	@if [ -d node_modules ]; then npm run --silent build; \
	else echo "web: node_modules is missing, so the console's front end is not built (npm ci)" >&2; fi

# Start the console on http://localhost:6060/ (codebases kept in the user's
# data folder; RUNFLAGS='--data DIR --admin-port N' to change).
RUNFLAGS ?=
run: build
	$(BIN) $(RUNFLAGS)

# The browser tests (web/e2e) need the front end built and /usr/bin/chromium;
# outside CI they skip when either is missing.
test: web
	@if [ -d node_modules ]; then npm run --silent check; fi
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 20m ./...
	$(GO) test -run '^$$' -bench . -benchtime=1x ./...

bench: build
	$(GO) test -run '^$$' -bench . -benchmem ./backend/...
	$(GO) build -o bin/sluice-bench ./backend/cmd/sluice-bench
	bin/sluice-bench -sluice $(BIN) $(BENCHFLAGS)

fuzz:
	$(GO) test -fuzz FuzzRequestDecoder -fuzztime 30s ./backend/http1/

clean:
	rm -rf bin
