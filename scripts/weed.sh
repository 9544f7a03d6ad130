#!/usr/bin/env bash
# SeaweedFS for the end-to-end test (sourced by e2e.sh): an S3-compatible server built
# once per machine from its Go module and cached by version.
#
#   source scripts/weed.sh
#   weed_ensure            # set WEED to the cached binary, building it when missing (~10 min on 2 cores)
#   weed_start DIR         # `weed mini` with data in DIR on free loopback ports; sets WEED_S3_PORT, WEED_PID
#   weed_stop              # stop it
#
# `go install` refuses the module (it has replace directives), so the module is downloaded
# with `go mod download`, copied to a writable directory and built there with `go build ./weed`.
set -euo pipefail

WEED_MODULE=github.com/seaweedfs/seaweedfs
WEED_VERSION=v0.0.0-20261109003541-7506e5f91cd6
WEED_CACHE=${PLATFORM_CACHE:-$HOME/.cache/platform}
WEED=$WEED_CACHE/weed-${WEED_VERSION##*-}
WEED_PID=
WEED_S3_PORT=

weed_log() { printf '==> weed: %s\n' "$*" >&2; }

weed_ensure() {
	if [ -x "$WEED" ]; then
		return 0
	fi
	mkdir -p "$WEED_CACHE"
	weed_log "building SeaweedFS $WEED_VERSION into $WEED (once per machine; about 10 minutes on 2 cores)"
	local dir src tmp
	dir=$(GOFLAGS=-mod=mod go mod download -json "$WEED_MODULE@$WEED_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",*$/\1/p')
	[ -n "$dir" ] && [ -d "$dir" ] || { weed_log "go mod download gave no module directory"; return 1; }
	src=$(mktemp -d "$WEED_CACHE/weed-src.XXXXXX")
	cp -r "$dir/." "$src"
	chmod -R u+w "$src"
	tmp=$WEED.tmp.$$
	(cd "$src" && GOFLAGS=-mod=mod go build -o "$tmp" ./weed)
	mv "$tmp" "$WEED" # atomic: a concurrent run sees the whole binary or none
	rm -rf "$src"
	weed_log "built $WEED"
}

# free_port: a TCP port nothing listens on (the kernel's pick; racy but fine for a test run).
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

weed_start() {
	local dir=$1 master volume filer s3 i
	mkdir -p "$dir"
	master=$(free_port) volume=$(free_port) filer=$(free_port) s3=$(free_port)
	# Master, volume and filer also listen on port+10000 for gRPC: keep those free too.
	while [ "$master" -gt 55000 ] || [ "$volume" -gt 55000 ] || [ "$filer" -gt 55000 ]; do
		master=$(free_port) volume=$(free_port) filer=$(free_port)
	done
	"$WEED" mini -dir="$dir" -ip=127.0.0.1 -ip.bind=127.0.0.1 \
		-master.port="$master" -volume.port="$volume" -filer.port="$filer" -s3.port="$s3" \
		>"$dir/weed.log" 2>&1 &
	WEED_PID=$!
	WEED_S3_PORT=$s3
	for i in $(seq 1 300); do
		# Any HTTP answer (403 without credentials) means the S3 gateway is up.
		if curl -s -o /dev/null "http://127.0.0.1:$s3/"; then
			weed_log "S3 on 127.0.0.1:$s3 after $((i / 10)).$((i % 10))s (data in $dir)"
			return 0
		fi
		if ! kill -0 "$WEED_PID" 2>/dev/null; then
			tail -n 30 "$dir/weed.log" >&2
			weed_log "weed mini exited"
			return 1
		fi
		sleep 0.1
	done
	tail -n 30 "$dir/weed.log" >&2
	weed_log "S3 did not answer within 30s"
	return 1
}

weed_stop() {
	if [ -n "$WEED_PID" ] && kill -0 "$WEED_PID" 2>/dev/null; then
		kill "$WEED_PID"
		wait "$WEED_PID" 2>/dev/null || true
	fi
	WEED_PID=
}
