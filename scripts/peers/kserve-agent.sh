#!/usr/bin/env bash
# KServe agent peer for tests and benchmarks: KServe's real Go agent (the logger/batcher sidecar
# that KServe injects next to a predictor), built from its published Go module at a pinned
# version. Only the Go module proxy is needed: no git clone, no container image.
#
#   kserve-agent.sh install   download the module, build .peers/kserve-agent/agent (skipped
#                             when that binary already carries the pinned version's stamp)
#   kserve-agent.sh status    exit 0 when the binary is built from the pinned version
#   kserve-agent.sh start|stop  nothing to run: the tests start their own agents
#
# The module cache is read-only, so the source is copied to .peers/kserve-agent/src before
# building. Nothing fetched or built here is committed (.peers is git-ignored).
PEER_NAME=kserve-agent
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

MODULE=github.com/kserve/kserve
VERSION=v0.20.0
DIR="$PEERS_DIR/kserve-agent"
BIN="$DIR/agent"
# The stamp records what the binary was built from, so a version bump here rebuilds it.
STAMP="$DIR/agent.version"
WANT="$MODULE@$VERSION"

built() { [ -x "$BIN" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WANT" ]; }

install() {
  if built; then step "built: $BIN ($WANT): nothing to do"; return; fi
  command -v go >/dev/null 2>&1 || die "go is not installed (needs Go >= the module's go line, 1.25)"
  mkdir -p "$DIR"
  # -mod=mod: resolve from the module's own go.mod/go.sum, never from a vendor dir.
  export GOFLAGS=-mod=mod
  step "go mod download $WANT ($(go version | cut -d' ' -f3), GOPROXY=$(go env GOPROXY))"
  local src
  src="$(go mod download -json "$WANT" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  [ -n "$src" ] && [ -f "$src/cmd/agent/main.go" ] || die "go mod download gave no module dir with cmd/agent"
  step "copying $src to $DIR/src (the module cache is read-only)"
  rm -rf "$DIR/src"
  cp -R "$src" "$DIR/src"
  chmod -R u+w "$DIR/src"
  step "go build ./cmd/agent (several minutes the first time: it compiles the Kubernetes client libraries)"
  rm -f "$STAMP"
  (cd "$DIR/src" && go build -o "$BIN" ./cmd/agent) || die "go build failed"
  echo "$WANT" >"$STAMP"
  step "ready: $BIN"
}

status() {
  if built; then step "ready: $BIN ($WANT)"; else step "missing: run scripts/peers/kserve-agent.sh install"; return 1; fi
}

case "${1:-}" in
  install) install ;;
  start) install ;;
  stop) step "nothing to stop" ;;
  status) status ;;
  *) usage ;;
esac
