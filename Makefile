# Sluice build, run, test and benchmark targets.
SHELL := /bin/bash
GO    ?= go
BIN   := bin/sluice

# Extra flags for the load benchmark, e.g. make bench BENCHFLAGS='-scenario hello -rounds 5'.
BENCHFLAGS ?=

.PHONY: build web run test bench fuzz clean

build: web
	$(GO) build -o $(BIN) ./backend/cmd/sluice

# The console front end. It is a placeholder for now: run the npm build when
# dependencies are installed, and insist on web/dist/index.html either way,
# because embed.go embeds web/dist.
web:
	@if [ -d node_modules ] && node -e 'process.exit(require("./package.json").scripts?.build ? 0 : 1)'; then npm run build; fi
	@test -f web/dist/index.html || { echo "web/dist/index.html is missing; run: npm ci && npm run build" >&2; exit 1; }

# Start the console on http://localhost:6060/ (codebases kept in the user's
# data folder; RUNFLAGS='--data DIR --admin-port N' to change).
RUNFLAGS ?=
run: build
	$(BIN) $(RUNFLAGS)

test: web
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
