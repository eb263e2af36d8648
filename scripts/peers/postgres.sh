#!/usr/bin/env bash
# PostgreSQL peer for tests: a throwaway cluster under .peers/postgres on
# 127.0.0.1:54329 with trust auth on loopback and a database `inferlog_test`.
#
#   install  checks the server binaries (scripts/peers/apt.sh installs them) and the OS user
#   start    initdb once, start, create the database (~2 s)
#   stop     stops this cluster (pg_ctl, by its data directory; other servers are left alone)
#   status   exit 0 when the cluster answers
#
# PostgreSQL refuses to run as root: as root the cluster belongs to the OS user
# `inferlog-pg` (created when missing) and commands run through runuser.
# Port: INFERLOG_PG_PORT (default 54329). URL printed by `status`:
#   postgres://postgres@127.0.0.1:54329/inferlog_test
PEER_NAME=postgres
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PORT="${INFERLOG_PG_PORT:-54329}"
DB=inferlog_test
URL="postgres://postgres@127.0.0.1:$PORT/$DB"

bindir() {
  local d
  d="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
  if [ -n "$d" ] && [ -x "$d/pg_ctl" ]; then echo "$d"; return; fi
  d="$(dirname "$(command -v pg_ctl 2>/dev/null || echo /nonexistent/pg_ctl)")"
  [ -x "$d/pg_ctl" ] && echo "$d"
}
BIN="$(bindir || true)"

if [ "$(id -u)" = 0 ]; then OWNER=inferlog-pg; else OWNER="$(id -un)"; fi
as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u "$OWNER" -- "$@"; else "$@"; fi
}

if [ "$(id -u)" = 0 ] && ! id "$OWNER" >/dev/null 2>&1 && [[ "${1:-}" =~ ^(install|start)$ ]]; then
  step "creating OS user $OWNER (PostgreSQL refuses to run as root)"
  useradd --system --no-create-home --shell /usr/sbin/nologin "$OWNER"
fi

# The cluster lives in .peers/postgres, unless the checkout sits in a folder the cluster's
# owner cannot enter (e.g. under /root): then in /var/tmp, one folder per checkout.
DIR="$PEERS_DIR/postgres"
if [ "$(id -u)" = 0 ] && id "$OWNER" >/dev/null 2>&1 && ! runuser -u "$OWNER" -- test -x "$PEERS_DIR" 2>/dev/null; then
  DIR="/var/tmp/inferlog-peers-$(printf '%s' "$PEERS_DIR" | md5sum | cut -c1-12)/postgres"
fi
DATA="$DIR/data"

install() {
  [ -n "$BIN" ] || die "PostgreSQL server binaries not found: run scripts/peers/apt.sh install"
  step "server: $("$BIN/postgres" --version)"
  mkdir -p "$DIR"
  if [ "$(id -u)" = 0 ]; then chown "$OWNER" "$DIR"; fi
  as_owner test -w "$DIR" || die "$OWNER cannot write $DIR (a parent folder is not traversable?)"
  step "cluster directory $DIR is usable by $OWNER"
}

running() { [ -n "$BIN" ] && [ -f "$DATA/postmaster.pid" ] && as_owner "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; }
answers() { "$BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT" -d "$DB" -U postgres; }

start() {
  install >/dev/null
  if running; then step "already running on 127.0.0.1:$PORT"; else
    if port_open "$PORT"; then
      # Another checkout's cluster (or your own) with trust auth serves the tests as well.
      "$BIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -Atqc 'SELECT 1' >/dev/null 2>&1 ||
        die "port $PORT is taken by something that is not a trust-auth PostgreSQL; set INFERLOG_PG_PORT"
      step "port $PORT already answers (not started from $DATA): using it"
    else
    if [ ! -f "$DATA/PG_VERSION" ]; then
      step "initdb $DATA"
      as_owner "$BIN/initdb" -D "$DATA" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >/dev/null
    fi
    step "starting on 127.0.0.1:$PORT (log: $DIR/server.log)"
    # Durability off: a test cluster trades crash safety for speed.
    as_owner "$BIN/pg_ctl" -D "$DATA" -l "$DIR/server.log" -w -t 60 start \
      -o "-p $PORT -k $DIR -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" >/dev/null
    fi
  fi
  if ! "$BIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -Atqc "SELECT 1 FROM pg_database WHERE datname = '$DB'" | grep -q 1; then
    step "creating database $DB"
    "$BIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -qc "CREATE DATABASE $DB" >/dev/null
  fi
  answers || die "server does not answer on 127.0.0.1:$PORT"
  step "ready: $URL"
}

stop() {
  if ! running; then step "not running"; return; fi
  step "stopping cluster $DATA"
  as_owner "$BIN/pg_ctl" -D "$DATA" -m fast -w stop >/dev/null
  step "stopped"
}

status() {
  if [ -n "$BIN" ] && answers; then step "running: $URL"; else step "not running"; return 1; fi
}

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) usage ;;
esac
