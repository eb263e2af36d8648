#!/usr/bin/env bash
# Sends the seed tutorial's inference request, KServe-docs style.
# Works against `inferlog up` (defaults) and against a real cluster's ingress:
#   INGRESS_HOST=… INGRESS_PORT=80 SERVICE_HOSTNAME=$(kubectl get isvc simple-model -n kserve-test -o jsonpath='{.status.url}' | cut -d/ -f3) ./examples/test-request.sh
set -euo pipefail

INGRESS_HOST="${INGRESS_HOST:-127.0.0.1}"
INGRESS_PORT="${INGRESS_PORT:-8080}"
MODEL_NAME="${MODEL_NAME:-simple-model}"
SERVICE_HOSTNAME="${SERVICE_HOSTNAME:-${MODEL_NAME}.kserve-test.example.com}"
SEED_REQUEST='{"instances": [1.0, 2.0]}'
DATA="${DATA:-$SEED_REQUEST}"

curl -sS --fail-with-body \
  -H "Host: ${SERVICE_HOSTNAME}" \
  -H "Content-Type: application/json" \
  -X POST "http://${INGRESS_HOST}:${INGRESS_PORT}/v1/models/${MODEL_NAME}:predict" \
  -d "${DATA}"
echo
