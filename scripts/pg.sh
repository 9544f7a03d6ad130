#!/usr/bin/env bash
# Shared helpers for running a private PostgreSQL cluster (sourced by dev.sh and test.sh).
#
#   source scripts/pg.sh
#   pg_setup                       # find/install the server binaries, pick the OS user
#   pg_init_cluster DIR            # initdb (no-op when DIR already holds a cluster)
#   pg_start DIR PORT [conf ...]   # start on 127.0.0.1:PORT, socket in DIR, extra "name = value" settings
#   pg_stop DIR                    # stop (no-op when not running)
#
# Root cannot run initdb, so as root the cluster runs as the `postgres` OS user (or
# $PG_OS_USER, or a `platformpg` system user created on demand). As a normal user the
# cluster simply runs as that user.
set -euo pipefail

PG_BIN="${PG_BIN:-}"          # directory with initdb, pg_ctl, postgres, psql, pg_isready
PG_OS_USER="${PG_OS_USER:-}"  # OS user the server runs as
PG_DB_USER=postgres           # database superuser created by initdb (-U postgres)

pg_log() { printf '==> %s\n' "$*" >&2; }
pg_die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# now_ms: milliseconds since the epoch (for timings).
now_ms() { local n; n=$(date +%s%N); echo $((n / 1000000)); }
# fmt_ms MS: "12.3s".
fmt_ms() { printf '%d.%01ds' $(($1 / 1000)) $((($1 % 1000) / 100)); }

# ensure_go: put /usr/local/go/bin on PATH when `go` is not already there.
ensure_go() {
	command -v go >/dev/null 2>&1 && return 0
	local d
	for d in /usr/local/go/bin "$HOME/go/bin" "$HOME/sdk/go/bin"; do
		if [ -x "$d/go" ]; then
			export PATH="$PATH:$d"
			return 0
		fi
	done
	pg_die "Go is not installed (or not on PATH). Install Go 1.26+ from https://go.dev/dl/"
}

# pg_bin_ok DIR: DIR holds every binary we use.
pg_bin_ok() {
	local b
	for b in initdb pg_ctl postgres pg_isready psql; do
		[ -x "$1/$b" ] || return 1
	done
}

# pg_find_bin: set PG_BIN to a directory holding the server binaries; return 1 if none.
pg_find_bin() {
	if [ -n "$PG_BIN" ] && pg_bin_ok "$PG_BIN"; then
		return 0
	fi
	local p d
	# On PATH (Homebrew, Postgres.app, most non-Debian distros; symlinks are resolved).
	# On Debian only the client wrappers live on PATH, so initdb is usually not found here.
	if p=$(command -v initdb 2>/dev/null); then
		for d in "$(dirname "$p")" "$(dirname "$(readlink -f "$p" 2>/dev/null || echo "$p")")"; do
			if pg_bin_ok "$d"; then
				PG_BIN=$d
				return 0
			fi
		done
	fi
	# Debian/Ubuntu (/usr/lib/postgresql/N/bin) and PGDG RPMs (/usr/pgsql-N/bin); newest first.
	for d in $(printf '%s\n' /usr/lib/postgresql/*/bin /usr/pgsql-*/bin | sort -V -r); do
		if pg_bin_ok "$d"; then
			PG_BIN=$d
			return 0
		fi
	done
	return 1
}

# pg_ensure_bin: find the binaries; install them when missing (root on Debian/Ubuntu only).
pg_ensure_bin() {
	pg_find_bin && return 0
	local cmd="apt-get update && apt-get install -y postgresql"
	if [ "$(id -u)" -eq 0 ] && [ -r /etc/debian_version ] && command -v apt-get >/dev/null 2>&1; then
		pg_log "PostgreSQL server binaries not found; installing them: $cmd"
		apt-get update
		DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql
		pg_find_bin || pg_die "PostgreSQL was installed but initdb/pg_ctl are still not found under /usr/lib/postgresql/*/bin"
		return 0
	fi
	if [ -r /etc/debian_version ]; then
		cmd="sudo apt-get update && sudo apt-get install -y postgresql"
	elif command -v dnf >/dev/null 2>&1; then
		cmd="sudo dnf install -y postgresql-server"
	elif command -v brew >/dev/null 2>&1; then
		cmd="brew install postgresql@15"
	fi
	pg_die "PostgreSQL server binaries (initdb, pg_ctl) not found on PATH or under /usr/lib/postgresql/*/bin.
Install them with:
    $cmd
(or set PG_BIN to the directory that contains initdb and pg_ctl)."
}

# pg_pick_user: set PG_OS_USER (root → postgres, else a created system user; non-root → self).
pg_pick_user() {
	if [ "$(id -u)" -ne 0 ]; then
		PG_OS_USER=$(id -un)
		return 0
	fi
	if [ -n "$PG_OS_USER" ]; then
		[ "$PG_OS_USER" != root ] || pg_die "PG_OS_USER must not be root (initdb refuses to run as root)"
		id -u "$PG_OS_USER" >/dev/null 2>&1 || pg_die "PG_OS_USER=$PG_OS_USER: no such user"
		return 0
	fi
	if id -u postgres >/dev/null 2>&1; then
		PG_OS_USER=postgres
		return 0
	fi
	PG_OS_USER=platformpg
	if ! id -u "$PG_OS_USER" >/dev/null 2>&1; then
		pg_log "creating system user $PG_OS_USER to run PostgreSQL (initdb refuses root)"
		useradd --system --no-create-home --shell /usr/sbin/nologin "$PG_OS_USER" 2>/dev/null ||
			useradd --system --no-create-home "$PG_OS_USER" ||
			pg_die "could not create system user $PG_OS_USER; create one and set PG_OS_USER"
	fi
}

# pg_setup: everything the other functions need.
pg_setup() {
	pg_ensure_bin
	pg_pick_user
}

# as_pg: run a command as PG_OS_USER, from / (the caller's cwd may be unreadable to it).
as_pg() {
	if [ "$(id -u)" -ne 0 ] || [ "$PG_OS_USER" = "$(id -un)" ]; then
		(cd / && "$@")
	elif command -v runuser >/dev/null 2>&1; then
		(cd / && runuser -u "$PG_OS_USER" -- "$@")
	elif command -v setpriv >/dev/null 2>&1; then
		(cd / && setpriv --reuid="$PG_OS_USER" --regid="$(id -g "$PG_OS_USER")" --init-groups -- "$@")
	else
		local q
		q=$(printf '%q ' "$@")
		(cd / && su -s /bin/sh "$PG_OS_USER" -c "$q")
	fi
}

# pg_can_reach DIR: true when PG_OS_USER can enter DIR (search permission on every parent).
pg_can_reach() {
	as_pg test -x "$1" 2>/dev/null
}

# pg_prepare_dir DIR: create DIR (mode 700) owned by PG_OS_USER.
pg_prepare_dir() {
	local dir=$1
	mkdir -p "$dir"
	if [ "$(id -u)" -eq 0 ]; then
		chown "$PG_OS_USER:" "$dir" 2>/dev/null || chown "$PG_OS_USER" "$dir"
	fi
	chmod 700 "$dir"
	pg_can_reach "$dir" || pg_die "user $PG_OS_USER cannot enter $dir (a parent directory is not searchable by it)"
}

# pg_locale: C.UTF-8 when the system has it, else C.
pg_locale() {
	if command -v locale >/dev/null 2>&1 && locale -a 2>/dev/null | grep -qiE '^c\.utf-?8$'; then
		echo C.UTF-8
	else
		echo C
	fi
}

# pg_init_cluster DIR: initdb unless DIR already holds a cluster.
pg_init_cluster() {
	local dir=$1
	if [ -f "$dir/PG_VERSION" ]; then
		return 0
	fi
	pg_prepare_dir "$dir"
	local loc out
	loc=$(pg_locale)
	if ! out=$(as_pg "$PG_BIN/initdb" -D "$dir" -U "$PG_DB_USER" --auth=trust -E UTF8 --locale="$loc" 2>&1); then
		printf '%s\n' "$out" >&2
		pg_die "initdb failed in $dir"
	fi
	# Settings written by pg_start live in platform.conf (rewritten at every start).
	printf "\n# Added by scripts/pg.sh: listen address, port, socket and tuning.\ninclude_if_exists = 'platform.conf'\n" |
		as_pg tee -a "$dir/postgresql.conf" >/dev/null
}

# pg_is_running DIR: true when the cluster in DIR has a live postmaster.
pg_is_running() {
	[ -f "$1/postmaster.pid" ] || return 1
	as_pg "$PG_BIN/pg_ctl" -D "$1" status >/dev/null 2>&1
}

# pg_port_in_use PORT: true when something listens on 127.0.0.1:PORT (or answers as PostgreSQL).
pg_port_in_use() {
	local port=$1
	if command -v ss >/dev/null 2>&1; then
		[ -n "$(ss -Hltn "( sport = :$port )" 2>/dev/null)" ] && return 0
	elif (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
		return 0
	fi
	# pg_isready: 0 accepting, 1 rejecting, 2 no response, 3 bad parameters.
	local rc=0
	"$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$port" -t 1 >/dev/null 2>&1 || rc=$?
	[ "$rc" -eq 0 ] || [ "$rc" -eq 1 ]
}

# pg_wait_ready PORT [SECONDS]: wait until the server on 127.0.0.1:PORT accepts connections.
pg_wait_ready() {
	local port=$1 timeout=${2:-30} i
	for ((i = 0; i < timeout * 10; i++)); do
		"$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$port" -U "$PG_DB_USER" -t 1 >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

# pg_start DIR PORT [SETTING ...]: start the cluster on 127.0.0.1:PORT with its unix socket
# in DIR; each SETTING is a postgresql.conf line such as "fsync = off". Logs go to
# DIR/server.log. Returns 2 when the port is taken, 1 on any other failure.
pg_start() {
	local dir=$1 port=$2
	shift 2
	local sockdir=$dir s
	# A unix socket path must fit in 107 bytes; without one we still have TCP.
	if [ $((${#dir} + 20)) -gt 107 ]; then
		pg_log "data dir path too long for a unix socket; listening on TCP only"
		sockdir=
	fi
	{
		echo "# Written by scripts/pg.sh at every start; do not edit."
		echo "listen_addresses = '127.0.0.1'"
		echo "port = $port"
		echo "unix_socket_directories = '${sockdir//\'/\'\'}'"
		for s in "$@"; do echo "$s"; done
	} | as_pg tee "$dir/platform.conf" >/dev/null
	pg_port_in_use "$port" && return 2
	if ! as_pg "$PG_BIN/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 start >/dev/null 2>&1; then
		if tail -n 20 "$dir/server.log" 2>/dev/null | grep -q 'Address already in use'; then
			return 2 # lost a race for the port
		fi
		pg_log "PostgreSQL failed to start; last lines of $dir/server.log:"
		tail -n 20 "$dir/server.log" >&2 2>/dev/null || true
		return 1
	fi
	pg_wait_ready "$port" 30 || {
		pg_log "PostgreSQL started but is not accepting connections on 127.0.0.1:$port"
		return 1
	}
}

# pg_stop DIR: stop the cluster in DIR if it runs (fast shutdown, immediate as a fallback).
pg_stop() {
	local dir=$1
	pg_is_running "$dir" || return 0
	as_pg "$PG_BIN/pg_ctl" -D "$dir" -m fast -w -t 30 stop >/dev/null 2>&1 ||
		as_pg "$PG_BIN/pg_ctl" -D "$dir" -m immediate -w -t 30 stop >/dev/null 2>&1
}

# pg_psql PORT DB ARGS...: psql as the superuser over TCP.
pg_psql() {
	local port=$1 db=$2
	shift 2
	"$PG_BIN/psql" "host=127.0.0.1 port=$port user=$PG_DB_USER dbname=$db sslmode=disable connect_timeout=5" \
		-X -v ON_ERROR_STOP=1 -q "$@"
}

# pg_create_db PORT NAME: create database NAME unless it exists.
pg_create_db() {
	local port=$1 name=$2
	if [ "$(pg_psql "$port" postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$name'")" != 1 ]; then
		pg_psql "$port" postgres -c "CREATE DATABASE \"$name\""
		pg_log "created database $name"
	fi
}
