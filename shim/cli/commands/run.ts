import { PULL_POLICIES } from '../../../core/spec/kubernetes.ts';
import { isDns1123Label, isDns1123Subdomain } from '../../../core/spec/kubernetes-names.ts';
import { HANDLER_NAMES } from '../../handler-names.ts';
import { UsageError, type Command } from '../usage.ts';
import { RESOURCE_SETTINGS, requestAboveLimit, resourceQuantityError, type SidecarResources } from '../../../functions/injection/annotations.ts';
import { telemetryPropertyKeyProblem } from '../../../core/manifests/spiced.ts';
import { labelKeyProblem, labelValueProblem } from '../../../core/spec/network.ts';
import { runHelpLines, runOptions, RUN_FLAGS } from './run-flags.ts';
import { resolveAliases } from '../flag-aliases.ts';
import { ENCODERS, LEVELS, type Encoder, type Level } from '../../log.ts';
import { parseHookFlags } from '../hook-flags.ts';

const list = (value: unknown) => String(value ?? '').split(',').map((s) => s.trim()).filter(Boolean);

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
  if (!Object.keys(labels).length) throw new UsageError('--operator-pod-labels: expected at least one KEY=VALUE (an empty selector would admit every pod of the operator namespace)');
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
    throw new UsageError(`--sidecar-default-${tooHigh.resource}-request ${tooHigh.request} is above --sidecar-default-${tooHigh.resource}-limit ${tooHigh.limit}: lower the request or raise the limit`);
  }
  const admissionPolicy = String(values['admission-policy']);
  if (!['err', 'warn', 'off'].includes(admissionPolicy)) throw new UsageError(`--admission-policy ${admissionPolicy}: expected err, warn or off`);
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
      throw new UsageError(`--webhook-url ${url}: expected https://HOST[:PORT]/PATH without user, query or fragment (the API server calls webhooks over TLS only)`);
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
  if (given !== undefined && !(LEVELS as readonly string[]).includes(given)) throw new UsageError(`--log-level ${given}: expected one of ${LEVELS.join(', ')}`);
  if (given !== undefined && given !== 'debug' && values.verbose) throw new UsageError(`--verbose and --log-level ${given} contradict each other: pass one`);
  const encoder = String(values['zap-encoder'] ?? 'json');
  if (!(ENCODERS as readonly string[]).includes(encoder)) throw new UsageError(`--zap-encoder ${encoder}: expected one of ${ENCODERS.join(', ')}`);
  return { level: (given as Level | undefined) ?? (values.verbose ? 'debug' : 'info'), encoder: encoder as Encoder };
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
    if (values['leader-elect'] && values['no-leader-elect']) throw new UsageError('--leader-elect and --no-leader-elect contradict each other: pass one');
    const threshold = Number(values['pause-crashlooping-pods-threshold']);
    if (!Number.isInteger(threshold) || threshold < 0) {
      throw new UsageError(`--pause-crashlooping-pods-threshold ${values['pause-crashlooping-pods-threshold']}: expected a whole number >= 0`);
    }
    const propagation = Number(values['secret-propagation-seconds']);
    if (!Number.isInteger(propagation) || propagation < 0) {
      throw new UsageError(`--secret-propagation-seconds ${values['secret-propagation-seconds']}: expected a whole number of seconds >= 0`);
    }
    const sidecarScanSeconds = Number(values['sidecar-scan-seconds']);
    if (!Number.isInteger(sidecarScanSeconds) || sidecarScanSeconds < 0) throw new UsageError(`--sidecar-scan-seconds ${values['sidecar-scan-seconds']}: expected a whole number of seconds >= 0`);
    const workers = Number(values.workers);
    if (!Number.isInteger(workers) || workers < 1 || workers > 64) throw new UsageError(`--workers ${values.workers}: expected a whole number from 1 to 64`);
    const handlers = values.handlers ? list(values.handlers) : [...HANDLER_NAMES];
    const unknown = handlers.filter((h) => !(HANDLER_NAMES as readonly string[]).includes(h));
    if (unknown.length) throw new UsageError(`--handlers: unknown ${unknown.join(', ')} (known: ${HANDLER_NAMES.join(', ')})`);
    const { parseEndpoint } = await import('../../http.ts');
    for (const flag of ['http-endpoint', 'metrics-endpoint', 'webhook-endpoint', 'health-probe-bind-address']) {
      if (values[flag] === undefined) continue;
      try {
        parseEndpoint(String(values[flag]));
      } catch (error) {
        throw new UsageError(`--${flag}: ${(error as Error).message}`);
      }
    }
    const webhook = parseSidecarInjectorFlags(values);
    const hooks = parseHookFlags(values, handlers, String(values['operator-namespace']));
    const telemetryProperties = parseTelemetryProperties((values['telemetry-properties'] as string[] | undefined) ?? []);
    const operatorPodLabels = parseOperatorPodLabels(String(values['operator-pod-labels']));
    const { otlpConfigFromEnv } = await import('../../otlp-config.ts');
    let otlp: ReturnType<typeof otlpConfigFromEnv>;
    try {
      otlp = otlpConfigFromEnv(process.env);
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    const { loadKubeConfig } = await import('../../kube/kubeconfig.ts');
    const kubeConfig = loadKubeConfig(values.kubeconfig as string | undefined, values.context as string | undefined);
    const { jsonLogger } = await import('../../log.ts');
    const log = jsonLogger(logging);
    const { startOperator } = await import('../../operator.ts');
    // A signal while starting (the webhook's certificate, the first lists) stops the operator as soon as it has started.
    let early: string | undefined;
    const onEarly = (signal: string) => () => {
      early ??= signal;
    };
    const earlyTerm = onEarly('SIGTERM');
    const earlyInt = onEarly('SIGINT');
    process.once('SIGTERM', earlyTerm);
    process.once('SIGINT', earlyInt);
    const operator = await startOperator({
      kubeConfig,
      config: {
        operatorNamespace: String(values['operator-namespace']),
        clusterDomain: String(values['cluster-domain']),
        pauseCrashloopingPodsThreshold: threshold,
        telemetryProperties,
        secretPropagationSeconds: propagation,
        operatorPodLabels,
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
      workers,
      sidecarScanSeconds,
      webhook,
      hooks,
      otlp,
      log,
    });
    await new Promise<void>((resolve) => {
      const shutdown = (signal: string) => {
        log.info('stopping: finishing in-flight work', { signal });
        void operator.stop().then(() => {
          log.info('stopped');
          resolve();
        });
      };
      process.off('SIGTERM', earlyTerm);
      process.off('SIGINT', earlyInt);
      if (early) return shutdown(early);
      process.once('SIGTERM', () => shutdown('SIGTERM'));
      process.once('SIGINT', () => shutdown('SIGINT'));
    });
    return 0;
  },
};
