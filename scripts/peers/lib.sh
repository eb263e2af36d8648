# Shared helpers for scripts/peers/*.sh (sourced, not run).
# Every peer script prints one line per step, so CI logs read as a checklist.
set -euo pipefail

PEERS_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PEERS_DIR="${INFERLOG_PEERS_DIR:-$PEERS_ROOT/.peers}"
mkdir -p "$PEERS_DIR"

step() { printf '[%s] %s\n' "$PEER_NAME" "$*"; }
die() { printf '[%s] error: %s\n' "$PEER_NAME" "$*" >&2; exit 1; }

# Runs apt-get as root (CI and these machines are root); says so when we are not.
as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

# Waits until "$@" succeeds, at most $1 seconds (checked every 0.2 s).
wait_for() {
  local limit=$1; shift
  local deadline=$(( $(date +%s) + limit ))
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$deadline" ] || return 1
    sleep 0.2
  done
}

# True when something accepts TCP connections on 127.0.0.1:$1.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

usage() { echo "usage: $0 install|start|stop|status" >&2; exit 2; }
