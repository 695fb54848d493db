// Everything `spiceai-operator run` starts: one controller per handler,
// leader election, the HTTP endpoint (health, readiness) and /metrics.
import { hostname } from 'node:os';
import type { KubeConfig } from '@kubernetes/client-node';
import type { HandlerConfig } from '../core/handler.ts';
import { realClock, type Clock } from './clock.ts';
import { Controller } from './controller.ts';
import type { HandlerName } from './handler-names.ts';
import { HANDLERS } from './handlers.ts';
import { SharedInformers } from './informers.ts';
import { serveFetch } from './http.ts';
import { KubeClient } from './kube/client.ts';
import { LeaderElector } from './leader.ts';
import type { Logger } from './log.ts';
import { OperatorMetrics } from './metrics.ts';
import { startSidecarInjector, type RunningWebhook, type SidecarInjectorOptions } from './webhook/index.ts';
import { provideCertificateMetrics } from './pki-metrics.ts';
import { provideStatusMetrics, statusHandler, statusReader } from './status.ts';
import { informerHealth, probeHandler, readinessOf } from './probes.ts';

export interface OperatorOptions {
  kubeConfig: KubeConfig;
  config: HandlerConfig;
  handlers: string[];
  namespaces: string[];
  httpEndpoint: string;
  metricsEndpoint: string;
  /** Serve /healthz and /readyz (and /health, /ready) here too, on a port of their own. */
  healthProbeEndpoint?: string;
  /** Timeout of each spiced probe of the status API (default 1000 ms). */
  probeTimeoutMs?: number;
  leaderElection: boolean;
  leaseName: string;
  /** Keys each controller reconciles at once. */
  workers?: number;
  /** The sidecar injector (`run` always passes it); undefined leaves injection alone. */
  webhook?: SidecarInjectorOptions;
  identity?: string;
  log: Logger;
  /** Time for every part (queues, caches, Lease, Events, the webhook's certificate). Default the real clock. */
  clock?: Clock;
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

export async function startOperator(o: OperatorOptions): Promise<RunningOperator> {
  const metrics = new OperatorMetrics();
  const clock = o.clock ?? realClock;
  const identity = o.identity ?? `${hostname()}-${process.pid}`;
  // The identity in the user agent tells the API server's audit log which copy wrote what.
  const client = new KubeClient(o.kubeConfig, { onRequest: metrics.onRequest, userAgent: `spiceai-operator (${identity})` });
  // The elector exists before any controller does: from their first reconcile on, only the
  // Lease holder writes (it is started, and may lead, only once the controllers have started).
  const elector = o.leaderElection
    ? new LeaderElector({
        client,
        namespace: o.config.operatorNamespace,
        name: o.leaseName,
        identity,
        log: o.log,
        clock,
        // What changed while we were not leading was observed but not acted on.
        onStartedLeading: () => {
          metrics.onLeading(o.leaseName, true);
          controllers.forEach((c) => c.enqueueAll());
        },
        onStoppedLeading: () => metrics.onLeading(o.leaseName, false),
      })
    : undefined;
  if (elector) metrics.onLeading(o.leaseName, false);
  const canWrite = () => !elector || elector.isLeader();
  // Handlers that watch the same kind (SpicepodSets: workloads and network-policy; SpicepodClusters:
  // cluster and pki) share one cache of it.
  const informers = new SharedInformers(client, clock);
  const controllers = o.handlers.map(
    (name) =>
      new Controller({
        client,
        handler: HANDLERS[name as HandlerName],
        config: o.config,
        log: o.log,
        namespaces: o.namespaces,
        canWrite,
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
  // Probes on a port of their own (--health-probe-bind-address), away from the status API, unless it is the same address.
  const probeServer =
    o.healthProbeEndpoint && o.healthProbeEndpoint !== o.httpEndpoint
      ? await serveFetch(
          (request) =>
            probes(request) ??
            (['/health', '/ready'].includes(new URL(request.url).pathname) ? status(request) : new Response('not found: GET /healthz, /readyz, /health, /ready\n', { status: 404 })),
          o.healthProbeEndpoint,
        )
      : undefined;
  const metricsServer = await serveFetch(async (request) => {
    if (new URL(request.url).pathname !== '/metrics') return new Response('not found\n', { status: 404 });
    return new Response(await metrics.registry.metrics(), { headers: { 'content-type': metrics.registry.contentType } });
  }, o.metricsEndpoint);
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
    client.close();
    throw error;
  }
  elector?.start();
  ready = true;

  return {
    httpPort: http.port,
    metricsPort: metricsServer.port,
    probePort: probeServer?.port ?? http.port,
    webhookPort: webhook?.port,
    controllers,
    async stop() {
      ready = false;
      await Promise.all(controllers.map((c) => c.stop()));
      await elector?.stop();
      await webhook?.stop();
      await Promise.all([http.close(), metricsServer.close(), probeServer?.close()]);
      client.close();
    },
  };
}
