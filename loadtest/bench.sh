#!/usr/bin/env bash
# `make bench`: the hot reads against their PostgreSQL ceiling (issue 12). Builds the server
# and loadtest/bench, starts them on a throwaway PostgreSQL (127.0.0.1 only), seeds the
# benchmark data set, measures each endpoint and its pgbench ceiling in one sitting, prints
# the table, and stops everything.
#
#   loadtest/bench.sh [-duration 10s] [-conns 8] [-load 0.25]    (make bench ARGS='-duration 20s')
#   loadtest/bench.sh -district [-duration 5s]                    (make bench ARGS=-district)
#
# Run it on an otherwise idle machine: the ratios are what is comparable between runs.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# -district: issue 20's two-set table (SMALL and DISTRICT) instead.
if [ "${1:-}" = "-district" ]; then
	shift
	exec bash loadtest/district/bench.sh "$@"
fi
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

# shellcheck source=loadtest/stack.sh
source loadtest/stack.sh
PGBENCH=${PGBENCH:-$PG_BIN/pgbench}
HTTP=127.0.0.1:18001
stack_up bench 55651 "$HTTP" 200 bench-secret-key-0123456789abcdef ./loadtest/bench

"$STACK_DIR/bench" -base "http://$HTTP" -db "$DB" -pid "$server_pid" -pgbench "$PGBENCH" -dir "$STACK_DIR" "$@"
