#!/usr/bin/env bash
# Google Cloud Storage emulator peer for tests: fake-gcs-server, built from its published Go
# module at a pinned version (only the Go module proxy is needed: no git clone, no container
# image). It speaks the GCS JSON API, including resumable uploads, which is what the
# @google-cloud/storage client talks to when STORAGE_EMULATOR_HOST (or apiEndpoint) points at it.
#
#   fake-gcs.sh install   build .peers/fake-gcs/fake-gcs-server (skipped when the binary carries
#                         the pinned version's stamp)
#   fake-gcs.sh status    exit 0 when the binary is built from the pinned version
#   fake-gcs.sh start     the same as install: tests start their own emulators
#                         (test/helpers/gcs-emulator.ts) on free 127.0.0.1 ports
#   fake-gcs.sh stop      nothing to stop
#
# Nothing fetched or built here is committed (.peers is git-ignored).
PEER_NAME=fake-gcs
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

MODULE=github.com/fsouza/fake-gcs-server
VERSION=v1.56.1
DIR="$PEERS_DIR/fake-gcs"
BIN="$DIR/fake-gcs-server"
STAMP="$DIR/fake-gcs-server.version"
WANT="$MODULE@$VERSION"

built() { [ -x "$BIN" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WANT" ]; }

install() {
  if built; then step "built: $BIN ($WANT): nothing to do"; return; fi
  command -v go >/dev/null 2>&1 || die "go is not installed (needs Go >= the module's go line)"
  mkdir -p "$DIR/gobin"
  # -mod=mod: resolve from the module's own go.mod/go.sum, never from a vendor dir.
  export GOFLAGS=-mod=mod
  step "go install $WANT ($(go version | cut -d' ' -f3), GOPROXY=$(go env GOPROXY)); many minutes the first time"
  rm -f "$STAMP"
  GOBIN="$DIR/gobin" go install "$WANT" || die "go install $WANT failed"
  cp "$DIR/gobin/fake-gcs-server" "$BIN"
  echo "$WANT" >"$STAMP"
  step "ready: $BIN"
}

status() {
  if built; then step "ready: $BIN ($WANT)"; else step "missing: run scripts/peers/fake-gcs.sh install"; return 1; fi
}

case "${1:-}" in
  install) install ;;
  start) install ;;
  stop) step "nothing to stop" ;;
  status) status ;;
  *) usage ;;
esac
