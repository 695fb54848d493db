// Everything `spiceai-operator run` starts: one controller per handler,
// leader election, the HTTP endpoint (health, readiness) and /metrics.
import { hostname } from 'node:os';
import type { KubeConfig } from '@kubernetes/client-node';
import type { HandlerConfig } from '../core/handler.ts';
import { realClock, type Clock } from './clock.ts';
import { Controller } from './controller.ts';
import type { HandlerName } from './handler-names.ts';
import { OPTIONAL_CHILDREN } from './handlers.ts';
import { SharedInformers } from './informers.ts';
import { isApiError, KubeClient } from './kube/client.ts';
import type { Logger } from './log.ts';
import { OperatorMetrics } from './metrics.ts';
import { startSidecarInjector, type RunningWebhook, type SidecarInjectorOptions } from './webhook/index.ts';
import { provideCertificateMetrics } from './pki-metrics.ts';
import { provideStatusMetrics, statusHandler, statusReader } from './status.ts';
import { informerHealth, probeHandler, readinessOf } from './probes.ts';
import { EventRecorder } from './events.ts';
import { startMissedSidecarScan } from './missed-sidecars.ts';
import { OPERATOR_NAME } from '../core/labels.ts';
import { hookedHandlers, type HookOptions } from './hooked-handlers.ts';
import { leasesFor, NO_LEASES, SIDECAR_SCAN_LEASE } from './leases.ts';
import { startServers } from './operator-servers.ts';
import type { OtlpConfig } from './otlp-config.ts';

/**
 * Workers of a hooked handler's controller: a reconcile there is mostly waiting for the hook's answer,
 * so the in-process default (4) would leave the operator idle while the hook servers wait for work.
 */
export const DEFAULT_HOOK_WORKERS = 16;

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
  /** Keys each controller of a hooked handler reconciles at once (default 16): its work happens in the hook. */
  hookWorkers?: number;
  /** The sidecar injector (`run` always passes it); undefined leaves injection alone. */
  webhook?: SidecarInjectorOptions;
  identity?: string;
  log: Logger;
  /** Time for every part (queues, caches, Lease, Events, the webhook's certificate). Default the real clock. */
  clock?: Clock;
  /** Handlers whose reconcile runs in a hook server (`run --handler-url`, `--handler-service`), by name. */
  hooks?: HookOptions;
  /** Push the metrics over OTLP (from the OTEL_* variables: otlpConfigFromEnv); undefined: no push. */
  otlp?: OtlpConfig;
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
        log.info(
          `handler ${name} not started: ${isApiError(error, 404) ? `the API server does not serve ${optional.kind}s (install ${optional.needs})` : `no permission to list ${optional.kind}s`}`,
          { handler: name },
        );
        continue;
      }
    }
    served.push(name);
  }
  return served;
}

/** Pods that asked for the sidecar but were admitted without it (the webhook fails open): a Warning Event each, and a gauge. */
function sidecarScan(o: OperatorOptions, client: KubeClient, metrics: OperatorMetrics, clock: Clock, canWrite: () => boolean) {
  if (!o.webhook || o.sidecarScanSeconds === 0) return undefined;
  const events = new EventRecorder({ client, component: OPERATOR_NAME, log: o.log, clock });
  const scan = startMissedSidecarScan({
    client,
    events,
    metrics,
    log: o.log.child({ component: 'sidecar-scan' }),
    defaults: { image: o.webhook.defaultImage, imagePullPolicy: o.webhook.defaultImagePullPolicy, resources: o.webhook.defaultResources },
    operatorNamespace: o.config.operatorNamespace,
    namespaces: o.namespaces,
    intervalMs: (o.sidecarScanSeconds ?? 300) * 1000,
    canWrite,
  });
  return {
    stop: async () => {
      scan.stop();
      await events.flush();
    },
  };
}

/**
 * The HTTP API (functions/status), the status and certificate metrics, and the probes: they read the
 * controllers' caches, or the API server; ready once `started()` and every cache has synced.
 */
async function statusAndProbeServers(
  o: OperatorOptions,
  parts: { client: KubeClient; metrics: OperatorMetrics; controllers: Controller[]; informers: SharedInformers; started: () => boolean },
) {
  const { client, metrics, controllers, informers } = parts;
  const reader = statusReader(controllers, client);
  provideStatusMetrics(metrics, reader);
  provideCertificateMetrics(metrics, reader);
  const caches = () => informerHealth(informers.all());
  metrics.provideInformerHealth(caches);
  const readiness = () =>
    readinessOf({ started: parts.started(), synced: controllers.every((c) => c.hasSynced()), caches: caches(), now: Date.now() });
  return startServers({
    ...o,
    client,
    metrics,
    probes: probeHandler(readiness),
    status: statusHandler(reader, () => readiness().ready, o.probeTimeoutMs),
  });
}

/** The parts every piece of the operator is built with. */
interface Parts {
  client: KubeClient;
  metrics: OperatorMetrics;
  clock: Clock;
}

/**
 * The Lease electors, one per handler and one for the sidecar scan (or none without leader
 * election). They exist before any controller does: from their first reconcile on, only a Lease
 * holder writes (they are started, and may lead, only once the controllers have).
 */
function electors(o: OperatorOptions, parts: Parts, identity: string, leased: string[], onStartedLeading: (part: string) => void) {
  if (!o.leaderElection) return NO_LEASES;
  const { client, clock, metrics } = parts;
  return leasesFor(leased, {
    client,
    namespace: o.config.operatorNamespace,
    leaseName: o.leaseName,
    identity,
    log: o.log,
    clock,
    metrics,
    onStartedLeading,
  });
}

/** The handlers, each in process or behind its hook (with the hooks' certificates); the client is closed if this fails. */
async function startHandlers(o: OperatorOptions, parts: Parts, handlers: HandlerName[], canWriteFor: (part: string) => () => boolean) {
  const { client, metrics, clock } = parts;
  return hookedHandlers({
    hooks: o.hooks,
    handlers,
    client,
    log: o.log,
    metrics,
    clock,
    canWriteFor,
    operatorNamespace: o.config.operatorNamespace,
    clusterDomain: o.config.clusterDomain,
    webhook: { serviceName: o.webhook?.serviceName ?? 'spiceai-operator-webhook', secretName: o.webhook?.secretName, url: o.webhook?.url },
    tlsCheckIntervalMs: o.hookTlsCheckIntervalMs,
  }).catch((error) => {
    client.close();
    throw error;
  });
}

/**
 * The OTLP push of the metrics, when OTEL_* asks for it. The OpenTelemetry packages are loaded only
 * then: otherwise they would hold about 2 MiB of heap in every operator for nothing.
 */
async function otlpExport(o: OperatorOptions, parts: Parts) {
  if (!o.otlp) return undefined;
  const { metrics, clock } = parts;
  const { startOtlpExport } = await import('./otlp-export.ts');
  return startOtlpExport({
    config: o.otlp,
    registry: metrics.registry,
    log: o.log.child({ component: 'otlp' }),
    onExport: metrics.onOtlpExport,
    clock,
  });
}

export async function startOperator(o: OperatorOptions): Promise<RunningOperator> {
  const metrics = new OperatorMetrics();
  const clock = o.clock ?? realClock;
  const identity = o.identity ?? `${hostname()}-${process.pid}`;
  // The identity in the user agent tells the API server's audit log which copy wrote what.
  const client = new KubeClient(o.kubeConfig, { onRequest: metrics.onRequest, userAgent: `spiceai-operator (${identity})` });
  const parts: Parts = { client, metrics, clock };
  const handlers = await servedHandlers(client, o.handlers as HandlerName[], o.log);
  const scans = Boolean(o.webhook) && o.sidecarScanSeconds !== 0;
  const leased = [...handlers, ...(scans ? [SIDECAR_SCAN_LEASE] : [])];
  const leases = electors(o, parts, identity, leased, (part) => controllers[handlers.indexOf(part as HandlerName)]?.enqueueAll());
  // Handlers that watch the same kind (SpicepodSets: workloads and network-policy; SpicepodClusters:
  // cluster and pki) share one cache of it.
  const informers = new SharedInformers(client, clock);
  const hooked = await startHandlers(o, parts, handlers, leases.canWriteFor);
  const shared = { client, clock, informers, config: o.config, log: o.log, namespaces: o.namespaces, workers: o.workers };
  const controllers = handlers.map(
    (name) =>
      new Controller({
        ...shared,
        handler: hooked.handlerOf(name),
        ...(o.hooks?.[name] ? { workers: o.hookWorkers ?? DEFAULT_HOOK_WORKERS } : {}),
        canWrite: leases.canWriteFor(name),
        metrics: metrics.forController(name),
      }),
  );
  let ready = false;
  const servers = await statusAndProbeServers(o, { client, metrics, controllers, informers, started: () => ready });

  await Promise.all(controllers.map((c) => c.start()));
  let webhook: RunningWebhook | undefined;
  try {
    const injector = o.webhook && {
      ...o.webhook,
      kubeConfig: o.kubeConfig,
      client,
      log: o.log,
      metrics,
      config: o.config,
      namespaces: o.namespaces,
      clock,
    };
    webhook = injector && (await startSidecarInjector(injector));
  } catch (error) {
    // Nothing may keep the process alive once start has failed.
    await Promise.all(controllers.map((c) => c.stop()));
    await servers.close();
    await hooked.stop();
    client.close();
    throw error;
  }
  leases.start();
  ready = true;
  const otlp = await otlpExport(o, parts);
  const scan = scans ? sidecarScan(o, client, metrics, clock, leases.canWriteFor(SIDECAR_SCAN_LEASE)) : undefined;

  return {
    httpPort: servers.httpPort,
    metricsPort: servers.metricsPort,
    probePort: servers.probePort,
    webhookPort: webhook?.port,
    controllers,
    async stop() {
      ready = false;
      await scan?.stop();
      await Promise.all(controllers.map((c) => c.stop()));
      await hooked.stop();
      await leases.stop();
      await webhook?.stop();
      // The last push, after the last reconcile: it carries the final counts.
      await otlp?.stop();
      await servers.close();
      client.close();
    },
  };
}
