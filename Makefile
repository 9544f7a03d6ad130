# Developer entry points. `make` (or `make help`) lists the targets.
#
# Variables: ARGS  extra arguments (go test flags for `test`, loadtest/run.sh arguments)
#            PKGS  packages for `test` (default ./...)
#            N     steps for `migrate-down` (default 1)

SHELL := /bin/bash
.DEFAULT_GOAL := help

# Go from the official tarball lives in /usr/local/go/bin, which is not always on PATH.
export PATH := $(PATH):/usr/local/go/bin

BIN     := bin/platform
VERSION  = $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS  = -X main.version=$(VERSION)
ARGS    ?=
PKGS    ?= ./...
N       ?= 1

# gofmt looks at every Go file except the local database directory.
GOFILES  = $(shell find . -path ./.data -prune -o -path ./.git -prune -o -name '*.go' -print)

# staticcheck, pinned: installed once into bin/tools/ (git-ignored) by `make lint`, rebuilt
# only when STATICCHECK_VERSION changes.
STATICCHECK_VERSION := v0.8.2
STATICCHECK         := bin/tools/staticcheck-$(STATICCHECK_VERSION)/staticcheck

.PHONY: help run test bench gobench faults build vet lint fmt migrate-up migrate-down migrate-version \
	db-start db-stop db-reset loadtest hostile clean e2e

help: ## List the targets
	@echo "Usage: make TARGET [ARGS=...] [PKGS=...] [N=...]"
	@echo
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | \
		awk -F ':.*## ' '{ printf "  %-16s %s\n", $$1, $$2 }'

run: ## Start the server on 127.0.0.1:8000 (local PostgreSQL + .env on first run)
	@bash scripts/dev.sh run

test: ## Run all tests with -race (throwaway PostgreSQL unless TEST_DATABASE_URL is set)
	@PKGS='$(PKGS)' bash scripts/test.sh $(ARGS)

bench: ## Hot reads vs their pgbench ceiling, one sitting (loadtest/bench.sh; ARGS='-duration 20s')
	bash loadtest/bench.sh $(ARGS)

gobench: ## Go benchmarks once, without -race (make gobench PKGS=./internal/catalog/ ARGS='-bench . -benchmem')
	@NO_RACE=1 PKGS='$(PKGS)' bash scripts/test.sh -run '^$$' -benchtime 5x $(ARGS)

faults: ## Slow fault tests: PostgreSQL killed under load, SIGTERM under load, slow clients (real binary, own PostgreSQL; ~3 min)
	go test -tags faults -run '^TestFault' -count=1 -v -timeout 15m $(ARGS) ./cmd/platform

e2e: ## Two instances on one PostgreSQL + SeaweedFS bucket behind nginx (builds weed once per machine)
	@bash scripts/e2e.sh $(ARGS)

build: ## Build bin/platform (version from git describe)
	go build -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/platform

vet: ## go vet ./...
	go vet ./...

lint: $(STATICCHECK) ## gofmt check, go vet, staticcheck, and go.mod/go.sum tidy
	@unformatted=$$(gofmt -l $(GOFILES)); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed (run make fmt):"; echo "$$unformatted"; exit 1; fi
	go vet ./...
	$(STATICCHECK) ./...
	@go mod tidy -diff || { echo "go.mod/go.sum are not tidy (run go mod tidy)"; exit 1; }

$(STATICCHECK):
	GOBIN=$(CURDIR)/$(dir $@) go install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

fmt: ## Format every Go file with gofmt
	gofmt -w $(GOFILES)

migrate-up: build db-start ## Apply all pending migrations (DATABASE_URL from env or .env)
	$(BIN) migrate up

migrate-down: build db-start ## Roll back N migrations (default N=1)
	$(BIN) migrate down $(N)

migrate-version: build db-start ## Print the current migration version
	$(BIN) migrate version

db-start: ## Start the local PostgreSQL (.data/pg, port 54329) if .env uses it
	@bash scripts/dev.sh db-start

db-stop: ## Stop the local PostgreSQL
	@bash scripts/dev.sh db-stop

db-reset: ## Stop the local PostgreSQL, delete .data and the DATABASE_URL line of .env
	@bash scripts/dev.sh db-reset

loadtest: ## Run the load test (loadtest/run.sh)
	bash loadtest/run.sh $(ARGS)

hostile: ## Issue 21's bounded load runs: 2 MiB anonymous bodies (peak RSS), 300 users of one account (loadtest/hostile.sh)
	bash loadtest/hostile.sh $(ARGS)

clean: ## Remove bin/ and coverage files (keeps .data and .env)
	rm -rf bin coverage*
