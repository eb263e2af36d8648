#!/usr/bin/env bash
# Every real peer the tests use, installed and started: what `npm test` runs first.
#
#   bash scripts/peers/all.sh up       install what is missing, start what is stopped (idempotent;
#                                      a few seconds when everything is there)
#   bash scripts/peers/all.sh status   one line per peer, exit 1 when any is missing
#
# When a peer cannot be set up (no root for apt-get, no Java), it says so in one line with the
# command that fixes it, and exits 1: no test starts against half a set of peers.
PEER_NAME=peers
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
HERE="$(dirname "${BASH_SOURCE[0]}")"

# Order matters: apt brings PostgreSQL's binaries before postgres.sh starts a cluster.
PEERS=(apt python kserve-agent k8s-tools otelcol fake-gcs azurite oidc kafka postgres)

fail() { # fail PEER: the one line a person reads when setup stops
  local peer=$1 hint
  case "$peer" in
    apt) hint="sudo bash scripts/peers/apt.sh install   # Debian: postgresql nginx wrk chromium openssl prometheus" ;;
    python) hint="bash scripts/peers/python.sh install    # needs python3 with venv and pip" ;;
    kafka) hint="bash scripts/peers/kafka.sh install      # needs Java 17 and Maven" ;;
    kserve-agent) hint="bash scripts/peers/kserve-agent.sh install   # needs Go >= 1.25 and the Go module proxy" ;;
    k8s-tools) hint="bash scripts/peers/k8s-tools.sh install      # helm, kubeconform, schemas: Go and the Go module proxy" ;;
    otelcol) hint="bash scripts/peers/otelcol.sh install   # needs Go >= 1.24 and the Go module proxy" ;;
    fake-gcs) hint="bash scripts/peers/fake-gcs.sh install  # GCS emulator: needs Go and the Go module proxy" ;;
    azurite) hint="bash scripts/peers/azurite.sh install   # Azure Blob emulator: needs npm and the npm registry" ;;
    oidc) hint="bash scripts/peers/oidc.sh install      # needs npm and the npm registry" ;;
    *) hint="bash scripts/peers/$peer.sh install && bash scripts/peers/$peer.sh start" ;;
  esac
  printf 'inferlog tests: the %s peer is not ready (log above); fix it with: %s\n' "$peer" "$hint" >&2
  exit 1
}

up() {
  local peer
  for peer in "${PEERS[@]}"; do
    if [ "$peer" = apt ] && [ "$(id -u)" != 0 ] && ! bash "$HERE/apt.sh" status >/dev/null 2>&1 &&
      ! sudo -n true 2>/dev/null; then
      fail apt
    fi
    bash "$HERE/$peer.sh" install || fail "$peer"
    bash "$HERE/$peer.sh" start || fail "$peer"
  done
}

status() {
  local peer bad=0
  for peer in "${PEERS[@]}"; do bash "$HERE/$peer.sh" status || bad=1; done
  return "$bad"
}

case "${1:-}" in
  up) up ;;
  status) status ;;
  *) echo "usage: $0 up|status" >&2; exit 2 ;;
esac
