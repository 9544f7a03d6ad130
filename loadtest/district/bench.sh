#!/usr/bin/env bash
# `make bench ARGS=-district` (issue 20): SMALL and DISTRICT back to back in one
# sitting. Generates both data sets when missing (loadtest/district/seed.sh, each
# in its own PostgreSQL cluster under .data/bench), then for each: starts its
# PostgreSQL (127.0.0.1, pg_stat_statements loaded) and a server built from this
# tree, runs loadtest/district/bench, stops both; prints the two-set table.
#
#   loadtest/district/bench.sh [-duration 5s]
#   PLATFORM_BIN=/tmp/old-platform loadtest/district/bench.sh   # another build
#
# The server runs with GOMEMLIMIT=200MiB, as automemlimit would set it in a
# 256 MiB container (90 % of it, less headroom for the stacks), BCRYPT_COST=4.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
# shellcheck source=scripts/pg.sh
source scripts/pg.sh
ensure_go
pg_setup

work=$(mktemp -d "/tmp/platform-district-bench.XXXXXX")
server_pid=
running=
cleanup() {
	set +e
	[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
	[ -n "$running" ] && pg_stop "$running"
	rm -rf "$work"
}
trap cleanup EXIT

# PLATFORM_BIN: measure that server binary (an older commit's, for a
# before/after comparison in one sitting) instead of this tree's.
if [ -n "${PLATFORM_BIN:-}" ]; then
	cp "$PLATFORM_BIN" "$work/platform"
else
	go build -o "$work/platform" ./cmd/platform
fi
go build -o "$work/bench" ./loadtest/district/bench
root=${BENCH_DATA_DIR:-$PWD/.data/bench}
for set in small district; do
	BENCH_DATA_DIR=$root bash loadtest/district/seed.sh "$set" >/dev/null
done

run_set() {
	local set=$1 port=$2 http=$3 teachers=$4 students=$5
	shift 5
	local dir=$root/$set
	running=$dir/data
	pg_start "$dir/data" "$port" "fsync = off" "shared_buffers = 128MB" \
		"shared_preload_libraries = 'pg_stat_statements'" "pg_stat_statements.track = top" >/dev/null
	local db="postgres://$PG_DB_USER@127.0.0.1:$port/platform?sslmode=disable"
	mkdir -p "$work/static-$set" "$work/sweep-$set"
	pg_log "$set: migrating (first run on a set builds migration 13's indexes)"
	DATABASE_URL=$db SECRET_KEY=bench-secret-key-0123456789abcdef "$work/platform" migrate up >/dev/null
	(cd "$work" && DATABASE_URL=$db SECRET_KEY=bench-secret-key-0123456789abcdef HTTP_ADDR=$http \
		STATIC_DIR="$work/static-$set" LOG_LEVEL=warn BCRYPT_COST=4 GOMEMLIMIT=200MiB \
		exec ./platform serve) &
	server_pid=$!
	local _
	for _ in $(seq 1 300); do
		curl -fsS "http://$http/healthz" >/dev/null 2>&1 && break
		sleep 0.2
	done
	pg_log "$set: measuring"
	"$work/bench" -base "http://$http" -db "$db" -pid "$server_pid" -static "$work/sweep-$set" \
		-teachers "$teachers" -students "$students" "$@" >"$work/$set.json"
	kill "$server_pid" && wait "$server_pid" 2>/dev/null || true
	server_pid=
	pg_stop "$dir/data"
	running=
}

run_set small 55901 127.0.0.1:18901 30 600 "$@"
run_set district 55902 127.0.0.1:18902 5000 100000 "$@"
echo
echo "Issue 20 bench, $(date -u '+%Y-%m-%d %H:%M UTC'), load average $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores"
"$work/bench" -table "$work/small.json" "$work/district.json"
