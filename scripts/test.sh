#!/usr/bin/env bash
# `make test`: run the Go tests against PostgreSQL.
#
#   scripts/test.sh [go test flags...]     (make test ARGS='-run TestLogin -v')
#
# With TEST_DATABASE_URL set, the tests use that server (a superuser URL; each test
# creates its own databases). Otherwise one throwaway cluster is started for the run
# (temp dir, first free port from 55500, durability off) and removed on exit, whether
# the tests pass or fail. Extra go test flags: arguments, or $GOTESTFLAGS. Packages:
# $PKGS (default ./...). Exit status is go test's.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/pg.sh
source scripts/pg.sh

ensure_go

# The tests against a real S3 server (internal/s3test) start SeaweedFS from the binary
# scripts/weed.sh builds once per machine; under CI=true they fail without it, so CI builds
# it here (cached in ~/.cache/platform: instant after the first run; make e2e uses the same).
if [ "${CI:-}" = true ]; then
	# shellcheck source=scripts/weed.sh
	source scripts/weed.sh
	weed_ensure
fi

PKGS=${PKGS:-./...}
read -r -a pkgs <<<"$PKGS"
read -r -a extra <<<"${GOTESTFLAGS:-}"
race=(-race)
[ -n "${NO_RACE:-}" ] && race=() # make bench: the race detector would distort the numbers
gotest=(go test "${race[@]}" -count=1 "${extra[@]}" "$@" "${pkgs[@]}")

# Progress: go test prints its per-package lines in package order, each held until every package
# before it has finished, so a slow first package hides all the others. Its -json stream is not
# held, and gotestsum (pinned; installed once into bin/tools/, git-ignored) turns that into one
# line per package as it finishes (failed tests' output at the end). Benchmarks (NO_RACE, make
# gobench) run one package at a time and stream anyway: plain go test.
GOTESTSUM_VERSION=v1.13.0
gotestsum=bin/tools/gotestsum-$GOTESTSUM_VERSION/gotestsum
if [ -z "${NO_RACE:-}" ]; then
	if [ ! -x "$gotestsum" ]; then
		pg_log "installing gotestsum $GOTESTSUM_VERSION into $(dirname "$gotestsum")"
		GOBIN=$(pwd)/$(dirname "$gotestsum") go install "gotest.tools/gotestsum@$GOTESTSUM_VERSION" ||
			pg_log "could not install gotestsum; plain go test (no line until the first package is done)"
	fi
	if [ -x "$gotestsum" ]; then
		format=pkgname
		[[ " ${extra[*]} $* " == *" -v "* ]] && format=standard-verbose
		gotest=("$gotestsum" --format "${GOTESTSUM_FORMAT:-$format}" -- "${gotest[@]:2}")
	fi
fi

t0=$(now_ms)

run_tests() {
	local t rc=0
	t=$(now_ms)
	pg_log "$(go list "${pkgs[@]}" | wc -l) packages (with a cold build cache, compiling them with -race takes minutes before the first line)"
	pg_log "${gotest[*]}"
	"${gotest[@]}" || rc=$?
	pg_log "go test finished in $(fmt_ms $(($(now_ms) - t))) (exit $rc); total $(fmt_ms $(($(now_ms) - t0)))"
	return "$rc"
}

if [ -n "${TEST_DATABASE_URL:-}" ]; then
	pg_log "using TEST_DATABASE_URL from the environment"
	rc=0
	run_tests || rc=$?
	exit "$rc"
fi

pg_setup

# The temp dir must be reachable by the PostgreSQL OS user; $TMPDIR may not be (e.g. under /root).
base=${TMPDIR:-/tmp}
if ! pg_can_reach "$base"; then
	pg_log "$PG_OS_USER cannot enter $base; using /tmp for the test cluster"
	base=/tmp
fi
TEST_PG_DIR=$(mktemp -d "$base/platform-test-pg.XXXXXX")
TEST_PG_DATA=$TEST_PG_DIR/data

cleanup() {
	local rc=$?
	set +e
	trap - EXIT INT TERM HUP
	if [ -n "${TEST_PG_DATA:-}" ] && [ -d "$TEST_PG_DATA" ]; then
		if [ "$rc" -ne 0 ] && [ -n "${CI:-}" ] && [ -f "$TEST_PG_DATA/server.log" ]; then
			pg_log "last lines of the test cluster's server.log:"
			tail -n 30 "$TEST_PG_DATA/server.log" >&2
		fi
		pg_stop "$TEST_PG_DATA"
	fi
	rm -rf "$TEST_PG_DIR"
	pg_log "test cluster stopped and $TEST_PG_DIR removed"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

pg_prepare_dir "$TEST_PG_DIR"
t=$(now_ms)
pg_init_cluster "$TEST_PG_DATA"

# Throwaway data: trade durability for speed; many tests run in parallel.
settings=(
	"fsync = off"
	"synchronous_commit = off"
	"full_page_writes = off"
	"max_connections = 300"
)
port=55500
while :; do
	rc=0
	pg_start "$TEST_PG_DATA" "$port" "${settings[@]}" || rc=$?
	[ "$rc" -eq 0 ] && break
	[ "$rc" -eq 2 ] || pg_die "could not start the test cluster"
	port=$((port + 1)) # taken (maybe by a concurrent run): try the next one
	[ "$port" -lt 55600 ] || pg_die "no free port in 55500-55599 for the test cluster"
done
pg_log "test cluster (PostgreSQL $(cat "$TEST_PG_DATA/PG_VERSION"), user $PG_OS_USER) ready on 127.0.0.1:$port in $(fmt_ms $(($(now_ms) - t))); data in $TEST_PG_DATA"

export TEST_DATABASE_URL="postgres://$PG_DB_USER@127.0.0.1:$port/postgres?sslmode=disable"
pg_log "TEST_DATABASE_URL=$TEST_DATABASE_URL"

rc=0
run_tests || rc=$?
exit "$rc"
