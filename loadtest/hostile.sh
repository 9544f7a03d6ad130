#!/usr/bin/env bash
# `make hostile`: the bounded load runs of issue 21 on a throwaway stack (127.0.0.1
# only; everything stops by itself): 48 anonymous 2 MiB JSON bodies, 16 at once, then
# the server's peak RSS; then 300 virtual users of one account logging in for 30 s
# (statuses, Retry-After on every 503, longest answer). Production settings
# (BCRYPT_COST=12, LOGIN_MAX_WAIT=30).
#
#   loadtest/hostile.sh [HTTP_PORT] [PG_PORT]
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/pg.sh
source scripts/pg.sh
ensure_go
pg_setup

# shellcheck source=loadtest/stack.sh
source loadtest/stack.sh
HTTP=127.0.0.1:${1:-18010}
export ADMIN_IIN=900000000001 ADMIN_PASSWORD=crowd-password-1
stack_up hostile "${2:-55660}" "$HTTP" 100 hostile-test-secret-key-0123456789 ./loadtest/hostile

"$STACK_DIR/hostile" -mode bodies -base "http://$HTTP" -pid "$server_pid" -n 48 -c 16
"$STACK_DIR/hostile" -mode crowd -base "http://$HTTP" -pid "$server_pid" -u 300 -r 100 -d 30s \
	-iin "$ADMIN_IIN" -password "$ADMIN_PASSWORD"
