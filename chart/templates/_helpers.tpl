{{- define "spiceai-operator.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "spiceai-operator.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "spiceai-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
spice.ai/app: spiceai-operator
{{- end -}}

{{- define "spiceai-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "spiceai-operator.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "spiceai-operator.webhookService" -}}{{ include "spiceai-operator.fullname" . }}-webhook{{- end -}}
{{- define "spiceai-operator.webhookConfiguration" -}}{{ include "spiceai-operator.fullname" . }}-sidecar-injector{{- end -}}
{{- define "spiceai-operator.webhookSecret" -}}{{ include "spiceai-operator.fullname" . }}-webhook-tls{{- end -}}

{{- /* The operator image: [repository/]name, then @digest or :tag (default: the chart's appVersion). */ -}}
{{- define "spiceai-operator.image" -}}
{{- $ref := .Values.image.name -}}
{{- with .Values.image.repository }}{{ $ref = printf "%s/%s" (trimSuffix "/" .) $ref }}{{ end -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" $ref .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" $ref (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{- /* CRDs: the deprecated installCRDs, when set, decides both crds.enabled and crds.keep. */ -}}
{{- define "spiceai-operator.crds.enabled" -}}
{{- if kindIs "bool" .Values.installCRDs }}{{ .Values.installCRDs }}{{ else }}{{ .Values.crds.enabled }}{{ end -}}
{{- end -}}
{{- define "spiceai-operator.crds.keep" -}}
{{- if kindIs "bool" .Values.installCRDs }}{{ .Values.installCRDs }}{{ else }}{{ .Values.crds.keep }}{{ end -}}
{{- end -}}

{{- /* The product's newer clusterDomain wins over cluster.domain. */ -}}
{{- define "spiceai-operator.clusterDomain" -}}{{ default .Values.cluster.domain .Values.clusterDomain }}{{- end -}}

{{- /* A duration of the chart's values (500ms, 60s, 1m; values.schema.json checks the form) in milliseconds. */ -}}
{{- define "spiceai-operator.millis" -}}
{{- $n := regexFind "^[0-9]+" . | int -}}
{{- if hasSuffix "ms" . }}{{ $n }}{{ else if hasSuffix "m" . }}{{ mul $n 60000 }}{{ else }}{{ mul $n 1000 }}{{ end -}}
{{- end -}}

{{- /* The TCP port of telemetry.otlp.endpoint: the URL's, else 443 (https) or 80. */ -}}
{{- define "spiceai-operator.otlpPort" -}}
{{- $url := urlParse .Values.telemetry.otlp.endpoint -}}
{{- $host := get $url "host" -}}
{{- if regexMatch ":[0-9]+$" $host }}{{ regexFind "[0-9]+$" $host }}{{ else if eq (get $url "scheme") "https" }}443{{ else }}80{{ end -}}
{{- end -}}

{{- /* The handlers, in the operator's order (run --handlers). */ -}}
{{- define "spiceai-operator.handlerNames" -}}workloads network-policy cluster pki pod-monitor{{- end -}}

{{- /* A hook's Deployment and Service name; its certificate Secret adds -tls (so 59 characters at most). */ -}}
{{- define "spiceai-operator.hookName" -}}
{{- printf "%s-%s-hook" (include "spiceai-operator.fullname" .root) .handler | trunc 59 | trimSuffix "-" -}}
{{- end -}}

{{- /* Labels selecting one handler's hook pods (never the operator's spice.ai/app). */ -}}
{{- define "spiceai-operator.hookSelectorLabels" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: hook
spice.ai/hook: {{ .handler }}
{{- end -}}

{{- /* The handlers in hook mode, space-separated (empty: none). */ -}}
{{- define "spiceai-operator.hookHandlers" -}}
{{- $out := list -}}
{{- range (splitList " " (include "spiceai-operator.handlerNames" .)) -}}
{{- if eq (get (get $.Values.handlers .) "mode") "hook" }}{{ $out = append $out . }}{{ end -}}
{{- end -}}
{{- join " " $out -}}
{{- end -}}

{{- /* The handlers run at all (not off), comma-separated; empty when every handler is in-process (the default: no flag). */ -}}
{{- define "spiceai-operator.runHandlers" -}}
{{- $run := list -}}
{{- $split := false -}}
{{- range (splitList " " (include "spiceai-operator.handlerNames" .)) -}}
{{- $mode := get (get $.Values.handlers .) "mode" -}}
{{- if ne $mode "off" }}{{ $run = append $run . }}{{ end -}}
{{- if ne $mode "inProcess" }}{{ $split = true }}{{ end -}}
{{- end -}}
{{- if and $split (not $run) }}{{ fail "handlers: every handler is off; the operator would have nothing to run (set at least one handlers.<name>.mode to inProcess or hook)" }}{{ end -}}
{{- if $split }}{{ join "," $run }}{{ end -}}
{{- end -}}
