#!/usr/bin/env bash
# OpenTelemetry Collector peer for tests: a small collector distribution built with the
# collector's own builder (ocb) from published Go modules at pinned versions. It has the OTLP
# receiver (gRPC and HTTP) and two core exporters: `debug` (what it received, to its log) and
# `otlphttp` with JSON encoding, which forwards everything it received to an HTTP endpoint the
# tests run and read back. (contrib's `file` exporter was the first choice, but its module graph
# needs a contrib module the Go module proxy does not serve; core has no file exporter.)
# Only the Go module proxy is needed: no git clone, no container image.
#
#   otelcol.sh install   build .peers/otelcol/otelcol (skipped when the binary carries the
#                        pinned version's stamp)
#   otelcol.sh status    exit 0 when the binary is built from the pinned version
#   otelcol.sh start     the same as install: tests start their own collectors (all.sh calls this)
#   otelcol.sh run       run one shared collector on 127.0.0.1 (ports below) for manual use; it
#                        prints what it receives to .peers/otelcol/otelcol.log (debug exporter)
#   otelcol.sh stop      stop the shared collector
#
# Tests start their own collector (test/otel/otelcol.ts) with their own ports and
# readback server, so parallel test files never read each other's data. Nothing fetched or built
# here is committed (.peers is git-ignored).
PEER_NAME=otelcol
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

VERSION=v0.165.0
BUILDER=go.opentelemetry.io/collector/cmd/builder
DIR="$PEERS_DIR/otelcol"
BIN="$DIR/otelcol"
STAMP="$DIR/otelcol.version"
WANT="otelcol-inferlog@$VERSION+otlphttp"
GRPC_PORT="${INFERLOG_OTELCOL_GRPC_PORT:-14317}"
HTTP_PORT="${INFERLOG_OTELCOL_HTTP_PORT:-14318}"
PIDFILE="$DIR/otelcol.pid"

built() { [ -x "$BIN" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WANT" ]; }

install() {
  if built; then step "built: $BIN ($WANT): nothing to do"; return; fi
  command -v go >/dev/null 2>&1 || die "go is not installed (needs Go >= 1.24)"
  mkdir -p "$DIR/gobin" "$DIR/build"
  step "go install $BUILDER@$VERSION ($(go version | cut -d' ' -f3), GOPROXY=$(go env GOPROXY))"
  GOBIN="$DIR/gobin" go install "$BUILDER@$VERSION" || die "go install of the builder failed"
  cat >"$DIR/builder.yaml" <<EOF
dist:
  name: otelcol
  description: inferlog test collector (OTLP receiver; debug and otlphttp exporters)
  output_path: $DIR/build
  version: ${VERSION#v}
receivers:
  - gomod: go.opentelemetry.io/collector/receiver/otlpreceiver $VERSION
exporters:
  - gomod: go.opentelemetry.io/collector/exporter/debugexporter $VERSION
  - gomod: go.opentelemetry.io/collector/exporter/otlphttpexporter $VERSION
EOF
  step "building the collector (many minutes the first time on a small machine)"
  rm -f "$STAMP"
  "$DIR/gobin/builder" --config "$DIR/builder.yaml" || die "the collector build failed"
  cp "$DIR/build/otelcol" "$BIN"
  echo "$WANT" >"$STAMP"
  step "ready: $BIN"
}

status() {
  if ! built; then step "missing: run scripts/peers/otelcol.sh install"; return 1; fi
  if [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
    step "running: pid $(cat "$PIDFILE"), OTLP gRPC 127.0.0.1:$GRPC_PORT, HTTP 127.0.0.1:$HTTP_PORT"
  else
    step "ready: $BIN ($WANT), not running"
  fi
}

run() {
  install
  if [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then step "already running"; return; fi
  cat >"$DIR/config.yaml" <<EOF
receivers:
  otlp:
    protocols:
      grpc: { endpoint: 127.0.0.1:$GRPC_PORT }
      http: { endpoint: 127.0.0.1:$HTTP_PORT }
exporters:
  debug: { verbosity: detailed }
service:
  telemetry: { metrics: { level: none } }
  pipelines:
    traces: { receivers: [otlp], exporters: [debug] }
    logs: { receivers: [otlp], exporters: [debug] }
EOF
  "$BIN" --config "$DIR/config.yaml" >"$DIR/otelcol.log" 2>&1 &
  echo $! >"$PIDFILE"
  wait_for 30 port_open "$HTTP_PORT" || die "the collector did not open 127.0.0.1:$HTTP_PORT (see $DIR/otelcol.log)"
  step "running: OTLP gRPC 127.0.0.1:$GRPC_PORT, HTTP 127.0.0.1:$HTTP_PORT"
}

stop() {
  if [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
    kill "$(cat "$PIDFILE")"
    step "stopped"
  else
    step "not running"
  fi
  rm -f "$PIDFILE"
}

case "${1:-}" in
  install) install ;;
  start) install ;;
  run) run ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 install|start|run|stop|status" >&2; exit 2 ;;
esac
