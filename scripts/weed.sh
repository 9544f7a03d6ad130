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
	# Outside any module, so the project's go.mod and go.sum stay untouched.
	dir=$(cd "$WEED_CACHE" && GOWORK=off GOFLAGS= go mod download -json "$WEED_MODULE@$WEED_VERSION" |
		sed -n 's/^[[:space:]]*"Dir": "\(.*\)",*$/\1/p')
	[ -n "$dir" ] && [ -d "$dir" ] || { weed_log "go mod download gave no module directory"; return 1; }
	src=$(mktemp -d "$WEED_CACHE/weed-src.XXXXXX")
	cp -r "$dir/." "$src"
	chmod -R u+w "$src"
	tmp=$WEED.tmp.$$
	(cd "$src" && GOWORK=off GOFLAGS=-mod=mod go build -o "$tmp" ./weed)
	mv "$tmp" "$WEED" # atomic: a concurrent run sees the whole binary or none
	rm -rf "$src"
	weed_log "built $WEED"
}

# port_busy PORT: something listens on 127.0.0.1:PORT.
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# pick_port VAR: set VAR to a TCP port in 12000-21999 that nothing listens on, nor on its
# +10000 (SeaweedFS's gRPC port), and that this run has not picked before. Both stay below
# Linux's ephemeral range (32768+), where outgoing connections take local ports and make
# SeaweedFS's "port available" check fail. Racy like any such pick; weed_start retries.
PICKED_PORTS=" "
pick_port() {
	local p
	while :; do
		p=$((12000 + RANDOM % 10000))
		case "$PICKED_PORTS" in *" $p "*) continue ;; esac
		if ! port_busy "$p" && ! port_busy $((p + 10000)); then
			PICKED_PORTS="$PICKED_PORTS$p "
			printf -v "$1" '%s' "$p"
			return 0
		fi
	done
}

# weed_start DIR: up to 3 attempts, each on fresh ports.
weed_start() {
	local try
	for try in 1 2 3; do
		weed_start_once "$@" && return 0
		weed_log "attempt $try failed"
	done
	return 1
}

weed_start_once() {
	local dir=$1 i master volume filer s3grpc debug admin
	mkdir -p "$dir"
	pick_port WEED_S3_PORT
	pick_port master
	pick_port volume
	pick_port filer
	pick_port s3grpc
	pick_port debug
	pick_port admin
	# Every listener on its own free port; the extras (WebDAV, admin UI, Iceberg, Lance,
	# telemetry) off.
	AWS_ACCESS_KEY_ID=${WEED_ACCESS_KEY:-e2e} AWS_SECRET_ACCESS_KEY=${WEED_SECRET_KEY:-e2e-secret} \
		"$WEED" mini -dir="$dir" -ip=127.0.0.1 -ip.bind=127.0.0.1 \
		-master.port="$master" -volume.port="$volume" -filer.port="$filer" \
		-s3.port="$WEED_S3_PORT" -s3.port.grpc="$s3grpc" -s3.port.iceberg=0 -s3.port.lance=0 \
		-debug.port="$debug" -webdav=false -admin.ui=false -admin.port="$admin" -admin.port.legacy=0 \
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
