// The `run` command's flags, one row each: its type, its default and its
// help line. The parser's options and `run --help` are both made from this
// table, and the README's `run` flag table is checked against it
// (test/unit/cli.test.ts), so a default is written once.
import type { ParseArgsConfig } from 'node:util';
import { DEFAULT_OPERATOR_POD_LABELS } from '../../../core/manifests/network-policy.ts';
import { HANDLER_NAMES } from '../../handler-names.ts';

export interface RunFlag {
  name: string;
  type: 'string' | 'boolean';
  /** The value the parser gives when the flag is absent; also shown by --help and in the README. */
  default?: string;
  /** What --help says the default is when there is no default value ("all", "none"). */
  defaultText?: string;
  multiple?: boolean;
  /** The value's placeholder in --help (ADDR, N, NAME...); booleans have none. */
  value?: string;
  /** What the flag does, in one line of --help. */
  help: string;
  /** Other names of the same flag: kubebuilder's scaffold (cmd/main.go) and the product's newest (shim/cli/flag-aliases.ts). */
  aliases?: string[];
  /** Read when no name of the flag is given (an empty value counts as unset). */
  env?: string;
}

export const RUN_FLAGS: readonly RunFlag[] = [
  {
    name: 'http-endpoint',
    type: 'string',
    value: 'ADDR',
    default: '0.0.0.0:8090',
    help: 'operator HTTP API bind address: /health, /ready, /{namespace}/{name}[?kind=SpicepodCluster] pod status',
  },
  {
    name: 'metrics-endpoint',
    type: 'string',
    value: 'ADDR',
    default: '0.0.0.0:9090',
    aliases: ['metrics-bind-address'],
    help: 'Prometheus /metrics bind address',
  },
  {
    name: 'metrics-secure',
    type: 'boolean',
    help: "/metrics over HTTPS, only for callers the API server authenticates (TokenReview) and authorizes to get /metrics (SubjectAccessReview), as kubebuilder's --metrics-secure; off: plain HTTP",
  },
  {
    name: 'metrics-cert-dir',
    type: 'string',
    value: 'DIR',
    defaultText: 'a self-signed certificate made at start',
    help: 'tls.crt and tls.key for --metrics-secure',
  },
  {
    name: 'health-probe-bind-address',
    type: 'string',
    value: 'ADDR',
    defaultText: 'only on --http-endpoint',
    help: 'serve the probes /healthz, /readyz (and /health, /ready) on this address too, away from the status API',
  },
  {
    name: 'operator-namespace',
    type: 'string',
    value: 'NS',
    default: 'spiceai-operator-system',
    env: 'POD_NAMESPACE',
    help: 'namespace of the operator: its Lease and cluster-shared Secrets; $POD_NAMESPACE when not given',
  },
  {
    name: 'operator-pod-labels',
    type: 'string',
    value: 'LIST',
    default: Object.entries(DEFAULT_OPERATOR_POD_LABELS)
      .map(([k, v]) => `${k}=${v}`)
      .join(','),
    help: "labels of the operator's own pods, KEY=VALUE comma-separated: NetworkPolicies admit only these pods of the operator namespace to spiced's HTTP port",
  },
  {
    name: 'cluster-domain',
    type: 'string',
    value: 'DOMAIN',
    default: 'cluster.local',
    help: 'Kubernetes cluster domain for internal DNS names',
  },
  {
    name: 'pause-crashlooping-pods-threshold',
    type: 'string',
    value: 'N',
    default: '10',
    help: 'dead-pod observations before a SpicepodSet is paused; 0 disables',
  },
  {
    name: 'secret-propagation-seconds',
    type: 'string',
    value: 'N',
    default: '120',
    help: 'seconds a changed Secret takes to reach the pods (kubelet sync); each step of a cluster CA move waits this long',
  },
  {
    name: 'telemetry-properties',
    type: 'string',
    multiple: true,
    value: 'KEY=VALUE',
    help: 'telemetry property forwarded to every spiced (repeatable)',
  },
  { name: 'verbose', type: 'boolean', help: 'debug-level logs (the same as --log-level debug)' },
  {
    name: 'log-level',
    type: 'string',
    value: 'LEVEL',
    defaultText: 'info',
    aliases: ['zap-log-level'],
    help: 'lowest level logged: debug, info, warn, error',
  },
  {
    name: 'zap-encoder',
    type: 'string',
    value: 'FORMAT',
    default: 'json',
    help: 'log format: json (one JSON object a line) or console (time, LEVEL, message, fields; for a terminal)',
  },
  {
    name: 'handlers',
    type: 'string',
    value: 'LIST',
    defaultText: `all: ${HANDLER_NAMES.join(',')}`,
    help: 'handlers this process runs, comma-separated',
  },
  {
    name: 'namespaces',
    type: 'string',
    value: 'LIST',
    defaultText: 'all',
    aliases: ['watch-namespaces', 'watch-namespace'],
    env: 'WATCH_NAMESPACE',
    help: 'namespaces to watch, comma-separated; $WATCH_NAMESPACE when not given',
  },
  {
    name: 'no-leader-elect',
    type: 'boolean',
    help: 'act without holding the Lease (only when exactly one copy runs); also --leader-elect=false',
  },
  { name: 'leader-elect', type: 'boolean', help: "hold the Lease to act (the default; kubebuilder's flag)" },
  {
    name: 'lease-name',
    type: 'string',
    value: 'NAME',
    default: 'spiceai-operator-leader',
    aliases: ['leader-election-id'],
    help: 'leader election: one Lease per handler this process runs, NAME-<handler> (and NAME-sidecar-scan)',
  },
  {
    name: 'workers',
    type: 'string',
    value: 'N',
    default: '4',
    help: 'objects each handler reconciles at once; one object is never reconciled twice at once',
  },
  {
    name: 'sidecar-scan-seconds',
    type: 'string',
    value: 'N',
    default: '300',
    help: 'look for Pods that asked for the sidecar and run without it this often: a Warning Event on each and a gauge by namespace; 0 disables',
  },
  { name: 'kubeconfig', type: 'string', value: 'PATH', defaultText: '$KUBECONFIG, ~/.kube/config, then in-cluster', help: 'kubeconfig' },
  { name: 'context', type: 'string', value: 'NAME', help: 'kubeconfig context' },
  { name: 'enable-sidecar-injector', type: 'boolean', help: 'serve the sidecar-injection webhook (the default)' },
  { name: 'no-sidecar-injector', type: 'boolean', help: 'do not serve the sidecar-injection webhook (and remove its configuration)' },
  {
    name: 'enable-crd-webhooks',
    type: 'boolean',
    help: 'serve CRD conversion (spice.ai/v1, v1alpha1 <-> v2) and validating admission on the webhook server, and keep their caBundles (the default)',
  },
  {
    name: 'no-crd-webhooks',
    type: 'boolean',
    help: "serve neither, nor touch the CRDs' conversion or the validating configuration (another installation serves them)",
  },
  {
    name: 'admission-policy',
    type: 'string',
    value: 'err|warn|off',
    default: 'err',
    help: 'validating admission of SpicepodSets and SpicepodClusters: err refuses what is wrong, warn admits it with warnings, off checks nothing; the annotation spice.ai/validation-level overrides it per object',
  },
  {
    name: 'validating-webhook-configuration',
    type: 'string',
    value: 'NAME',
    default: 'spiceai-operator-validation',
    help: 'ValidatingWebhookConfiguration the operator manages',
  },
  {
    name: 'webhook-endpoint',
    type: 'string',
    value: 'ADDR',
    default: '0.0.0.0:8443',
    aliases: ['webhook-bind-address'],
    help: 'HTTPS bind address of the webhook server (injector, CRD conversion, validation)',
  },
  {
    name: 'webhook-service',
    type: 'string',
    value: 'NAME',
    default: 'spiceai-operator-webhook',
    help: 'Service in the operator namespace the API server dials; the certificate names <NAME>.<ns>.svc',
  },
  {
    name: 'webhook-configuration',
    type: 'string',
    value: 'NAME',
    default: 'spiceai-operator-sidecar-injector',
    help: 'MutatingWebhookConfiguration the operator manages',
  },
  {
    name: 'webhook-secret',
    type: 'string',
    value: 'NAME',
    default: 'spiceai-operator-webhook-tls',
    help: 'Secret in the operator namespace holding the webhook CA and certificate',
  },
  {
    name: 'webhook-url',
    type: 'string',
    value: 'URL',
    help: 'register the webhook by URL instead of Service (development, tests); port 0 means the bound port',
  },
  {
    name: 'sidecar-default-image',
    type: 'string',
    value: 'IMAGE',
    default: 'spiceai/spiceai:latest-models',
    help: 'image of injected sidecars without spice.ai/image',
  },
  {
    name: 'sidecar-default-image-pull-policy',
    type: 'string',
    value: 'POLICY',
    default: 'IfNotPresent',
    help: 'pull policy of injected sidecars without spice.ai/image-pull-policy: Always, IfNotPresent, Never',
  },
  {
    name: 'sidecar-default-cpu-request',
    type: 'string',
    value: 'QUANTITY',
    defaultText: 'none',
    help: 'CPU request of injected sidecars without spice.ai/sidecar-cpu-request',
  },
  {
    name: 'sidecar-default-memory-request',
    type: 'string',
    value: 'QUANTITY',
    defaultText: 'none',
    help: 'memory request of injected sidecars without spice.ai/sidecar-memory-request',
  },
  {
    name: 'sidecar-default-cpu-limit',
    type: 'string',
    value: 'QUANTITY',
    defaultText: 'none',
    help: 'CPU limit of injected sidecars without spice.ai/sidecar-cpu-limit',
  },
  {
    name: 'sidecar-default-memory-limit',
    type: 'string',
    value: 'QUANTITY',
    defaultText: 'none',
    help: 'memory limit of injected sidecars without spice.ai/sidecar-memory-limit',
  },
  {
    name: 'handler-url',
    type: 'string',
    multiple: true,
    value: 'NAME=URL',
    help: "call handler NAME's hook server (spiceai-operator serve NAME) instead of running it here; https, or http on loopback only (repeatable)",
  },
  {
    name: 'handler-service',
    type: 'string',
    multiple: true,
    value: 'NAME=SERVICE',
    help: "handler NAME's hook server is Service SERVICE in the operator namespace: the operator issues its serving certificate from its own CA into Secret SERVICE-tls (tls.crt, tls.key, ca.crt), trusts only that CA and presents a client certificate of the same CA; dialled at https://SERVICE.<ns>.svc unless --handler-url NAME=URL says where (repeatable)",
  },
  {
    name: 'handler-ca',
    type: 'string',
    value: 'FILE',
    defaultText: "the system's CAs",
    help: 'CA certificates (PEM) that verify the hook servers',
  },
  {
    name: 'handler-client-cert',
    type: 'string',
    value: 'FILE',
    help: "the operator's client certificate (PEM) for hooks that require mutual TLS; with --handler-client-key",
  },
  { name: 'handler-client-key', type: 'string', value: 'FILE', help: 'its private key (PEM)' },
  { name: 'handler-token-file', type: 'string', value: 'FILE', help: "send Authorization: Bearer <the file's content> to the hooks" },
  { name: 'handler-timeout-seconds', type: 'string', value: 'N', default: '10', help: 'deadline of each hook call' },
  {
    name: 'handler-workers',
    type: 'string',
    value: 'N',
    default: '16',
    help: 'objects each hooked handler reconciles at once (--workers is for those in process): its work happens in the hook, so the operator mostly waits; each hook then sees up to N calls at once from the operator',
  },
];

/** The parser's options (node:util parseArgs); an alias has the flag's type and no default. */
export function runOptions(): NonNullable<ParseArgsConfig['options']> {
  return Object.fromEntries(
    RUN_FLAGS.flatMap((f) => [
      [f.name, { type: f.type, ...(f.multiple ? { multiple: true } : {}), ...(f.default !== undefined ? { default: f.default } : {}) }],
      ...(f.aliases ?? []).map((alias) => [alias, { type: f.type }]),
    ]),
  );
}

/** The --help lines: `--name VALUE` and its help, with its other names and the default. */
export function runHelpLines(): [string, string][] {
  return RUN_FLAGS.map((f) => {
    const shown = f.default ?? f.defaultText;
    const also = f.aliases?.length ? ` (also ${f.aliases.map((a) => `--${a}`).join(', ')})` : '';
    return [`--${f.name}${f.value ? ` ${f.value}` : ''}`, `${f.help}${also}${shown !== undefined ? ` (default ${shown})` : ''}`];
  });
}
