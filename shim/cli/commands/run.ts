import { HANDLERS } from '../../handlers.ts';
import { UsageError, type Command } from '../usage.ts';

const list = (value: unknown) => String(value ?? '').split(',').map((s) => s.trim()).filter(Boolean);

export function parseTelemetryProperties(values: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of values) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`--telemetry-properties ${pair}: expected KEY=VALUE`);
    out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return out;
}

export const runCommand: Command = {
  name: 'run',
  summary: 'Start the operator controller (reconcilers, status API, metrics).',
  usage: 'spiceai-operator run [flags]',
  options: {
    'http-endpoint': { type: 'string', default: '0.0.0.0:8090' },
    'metrics-endpoint': { type: 'string', default: '0.0.0.0:9090' },
    'operator-namespace': { type: 'string', default: 'spiceai-operator-system' },
    'cluster-domain': { type: 'string', default: 'cluster.local' },
    'pause-crashlooping-pods-threshold': { type: 'string', default: '10' },
    'telemetry-properties': { type: 'string', multiple: true },
    verbose: { type: 'boolean' },
    handlers: { type: 'string' },
    namespaces: { type: 'string' },
    'no-leader-elect': { type: 'boolean' },
    'lease-name': { type: 'string', default: 'spiceai-operator-leader' },
    kubeconfig: { type: 'string' },
    context: { type: 'string' },
  },
  flags: [
    ['--http-endpoint ADDR', 'operator HTTP API bind address: /health, /ready (default 0.0.0.0:8090)'],
    ['--metrics-endpoint ADDR', 'Prometheus /metrics bind address (default 0.0.0.0:9090)'],
    ['--operator-namespace NS', 'namespace of the operator: its Lease and cluster-shared Secrets (default spiceai-operator-system)'],
    ['--cluster-domain DOMAIN', 'Kubernetes cluster domain for internal DNS names (default cluster.local)'],
    ['--pause-crashlooping-pods-threshold N', 'dead-pod observations before a SpicepodSet is paused; 0 disables (default 10)'],
    ['--telemetry-properties KEY=VALUE', 'telemetry property forwarded to every spiced (repeatable)'],
    ['--verbose', 'debug-level logs'],
    ['--handlers LIST', `handlers this process runs, comma-separated (default all: ${Object.keys(HANDLERS).join(',')})`],
    ['--namespaces LIST', 'namespaces to watch, comma-separated (default all)'],
    ['--no-leader-elect', 'act without holding the Lease (only when exactly one copy runs)'],
    ['--lease-name NAME', 'name of the leader-election Lease (default spiceai-operator-leader)'],
    ['--kubeconfig PATH', 'kubeconfig (default: $KUBECONFIG, ~/.kube/config, then in-cluster)'],
    ['--context NAME', 'kubeconfig context'],
    ['-h, --help', 'show this help'],
  ],
  async run(values) {
    const threshold = Number(values['pause-crashlooping-pods-threshold']);
    if (!Number.isInteger(threshold) || threshold < 0) {
      throw new UsageError(`--pause-crashlooping-pods-threshold ${values['pause-crashlooping-pods-threshold']}: expected a whole number >= 0`);
    }
    const handlers = values.handlers ? list(values.handlers) : Object.keys(HANDLERS);
    const unknown = handlers.filter((h) => !HANDLERS[h]);
    if (unknown.length) throw new UsageError(`--handlers: unknown ${unknown.join(', ')} (known: ${Object.keys(HANDLERS).join(', ')})`);
    const { parseEndpoint } = await import('../../http.ts');
    for (const flag of ['http-endpoint', 'metrics-endpoint']) {
      try {
        parseEndpoint(String(values[flag]));
      } catch (error) {
        throw new UsageError(`--${flag}: ${(error as Error).message}`);
      }
    }
    const telemetryProperties = parseTelemetryProperties((values['telemetry-properties'] as string[] | undefined) ?? []);
    const { loadKubeConfig } = await import('../../kube/kubeconfig.ts');
    const kubeConfig = loadKubeConfig(values.kubeconfig as string | undefined, values.context as string | undefined);
    const { jsonLogger } = await import('../../log.ts');
    const log = jsonLogger({ verbose: !!values.verbose });
    const { startOperator } = await import('../../operator.ts');
    const operator = await startOperator({
      kubeConfig,
      config: {
        operatorNamespace: String(values['operator-namespace']),
        clusterDomain: String(values['cluster-domain']),
        pauseCrashloopingPodsThreshold: threshold,
        telemetryProperties,
      },
      handlers,
      namespaces: values.namespaces ? list(values.namespaces) : [],
      httpEndpoint: String(values['http-endpoint']),
      metricsEndpoint: String(values['metrics-endpoint']),
      leaderElection: !values['no-leader-elect'],
      leaseName: String(values['lease-name']),
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
      process.once('SIGTERM', () => shutdown('SIGTERM'));
      process.once('SIGINT', () => shutdown('SIGINT'));
    });
    return 0;
  },
};
