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
import { HookClient, type HookClientOptions } from './hook-client.ts';
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
  /** Handlers whose reconcile runs in a hook server (`run --handler-url`), by name. */
  hooks?: Record<string, Omit<HookClientOptions, 'handler'>>;
}

export interface RunningOperator {
  httpPort: number;
  metricsPort: number;
  /** The injector's HTTPS port, when it runs. */
  webhookPort?: number;
  controllers: Controller[];
  stop(): Promise<void>;
}

/** The Lease a handler's leader holds: `run --lease-name` and the handler's name. */
export const handlerLeaseName = (leaseName: string, handler: string) => `${leaseName}-${handler}`;

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
  const electors = new Map<string, LeaderElector>();
  if (o.leaderElection) {
    for (const name of o.handlers) {
      electors.set(
        name,
        new LeaderElector({
          client,
          namespace: o.config.operatorNamespace,
          name: handlerLeaseName(o.leaseName, name),
          identity,
          log: o.log,
          clock,
          // What changed while we were not leading was observed but not acted on.
          onStartedLeading: () => controllers[o.handlers.indexOf(name)]?.enqueueAll(),
        }),
      );
    }
  }
  const canWriteFor = (name: string) => () => electors.get(name)?.isLeader() ?? true;
  // Handlers that watch the same kind (SpicepodSets: workloads and network-policy; SpicepodClusters:
  // cluster and pki) share one cache of it.
  const informers = new SharedInformers(client, clock);
  const onHookCall = Object.keys(o.hooks ?? {}).length ? hookRequestDuration(metrics.registry) : undefined;
  const remotes: (Handler & { stop(): Promise<void>; close(): void })[] = [];
  const handlerOf = (name: string): Handler => {
    const local = HANDLERS[name as HandlerName];
    const hook = o.hooks?.[name];
    if (!hook) return local;
    const hookClient = new HookClient({ ...hook, handler: name });
    const remote = { ...remoteHandler(local, { client, hook: hookClient, log: o.log, canWrite: canWriteFor(name), onCall: onHookCall }), close: () => hookClient.close() };
    remotes.push(remote);
    o.log.info('handler served by a hook', { handler: name, url: hookClient.url.href });
    return remote;
  };
  const controllers = o.handlers.map(
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
  const http = await serveFetch(
    statusHandler(reader, () => ready && controllers.every((c) => c.hasSynced()), o.probeTimeoutMs),
    o.httpEndpoint,
  );
  const metricsServer = await serveFetch(async (request) => {
    if (new URL(request.url).pathname !== '/metrics') return new Response('not found\n', { status: 404 });
    return new Response(await metrics.registry.metrics(), { headers: { 'content-type': metrics.registry.contentType } });
  }, o.metricsEndpoint);
  o.log.info('serving', { http: `${o.httpEndpoint.replace(/:\d+$/, '')}:${http.port}`, metrics: `${o.metricsEndpoint.replace(/:\d+$/, '')}:${metricsServer.port}` });

  await Promise.all(controllers.map((c) => c.start()));
  let webhook: RunningWebhook | undefined;
  try {
    webhook = o.webhook && (await startSidecarInjector({ ...o.webhook, kubeConfig: o.kubeConfig, client, log: o.log, metrics, config: o.config, namespaces: o.namespaces, clock }));
  } catch (error) {
    // Nothing may keep the process alive once start has failed.
    await Promise.all(controllers.map((c) => c.stop()));
    await Promise.all([http.close(), metricsServer.close()]);
    client.close();
    throw error;
  }
  electors.forEach((e) => e.start());
  ready = true;

  return {
    httpPort: http.port,
    metricsPort: metricsServer.port,
    webhookPort: webhook?.port,
    controllers,
    async stop() {
      ready = false;
      await Promise.all(controllers.map((c) => c.stop()));
      await Promise.all(remotes.map((r) => r.stop()));
      remotes.forEach((r) => r.close());
      await Promise.all([...electors.values()].map((e) => e.stop()));
      await webhook?.stop();
      await Promise.all([http.close(), metricsServer.close()]);
      client.close();
    },
  };
}
