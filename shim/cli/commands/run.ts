import { PULL_POLICIES } from '../../../core/spec/kubernetes.ts';
import { isDns1123Label, isDns1123Subdomain } from '../../../core/spec/kubernetes-names.ts';
import { HANDLER_NAMES } from '../../handler-names.ts';
import { UsageError, type Command } from '../usage.ts';
import {
  RESOURCE_SETTINGS,
  requestAboveLimit,
  resourceQuantityError,
  type SidecarResources,
} from '../../../functions/injection/annotations.ts';
import { telemetryPropertyKeyProblem } from '../../../core/manifests/spiced.ts';
import { labelKeyProblem, labelValueProblem } from '../../../core/spec/network.ts';
import { runHelpLines, runOptions, RUN_FLAGS } from './run-flags.ts';
import { resolveAliases } from '../flag-aliases.ts';
import { ENCODERS, LEVELS, type Encoder, type Level } from '../../log.ts';
import { parseHookFlags } from '../hook-flags.ts';
import { endpointFlag, wholeNumberFlag } from '../flag-values.ts';
import { runUntilSignal } from '../until-signal.ts';

const list = (value: unknown) =>
  String(value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

export function parseTelemetryProperties(values: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of values) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`--telemetry-properties ${pair}: expected KEY=VALUE`);
    const keyProblem = telemetryPropertyKeyProblem(pair.slice(0, eq));
    if (keyProblem) throw new UsageError(`--telemetry-properties ${pair}: the key ${keyProblem}`);
    out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return out;
}

/** `--operator-pod-labels KEY=VALUE,...`: the labels that select the operator's own pods. */
export function parseOperatorPodLabels(value: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const pair of list(value)) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`--operator-pod-labels ${value}: expected KEY=VALUE[,KEY=VALUE...], got ${JSON.stringify(pair)}`);
    const key = pair.slice(0, eq);
    const problem = labelKeyProblem(key) ?? labelValueProblem(pair.slice(eq + 1));
    if (problem) throw new UsageError(`--operator-pod-labels ${value}: ${problem}`);
    labels[key] = pair.slice(eq + 1);
  }
  if (!Object.keys(labels).length)
    throw new UsageError(
      '--operator-pod-labels: expected at least one KEY=VALUE (an empty selector would admit every pod of the operator namespace)',
    );
  return labels;
}

export function parseSidecarInjectorFlags(values: Record<string, unknown>) {
  if (values['enable-sidecar-injector'] && values['no-sidecar-injector']) {
    throw new UsageError('--enable-sidecar-injector and --no-sidecar-injector contradict each other: pass one');
  }
  if (values['enable-crd-webhooks'] && values['no-crd-webhooks']) {
    throw new UsageError('--enable-crd-webhooks and --no-crd-webhooks contradict each other: pass one');
  }
  const policy = String(values['sidecar-default-image-pull-policy']);
  if (!(PULL_POLICIES as readonly string[]).includes(policy)) {
    throw new UsageError(`--sidecar-default-image-pull-policy ${policy}: expected one of ${PULL_POLICIES.join(', ')}`);
  }
  const image = String(values['sidecar-default-image']);
  if (!image || /\s/.test(image)) throw new UsageError(`--sidecar-default-image ${JSON.stringify(image)}: expected an image reference`);
  const resources: SidecarResources = {};
  for (const { bound, resource, flag } of RESOURCE_SETTINGS) {
    if (values[flag] === undefined) continue;
    const value = String(values[flag]).trim();
    const error = resourceQuantityError(value);
    if (error) throw new UsageError(`--${flag}: ${error}`);
    (resources[bound] ??= {})[resource] = value;
  }
  const tooHigh = requestAboveLimit(resources);
  if (tooHigh) {
    throw new UsageError(
      `--sidecar-default-${tooHigh.resource}-request ${tooHigh.request} is above --sidecar-default-${tooHigh.resource}-limit ${tooHigh.limit}: lower the request or raise the limit`,
    );
  }
  const admissionPolicy = String(values['admission-policy']);
  if (!['err', 'warn', 'off'].includes(admissionPolicy))
    throw new UsageError(`--admission-policy ${admissionPolicy}: expected err, warn or off`);
  for (const flag of ['webhook-service', 'webhook-configuration', 'webhook-secret', 'validating-webhook-configuration']) {
    const name = String(values[flag]);
    if (!(flag === 'webhook-service' ? isDns1123Label(name) : isDns1123Subdomain(name))) {
      throw new UsageError(`--${flag} ${name}: expected a Kubernetes object name (lower-case letters, digits, '-')`);
    }
  }
  const url = values['webhook-url'] as string | undefined;
  if (url !== undefined) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(url);
    } catch {
      parsed = undefined;
    }
    if (parsed?.protocol !== 'https:' || parsed.username || parsed.password || parsed.search || parsed.hash) {
      throw new UsageError(
        `--webhook-url ${url}: expected https://HOST[:PORT]/PATH without user, query or fragment (the API server calls webhooks over TLS only)`,
      );
    }
  }
  return {
    enabled: !values['no-sidecar-injector'],
    crdWebhooks: !values['no-crd-webhooks'],
    admissionPolicy: admissionPolicy as 'err' | 'warn' | 'off',
    validatingConfigurationName: String(values['validating-webhook-configuration']),
    endpoint: String(values['webhook-endpoint']),
    serviceName: String(values['webhook-service']),
    configurationName: String(values['webhook-configuration']),
    secretName: String(values['webhook-secret']),
    url,
    defaultImage: image,
    defaultImagePullPolicy: policy,
    ...(resources.requests || resources.limits ? { defaultResources: resources } : {}),
  };
}

/** --log-level/--zap-log-level, --verbose and --zap-encoder. */
export function parseLoggingFlags(values: Record<string, unknown>): { level: Level; encoder: Encoder } {
  const given = values['log-level'] as string | undefined;
  if (given !== undefined && !(LEVELS as readonly string[]).includes(given))
    throw new UsageError(`--log-level ${given}: expected one of ${LEVELS.join(', ')}`);
  if (given !== undefined && given !== 'debug' && values.verbose)
    throw new UsageError(`--verbose and --log-level ${given} contradict each other: pass one`);
  const encoder = String(values['zap-encoder'] ?? 'json');
  if (!(ENCODERS as readonly string[]).includes(encoder))
    throw new UsageError(`--zap-encoder ${encoder}: expected one of ${ENCODERS.join(', ')}`);
  return { level: (given as Level | undefined) ?? (values.verbose ? 'debug' : 'info'), encoder: encoder as Encoder };
}

/** Everything `run` is given, checked: the options of startOperator but the kubeconfig and the logger. */
export async function parseRunFlags(values: Record<string, unknown>) {
  if (values['leader-elect'] && values['no-leader-elect'])
    throw new UsageError('--leader-elect and --no-leader-elect contradict each other: pass one');
  const handlers = values.handlers ? list(values.handlers) : [...HANDLER_NAMES];
  const unknown = handlers.filter((h) => !(HANDLER_NAMES as readonly string[]).includes(h));
  if (unknown.length) throw new UsageError(`--handlers: unknown ${unknown.join(', ')} (known: ${HANDLER_NAMES.join(', ')})`);
  for (const flag of ['http-endpoint', 'metrics-endpoint', 'webhook-endpoint', 'health-probe-bind-address']) {
    if (values[flag] !== undefined) endpointFlag(values, flag);
  }
  const { otlpConfigFromEnv } = await import('../../otlp-config.ts');
  let otlp: ReturnType<typeof otlpConfigFromEnv>;
  try {
    otlp = otlpConfigFromEnv(process.env);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  return {
    config: {
      operatorNamespace: String(values['operator-namespace']),
      clusterDomain: String(values['cluster-domain']),
      pauseCrashloopingPodsThreshold: wholeNumberFlag(values, 'pause-crashlooping-pods-threshold', { min: 0 }),
      telemetryProperties: parseTelemetryProperties((values['telemetry-properties'] as string[] | undefined) ?? []),
      secretPropagationSeconds: wholeNumberFlag(values, 'secret-propagation-seconds', { min: 0, unit: 'seconds' }),
      operatorPodLabels: parseOperatorPodLabels(String(values['operator-pod-labels'])),
    },
    handlers,
    namespaces: values.namespaces ? list(values.namespaces) : [],
    httpEndpoint: String(values['http-endpoint']),
    metricsEndpoint: String(values['metrics-endpoint']),
    metricsSecure: !!values['metrics-secure'],
    metricsCertDir: values['metrics-cert-dir'] as string | undefined,
    healthProbeEndpoint: values['health-probe-bind-address'] as string | undefined,
    leaderElection: !values['no-leader-elect'],
    leaseName: String(values['lease-name']),
    workers: wholeNumberFlag(values, 'workers', { min: 1, max: 64 }),
    hookWorkers: wholeNumberFlag(values, 'handler-workers', { min: 1, max: 256 }),
    sidecarScanSeconds: wholeNumberFlag(values, 'sidecar-scan-seconds', { min: 0, unit: 'seconds' }),
    webhook: parseSidecarInjectorFlags(values),
    hooks: parseHookFlags(values, handlers, String(values['operator-namespace'])),
    otlp,
  };
}

export const runCommand: Command = {
  name: 'run',
  summary: 'Start the operator controller (reconcilers, status API, metrics).',
  usage: 'spiceai-operator run [flags]',
  options: runOptions(),
  flags: [...runHelpLines(), ['-h, --help', 'show this help']],
  async run(parsed, _positionals, given = new Set()) {
    const values = resolveAliases(parsed, given, RUN_FLAGS, process.env);
    const logging = parseLoggingFlags(values);
    const options = await parseRunFlags(values);
    const { loadKubeConfig } = await import('../../kube/kubeconfig.ts');
    const kubeConfig = loadKubeConfig(values.kubeconfig as string | undefined, values.context as string | undefined);
    const { jsonLogger } = await import('../../log.ts');
    const log = jsonLogger(logging);
    const { startOperator } = await import('../../operator.ts');
    await runUntilSignal(() => startOperator({ ...options, kubeConfig, log }), log);
    return 0;
  },
};
