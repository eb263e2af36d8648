#!/usr/bin/env bash
# Azure Blob Storage emulator peer for tests: Azurite, Microsoft's storage emulator, from the npm
# registry at a pinned version, installed into .peers/azurite (NOT a project dependency: only
# the tests run it). 3.35.0 is the last release that runs on Node 20 (3.36+ need Node 21+).
#
#   azurite.sh install   npm install azurite into .peers/azurite (skipped when the pinned
#                        version is there)
#   azurite.sh status    exit 0 when the pinned version is installed
#   azurite.sh start     the same as install: tests start their own emulators
#                        (test/helpers/azurite.ts) on free 127.0.0.1 ports
#   azurite.sh stop      nothing to stop
#
# Nothing installed here is committed (.peers is git-ignored).
PEER_NAME=azurite
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

VERSION=3.35.0
DIR="$PEERS_DIR/azurite"
BIN="$DIR/node_modules/.bin/azurite-blob"
PKG="$DIR/node_modules/azurite/package.json"

installed() {
  [ -x "$BIN" ] && [ -f "$PKG" ] &&
    [ "$(node -p "require(process.argv[1]).version" "$PKG" 2>/dev/null)" = "$VERSION" ]
}

install() {
  if installed; then step "installed: azurite@$VERSION: nothing to do"; return; fi
  command -v npm >/dev/null 2>&1 || die "npm is not installed (needs Node 20 and npm)"
  mkdir -p "$DIR"
  # A package.json of its own, so npm never walks up into the project's.
  [ -f "$DIR/package.json" ] || echo '{"name":"inferlog-peer-azurite","private":true}' >"$DIR/package.json"
  step "npm install azurite@$VERSION into $DIR"
  (cd "$DIR" && npm install --no-audit --no-fund --loglevel=error --save-exact "azurite@$VERSION" >&2) ||
    die "npm install azurite@$VERSION failed"
  installed || die "azurite@$VERSION did not install $BIN"
  step "ready: $BIN"
}

status() {
  if installed; then step "ready: azurite@$VERSION ($BIN)"; else step "missing: run scripts/peers/azurite.sh install"; return 1; fi
}

case "${1:-}" in
  install) install ;;
  start) install ;;
  stop) step "nothing to stop" ;;
  status) status ;;
  *) usage ;;
esac
