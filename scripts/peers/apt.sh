#!/usr/bin/env bash
# Debian packages the tests and benchmarks use: the PostgreSQL server, nginx, wrk,
# Chromium + ChromeDriver (UI tests), openssl (test certificates), prometheus (the server and
# promtool: the rules, dashboard and scrape tests in test/metrics).
#
#   install  apt-get installs only what is missing (a no-op in < 1 s when all are there)
#   status   exit 0 when every package is installed
#   start|stop  nothing: postgres.sh runs its own cluster; the tests start nginx themselves
PEER_NAME=apt
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PACKAGES=(postgresql nginx wrk chromium chromium-driver openssl prometheus)

missing() {
  local p
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || echo "$p"
  done
}

install() {
  local todo
  mapfile -t todo < <(missing)
  if [ "${#todo[@]}" = 0 ]; then step "installed: ${PACKAGES[*]}"; return; fi
  step "installing: ${todo[*]}"
  # Packages must not start their services (postgresql's 5432 cluster, nginx on :80):
  # the tests run their own instances on free loopback ports.
  local policy=/usr/sbin/policy-rc.d made_policy=
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | as_root tee "$policy" >/dev/null
    as_root chmod +x "$policy"
    made_policy=1
  fi
  export DEBIAN_FRONTEND=noninteractive
  local apt=(apt-get install -y -q --no-install-recommends -o Dpkg::Use-Pty=0)
  if ! as_root "${apt[@]}" "${todo[@]}" >"$PEERS_DIR/apt.log" 2>&1; then
    step "apt-get install failed; refreshing package lists and retrying"
    as_root apt-get update -q >>"$PEERS_DIR/apt.log" 2>&1
    as_root "${apt[@]}" "${todo[@]}" >>"$PEERS_DIR/apt.log" 2>&1 || {
      [ -n "$made_policy" ] && as_root rm -f "$policy"
      tail -n 20 "$PEERS_DIR/apt.log" >&2
      die "apt-get install ${todo[*]} failed (log: $PEERS_DIR/apt.log)"
    }
  fi
  [ -n "$made_policy" ] && as_root rm -f "$policy"
  step "installed: ${todo[*]}"
}

status() {
  local todo
  mapfile -t todo < <(missing)
  if [ "${#todo[@]}" = 0 ]; then step "all installed"; else step "missing: ${todo[*]}"; return 1; fi
}

case "${1:-}" in
  install) install ;;
  start | stop) step "nothing to $1" ;;
  status) status ;;
  *) usage ;;
esac
