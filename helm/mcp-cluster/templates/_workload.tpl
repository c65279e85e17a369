{{/*
A gateway or worker Deployment: (dict "ctx" $ "component" "gateway" "grace" N "env" list).
Rolling updates never take a ready pod away before its replacement is ready (maxUnavailable 0);
the grace period covers preStop plus the process's own drain (see _helpers.tpl).
*/}}
{{- define "mcp-cluster.deployment" -}}
{{- $ := .ctx -}}
{{- $c := .component -}}
{{- $v := index $.Values $c -}}
{{- $full := include "mcp-cluster.fullname" $ -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ $full }}-{{ $c }}
  labels:
    {{- include "mcp-cluster.componentLabels" . | nindent 4 }}
spec:
  {{- if not $v.autoscaling.enabled }}
  replicas: {{ $v.replicaCount }}
  {{- end }}
  revisionHistoryLimit: 5
  selector:
    matchLabels:
      {{- include "mcp-cluster.componentSelector" . | nindent 6 }}
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxUnavailable: 0
      maxSurge: {{ $v.maxSurge }}
  template:
    metadata:
      labels:
        {{- include "mcp-cluster.componentLabels" . | nindent 8 }}
        {{- with $v.podLabels }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      annotations:
        checksum/config: {{ include (print $.Template.BasePath "/configmap.yaml") $ | sha256sum }}
        checksum/secret: {{ include (print $.Template.BasePath "/secret.yaml") $ | sha256sum }}
        {{- with $v.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      serviceAccountName: {{ include "mcp-cluster.serviceAccountName" $ }}
      automountServiceAccountToken: {{ $.Values.serviceAccount.automountServiceAccountToken }}
      {{- with $.Values.imagePullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      securityContext:
        {{- toYaml $.Values.podSecurityContext | nindent 8 }}
      terminationGracePeriodSeconds: {{ .grace }}
      topologySpreadConstraints:
        {{- include "mcp-cluster.topologySpread" . | nindent 8 }}
      {{- with $v.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $v.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $v.affinity }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      containers:
        - name: {{ $c }}
          image: {{ include "mcp-cluster.image" $ | quote }}
          imagePullPolicy: {{ $.Values.image.pullPolicy }}
          args: [{{ $c | quote }}]
          securityContext:
            {{- toYaml $.Values.securityContext | nindent 12 }}
          ports:
            - name: http
              containerPort: {{ $v.port }}
              protocol: TCP
            {{- if $.Values.metrics.enabled }}
            - name: metrics
              containerPort: {{ $.Values.metrics.port }}
              protocol: TCP
            {{- end }}
          envFrom:
            - configMapRef:
                name: {{ $full }}-config
          env:
            - name: MCP_PORT
              value: {{ $v.port | quote }}
            - name: POD_NAME
              valueFrom:
                fieldRef: {fieldPath: metadata.name}
            - name: POD_IP
              valueFrom:
                fieldRef: {fieldPath: status.podIP}
            - name: MCP_NODE_ID
              value: "$(POD_NAME)"
            {{- include "mcp-cluster.connectionEnv" $ | nindent 12 }}
            {{- include "mcp-cluster.secretEnv" $ | nindent 12 }}
            {{- toYaml .env | nindent 12 }}
            {{- range $k, $val := $v.env }}
            - name: {{ $k }}
              value: {{ $val | toString | quote }}
            {{- end }}
          lifecycle:
            preStop:
              exec:
                command: ["sleep", {{ $v.preStopSleepSeconds | toString | quote }}]
          {{- include "mcp-cluster.probes" (dict "probes" $v.probes) | nindent 10 }}
          resources:
            {{- toYaml $v.resources | nindent 12 }}
          volumeMounts:
            - name: tmp
              mountPath: /tmp
            {{- if $.Values.config.file }}
            - name: config-file
              mountPath: /etc/mcp-cluster
              readOnly: true
            {{- end }}
            {{- with $v.extraVolumeMounts }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
      volumes:
        # The root filesystem is read-only; tsx's cache for .ts packs and temporary files go here.
        - name: tmp
          emptyDir:
            sizeLimit: {{ $.Values.tmpSizeLimit }}
        {{- if $.Values.config.file }}
        - name: config-file
          configMap:
            name: {{ $full }}-config-file
        {{- end }}
        {{- with $v.extraVolumes }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
{{- end -}}

{{/* HPA and PDB of one component: (dict "ctx" $ "component" "gateway"). */}}
{{- define "mcp-cluster.hpaPdb" -}}
{{- $ := .ctx -}}
{{- $c := .component -}}
{{- $v := index $.Values $c -}}
{{- $full := include "mcp-cluster.fullname" $ -}}
{{- if $v.autoscaling.enabled }}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {{ $full }}-{{ $c }}
  labels:
    {{- include "mcp-cluster.componentLabels" . | nindent 4 }}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {{ $full }}-{{ $c }}
  minReplicas: {{ $v.autoscaling.minReplicas }}
  maxReplicas: {{ $v.autoscaling.maxReplicas }}
  metrics:
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: {{ $v.autoscaling.targetCPUUtilizationPercentage }}
{{- end }}
{{- if $v.pdb.enabled }}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ $full }}-{{ $c }}
  labels:
    {{- include "mcp-cluster.componentLabels" . | nindent 4 }}
spec:
  maxUnavailable: {{ $v.pdb.maxUnavailable }}
  selector:
    matchLabels:
      {{- include "mcp-cluster.componentSelector" . | nindent 6 }}
{{- end }}
{{- end -}}
