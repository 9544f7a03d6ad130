#!/usr/bin/env bash
# PgBouncer in transaction mode for the end-to-end test (sourced by e2e.sh).
#
#   source scripts/pgbouncer.sh
#   pgbouncer_ensure               # apt-get install pgbouncer when missing
#   pgbouncer_start DIR PGPORT     # pool_mode=transaction in front of 127.0.0.1:PGPORT; sets PGBOUNCER_PORT
#
# It runs as the PostgreSQL OS user ($PG_OS_USER from pg.sh) when started as root, which
# PgBouncer refuses to run as; stopped by killing $PGBOUNCER_PID.
set -euo pipefail

PGBOUNCER_PID=
PGBOUNCER_PORT=

pgbouncer_ensure() {
	command -v pgbouncer >/dev/null 2>&1 && return 0
	[ -x /usr/sbin/pgbouncer ] && { export PATH="$PATH:/usr/sbin"; return 0; }
	[ "$(id -u)" = 0 ] || pg_die "pgbouncer is not installed (apt-get install pgbouncer)"
	pg_log "installing pgbouncer"
	apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pgbouncer >/dev/null
	export PATH="$PATH:/usr/sbin"
}

pgbouncer_start() {
	local dir=$1 pgport=$2 i
	mkdir -p "$dir"
	pick_port PGBOUNCER_PORT
	printf '"%s" ""\n' "$PG_DB_USER" >"$dir/userlist.txt"
	cat >"$dir/pgbouncer.ini" <<-INI
		[databases]
		* = host=127.0.0.1 port=$pgport

		[pgbouncer]
		listen_addr = 127.0.0.1
		listen_port = $PGBOUNCER_PORT
		unix_socket_dir =
		auth_type = trust
		auth_file = $dir/userlist.txt
		pool_mode = transaction
		max_client_conn = 200
		default_pool_size = 4
		ignore_startup_parameters = extra_float_digits
		logfile = $dir/pgbouncer.log
		pidfile = $dir/pgbouncer.pid
	INI
	local user=()
	if [ "$(id -u)" = 0 ]; then
		chown -R "$PG_OS_USER" "$dir"
		user=(-u "$PG_OS_USER")
	fi
	pgbouncer "${user[@]}" "$dir/pgbouncer.ini" >"$dir/stdout.log" 2>&1 &
	PGBOUNCER_PID=$!
	for i in $(seq 1 100); do
		if pg_psql_port "$PGBOUNCER_PORT" -tAc 'SELECT 1' >/dev/null 2>&1; then
			pg_log "pgbouncer (transaction mode) on 127.0.0.1:$PGBOUNCER_PORT"
			return 0
		fi
		kill -0 "$PGBOUNCER_PID" 2>/dev/null || { cat "$dir/stdout.log" "$dir/pgbouncer.log" >&2; pg_die "pgbouncer exited"; }
		sleep 0.1
	done
	pg_die "pgbouncer did not answer within 10s"
}

# pg_psql_port PORT ARGS...: psql to the platform database on PORT.
pg_psql_port() {
	local port=$1
	shift
	"$PG_BIN/psql" "host=127.0.0.1 port=$port user=$PG_DB_USER dbname=platform sslmode=disable connect_timeout=2" -X -q "$@"
}
