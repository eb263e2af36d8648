#!/usr/bin/env bash
# Python peer for tests: a venv at .peers/venv with KServe's own model server
# (the `kserve` package), scikit-learn and the CloudEvents SDK, pinned to versions
# that install on Python 3.11 from PyPI; moto's S3 server (moto_server) for the blob sink's
# tests, and pyarrow and duckdb as independent readers of the Parquet / CSV / JSON it writes.
#
#   python.sh install   create the venv if missing, pip-install what is missing
#   python.sh status    exit 0 when every pinned package is importable
#   python.sh start|stop  nothing to run: the tests start their own model servers
PEER_NAME=python
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# The real path: pip writes it into every launcher's #! line (moto_server, …), and a path through a
# symlink (a worktree's .peers → the main checkout's) breaks them once that worktree is removed.
VENV="$(realpath -m "$PEERS_DIR/venv")"
PY="${PYTHON:-python3}"
# kserve 0.21 requires cloudevents<2, so the SDK stays on 1.x (its API: cloudevents.http, cloudevents.kafka).
PINS=(kserve==0.21.0 scikit-learn==1.9.1 cloudevents==1.13.0 'moto[server]==5.2.5' pyarrow==26.0.1 duckdb==2.0.1)
# import names of the pins above, for the quick check
IMPORTS=(kserve sklearn cloudevents moto pyarrow duckdb)

have_all() {
  [ -x "$VENV/bin/python" ] || return 1
  "$VENV/bin/python" - "${PINS[@]}" <<'PY' >/dev/null 2>&1
import sys
from importlib.metadata import version
for pin in sys.argv[1:]:
    name, want = pin.split("==")
    if version(name.split("[")[0]) != want:
        sys.exit(1)
PY
}

# Launchers whose #! interpreter no longer exists (the venv was built through a path that is gone).
stale_launchers() {
  local f first
  for f in "$VENV"/bin/*; do
    [ -f "$f" ] && [ ! -L "$f" ] || continue
    IFS= read -r first <"$f" 2>/dev/null || continue
    case "$first" in
      '#!'*python*) [ -x "${first#\#!}" ] || echo "$f" ;;
    esac
  done
}

# Points stale launchers at this venv's interpreter, so `moto_server` and the like run again.
repair_launchers() {
  local stale
  stale="$(stale_launchers)"
  [ -n "$stale" ] || return 0
  step "repairing $(echo "$stale" | wc -l) launcher(s) whose interpreter is gone (e.g. $(basename "$(echo "$stale" | head -1)"))"
  echo "$stale" | while IFS= read -r f; do sed -i "1s|^#!.*|#!$VENV/bin/python|" "$f"; done
}

install() {
  if have_all; then
    repair_launchers
    step "venv $VENV has ${PINS[*]}: nothing to do"
    return
  fi
  if [ ! -x "$VENV/bin/python" ]; then
    step "creating venv $VENV with $($PY --version 2>&1)"
    "$PY" -m venv "$VENV"
  fi
  step "pip install ${PINS[*]} (a few minutes the first time)"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "${PINS[@]}"
  "$VENV/bin/python" -c "import $(IFS=,; echo "${IMPORTS[*]}")" || die "packages installed but do not import"
  repair_launchers
  step "venv ready: $VENV/bin/python"
}

status() {
  if ! have_all; then step "missing: run scripts/peers/python.sh install"; return 1; fi
  if [ -n "$(stale_launchers)" ]; then step "launchers point at a removed interpreter: run scripts/peers/python.sh install"; return 1; fi
  step "ready: $VENV/bin/python"
}

case "${1:-}" in
  install) install ;;
  start) install ;;
  stop) step "nothing to stop" ;;
  status) status ;;
  *) usage ;;
esac
