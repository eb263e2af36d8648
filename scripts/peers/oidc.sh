#!/usr/bin/env bash
# OpenID Provider peer for tests: panva's `oidc-provider` (OpenID Certified, maintained), from npm
# at a pinned version, installed into .peers/oidc (not into the project's dependencies) and run by
# scripts/peers/oidc-provider.mjs with static users and clients. It signs real ID tokens (RS256 or
# ES256) and publishes its keys at a jwks_uri named in its discovery document.
# (Dex was the first choice, but the Go module proxy serves only dex v0.6.1 and
# v2.13.0+incompatible, from 2018 and without a go.mod.)
#
#   oidc.sh install   npm install oidc-provider@$VERSION into .peers/oidc (skipped when present)
#   oidc.sh status    exit 0 when the pinned version is installed
#   oidc.sh start     the same as install: tests start their own providers (all.sh calls this)
#   oidc.sh run       run one shared provider on 127.0.0.1:$PORT for manual use, with the user
#                     `alice` / `alice-password` in group `ml-readers` and the public client
#                     `inferlog` (loopback redirects, PKCE); log in .peers/oidc/provider.log
#   oidc.sh stop      stop the shared provider
#
# Nothing fetched here is committed (.peers is git-ignored).
PEER_NAME=oidc
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

VERSION=9.13.3
DIR="$PEERS_DIR/oidc"
PKG="$DIR/node_modules/oidc-provider/package.json"
PORT="${INFERLOG_OIDC_PORT:-15556}"
PIDFILE="$DIR/provider.pid"

installed() { [ -f "$PKG" ] && node -e "process.exit(require('$PKG').version === '$VERSION' ? 0 : 1)"; }

install() {
  if installed; then step "installed: oidc-provider@$VERSION in $DIR: nothing to do"; return; fi
  command -v npm >/dev/null 2>&1 || die "npm is not installed"
  mkdir -p "$DIR"
  step "npm install oidc-provider@$VERSION into $DIR"
  npm install --prefix "$DIR" --no-audit --no-fund --loglevel=error "oidc-provider@$VERSION" >&2 ||
    die "npm install of oidc-provider@$VERSION failed (needs the npm registry)"
  installed || die "oidc-provider@$VERSION is not in $DIR after npm install"
  step "ready: oidc-provider@$VERSION"
}

status() {
  if ! installed; then step "missing: run scripts/peers/oidc.sh install"; return 1; fi
  if [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
    step "running: pid $(cat "$PIDFILE"), issuer http://127.0.0.1:$PORT"
  else
    step "ready: oidc-provider@$VERSION, not running"
  fi
}

run() {
  install
  if [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then step "already running"; return; fi
  cat >"$DIR/provider.json" <<JSON
{
  "port": $PORT,
  "keysFile": "$DIR/keys.json",
  "clients": [{ "client_id": "inferlog", "application_type": "native",
                "redirect_uris": ["http://127.0.0.1/callback"] }],
  "users": [{ "username": "alice", "password": "alice-password", "email": "alice@example.test",
              "groups": ["ml-readers"] }]
}
JSON
  INFERLOG_PEERS_DIR="$PEERS_DIR" node "$HERE/oidc-provider.mjs" "$DIR/provider.json" >"$DIR/provider.log" 2>&1 &
  echo $! >"$PIDFILE"
  wait_for 20 port_open "$PORT" || die "the provider did not open 127.0.0.1:$PORT (see $DIR/provider.log)"
  step "running: issuer http://127.0.0.1:$PORT"
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
