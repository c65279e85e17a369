{{/* Names, labels and computed settings shared by every template. */}}

{{- define "mcp-cluster.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "mcp-cluster.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "mcp-cluster.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "mcp-cluster.labels" -}}
helm.sh/chart: {{ include "mcp-cluster.chart" . }}
{{ include "mcp-cluster.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: mcp-cluster
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "mcp-cluster.selectorLabels" -}}
app.kubernetes.io/name: {{ include "mcp-cluster.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* Labels of one component: (dict "ctx" $ "component" "gateway"). */}}
{{- define "mcp-cluster.componentLabels" -}}
{{ include "mcp-cluster.labels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "mcp-cluster.componentSelector" -}}
{{ include "mcp-cluster.selectorLabels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "mcp-cluster.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "mcp-cluster.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "mcp-cluster.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{- define "mcp-cluster.secretName" -}}
{{- default (printf "%s-keys" (include "mcp-cluster.fullname" .)) .Values.secrets.existingSecret -}}
{{- end -}}

{{- define "mcp-cluster.gatewayHost" -}}
{{- printf "%s-gateway" (include "mcp-cluster.fullname" .) -}}
{{- end -}}

{{/* Host headers the gateway accepts. */}}
{{- define "mcp-cluster.allowedHosts" -}}
{{- if .Values.config.allowedHosts -}}
{{- join "," .Values.config.allowedHosts -}}
{{- else -}}
{{- $svc := include "mcp-cluster.gatewayHost" . -}}
{{- $hosts := list $svc (printf "%s.%s" $svc .Release.Namespace) (printf "%s.%s.svc" $svc .Release.Namespace) (printf "%s.%s.svc.cluster.local" $svc .Release.Namespace) "localhost" "127.0.0.1" -}}
{{- if .Values.gateway.ingress.enabled -}}
{{- range .Values.gateway.ingress.hosts -}}
{{- $hosts = append $hosts .host -}}
{{- end -}}
{{- end -}}
{{- join "," $hosts -}}
{{- end -}}
{{- end -}}

{{- define "mcp-cluster.allowedOrigins" -}}
{{- if .Values.config.allowedOrigins -}}
{{- join "," .Values.config.allowedOrigins -}}
{{- else -}}
{{- include "mcp-cluster.allowedHosts" . -}}
{{- end -}}
{{- end -}}

{{/* Grace periods: computed from the drain settings, or checked against them. */}}
{{- define "mcp-cluster.gatewayGrace" -}}
{{- $g := .Values.gateway -}}
{{- $ms := add (mul (int $g.preStopSleepSeconds) 1000) (int $g.drainDelayMs) (int $g.drainTimeoutMs) -}}
{{- $min := add (div (add $ms 999) 1000) 5 -}}
{{- if kindIs "invalid" $g.terminationGracePeriodSeconds -}}
{{- $min -}}
{{- else if lt (int $g.terminationGracePeriodSeconds) (int $min) -}}
{{- fail (printf "gateway.terminationGracePeriodSeconds (%v) must be at least preStopSleepSeconds + (drainDelayMs + drainTimeoutMs)/1000 + 5 = %v" $g.terminationGracePeriodSeconds $min) -}}
{{- else -}}
{{- int $g.terminationGracePeriodSeconds -}}
{{- end -}}
{{- end -}}

{{- define "mcp-cluster.workerGrace" -}}
{{- $w := .Values.worker -}}
{{- $ms := add (mul (int $w.preStopSleepSeconds) 1000) (int $w.drainMs) -}}
{{- $min := add (div (add $ms 999) 1000) 5 -}}
{{- if kindIs "invalid" $w.terminationGracePeriodSeconds -}}
{{- $min -}}
{{- else if lt (int $w.terminationGracePeriodSeconds) (int $min) -}}
{{- fail (printf "worker.terminationGracePeriodSeconds (%v) must be at least preStopSleepSeconds + drainMs/1000 + 5 = %v" $w.terminationGracePeriodSeconds $min) -}}
{{- else -}}
{{- int $w.terminationGracePeriodSeconds -}}
{{- end -}}
{{- end -}}

{{/* REDIS_URL and NATS_URL: in-chart Services, an external URL, or a key of an external Secret. */}}
{{- define "mcp-cluster.connectionEnv" -}}
{{- $full := include "mcp-cluster.fullname" . -}}
- name: REDIS_URL
{{- if .Values.redis.internal }}
  value: {{ printf "redis://%s-redis:6379" $full | quote }}
{{- else if .Values.redis.external.existingSecret }}
  valueFrom:
    secretKeyRef:
      name: {{ .Values.redis.external.existingSecret }}
      key: {{ .Values.redis.external.existingSecretKey }}
{{- else if .Values.redis.external.url }}
  valueFrom:
    secretKeyRef:
      name: {{ $full }}-connections
      key: redis-url
{{- else }}
{{- fail "redis.internal is false: set redis.external.url or redis.external.existingSecret" }}
{{- end }}
- name: NATS_URL
{{- if .Values.nats.internal }}
  value: {{ printf "nats://%s-nats:4222" $full | quote }}
{{- else if .Values.nats.external.existingSecret }}
  valueFrom:
    secretKeyRef:
      name: {{ .Values.nats.external.existingSecret }}
      key: {{ .Values.nats.external.existingSecretKey }}
{{- else if .Values.nats.external.url }}
  valueFrom:
    secretKeyRef:
      name: {{ $full }}-connections
      key: nats-url
{{- else }}
{{- fail "nats.internal is false: set nats.external.url or nats.external.existingSecret" }}
{{- end }}
{{- end -}}

{{/* Secret keys as optional variables: an existingSecret may hold only some of them. */}}
{{- define "mcp-cluster.secretEnv" -}}
- name: MCP_DISPATCH_SECRETS
  valueFrom:
    secretKeyRef:
      name: {{ include "mcp-cluster.secretName" . }}
      key: dispatch-secrets
      optional: true
- name: MCP_STATE_KEYS
  valueFrom:
    secretKeyRef:
      name: {{ include "mcp-cluster.secretName" . }}
      key: state-keys
      optional: true
{{- end -}}

{{/* Default spread over zones and nodes for one component. */}}
{{- define "mcp-cluster.topologySpread" -}}
{{- $vals := index .ctx.Values .component -}}
{{- if $vals.topologySpreadConstraints -}}
{{ toYaml $vals.topologySpreadConstraints }}
{{- else -}}
- maxSkew: 1
  topologyKey: topology.kubernetes.io/zone
  whenUnsatisfiable: ScheduleAnyway
  labelSelector:
    matchLabels:
      {{- include "mcp-cluster.componentSelector" . | nindent 6 }}
- maxSkew: 1
  topologyKey: kubernetes.io/hostname
  whenUnsatisfiable: ScheduleAnyway
  labelSelector:
    matchLabels:
      {{- include "mcp-cluster.componentSelector" . | nindent 6 }}
{{- end -}}
{{- end -}}

{{- define "mcp-cluster.probes" -}}
{{- $p := .probes -}}
startupProbe:
  httpGet: {path: /healthz, port: http}
  {{- toYaml $p.startup | nindent 2 }}
livenessProbe:
  httpGet: {path: /healthz, port: http}
  {{- toYaml $p.liveness | nindent 2 }}
readinessProbe:
  httpGet: {path: /readyz, port: http}
  {{- toYaml $p.readiness | nindent 2 }}
{{- end -}}

{{/* NetworkPolicy peers: who may scrape metrics; this release's gateways and workers. */}}
{{- define "mcp-cluster.metricsPeers" -}}
{{- if .Values.networkPolicy.metricsFrom -}}
{{ toYaml .Values.networkPolicy.metricsFrom }}
{{- else -}}
- namespaceSelector: {}
{{- end -}}
{{- end -}}
{{- define "mcp-cluster.ourNodes" -}}
- podSelector:
    matchExpressions:
      - {key: app.kubernetes.io/instance, operator: In, values: [{{ .Release.Name | quote }}]}
      - {key: app.kubernetes.io/name, operator: In, values: [{{ include "mcp-cluster.name" . | quote }}]}
      - {key: app.kubernetes.io/component, operator: In, values: [gateway, worker]}
{{- end -}}
