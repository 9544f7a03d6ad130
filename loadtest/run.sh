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

# shellcheck source=loadtest/stack.sh
source loadtest/stack.sh
HTTP=127.0.0.1:18000
stack_up loadtest 55650 "$HTTP" 100 load-test-secret-key-0123456789 ./loadtest

"$STACK_DIR/loadtest" -seed "$DB" -base "http://$HTTP" "$@"
echo "server peak RSS: $(grep VmHWM /proc/$server_pid/status | awk '{print $2, $3}')"
