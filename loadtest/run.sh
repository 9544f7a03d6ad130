#!/usr/bin/env bash
# `make loadtest`: build the server, start it on a throwaway PostgreSQL with a seeded
# database (4 modules × 5 subjects × 8 lessons, N students with homework and results),
# replay the original's Locust scenario for a bounded time against 127.0.0.1, print the
# numbers, and stop everything.
#
#   loadtest/run.sh [-users 50] [-duration 30s] [-think 0]    (make loadtest ARGS='-duration 60s')
#
# The server runs with production settings (BCRYPT_COST=12, default pool) on 127.0.0.1:18000.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/pg.sh
source scripts/pg.sh
ensure_go
pg_setup

PORT=55650
HTTP=127.0.0.1:18000
base=/tmp
LT_DIR=$(mktemp -d "$base/platform-loadtest.XXXXXX")
LT_DATA=$LT_DIR/data
server_pid=

cleanup() {
	local rc=$?
	set +e
	trap - EXIT INT TERM
	[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
	[ -d "$LT_DATA" ] && pg_stop "$LT_DATA"
	rm -rf "$LT_DIR"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

go build -o "$LT_DIR/platform" ./cmd/platform
go build -o "$LT_DIR/loadtest" ./loadtest

pg_prepare_dir "$LT_DIR"
pg_init_cluster "$LT_DATA"
pg_start "$LT_DATA" "$PORT" "fsync = off" "max_connections = 100" >/dev/null
pg_create_db "$PORT" platform
DB="postgres://$PG_DB_USER@127.0.0.1:$PORT/platform?sslmode=disable"

mkdir -p "$LT_DIR/static"
DATABASE_URL=$DB SECRET_KEY=load-test-secret-key-0123456789 "$LT_DIR/platform" migrate up
(cd "$LT_DIR" && DATABASE_URL=$DB SECRET_KEY=load-test-secret-key-0123456789 HTTP_ADDR=$HTTP \
	STATIC_DIR="$LT_DIR/static" LOG_LEVEL=warn exec ./platform serve) &
server_pid=$!
for _ in $(seq 1 100); do
	curl -fsS "http://$HTTP/healthz" >/dev/null 2>&1 && break
	sleep 0.1
done

"$LT_DIR/loadtest" -seed "$DB" -base "http://$HTTP" "$@"
echo "server peak RSS: $(grep VmHWM /proc/$server_pid/status | awk '{print $2, $3}')"
