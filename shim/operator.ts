// Everything `spiceai-operator run` starts: one controller per handler,
// leader election, the HTTP endpoint (health, readiness) and /metrics.
import { hostname } from 'node:os';
import type { KubeConfig } from '@kubernetes/client-node';
import type { HandlerConfig } from '../core/handler.ts';
import { realClock, type Clock } from './clock.ts';
import { Controller } from './controller.ts';
import type { HandlerName } from './handler-names.ts';
import { HANDLERS, OPTIONAL_CHILDREN } from './handlers.ts';
import { SharedInformers } from './informers.ts';
import { serveFetch, serveFetchTls } from './http.ts';
import { metricsAuthorizer, metricsCertificate } from './metrics-auth.ts';
import { isApiError, KubeClient } from './kube/client.ts';
import { LeaderElector } from './leader.ts';
import type { Logger } from './log.ts';
import { OperatorMetrics } from './metrics.ts';
import { startSidecarInjector, type RunningWebhook, type SidecarInjectorOptions } from './webhook/index.ts';
import { provideCertificateMetrics } from './pki-metrics.ts';
import { provideStatusMetrics, statusHandler, statusReader } from './status.ts';
import { informerHealth, probeHandler, readinessOf } from './probes.ts';
import { EventRecorder } from './events.ts';
import { startMissedSidecarScan } from './missed-sidecars.ts';
import { OPERATOR_NAME } from '../core/labels.ts';
import { HookClient } from './hook-client.ts';
import type { HookFlagOptions } from './cli/hook-flags.ts';
import { startHookTls, type RunningHookTls } from './hook-tls.ts';
import { hookRequestDuration } from './hook-metrics.ts';
import { remoteHandler } from './remote-handler.ts';
import type { Handler } from '../core/handler.ts';

export interface OperatorOptions {
  kubeConfig: KubeConfig;
  config: HandlerConfig;
  handlers: string[];
  namespaces: string[];
  httpEndpoint: string;
  metricsEndpoint: string;
  /** /metrics over HTTPS for callers the API server authenticates and authorizes (TokenReview, SubjectAccessReview). */
  metricsSecure?: boolean;
  /** tls.crt and tls.key of the secure /metrics; default a self-signed certificate made at start. */
  metricsCertDir?: string;
  /** Serve /healthz and /readyz (and /health, /ready) here too, on a port of their own. */
  healthProbeEndpoint?: string;
  /** Timeout of each spiced probe of the status API (default 1000 ms). */
  probeTimeoutMs?: number;
  leaderElection: boolean;
  leaseName: string;
  /** How often to look for Pods that missed their sidecar (default 300 s; 0: never). */
  sidecarScanSeconds?: number;
  /** Keys each controller reconciles at once. */
  workers?: number;
  /** The sidecar injector (`run` always passes it); undefined leaves injection alone. */
  webhook?: SidecarInjectorOptions;
  identity?: string;
  log: Logger;
  /** Time for every part (queues, caches, Lease, Events, the webhook's certificate). Default the real clock. */
  clock?: Clock;
  /** Handlers whose reconcile runs in a hook server (`run --handler-url`, `--handler-service`), by name. */
  hooks?: Record<string, HookFlagOptions>;
  /** How often the hook certificates are re-checked (`--handler-service`; default 10 minutes). */
  hookTlsCheckIntervalMs?: number;
}

export interface RunningOperator {
  httpPort: number;
  metricsPort: number;
  /** Where /healthz and /readyz are served (the HTTP port unless --health-probe-bind-address names another). */
  probePort: number;
  /** The injector's HTTPS port, when it runs. */
  webhookPort?: number;
  controllers: Controller[];
  stop(): Promise<void>;
}

/** The handlers whose optional child kinds the API server serves (OPTIONAL_CHILDREN); the others are left out, with a log line. */
async function servedHandlers(client: KubeClient, names: HandlerName[], log: Logger): Promise<HandlerName[]> {
  const served: HandlerName[] = [];
  for (const name of names) {
    const optional = OPTIONAL_CHILDREN[name];
    if (optional) {
      try {
        await client.list(optional, { limit: 1 });
      } catch (error) {
        if (!isApiError(error, 404) && !isApiError(error, 403)) throw error;
        log.info(`handler ${name} not started: ${isApiError(error, 404) ? `the API server does not serve ${optional.kind}s (install ${optional.needs})` : `no permission to list ${optional.kind}s`}`, { handler: name });
        continue;
      }
    }
    served.push(name);
  }
  return served;
}

/** The Lease a handler's leader holds: `run --lease-name` and the handler's name. */
export const handlerLeaseName = (leaseName: string, handler: string) => `${leaseName}-${handler}`;

/** The Lease the missed-sidecar scan's leader holds (it writes Events, so one copy scans). */
export const SIDECAR_SCAN_LEASE = 'sidecar-scan';

/**
 * One elector per Lease name (leaseName-<part>), each reporting leader_election_master_status{name};
 * `onStartedLeading` runs for the part that starts leading. Empty without leader election.
 */
function electorsFor(o: OperatorOptions, parts: string[], client: KubeClient, identity: string, clock: Clock, metrics: OperatorMetrics, onStartedLeading: (part: string) => void) {
  const electors = new Map<string, LeaderElector>();
  if (!o.leaderElection) return electors;
  for (const part of parts) {
    const name = handlerLeaseName(o.leaseName, part);
    metrics.onLeading(name, false);
    electors.set(
      part,
      new LeaderElector({
        client,
        namespace: o.config.operatorNamespace,
        name,
        identity,
        log: o.log,
        clock,
        onStartedLeading: () => {
          metrics.onLeading(name, true);
          onStartedLeading(part);
        },
        onStoppedLeading: () => metrics.onLeading(name, false),
      }),
    );
  }
  return electors;
}

export async function startOperator(o: OperatorOptions): Promise<RunningOperator> {
  const metrics = new OperatorMetrics();
  const clock = o.clock ?? realClock;
  const identity = o.identity ?? `${hostname()}-${process.pid}`;
  // The identity in the user agent tells the API server's audit log which copy wrote what.
  const client = new KubeClient(o.kubeConfig, { onRequest: metrics.onRequest, userAgent: `spiceai-operator (${identity})` });
  // One Lease per handler (<lease-name>-<handler>): a process leads only the handlers it runs, so
  // processes running different --handlers all work, and copies running the same ones share the work
  // handler by handler. The electors exist before any controller does: from their first reconcile
  // on, only a Lease holder writes (they are started, and may lead, only once the controllers have).
  const handlers = await servedHandlers(client, o.handlers as HandlerName[], o.log);
  const scans = o.webhook && o.sidecarScanSeconds !== 0;
  // What changed while we were not leading was observed but not acted on.
  const electors = electorsFor(o, [...handlers, ...(scans ? [SIDECAR_SCAN_LEASE] : [])], client, identity, clock, metrics, (part) =>
    controllers[handlers.indexOf(part as HandlerName)]?.enqueueAll(),
  );
  const canWriteFor = (part: string) => () => electors.get(part)?.isLeader() ?? true;
  // Handlers that watch the same kind (SpicepodSets: workloads and network-policy; SpicepodClusters:
  // cluster and pki) share one cache of it.
  const informers = new SharedInformers(client, clock);
  const onHookCall = Object.keys(o.hooks ?? {}).length ? hookRequestDuration(metrics.registry) : undefined;
  const remotes: (Handler & { stop(): Promise<void>; close(): void })[] = [];
  // --handler-service: the hooks' certificates from the operator's own CA, issued before the first call.
  const serviced = Object.entries(o.hooks ?? {}).filter(([name, h]) => h.service && handlers.includes(name as HandlerName));
  let hookTls: RunningHookTls | undefined;
  try {
    hookTls = serviced.length
      ? await startHookTls({
          client,
          operatorNamespace: o.config.operatorNamespace,
          clusterDomain: o.config.clusterDomain,
          webhook: { serviceName: o.webhook?.serviceName ?? 'spiceai-operator-webhook', secretName: o.webhook?.secretName, url: o.webhook?.url },
          hooks: Object.fromEntries(serviced.map(([name, h]) => [name, { serviceName: h.service!, url: h.url }])),
          log: o.log,
          clock,
          checkIntervalMs: o.hookTlsCheckIntervalMs,
        })
      : undefined;
  } catch (error) {
    client.close();
    throw error;
  }
  const handlerOf = (name: HandlerName): Handler => {
    const local = HANDLERS[name];
    const hook = o.hooks?.[name];
    if (!hook) return local;
    const { service, ...options } = hook;
    const issued = service ? hookTls!.current() : undefined;
    const hookClient = new HookClient({ ...options, ...issued, handler: name });
    if (service) hookTls!.onChange((tls) => hookClient.setTls(tls));
    const remote = { ...remoteHandler(local, { client, hook: hookClient, log: o.log, canWrite: canWriteFor(name), onCall: onHookCall }), close: () => hookClient.close() };
    remotes.push(remote);
    o.log.info('handler served by a hook', { handler: name, url: hookClient.url.href });
    return remote;
  };
  const controllers = handlers.map(
    (name) =>
      new Controller({
        client,
        handler: handlerOf(name),
        config: o.config,
        log: o.log,
        namespaces: o.namespaces,
        canWrite: canWriteFor(name),
        metrics: metrics.forController(name),
        workers: o.workers,
        informers,
        clock,
      }),
  );

  let ready = false;
  // The HTTP API (functions/status) and the status metrics read the controllers' caches, or the API server.
  const reader = statusReader(controllers, client);
  provideStatusMetrics(metrics, reader);
  provideCertificateMetrics(metrics, reader);
  const caches = () => informerHealth(informers.all());
  metrics.provideInformerHealth(caches);
  const readiness = () => readinessOf({ started: ready, synced: controllers.every((c) => c.hasSynced()), caches: caches(), now: Date.now() });
  const probes = probeHandler(readiness);
  const status = statusHandler(reader, () => readiness().ready, o.probeTimeoutMs);
  const http = await serveFetch((request) => probes(request) ?? status(request), o.httpEndpoint);
  // Probes on a port of their own (--health-probe-bind-address), away from the status API, unless it is the same
  // address (port 0 is any free port: a second one).
  const probeServer =
    o.healthProbeEndpoint && !(o.healthProbeEndpoint === o.httpEndpoint && !o.httpEndpoint.endsWith(':0'))
      ? await serveFetch(
          (request) =>
            probes(request) ??
            (['/health', '/ready'].includes(new URL(request.url).pathname) ? status(request) : new Response('not found: GET /healthz, /readyz, /health, /ready\n', { status: 404 })),
          o.healthProbeEndpoint,
        )
      : undefined;
  const serveMetrics = async (request: Request) => {
    if (new URL(request.url).pathname !== '/metrics') return new Response('not found\n', { status: 404 });
    return new Response(await metrics.registry.metrics(), { headers: { 'content-type': metrics.registry.contentType } });
  };
  // --metrics-secure: HTTPS, and only for callers the API server authenticates and authorizes.
  const authorize = o.metricsSecure ? metricsAuthorizer({ client }) : undefined;
  const metricsServer = authorize
    ? await serveFetchTls(
        async (request) => {
          const verdict = await authorize(request.headers.get('authorization'), new URL(request.url).pathname);
          return verdict.status === 200 ? serveMetrics(request) : new Response(`${verdict.reason}\n`, { status: verdict.status, headers: { 'content-type': 'text/plain' } });
        },
        o.metricsEndpoint,
        await metricsCertificate(o.metricsCertDir),
      )
    : await serveFetch(serveMetrics, o.metricsEndpoint);
  const bound = (endpoint: string, port: number) => `${endpoint.replace(/:\d+$/, '')}:${port}`;
  o.log.info('serving', {
    http: bound(o.httpEndpoint, http.port),
    metrics: bound(o.metricsEndpoint, metricsServer.port),
    ...(probeServer ? { probes: bound(o.healthProbeEndpoint!, probeServer.port) } : {}),
  });

  await Promise.all(controllers.map((c) => c.start()));
  let webhook: RunningWebhook | undefined;
  try {
    webhook = o.webhook && (await startSidecarInjector({ ...o.webhook, kubeConfig: o.kubeConfig, client, log: o.log, metrics, config: o.config, namespaces: o.namespaces, clock }));
  } catch (error) {
    // Nothing may keep the process alive once start has failed.
    await Promise.all(controllers.map((c) => c.stop()));
    await Promise.all([http.close(), metricsServer.close(), probeServer?.close()]);
    hookTls?.stop();
    client.close();
    throw error;
  }
  electors.forEach((e) => e.start());
  ready = true;
  // Pods that asked for the sidecar but were admitted without it (the webhook fails open).
  const scanEvents = new EventRecorder({ client, component: OPERATOR_NAME, log: o.log, clock });
  const sidecarScan =
    o.webhook && scans
      ? startMissedSidecarScan({
          client,
          events: scanEvents,
          metrics,
          log: o.log.child({ component: 'sidecar-scan' }),
          defaults: { image: o.webhook.defaultImage, imagePullPolicy: o.webhook.defaultImagePullPolicy, resources: o.webhook.defaultResources },
          operatorNamespace: o.config.operatorNamespace,
          namespaces: o.namespaces,
          intervalMs: (o.sidecarScanSeconds ?? 300) * 1000,
          canWrite: canWriteFor(SIDECAR_SCAN_LEASE),
        })
      : undefined;

  return {
    httpPort: http.port,
    metricsPort: metricsServer.port,
    probePort: probeServer?.port ?? http.port,
    webhookPort: webhook?.port,
    controllers,
    async stop() {
      ready = false;
      sidecarScan?.stop();
      hookTls?.stop();
      await Promise.all(controllers.map((c) => c.stop()));
      await Promise.all(remotes.map((r) => r.stop()));
      remotes.forEach((r) => r.close());
      await Promise.all([...electors.values()].map((e) => e.stop()));
      await webhook?.stop();
      await scanEvents.flush();
      await Promise.all([http.close(), metricsServer.close(), probeServer?.close()]);
      client.close();
    },
  };
}
