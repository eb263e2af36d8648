#!/usr/bin/env bash
# Renders the raw manifests in deploy/kubernetes/ from the Helm chart, so the two never drift
# (test/helm/chart.test.ts fails when a committed file differs from what this writes):
#   deploy/kubernetes/inferlog-collector.yaml        ← helm template with ci/kubernetes-manifests-values.yaml
#   deploy/kubernetes/kserve-agent-image-patch.yaml  ← the chart's kserve-agent-patch ConfigMap, default values
# Needs helm: bash scripts/peers/k8s-tools.sh install.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HELM="${HELM:-${INFERLOG_PEERS_DIR:-$ROOT/.peers}/k8s-tools/bin/helm}"
CHART="$ROOT/deploy/helm/inferlog"
OUT="$ROOT/deploy/kubernetes"

{
  cat <<'HEADER'
# inferlog collector: receives KServe's logger CloudEvents, stores them, serves the query API and UI.
# Secure setup (docs/security.md): HTTPS on both ports, an auth file, a separate ingest port that a
# NetworkPolicy opens only to InferenceService pods, the read port only to pods labelled
# inferlog.dev/reader=true and the monitoring namespace. Before applying, create its two Secrets:
#   inferlog token create --auth-file auth.yaml --name ui --scope read     (prints the token once)
#   kubectl -n inferlog create secret generic inferlog-auth --from-file=auth.yaml
#   kubectl -n inferlog create secret tls inferlog-collector-tls --cert=tls.crt --key=tls.key
# Point an InferenceService's `spec.predictor.logger.url` at
#   https://inferlog-collector.inferlog.svc.cluster.local:8091/
# Single replica with SQLite on a volume. To scale out, use the Helm chart with store.type=postgres;
# for a cert-manager certificate, tls.certManager (deploy/helm/inferlog/README.md).
#
# GENERATED from deploy/helm/inferlog by scripts/render-k8s-manifests.sh: edit the chart, then rerun it.
HEADER
  "$HELM" template inferlog "$CHART" --namespace inferlog -f "$CHART/ci/kubernetes-manifests-values.yaml"
} >"$OUT/inferlog-collector.yaml"

{
  cat <<'HEADER'
# Makes KServe inject inferlog's agent instead of its own, for every InferenceService
# with a logger. KServe reads the agent image from the `agent` key of the
# inferenceservice-config ConfigMap; the webhook passes the same flags (--log-url,
# --log-mode, --component-port, --metadata-headers, …), which inferlog's agent accepts.
#   kubectl -n kserve patch configmap inferenceservice-config --patch-file deploy/kubernetes/kserve-agent-image-patch.yaml
# Restart the InferenceServices' pods (or re-apply them) so the webhook injects the new image.
#
# GENERATED from deploy/helm/inferlog by scripts/render-k8s-manifests.sh: edit the chart, then rerun it.
HEADER
  "$HELM" template inferlog "$CHART" --namespace inferlog --show-only templates/kserve-agent-patch.yaml |
    python3 -c 'import sys, yaml; sys.stdout.write(yaml.safe_load(sys.stdin)["data"]["patch.yaml"])'
} >"$OUT/kserve-agent-image-patch.yaml"
echo "rendered $OUT/inferlog-collector.yaml and $OUT/kserve-agent-image-patch.yaml"
