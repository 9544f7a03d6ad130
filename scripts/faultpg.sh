#!/usr/bin/env bash
# A throwaway PostgreSQL for the slow fault tests (`make faults`), through pg.sh:
#
#   scripts/faultpg.sh start DIR PORT   initdb DIR/data on first use, start on 127.0.0.1:PORT
#   scripts/faultpg.sh kill DIR         pg_ctl stop -m immediate: a crash (no checkpoint; recovery at next start)
#   scripts/faultpg.sh stop DIR         fast stop (no-op when not running)
#
# DIR must be reachable by the PostgreSQL OS user (the tests use a directory under /tmp).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/pg.sh
source scripts/pg.sh
pg_setup

cmd=${1:?usage: faultpg.sh start|kill|stop DIR [PORT]}
dir=${2:?DIR missing}
case $cmd in
start)
	pg_prepare_dir "$dir"
	pg_init_cluster "$dir/data"
	pg_start "$dir/data" "${3:?PORT missing}" "fsync = off" "max_connections = 200"
	;;
kill)
	as_pg "$PG_BIN/pg_ctl" -D "$dir/data" -m immediate -w -t 30 stop >/dev/null
	;;
stop)
	pg_stop "$dir/data"
	;;
*)
	pg_die "unknown command $cmd"
	;;
esac
