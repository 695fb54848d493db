// The operator's HTTP endpoints: the status API (with the probes), the probes
// on a port of their own (--health-probe-bind-address), and /metrics (plain,
// or HTTPS for callers the API server authenticates and authorizes).
import { serveFetch, serveFetchTls } from './http.ts';
import type { KubeClient } from './kube/client.ts';
import type { Logger } from './log.ts';
import { metricsAuthorizer, metricsCertificate } from './metrics-auth.ts';
import type { OperatorMetrics } from './metrics.ts';

type FetchHandler = (request: Request) => Response | Promise<Response>;

export interface ServersOptions {
  httpEndpoint: string;
  metricsEndpoint: string;
  healthProbeEndpoint?: string;
  metricsSecure?: boolean;
  metricsCertDir?: string;
  client: KubeClient;
  metrics: OperatorMetrics;
  log: Logger;
  /** /healthz and /readyz; undefined for any other path. */
  probes(request: Request): Response | undefined;
  /** The status API, with /health and /ready. */
  status: FetchHandler;
}

export interface Servers {
  httpPort: number;
  metricsPort: number;
  /** The probes' port: their own, or the status API's. */
  probePort: number;
  close(): Promise<void>;
}

const bound = (endpoint: string, port: number) => `${endpoint.replace(/:\d+$/, '')}:${port}`;

function metricsHandler(metrics: OperatorMetrics): FetchHandler {
  return async (request) => {
    if (new URL(request.url).pathname !== '/metrics') return new Response('not found\n', { status: 404 });
    return new Response(await metrics.registry.metrics(), { headers: { 'content-type': metrics.registry.contentType } });
  };
}

/** --metrics-secure: HTTPS, and only for callers the API server authenticates and authorizes. */
async function serveMetrics(o: ServersOptions) {
  const serve = metricsHandler(o.metrics);
  if (!o.metricsSecure) return serveFetch(serve, o.metricsEndpoint);
  const authorize = metricsAuthorizer({ client: o.client });
  return serveFetchTls(
    async (request) => {
      const verdict = await authorize(request.headers.get('authorization'), new URL(request.url).pathname);
      return verdict.status === 200
        ? serve(request)
        : new Response(`${verdict.reason}\n`, { status: verdict.status, headers: { 'content-type': 'text/plain' } });
    },
    o.metricsEndpoint,
    await metricsCertificate(o.metricsCertDir),
  );
}

/** The probes on their own port unless it is the status API's address (port 0 is any free port: a second one). */
async function serveProbes(o: ServersOptions) {
  if (!o.healthProbeEndpoint || (o.healthProbeEndpoint === o.httpEndpoint && !o.httpEndpoint.endsWith(':0'))) return undefined;
  const productNames = ['/health', '/ready'];
  return serveFetch(
    (request) =>
      o.probes(request) ??
      (productNames.includes(new URL(request.url).pathname)
        ? o.status(request)
        : new Response('not found: GET /healthz, /readyz, /health, /ready\n', { status: 404 })),
    o.healthProbeEndpoint,
  );
}

export async function startServers(o: ServersOptions): Promise<Servers> {
  const http = await serveFetch((request) => o.probes(request) ?? o.status(request), o.httpEndpoint);
  const probes = await serveProbes(o);
  const metrics = await serveMetrics(o);
  o.log.info('serving', {
    http: bound(o.httpEndpoint, http.port),
    metrics: bound(o.metricsEndpoint, metrics.port),
    ...(probes && o.healthProbeEndpoint ? { probes: bound(o.healthProbeEndpoint, probes.port) } : {}),
  });
  return {
    httpPort: http.port,
    metricsPort: metrics.port,
    probePort: probes?.port ?? http.port,
    close: async () => {
      await Promise.all([http.close(), metrics.close(), probes?.close()]);
    },
  };
}
