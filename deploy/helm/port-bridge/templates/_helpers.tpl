{{/* Names, labels and the blocks both Deployments share. */}}

{{- define "port-bridge.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The release's prefix: the release name when it already says port-bridge, as a release named
port-bridge gives the names the kustomize manifests use (port-bridge-intake, ...). */}}
{{- define "port-bridge.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "port-bridge.labels" -}}
app.kubernetes.io/name: {{ include "port-bridge.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/part-of: port-bridge
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end }}

{{/* Selector labels of one component: include "port-bridge.selectorLabels" (list . "intake") */}}
{{- define "port-bridge.selectorLabels" -}}
{{- $root := index . 0 -}}
app.kubernetes.io/name: {{ include "port-bridge.name" $root }}
app.kubernetes.io/instance: {{ $root.Release.Name }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end }}

{{- define "port-bridge.componentLabels" -}}
{{- $root := index . 0 -}}
{{ include "port-bridge.labels" $root }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end }}

{{- define "port-bridge.image" -}}
{{- if .Values.image.digest -}}
{{ .Values.image.repository }}@{{ .Values.image.digest }}
{{- else -}}
{{ .Values.image.repository }}:{{ default .Chart.AppVersion .Values.image.tag }}
{{- end }}
{{- end }}

{{- define "port-bridge.credentialsSecret" -}}
{{- if .Values.port.credentials.existingSecret -}}
{{ .Values.port.credentials.existingSecret }}
{{- else -}}
{{ include "port-bridge.fullname" . }}-port-credentials
{{- end }}
{{- end }}

{{- define "port-bridge.leaseName" -}}
{{- default (printf "%s-controller" (include "port-bridge.fullname" .)) .Values.controller.lease.name }}
{{- end }}

{{/* A duration value as the settings read it: a string as given (90s, 10m, 1h30m), a number as
whole seconds (Helm holds numbers as floats, which print as 1e+06 from a million on). */}}
{{- define "port-bridge.duration" -}}
{{- if kindIs "string" . }}{{ . }}{{ else }}{{ . | int64 }}{{ end }}
{{- end }}

{{- define "port-bridge.linkTemplate" -}}
{{- if .Values.settings.linkTemplate -}}
{{ .Values.settings.linkTemplate }}
{{- else if and .Values.ingress.enabled .Values.ingress.runPage -}}
{{ ternary "https" "http" (ne .Values.ingress.tlsSecretName "") }}://{{ .Values.ingress.host }}/runs/{run_id}
{{- end }}
{{- end }}

{{/* The configuration files by path under the configuration directory: the shipped ones, then
config.files over them. */}}
{{- define "port-bridge.configFiles" -}}
{{- $files := dict }}
{{- if .Values.config.shipped }}
{{- range $path, $_ := .Files.Glob "files/**" }}
{{- $_ := set $files (trimPrefix "files/" $path) ($.Files.Get $path) }}
{{- end }}
{{- end }}
{{- range $path, $content := .Values.config.files }}
{{- $_ := set $files $path $content }}
{{- end }}
{{- toJson $files }}
{{- end }}

{{/* One ConfigMap per directory (ConfigMap keys are flat): {"actions": {...}, "blueprints": {...},
"scorecards/<blueprint>": {...}}. */}}
{{- define "port-bridge.configGroups" -}}
{{- $groups := dict }}
{{- range $path, $content := include "port-bridge.configFiles" . | fromJson }}
{{- $directory := dir $path }}
{{- $section := first (splitList "/" $directory) }}
{{- if not (has $section (list "actions" "blueprints" "scorecards")) }}
{{- fail (printf "config.files: %s: files go under actions/, blueprints/ or scorecards/<blueprint>/" $path) }}
{{- end }}
{{- if and (eq $section "scorecards") (ne (len (splitList "/" $directory)) 2) }}
{{- fail (printf "config.files: %s: scorecards go in scorecards/<blueprint>/<file>" $path) }}
{{- end }}
{{- if and (ne $section "scorecards") (ne $directory $section) }}
{{- fail (printf "config.files: %s: %s/ holds files, not directories" $path $section) }}
{{- end }}
{{- if not (regexMatch "^[-._a-zA-Z0-9]+$" (base $path)) }}
{{- fail (printf "config.files: %s: a file name may hold only letters, digits, '-', '_' and '.'" $path) }}
{{- end }}
{{- $group := get $groups $directory | default dict }}
{{- $_ := set $group (base $path) $content }}
{{- $_ := set $groups $directory $group }}
{{- end }}
{{- if not (hasKey $groups "actions") }}
{{- fail "config: no action files (config.shipped is false and config.files has no actions/...): port-bridge will not start without one" }}
{{- end }}
{{- toJson $groups }}
{{- end }}

{{/* The ConfigMap and volume name of a configuration directory (scorecards/my_bp → scorecards-my-bp). */}}
{{- define "port-bridge.configSlug" -}}
{{- regexReplaceAll "[^a-z0-9]+" (lower .) "-" | trimAll "-" }}
{{- end }}

{{- define "port-bridge.configVolumes" -}}
{{- range $directory, $_ := include "port-bridge.configGroups" . | fromJson }}
- name: config-{{ include "port-bridge.configSlug" $directory }}
  configMap:
    name: {{ include "port-bridge.fullname" $ }}-{{ include "port-bridge.configSlug" $directory }}
{{- end }}
{{- end }}

{{- define "port-bridge.configMounts" -}}
{{- range $directory, $_ := include "port-bridge.configGroups" . | fromJson }}
- name: config-{{ include "port-bridge.configSlug" $directory }}
  mountPath: /etc/port-bridge/{{ $directory }}
  readOnly: true
{{- end }}
{{- end }}

{{/* Port's credentials and API, and the settings both processes read. */}}
{{- define "port-bridge.commonEnv" -}}
- name: PORT_CLIENT_ID
  valueFrom:
    secretKeyRef:
      name: {{ include "port-bridge.credentialsSecret" . }}
      key: {{ .Values.port.credentials.clientIdKey }}
- name: PORT_CLIENT_SECRET
  valueFrom:
    secretKeyRef:
      name: {{ include "port-bridge.credentialsSecret" . }}
      key: {{ .Values.port.credentials.clientSecretKey }}
- name: PORT_API_URL
  value: {{ .Values.port.apiUrl | quote }}
- name: PORT_BRIDGE_NAMESPACE
  valueFrom:
    fieldRef:
      fieldPath: metadata.namespace
- name: PORT_BRIDGE_CONFIG_DIR
  value: /etc/port-bridge
- name: PORT_BRIDGE_LOG_LEVEL
  value: {{ .Values.settings.logLevel | quote }}
- name: PORT_BRIDGE_KUBE_TIMEOUT_SECONDS
  value: {{ .Values.settings.kubeTimeoutSeconds | quote }}
{{- end }}

{{- define "port-bridge.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
fsGroup: 10001
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{- define "port-bridge.containerSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
readOnlyRootFilesystem: true
allowPrivilegeEscalation: false
capabilities:
  drop: [ALL]
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/* Scheduling and the volumes both pods share. */}}
{{- define "port-bridge.podCommon" -}}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
volumes:
  # The only writable place: gunicorn's temporary files and the metrics directory.
  - name: tmp
    emptyDir:
      sizeLimit: 64Mi
  {{- include "port-bridge.configVolumes" . | trim | nindent 2 }}
  {{- with .Values.extraVolumes }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- end }}

{{- define "port-bridge.volumeMounts" -}}
- name: tmp
  mountPath: /tmp
{{- include "port-bridge.configMounts" . }}
{{- range .Values.extraVolumeMounts }}
- {{ toYaml (merge (dict "readOnly" true) (omit . "readOnly")) | nindent 2 | trim }}
{{- end }}
{{- end }}

{{- define "port-bridge.podMetadata" -}}
{{- $root := index . 0 -}}
annotations:
  checksum/config: {{ include "port-bridge.configFiles" $root | sha256sum }}
  {{- with $root.Values.podAnnotations }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
labels:
  {{- include "port-bridge.componentLabels" . | nindent 2 }}
  {{- with $root.Values.podLabels }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- end }}
