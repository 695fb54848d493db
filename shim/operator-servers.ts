// The operator's HTTP endpoints: the status API (with the probes), the probes
// on a port of their own (--health-probe-bind-address), and /metrics (plain,
// or HTTPS for callers the API server authenticates and authorizes).
import { type PlainRoute, serveFetch, serveFetchTls } from './http.ts';
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
  probes: PlainRoute;
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

/** /metrics, answered without a Request (PlainRoute): Prometheus's scrapes do not load undici. Other paths are 404. */
function metricsRoute(metrics: OperatorMetrics): PlainRoute {
  return async (_method, path) =>
    path === '/metrics'
      ? { status: 200, headers: { 'content-type': metrics.registry.contentType }, body: await metrics.registry.metrics() }
      : undefined;
}

/** --metrics-secure: HTTPS, and only for callers the API server authenticates and authorizes. */
async function serveMetrics(o: ServersOptions) {
  const serve = metricsRoute(o.metrics);
  if (!o.metricsSecure) return serveFetch(undefined, o.metricsEndpoint, { plain: serve });
  const authorize = metricsAuthorizer({ client: o.client });
  const plain: PlainRoute = async (method, path, headers) => {
    const verdict = await authorize(headers.authorization ?? null, path);
    return verdict.status === 200
      ? serve(method, path, headers)
      : { status: verdict.status, headers: { 'content-type': 'text/plain' }, body: `${verdict.reason}\n` };
  };
  return serveFetchTls(undefined, o.metricsEndpoint, await metricsCertificate(o.metricsCertDir), { plain });
}

/** The probes on their own port unless it is the status API's address (port 0 is any free port: a second one). */
async function serveProbes(o: ServersOptions) {
  if (!o.healthProbeEndpoint || (o.healthProbeEndpoint === o.httpEndpoint && !o.httpEndpoint.endsWith(':0'))) return undefined;
  const productNames = ['/health', '/ready'];
  // The product's names are the status API's; anything else is not found.
  const plain: PlainRoute = (method, path, headers) =>
    o.probes(method, path, headers) ??
    (productNames.includes(path)
      ? undefined
      : { status: 404, headers: { 'content-type': 'text/plain' }, body: 'not found: GET /healthz, /readyz, /health, /ready\n' });
  return serveFetch(o.status, o.healthProbeEndpoint, { plain });
}

export async function startServers(o: ServersOptions): Promise<Servers> {
  const http = await serveFetch(o.status, o.httpEndpoint, { plain: o.probes });
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
