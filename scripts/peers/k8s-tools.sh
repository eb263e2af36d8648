#!/usr/bin/env bash
# Kubernetes tooling for the Helm chart tests (test/helm): helm and kubeconform built from their
# published Go modules, and the JSON schemas kubeconform validates against, made offline from
# Go modules too (kubeconform's default schemas are on a web site the tests cannot reach):
#
#   k8s.io/kubernetes api/openapi-spec/swagger.json ──┐
#   KServe's InferenceService CRD (kserve module)     ├─ k8s-schemas.py ─▶ .peers/k8s-tools/schemas/
#   prometheus-operator's ServiceMonitor/PrometheusRule CRDs ┘
#
#   k8s-tools.sh install   build what is missing (minutes the first time: helm compiles the
#                          Kubernetes client libraries); skipped when the stamps match the pins
#   k8s-tools.sh status    exit 0 when helm, kubeconform and the schemas match the pins
#   k8s-tools.sh start|stop  nothing to run
PEER_NAME=k8s-tools
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

HELM=helm.sh/helm/v3/cmd/helm@v3.22.0
KUBECONFORM=github.com/yannh/kubeconform/cmd/kubeconform@v0.8.0
KUBERNETES=k8s.io/kubernetes@v1.34.4
KSERVE=github.com/kserve/kserve@v0.20.0
PROM_OPERATOR=github.com/prometheus-operator/prometheus-operator@v0.85.0
SCHEMAS_WANT="$KUBERNETES $KSERVE $PROM_OPERATOR $(cksum <"$HERE/k8s-schemas.py" | cut -d' ' -f1)"

DIR="$PEERS_DIR/k8s-tools"
BIN="$DIR/bin"
SCHEMAS="$DIR/schemas"

stamp_ok() { [ -f "$DIR/$1.version" ] && [ "$(cat "$DIR/$1.version")" = "$2" ]; }
tool_ok() { [ -x "$BIN/$1" ] && stamp_ok "$1" "$2"; }

# go mod download MODULE@VERSION, printing the module's directory in the (read-only) cache.
module_dir() {
  GOFLAGS=-mod=mod go mod download -json "$1" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p'
}

build_tool() { # build_tool NAME MODULE@VERSION
  local name=$1 want=$2
  if tool_ok "$name" "$want"; then step "built: $BIN/$name ($want)"; return; fi
  step "go install $want (several minutes the first time)"
  rm -f "$DIR/$name.version"
  GOBIN="$BIN" GOFLAGS=-mod=mod go install "$want" || die "go install $want failed"
  echo "$want" >"$DIR/$name.version"
}

python_bin() {
  if [ -x "$PEERS_DIR/venv/bin/python" ]; then echo "$PEERS_DIR/venv/bin/python"; else echo python3; fi
}

make_schemas() {
  if [ -d "$SCHEMAS" ] && stamp_ok schemas "$SCHEMAS_WANT"; then step "schemas ready: $SCHEMAS"; return; fi
  local k8s kserve po
  step "go mod download $KUBERNETES $KSERVE $PROM_OPERATOR"
  k8s="$(module_dir "$KUBERNETES")" && [ -f "$k8s/api/openapi-spec/swagger.json" ] || die "no swagger.json in $KUBERNETES"
  kserve="$(module_dir "$KSERVE")" && [ -d "$kserve/config/crd/full" ] || die "no config/crd/full in $KSERVE"
  po="$(module_dir "$PROM_OPERATOR")" && [ -d "$po/example/prometheus-operator-crd" ] || die "no CRDs in $PROM_OPERATOR"
  rm -rf "$SCHEMAS" "$DIR/schemas.version"
  step "making kubeconform schemas (about a minute)"
  "$(python_bin)" "$HERE/k8s-schemas.py" "$SCHEMAS" \
    --swagger "$k8s/api/openapi-spec/swagger.json" \
    --crd "$kserve/config/crd/full/serving.kserve.io_inferenceservices.yaml" \
    --crd "$po/example/prometheus-operator-crd/monitoring.coreos.com_servicemonitors.yaml" \
    --crd "$po/example/prometheus-operator-crd/monitoring.coreos.com_podmonitors.yaml" \
    --crd "$po/example/prometheus-operator-crd/monitoring.coreos.com_prometheusrules.yaml" ||
    die "k8s-schemas.py failed"
  echo "$SCHEMAS_WANT" >"$DIR/schemas.version"
}

install() {
  command -v go >/dev/null 2>&1 || die "go is not installed (helm $HELM needs Go >= 1.24)"
  mkdir -p "$BIN"
  build_tool kubeconform "$KUBECONFORM"
  build_tool helm "$HELM"
  make_schemas
  step "ready: $BIN/helm, $BIN/kubeconform, $SCHEMAS"
}

status() {
  local bad=0
  tool_ok helm "$HELM" || { step "missing: helm ($HELM)"; bad=1; }
  tool_ok kubeconform "$KUBECONFORM" || { step "missing: kubeconform ($KUBECONFORM)"; bad=1; }
  { [ -d "$SCHEMAS" ] && stamp_ok schemas "$SCHEMAS_WANT"; } || { step "missing: schemas"; bad=1; }
  [ "$bad" = 0 ] && step "ready: helm, kubeconform, schemas"
  return "$bad"
}

case "${1:-}" in
  install) install ;;
  start) install ;;
  stop) step "nothing to stop" ;;
  status) status ;;
  *) usage ;;
esac
