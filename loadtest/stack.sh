# shellcheck shell=bash
# The throwaway stack of loadtest/run.sh and loadtest/bench.sh: a PostgreSQL cluster
# (fsync off, 127.0.0.1 only) with a migrated database "platform", and one server
# built from this tree serving on it with LOG_LEVEL=warn. Source it after scripts/pg.sh
# and pg_setup; everything it starts is stopped and removed when the script exits.
#
#   stack_up NAME PGPORT HTTP_ADDR MAX_CONNECTIONS SECRET_KEY [TOOL_PKG...]
#
# sets STACK_DIR (where binaries are built: $STACK_DIR/platform and one per TOOL_PKG,
# named by its last path element), DB (the database URL) and server_pid.

STACK_DIR=
server_pid=

stack_cleanup() {
	local rc=$?
	set +e
	trap - EXIT INT TERM
	[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
	[ -n "$STACK_DIR" ] && [ -d "$STACK_DIR/data" ] && pg_stop "$STACK_DIR/data"
	[ -n "$STACK_DIR" ] && rm -rf "$STACK_DIR"
	exit "$rc"
}

stack_up() {
	local name=$1 pgport=$2 http=$3 maxconn=$4 secret=$5
	shift 5
	STACK_DIR=$(mktemp -d "/tmp/platform-$name.XXXXXX")
	trap stack_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM

	go build -o "$STACK_DIR/platform" ./cmd/platform
	local pkg
	for pkg in "$@"; do
		go build -o "$STACK_DIR/$(basename "$pkg")" "$pkg"
	done

	pg_prepare_dir "$STACK_DIR"
	pg_init_cluster "$STACK_DIR/data"
	pg_start "$STACK_DIR/data" "$pgport" "fsync = off" "max_connections = $maxconn" >/dev/null
	pg_create_db "$pgport" platform
	DB="postgres://$PG_DB_USER@127.0.0.1:$pgport/platform?sslmode=disable"

	mkdir -p "$STACK_DIR/static"
	DATABASE_URL=$DB SECRET_KEY=$secret "$STACK_DIR/platform" migrate up >/dev/null
	(cd "$STACK_DIR" && DATABASE_URL=$DB SECRET_KEY=$secret HTTP_ADDR=$http \
		STATIC_DIR="$STACK_DIR/static" LOG_LEVEL=warn exec ./platform serve) &
	server_pid=$!
	local _
	for _ in $(seq 1 100); do
		curl -fsS "http://$http/healthz" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	pg_die "the server did not answer /healthz on $http within 10 s"
}
