{{/* Names and labels shared by every template. */}}

{{- define "inferlog.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* <release>-collector (inferlog-collector for release "inferlog": the URL agents already use). */}}
{{- define "inferlog.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-collector" .Release.Name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{- define "inferlog.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "inferlog.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* The collector's selector. `app: <fullname>` as deploy/kubernetes always had: a Deployment's
selector is immutable, so a changed one would break `kubectl apply` over an existing install. */}}
{{- define "inferlog.selectorLabels" -}}
app: {{ include "inferlog.fullname" . }}
{{- end }}

{{/* The PVC keeps deploy/kubernetes' name (inferlog-data for release inferlog): a new name would
be a new, empty volume. */}}
{{- define "inferlog.pvcName" -}}
{{- default (printf "%s-data" .Release.Name) .Values.store.sqlite.existingClaim }}
{{- end }}

{{- define "inferlog.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{- define "inferlog.scheme" -}}
{{- ternary "https" "http" .Values.tls.enabled }}
{{- end }}

{{/* The read side's Service port: 443 with TLS, 80 without, unless set. */}}
{{- define "inferlog.servicePort" -}}
{{- .Values.collector.service.port | default (ternary 443 80 .Values.tls.enabled) }}
{{- end }}

{{/* The URL an InferenceService's logger.url points at: the ingest port when it is separate. */}}
{{- define "inferlog.collectorUrl" -}}
{{- if .Values.ingest.enabled }}
{{- printf "%s://%s.%s.svc.cluster.local:%v/" (include "inferlog.scheme" .) (include "inferlog.fullname" .) .Release.Namespace .Values.ingest.servicePort }}
{{- else }}
{{- printf "%s://%s.%s.svc.cluster.local/" (include "inferlog.scheme" .) (include "inferlog.fullname" .) .Release.Namespace }}
{{- end }}
{{- end }}

{{/* The read side's URL (query API, UI). */}}
{{- define "inferlog.readUrl" -}}
{{- printf "%s://%s.%s.svc.cluster.local:%v/" (include "inferlog.scheme" .) (include "inferlog.fullname" .) .Release.Namespace (include "inferlog.servicePort" .) }}
{{- end }}

{{/* Values that cannot work together fail the render with a clear message. */}}
{{- define "inferlog.validate" -}}
{{- if not (has .Values.store.type (list "sqlite" "postgres")) }}
{{- fail (printf "store.type must be sqlite or postgres, not %q" .Values.store.type) }}
{{- end }}
{{- if and (eq .Values.store.type "sqlite") (gt (int .Values.collector.replicas) 1) }}
{{- fail "collector.replicas > 1 needs store.type=postgres (SQLite allows one writer)" }}
{{- end }}
{{- if and (eq .Values.store.type "postgres") (not .Values.store.postgres.existingSecret) }}
{{- fail "store.type=postgres needs store.postgres.existingSecret (a Secret with the postgres:// URL)" }}
{{- end }}
{{- if and (not .Values.auth.enabled) (not .Values.tls.clientCa) (not .Values.collector.insecureNoAuth) }}
{{- fail "auth.enabled=false leaves the collector with no authentication, and it refuses to listen on 0.0.0.0 so: keep auth on (auth.existingSecret), use tls.clientCa, or set collector.insecureNoAuth=true to run it open" }}
{{- end }}
{{- if and .Values.tls.clientCa (not .Values.tls.enabled) }}
{{- fail "tls.clientCa needs tls.enabled (mutual TLS is TLS)" }}
{{- end }}
{{- if and .Values.tls.certManager.enabled (not .Values.tls.certManager.issuerRef.name) }}
{{- fail "tls.certManager.enabled needs tls.certManager.issuerRef.name (the cert-manager Issuer or ClusterIssuer that signs the certificate)" }}
{{- end }}
{{- if and .Values.ingest.enabled (eq (int .Values.ingest.port) (int .Values.collector.port)) }}
{{- fail "ingest.port must differ from collector.port (the ingest listener is a port of its own)" }}
{{- end }}
{{- if and .Values.serviceMonitor.enabled .Values.auth.enabled (not .Values.collector.metricsPublic) (not .Values.serviceMonitor.tokenSecret.name) }}
{{- fail "serviceMonitor.enabled with auth: /metrics needs a read token (serviceMonitor.tokenSecret.name) or collector.metricsPublic=true" }}
{{- end }}
{{- if and .Values.oidc.enabled (or (not .Values.oidc.issuer) (not .Values.oidc.audience)) }}
{{- fail "oidc.enabled needs oidc.issuer (the provider's https URL) and oidc.audience (the UI's client id)" }}
{{- end }}
{{- if and .Values.oidc.enabled (not .Values.oidc.groups) }}
{{- fail "oidc.enabled needs oidc.groups: at least one group mapped to a grant, e.g. ml-readers: read:team-a" }}
{{- end }}
{{- if and .Values.auth.enabled (not .Values.auth.existingSecret) }}
{{- fail "auth.enabled needs auth.existingSecret (the Secret holding the auth file)" }}
{{- end }}
{{- if and .Values.tls.enabled (not .Values.tls.secretName) }}
{{- fail "tls.enabled needs tls.secretName (a kubernetes.io/tls Secret)" }}
{{- end }}
{{- end }}
