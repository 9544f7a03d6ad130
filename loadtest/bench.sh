#!/usr/bin/env bash
# `make bench`: the hot reads against their PostgreSQL ceiling (issue 12). Builds the server
# and loadtest/bench, starts them on a throwaway PostgreSQL (127.0.0.1 only), seeds the
# benchmark data set, measures each endpoint and its pgbench ceiling in one sitting, prints
# the table, and stops everything.
#
#   loadtest/bench.sh [-duration 10s] [-conns 8] [-load 0.25]    (make bench ARGS='-duration 20s')
#
# Run it on an otherwise idle machine: the ratios are what is comparable between runs.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/pg.sh
source scripts/pg.sh
ensure_go
pg_setup

# wrk measures the throughput column (the issue's method); installed with
# apt-get when missing and possible, else the bench falls back to Go workers.
if ! command -v wrk >/dev/null 2>&1; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
		echo "==> installing wrk (apt-get)" >&2
		apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
	else
		echo "==> wrk not found (sudo apt-get install wrk): the throughput column uses Go workers" >&2
	fi
fi

PORT=55651
HTTP=127.0.0.1:18001
PGBENCH=${PGBENCH:-$PG_BIN/pgbench}
B_DIR=$(mktemp -d /tmp/platform-bench.XXXXXX)
B_DATA=$B_DIR/data
server_pid=

cleanup() {
	local rc=$?
	set +e
	trap - EXIT INT TERM
	[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
	[ -d "$B_DATA" ] && pg_stop "$B_DATA"
	rm -rf "$B_DIR"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

go build -o "$B_DIR/platform" ./cmd/platform
go build -o "$B_DIR/bench" ./loadtest/bench

pg_prepare_dir "$B_DIR"
pg_init_cluster "$B_DATA"
pg_start "$B_DATA" "$PORT" "fsync = off" "max_connections = 200" >/dev/null
pg_create_db "$PORT" platform
DB="postgres://$PG_DB_USER@127.0.0.1:$PORT/platform?sslmode=disable"

mkdir -p "$B_DIR/static"
DATABASE_URL=$DB SECRET_KEY=bench-secret-key-0123456789abcdef "$B_DIR/platform" migrate up >/dev/null
(cd "$B_DIR" && DATABASE_URL=$DB SECRET_KEY=bench-secret-key-0123456789abcdef HTTP_ADDR=$HTTP \
	STATIC_DIR="$B_DIR/static" LOG_LEVEL=warn exec ./platform serve) &
server_pid=$!
for _ in $(seq 1 100); do
	curl -fsS "http://$HTTP/healthz" >/dev/null 2>&1 && break
	sleep 0.1
done

"$B_DIR/bench" -base "http://$HTTP" -db "$DB" -pid "$server_pid" -pgbench "$PGBENCH" -dir "$B_DIR" "$@"
