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
}

export const RUN_FLAGS: readonly RunFlag[] = [
  { name: 'http-endpoint', type: 'string', value: 'ADDR', default: '0.0.0.0:8090', help: 'operator HTTP API bind address: /health, /ready, /{namespace}/{name}[?kind=SpicepodCluster] pod status' },
  { name: 'metrics-endpoint', type: 'string', value: 'ADDR', default: '0.0.0.0:9090', help: 'Prometheus /metrics bind address' },
  { name: 'operator-namespace', type: 'string', value: 'NS', default: 'spiceai-operator-system', help: 'namespace of the operator: its Lease and cluster-shared Secrets' },
  {
    name: 'operator-pod-labels',
    type: 'string',
    value: 'LIST',
    default: Object.entries(DEFAULT_OPERATOR_POD_LABELS).map(([k, v]) => `${k}=${v}`).join(','),
    help: "labels of the operator's own pods, KEY=VALUE comma-separated: NetworkPolicies admit only these pods of the operator namespace to spiced's HTTP port",
  },
  { name: 'cluster-domain', type: 'string', value: 'DOMAIN', default: 'cluster.local', help: 'Kubernetes cluster domain for internal DNS names' },
  { name: 'pause-crashlooping-pods-threshold', type: 'string', value: 'N', default: '10', help: 'dead-pod observations before a SpicepodSet is paused; 0 disables' },
  {
    name: 'secret-propagation-seconds',
    type: 'string',
    value: 'N',
    default: '120',
    help: 'seconds a changed Secret takes to reach the pods (kubelet sync); each step of a cluster CA move waits this long',
  },
  { name: 'telemetry-properties', type: 'string', multiple: true, value: 'KEY=VALUE', help: 'telemetry property forwarded to every spiced (repeatable)' },
  { name: 'verbose', type: 'boolean', help: 'debug-level logs' },
  { name: 'handlers', type: 'string', value: 'LIST', defaultText: `all: ${HANDLER_NAMES.join(',')}`, help: 'handlers this process runs, comma-separated' },
  { name: 'namespaces', type: 'string', value: 'LIST', defaultText: 'all', help: 'namespaces to watch, comma-separated' },
  { name: 'no-leader-elect', type: 'boolean', help: 'act without holding the Lease (only when exactly one copy runs)' },
  { name: 'lease-name', type: 'string', value: 'NAME', default: 'spiceai-operator-leader', help: 'leader election: one Lease per handler this process runs, NAME-<handler>' },
  { name: 'workers', type: 'string', value: 'N', default: '4', help: 'objects each handler reconciles at once; one object is never reconciled twice at once' },
  { name: 'kubeconfig', type: 'string', value: 'PATH', defaultText: '$KUBECONFIG, ~/.kube/config, then in-cluster', help: 'kubeconfig' },
  { name: 'context', type: 'string', value: 'NAME', help: 'kubeconfig context' },
  { name: 'enable-sidecar-injector', type: 'boolean', help: 'serve the sidecar-injection webhook (the default)' },
  { name: 'no-sidecar-injector', type: 'boolean', help: 'do not serve the sidecar-injection webhook (and remove its configuration)' },
  { name: 'webhook-endpoint', type: 'string', value: 'ADDR', default: '0.0.0.0:8443', help: 'HTTPS bind address of the sidecar injector' },
  {
    name: 'webhook-service',
    type: 'string',
    value: 'NAME',
    default: 'spiceai-operator-webhook',
    help: 'Service in the operator namespace the API server dials; the certificate names <NAME>.<ns>.svc',
  },
  { name: 'webhook-configuration', type: 'string', value: 'NAME', default: 'spiceai-operator-sidecar-injector', help: 'MutatingWebhookConfiguration the operator manages' },
  { name: 'webhook-secret', type: 'string', value: 'NAME', default: 'spiceai-operator-webhook-tls', help: 'Secret in the operator namespace holding the webhook CA and certificate' },
  { name: 'webhook-url', type: 'string', value: 'URL', help: 'register the webhook by URL instead of Service (development, tests); port 0 means the bound port' },
  { name: 'sidecar-default-image', type: 'string', value: 'IMAGE', default: 'spiceai/spiceai:latest-models', help: 'image of injected sidecars without spice.ai/image' },
  {
    name: 'sidecar-default-image-pull-policy',
    type: 'string',
    value: 'POLICY',
    default: 'IfNotPresent',
    help: 'pull policy of injected sidecars without spice.ai/image-pull-policy: Always, IfNotPresent, Never',
  },
  { name: 'sidecar-default-cpu-request', type: 'string', value: 'QUANTITY', defaultText: 'none', help: 'CPU request of injected sidecars without spice.ai/sidecar-cpu-request' },
  { name: 'sidecar-default-memory-request', type: 'string', value: 'QUANTITY', defaultText: 'none', help: 'memory request of injected sidecars without spice.ai/sidecar-memory-request' },
  { name: 'sidecar-default-cpu-limit', type: 'string', value: 'QUANTITY', defaultText: 'none', help: 'CPU limit of injected sidecars without spice.ai/sidecar-cpu-limit' },
  { name: 'sidecar-default-memory-limit', type: 'string', value: 'QUANTITY', defaultText: 'none', help: 'memory limit of injected sidecars without spice.ai/sidecar-memory-limit' },
  {
    name: 'handler-url',
    type: 'string',
    multiple: true,
    value: 'NAME=URL',
    help: "call handler NAME's hook server (spiceai-operator serve NAME) instead of running it here; https, or http on loopback only (repeatable)",
  },
  { name: 'handler-ca', type: 'string', value: 'FILE', defaultText: "the system's CAs", help: 'CA certificates (PEM) that verify the hook servers' },
  { name: 'handler-client-cert', type: 'string', value: 'FILE', help: "the operator's client certificate (PEM) for hooks that require mutual TLS; with --handler-client-key" },
  { name: 'handler-client-key', type: 'string', value: 'FILE', help: 'its private key (PEM)' },
  { name: 'handler-token-file', type: 'string', value: 'FILE', help: "send Authorization: Bearer <the file's content> to the hooks" },
  { name: 'handler-timeout-seconds', type: 'string', value: 'N', default: '10', help: 'deadline of each hook call' },
];

/** The parser's options (node:util parseArgs). */
export function runOptions(): NonNullable<ParseArgsConfig['options']> {
  return Object.fromEntries(
    RUN_FLAGS.map((f) => [f.name, { type: f.type, ...(f.multiple ? { multiple: true } : {}), ...(f.default !== undefined ? { default: f.default } : {}) }]),
  );
}

/** The --help lines: `--name VALUE` and its help, with the default. */
export function runHelpLines(): [string, string][] {
  return RUN_FLAGS.map((f) => {
    const shown = f.default ?? f.defaultText;
    return [`--${f.name}${f.value ? ` ${f.value}` : ''}`, `${f.help}${shown !== undefined ? ` (default ${shown})` : ''}`];
  });
}
