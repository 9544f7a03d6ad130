#!/usr/bin/env bash
# SeaweedFS for the end-to-end test (sourced by e2e.sh): an S3-compatible server built
# once per machine from its Go module and cached by version.
#
#   source scripts/weed.sh
#   weed_ensure            # set WEED to the cached binary, building it when missing (~10 min on 2 cores)
#   weed_start DIR         # `weed mini` with data in DIR on free loopback ports, credentials
#                          # $WEED_ACCESS_KEY/$WEED_SECRET_KEY (default e2e/e2e-secret); sets WEED_S3_PORT, WEED_PID
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

# low_port: a free TCP port in 20000-44999 whose +10000 (SeaweedFS's gRPC port) is free too.
low_port() {
	python3 -c '
import random, socket
def free(p):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p))
        return True
    except OSError:
        return False
    finally:
        s.close()
while True:
    p = random.randrange(20000, 45000)
    if free(p) and free(p + 10000):
        print(p)
        break
'
}

weed_start() {
	local dir=$1 i
	mkdir -p "$dir"
	WEED_S3_PORT=$(low_port)
	# Every listener on its own free port; the extras (WebDAV, admin UI, Iceberg, Lance,
	# telemetry) off.
	AWS_ACCESS_KEY_ID=${WEED_ACCESS_KEY:-e2e} AWS_SECRET_ACCESS_KEY=${WEED_SECRET_KEY:-e2e-secret} \
		"$WEED" mini -dir="$dir" -ip=127.0.0.1 -ip.bind=127.0.0.1 \
		-master.port="$(low_port)" -volume.port="$(low_port)" -filer.port="$(low_port)" \
		-s3.port="$WEED_S3_PORT" -s3.port.grpc="$(low_port)" -s3.port.iceberg=0 -s3.port.lance=0 \
		-debug.port="$(low_port)" -webdav=false -admin.ui=false -admin.port="$(low_port)" -admin.port.legacy=0 \
		-master.telemetry=false \
		>"$dir/weed.log" 2>&1 &
	WEED_PID=$!
	for i in $(seq 1 300); do
		# Any HTTP answer (403 without credentials) means the S3 gateway is up.
		if curl -s -o /dev/null "http://127.0.0.1:$WEED_S3_PORT/"; then
			weed_log "S3 on 127.0.0.1:$WEED_S3_PORT after $((i / 10)).$((i % 10))s (data in $dir)"
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
