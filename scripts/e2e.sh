#!/usr/bin/env bash
# `make e2e`: instances of bin/platform on one PostgreSQL and one S3 bucket (SeaweedFS),
# behind nginx configured as README's "Scaling out" recommends, then the Go test in
# internal/e2e (build tag e2e) against them. A and B start at once on the empty database
# (migrations race); C connects through PgBouncer in transaction mode with
# default_query_exec_mode=$E2E_EXEC_MODE (default cache_describe; E2E_EXEC_MODE=none
# leaves pgx's default, prepared statements, to show what breaks). Everything runs on loopback in one temp dir
# and is stopped and removed on exit. The SeaweedFS binary is built once per machine
# (scripts/weed.sh); nginx is installed with apt-get when missing and run with a generated
# config, never as the system service.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/pg.sh
source scripts/pg.sh
# shellcheck source=scripts/weed.sh
source scripts/weed.sh
# shellcheck source=scripts/pgbouncer.sh
source scripts/pgbouncer.sh

ensure_go
t0=$(now_ms)

ensure_nginx() {
	command -v nginx >/dev/null 2>&1 && return 0
	[ -x /usr/sbin/nginx ] && { export PATH="$PATH:/usr/sbin"; return 0; }
	[ "$(id -u)" = 0 ] || pg_die "nginx is not installed (apt-get install nginx)"
	pg_log "installing nginx"
	apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null
	export PATH="$PATH:/usr/sbin"
	# The package starts the system service; this run uses its own instance only.
	if command -v systemctl >/dev/null 2>&1; then systemctl stop nginx >/dev/null 2>&1 || true; fi
}

pg_setup
# E2E_S3_ENDPOINT=host:port (with E2E_S3_ACCESS_KEY/E2E_S3_SECRET_KEY) uses a running
# S3-compatible server instead of starting SeaweedFS.
[ -n "${E2E_S3_ENDPOINT:-}" ] || weed_ensure
ensure_nginx
pgbouncer_ensure

base=${TMPDIR:-/tmp}
pg_can_reach "$base" || base=/tmp
E2E_DIR=$(mktemp -d "$base/platform-e2e.XXXXXX")
PIDS=()

cleanup() {
	local rc=$?
	set +e
	trap - EXIT INT TERM HUP
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	weed_stop
	[ -n "$PGBOUNCER_PID" ] && kill "$PGBOUNCER_PID" 2>/dev/null && wait "$PGBOUNCER_PID" 2>/dev/null
	if [ "$rc" -ne 0 ]; then
		for f in "$E2E_DIR"/a.log "$E2E_DIR"/b.log "$E2E_DIR"/c.log "$E2E_DIR"/nginx/error.log; do
			[ -f "$f" ] && { pg_log "last lines of $f:"; tail -n 20 "$f" >&2; }
		done
	fi
	[ -d "$E2E_DIR/pg" ] && pg_stop "$E2E_DIR/pg"
	rm -rf "$E2E_DIR"
	pg_log "e2e: stopped everything and removed $E2E_DIR (total $(fmt_ms $(($(now_ms) - t0))))"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# PostgreSQL: a throwaway cluster, first free port from 55600.
pg_prepare_dir "$E2E_DIR"
pg_init_cluster "$E2E_DIR/pg"
port=55600
while :; do
	rc=0
	pg_start "$E2E_DIR/pg" "$port" "fsync = off" "synchronous_commit = off" || rc=$?
	[ "$rc" -eq 0 ] && break
	[ "$rc" -eq 2 ] || pg_die "could not start the e2e cluster"
	port=$((port + 1))
	[ "$port" -lt 55700 ] || pg_die "no free port in 55600-55699"
done
pg_create_db "$port" platform
DATABASE_URL="postgres://$PG_DB_USER@127.0.0.1:$port/platform?sslmode=disable"

# The bucket's server.
if [ -n "${E2E_S3_ENDPOINT:-}" ]; then
	s3_endpoint=$E2E_S3_ENDPOINT
else
	weed_start "$E2E_DIR/weed"
	s3_endpoint=127.0.0.1:$WEED_S3_PORT
fi

go build -o "$E2E_DIR/platform" ./cmd/platform

for v in a_port b_port c_port proxy_port debug_port; do pick_port "$v"; done
admin_password=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
common=(
	SECRET_KEY="$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
	ADMIN_IIN=000000000001 ADMIN_PASSWORD="$admin_password" BCRYPT_COST=4
	FILE_STORE=s3 S3_ENDPOINT="$s3_endpoint" S3_BUCKET="platform-e2e-$(date +%s)" S3_REGION=us-east-1
	S3_ACCESS_KEY="${E2E_S3_ACCESS_KEY:-e2e}" S3_SECRET_KEY="${E2E_S3_SECRET_KEY:-e2e-secret}" S3_USE_SSL=false
	TRUSTED_PROXIES=127.0.0.1/32 DB_POOL_SIZE=2 DB_MAX_OVERFLOW=3 STATIC_DIR="$E2E_DIR/unused-static"
)
# Both at once on the fresh database: migrations and the bootstrap admin race.
(cd "$E2E_DIR" && exec env -i PATH="$PATH" "${common[@]}" DATABASE_URL="$DATABASE_URL" HTTP_ADDR="127.0.0.1:$a_port" DEBUG_ADDR="127.0.0.1:$debug_port" ./platform serve >a.log 2>&1) &
PIDS+=($!)
(cd "$E2E_DIR" && exec env -i PATH="$PATH" "${common[@]}" DATABASE_URL="$DATABASE_URL" HTTP_ADDR="127.0.0.1:$b_port" ./platform serve >b.log 2>&1) &
PIDS+=($!)

# nginx: the proxy configuration README recommends, in the temp dir.
mkdir -p "$E2E_DIR/nginx"
chmod 755 "$E2E_DIR"
sed -e "s|@DIR@|$E2E_DIR/nginx|g" -e "s|@PORT@|$proxy_port|g" \
	-e "s|@A@|127.0.0.1:$a_port|g" -e "s|@B@|127.0.0.1:$b_port|g" -e "s|@C@|127.0.0.1:$c_port|g" scripts/nginx.conf.in >"$E2E_DIR/nginx/nginx.conf"
[ "$(id -u)" = 0 ] && sed -i '1i user root;' "$E2E_DIR/nginx/nginx.conf"
nginx -p "$E2E_DIR/nginx" -c "$E2E_DIR/nginx/nginx.conf" -e "$E2E_DIR/nginx/error.log" -t -q
nginx -p "$E2E_DIR/nginx" -c "$E2E_DIR/nginx/nginx.conf" -e "$E2E_DIR/nginx/error.log" &
PIDS+=($!)

wait_ready() {
	local i
	for i in $(seq 1 300); do
		curl -sf -o /dev/null "http://$1/readyz" && return 0
		sleep 0.1
	done
	pg_die "http://$1/readyz did not answer within 30s"
}
wait_ready "127.0.0.1:$a_port"
wait_ready "127.0.0.1:$b_port"

# C: through PgBouncer (transaction mode), after the schema is in place. Migrations need a
# direct connection (session advisory locks), so C does not run them.
pgbouncer_start "$E2E_DIR/pgbouncer" "$port"
mode=${E2E_EXEC_MODE:-cache_describe}
bouncer_url="postgres://$PG_DB_USER@127.0.0.1:$PGBOUNCER_PORT/platform?sslmode=disable"
[ "$mode" = none ] || bouncer_url="$bouncer_url&default_query_exec_mode=$mode"
(cd "$E2E_DIR" && exec env -i PATH="$PATH" "${common[@]}" DATABASE_URL="$bouncer_url" MIGRATE_ON_START=false \
	HTTP_ADDR="127.0.0.1:$c_port" ./platform serve >c.log 2>&1) &
PIDS+=($!)
wait_ready "127.0.0.1:$c_port"
wait_ready "127.0.0.1:$proxy_port"
pg_log "e2e: three instances, PgBouncer, nginx and SeaweedFS up after $(fmt_ms $(($(now_ms) - t0)))"

E2E_PROXY="http://127.0.0.1:$proxy_port" E2E_A="http://127.0.0.1:$a_port" E2E_B="http://127.0.0.1:$b_port" \
	E2E_C="http://127.0.0.1:$c_port" \
	E2E_DEBUG="http://127.0.0.1:$debug_port" E2E_ADMIN_IIN=000000000001 E2E_ADMIN_PASSWORD="$admin_password" \
	E2E_LOGS="$E2E_DIR/a.log:$E2E_DIR/b.log:$E2E_DIR/c.log" E2E_DATABASE_URL="$DATABASE_URL" \
	go test -tags e2e -count=1 "$@" ./internal/e2e/
