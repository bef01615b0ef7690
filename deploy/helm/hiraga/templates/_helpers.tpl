{{- define "hiraga.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}{{ .Release.Name | trunc 63 | trimSuffix "-" }}{{- else -}}{{ printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" }}{{- end -}}
{{- end -}}

{{- define "hiraga.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "hiraga.selector" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "hiraga.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{/* The environment every hiraga container gets: settings from the ConfigMap, secrets from the Secret. */}}
{{- define "hiraga.env" -}}
envFrom:
  - configMapRef:
      name: {{ include "hiraga.fullname" . }}
env:
  - name: HIRAGA_SECRET_KEY
    valueFrom: {secretKeyRef: {name: {{ .Values.existingSecret }}, key: {{ .Values.secretKeys.secretKey }}}}
  - name: HIRAGA_DATABASE_URL
    valueFrom: {secretKeyRef: {name: {{ .Values.existingSecret }}, key: {{ .Values.secretKeys.databaseUrl }}}}
  - name: HIRAGA_REDIS_URL
    valueFrom: {secretKeyRef: {name: {{ .Values.existingSecret }}, key: {{ .Values.secretKeys.redisUrl }}}}
  - name: HIRAGA_METRICS_TOKEN
    valueFrom: {secretKeyRef: {name: {{ .Values.existingSecret }}, key: {{ .Values.secretKeys.metricsToken }}, optional: true}}
{{- end -}}

{{/* The data dir (scale-out keeps nothing there but caches) and the optional anchor volume. */}}
{{- define "hiraga.volumeMounts" -}}
volumeMounts:
  - {name: data, mountPath: /var/lib/hiraga}
  - {name: tmp, mountPath: /tmp}
{{- if .Values.audit.anchorClaim }}
  - {name: anchors, mountPath: /var/lib/hiraga-anchors}
{{- end }}
{{- end -}}

{{- define "hiraga.volumes" -}}
volumes:
  - {name: data, emptyDir: {}}
  - {name: tmp, emptyDir: {}}
{{- if .Values.audit.anchorClaim }}
  - {name: anchors, persistentVolumeClaim: {claimName: {{ .Values.audit.anchorClaim }}}}
{{- end }}
{{- end -}}

{{- define "hiraga.podSpecCommon" -}}
{{- with .Values.imagePullSecrets }}
imagePullSecrets: {{- toYaml . | nindent 2 }}
{{- end }}
securityContext: {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- with .Values.nodeSelector }}
nodeSelector: {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations: {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity: {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}
