#!/usr/bin/env bash
# Local development: a private PostgreSQL for the service; .env is written by the binary.
#
#   scripts/dev.sh [run]    build bin/platform and exec `bin/platform serve`   (make run)
#   scripts/dev.sh db-start start/reuse the local cluster (and write .env)    (make db-start)
#   scripts/dev.sh db-stop  stop the local cluster                            (make db-stop)
#   scripts/dev.sh db-reset stop it, delete .data and .env's DATABASE_URL     (make db-reset)
#
# DATABASE_URL set in the environment or .env to anything but the local cluster → no local
# cluster; the server just uses it. Otherwise the cluster lives in ./.data/pg (or, when the
# PostgreSQL OS user cannot enter the repository, /tmp/platform-dev-pg-<hash>) and listens on
# 127.0.0.1:54329; database `platform`. `bin/platform init-env` writes .env on the first run
# (DATABASE_URL, a random SECRET_KEY, a generated admin printed once) and completes an existing
# one (e.g. copied from .env.example) where values are empty.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$(pwd -P)
# shellcheck source=scripts/pg.sh
source scripts/pg.sh

DEV_PORT=54329
DEV_DB=platform
DEV_URL="postgres://$PG_DB_USER@127.0.0.1:$DEV_PORT/$DEV_DB?sslmode=disable"
DEV_DATA=$ROOT/.data/pg
DEV_FALLBACK=/tmp/platform-dev-pg-$(printf '%s' "$ROOT" | cksum | cut -d' ' -f1)
ENV_FILE=$ROOT/.env

# dotenv_get KEY: value of KEY in .env (last assignment; surrounding quotes removed).
dotenv_get() {
	[ -f "$ENV_FILE" ] || return 0
	local line v=
	while IFS= read -r line || [ -n "$line" ]; do
		if [[ $line =~ ^[[:space:]]*(export[[:space:]]+)?$1[[:space:]]*=[[:space:]]*(.*)$ ]]; then
			v=${BASH_REMATCH[2]}
			v=${v%"${v##*[![:space:]]}"}
			if [[ $v =~ ^\"(.*)\"$ || $v =~ ^\'(.*)\'$ ]]; then v=${BASH_REMATCH[1]}; fi
		fi
	done <"$ENV_FILE"
	printf '%s' "$v"
}

# setting KEY: the environment wins over .env (as in the service).
setting() {
	if [ -n "${!1:-}" ]; then printf '%s' "${!1}"; else dotenv_get "$1"; fi
}

# is_local_url URL: the URL points at the local dev cluster.
is_local_url() {
	[[ $1 == *@127.0.0.1:$DEV_PORT/* || $1 == *@localhost:$DEV_PORT/* ]]
}

# existing_dir: where an existing local cluster lives (empty if none).
existing_dir() {
	if [ -f "$DEV_DATA/PG_VERSION" ]; then
		echo "$DEV_DATA"
	elif [ -f "$DEV_FALLBACK/PG_VERSION" ]; then
		echo "$DEV_FALLBACK"
	fi
}

# choose_dir: ./.data/pg when the PostgreSQL OS user can enter it, else the /tmp fallback.
choose_dir() {
	local d
	d=$(existing_dir)
	if [ -n "$d" ]; then
		echo "$d"
		return
	fi
	if pg_can_reach "$ROOT"; then
		mkdir -p "$ROOT/.data"
		chmod go+x "$ROOT/.data" 2>/dev/null || true
	fi
	if pg_can_reach "$ROOT/.data"; then
		echo "$DEV_DATA"
	else
		pg_log "user $PG_OS_USER cannot enter $ROOT (e.g. it is under /root); keeping the local cluster in $DEV_FALLBACK instead of ./.data/pg (lost when /tmp is cleared)"
		echo "$DEV_FALLBACK"
	fi
}

# ensure_cluster: start (or reuse) the local cluster and create the database.
ensure_cluster() {
	pg_setup
	local dir rc=0
	dir=$(choose_dir)
	if [ ! -f "$dir/PG_VERSION" ]; then
		pg_log "initialising a PostgreSQL cluster in $dir (OS user $PG_OS_USER)"
		pg_init_cluster "$dir"
	fi
	if pg_is_running "$dir"; then
		pg_wait_ready "$DEV_PORT" 10 ||
			pg_die "the cluster in $dir is running but does not answer on 127.0.0.1:$DEV_PORT; try: make db-stop"
		pg_log "reusing the local PostgreSQL on 127.0.0.1:$DEV_PORT (data: $dir)"
	else
		pg_start "$dir" "$DEV_PORT" || rc=$?
		case $rc in
		0) pg_log "started the local PostgreSQL on 127.0.0.1:$DEV_PORT (data: $dir, log: $dir/server.log)" ;;
		2) pg_die "port $DEV_PORT on 127.0.0.1 is used by another process (not the cluster in $dir); stop it or set DATABASE_URL" ;;
		*) pg_die "could not start the local PostgreSQL in $dir" ;;
		esac
	fi
	pg_create_db "$DEV_PORT" "$DEV_DB"
}

# external_db: DATABASE_URL (environment or .env) points somewhere other than the local cluster.
external_db() {
	local url
	url=$(setting DATABASE_URL)
	[ -n "$url" ] && ! is_local_url "$url"
}

# build: bin/platform, which also writes .env (platform init-env).
build() {
	local version
	version=$(git describe --always --dirty 2>/dev/null || echo dev)
	pg_log "go build -o bin/platform ./cmd/platform"
	go build -ldflags "-X main.version=$version" -o bin/platform ./cmd/platform
}

# prepare: the local cluster and .env, unless DATABASE_URL points elsewhere (then only an
# existing .env is completed).
prepare() {
	ensure_go
	build
	if external_db; then
		pg_log "DATABASE_URL points at another server; not starting the local PostgreSQL"
		[ ! -f "$ENV_FILE" ] || bin/platform init-env -file "$ENV_FILE"
	else
		ensure_cluster
		bin/platform init-env -file "$ENV_FILE" -database-url "$DEV_URL"
	fi
}

cmd_run() {
	prepare
	local addr
	addr=$(setting HTTP_ADDR)
	pg_log "starting bin/platform serve on http://${addr:-127.0.0.1:8000} (Ctrl-C to stop)"
	exec bin/platform serve
}

cmd_db_stop() {
	local dir
	dir=$(existing_dir)
	if [ -z "$dir" ]; then
		pg_log "no local PostgreSQL cluster (neither ./.data/pg nor $DEV_FALLBACK)"
		return 0
	fi
	pg_setup
	if pg_is_running "$dir"; then
		pg_stop "$dir"
		pg_log "stopped the local PostgreSQL ($dir)"
	else
		pg_log "the local PostgreSQL ($dir) is not running"
	fi
}

cmd_db_reset() {
	cmd_db_stop
	rm -rf "$ROOT/.data" "$DEV_FALLBACK"
	pg_log "deleted ./.data${DEV_FALLBACK:+ (and $DEV_FALLBACK if present)}"
	if [ -f "$ENV_FILE" ] && is_local_url "$(dotenv_get DATABASE_URL)"; then
		local tmp
		tmp=$(umask 077 && mktemp "$ROOT/.env.XXXXXX")
		grep -vE '^[[:space:]]*(export[[:space:]]+)?DATABASE_URL[[:space:]]*=' "$ENV_FILE" >"$tmp" || true
		cat "$tmp" >"$ENV_FILE"
		rm -f "$tmp"
		pg_log "removed the local DATABASE_URL from .env (the next make run recreates the database and adds it back)"
	fi
}

case ${1:-run} in
run) cmd_run ;;
db-start) prepare ;;
db-stop) cmd_db_stop ;;
db-reset) cmd_db_reset ;;
*)
	echo "usage: $0 [run|db-start|db-stop|db-reset]" >&2
	exit 2
	;;
esac
