#!/usr/bin/env bash
# The bench data sets of issue 20 (loadtest/district/seed.sql), each in its own
# PostgreSQL cluster kept under .data/bench/SET (git-ignored), generated once and
# reused until seed.sql or the migrations change. Starts and stops its own
# PostgreSQL (127.0.0.1 only); nothing to set up by hand.
#
#   loadtest/district/seed.sh small|district     # DISTRICT: ~10 min on 2 cores
#
# Prints the cluster directory on stdout when done.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
# shellcheck source=scripts/pg.sh
source scripts/pg.sh
ensure_go
pg_setup

set_name=${1:-}
case $set_name in
small) port=55901 sizes=(students=600 teachers=30 groups=25 modules=12 submissions=120000 results=24000 sessions=1200) ;;
district) port=55902 sizes=(students=100000 teachers=5000 groups=4000 modules=1000 submissions=5000000 results=1000000 sessions=200000) ;;
*) pg_die "usage: $0 small|district" ;;
esac

root=${BENCH_DATA_DIR:-$PWD/.data/bench}
dir=$root/$set_name
stamp=$( (cat loadtest/district/seed.sql; ls migrations) | sha256sum | cut -c1-16)
if [ -f "$dir/seeded" ] && [ "$(cat "$dir/seeded")" = "$stamp" ]; then
	pg_log "$set_name: already generated in $dir"
	echo "$dir"
	exit 0
fi

rm -rf "$dir"
mkdir -p "$root"
bin=$(mktemp -d "/tmp/platform-seed.XXXXXX")
cleanup() {
	set +e
	pg_stop "$dir/data"
	rm -rf "$bin"
}
trap cleanup EXIT
go build -o "$bin/platform" ./cmd/platform

pg_prepare_dir "$dir"
pg_init_cluster "$dir/data"
pg_start "$dir/data" "$port" "fsync = off" "full_page_writes = off" "max_wal_size = 4GB" \
	"checkpoint_timeout = 30min" "shared_buffers = 256MB" >/dev/null
pg_create_db "$port" platform
DB="postgres://$PG_DB_USER@127.0.0.1:$port/platform?sslmode=disable"
DATABASE_URL=$DB SECRET_KEY=seed-secret-key-0123456789abcdef "$bin/platform" migrate up >/dev/null

vars=()
for kv in "${sizes[@]}"; do vars+=(-v "$kv"); done
t0=$(now_ms)
pg_log "$set_name: generating (${sizes[*]})"
pg_psql "$port" platform "${vars[@]}" -f loadtest/district/seed.sql >/dev/null
pg_log "$set_name: generated in $(fmt_ms $(($(now_ms) - t0)))"
echo "$stamp" >"$dir/seeded"
echo "$dir"
