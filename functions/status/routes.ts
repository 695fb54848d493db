// The operator's HTTP API (reference §7.4; README "Status API"), as a
// Web-standard fetch handler: GET /health, GET /ready, and the pod status of a
// SpicepodSet or (with ?kind=SpicepodCluster) of a SpicepodCluster. It reads
// the cluster only through the functions it is given, so the shim serves it
// from its caches and tests from plain objects.
import { isDns1123Label, isDns1123Subdomain } from '../../core/spec/kubernetes-names.ts';
import { Router, type IRequest } from 'itty-router';
import type { KubeObject, TypeRef } from '../../core/handler.ts';

import { clusterChildNames, setStatus, type ClusterStatus, type ProbeSettings, type SetStatus } from './view.ts';
import { LABEL_APP } from '../../core/labels.ts';

export const SPICEPOD_SET: TypeRef = { apiVersion: 'spice.ai/v1', kind: 'SpicepodSet' };
export const SPICEPOD_CLUSTER: TypeRef = { apiVersion: 'spice.ai/v1alpha1', kind: 'SpicepodCluster' };

export const DEFAULT_PROBE_TIMEOUT_MS = 1000;

export interface StatusDependencies {
  /** The object, or undefined when it does not exist. */
  getObject(type: TypeRef, namespace: string, name: string): Promise<KubeObject | undefined> | KubeObject | undefined;
  /** Pods in the namespace carrying every one of these labels. */
  listPods(namespace: string, labels: Record<string, string>): Promise<KubeObject[]> | KubeObject[];
  /** True once the operator's caches are synced and its handlers run. */
  ready(): boolean;
  /** For the spiced probes; default globalThis.fetch. */
  fetch?: typeof fetch;
  /** Timeout of each spiced probe. Default 1000 ms. */
  probeTimeoutMs?: number;
  /** Milliseconds since the epoch, for observedAt. Default Date.now. */
  now?(): number;
}

const jsonHeaders = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' };
const json = (body: unknown, status = 200) => new Response(`${JSON.stringify(body, null, 2)}\n`, { status, headers: jsonHeaders });
const problem = (status: number, error: string) => json({ error }, status);
const text = (body: string, status = 200) =>
  new Response(body, { status, headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' } });

export function createStatusHandler(deps: StatusDependencies): (request: Request) => Promise<Response> {
  const probes: ProbeSettings = {
    fetch: deps.fetch ?? ((input, init) => globalThis.fetch(input, init)),
    timeoutMs: deps.probeTimeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS,
  };
  const now = deps.now ?? Date.now;

  async function setView(set: KubeObject): Promise<SetStatus> {
    const namespace = set.metadata.namespace ?? '';
    return setStatus(set, await deps.listPods(namespace, { [LABEL_APP]: set.metadata.name }), probes);
  }

  async function spicepodSet(namespace: string, name: string): Promise<Response> {
    const set = await deps.getObject(SPICEPOD_SET, namespace, name);
    if (!set) return problem(404, `SpicepodSet ${namespace}/${name} not found`);
    return json({ ...(await setView(set)), observedAt: new Date(now()).toISOString() });
  }

  async function spicepodCluster(namespace: string, name: string): Promise<Response> {
    const cluster = await deps.getObject(SPICEPOD_CLUSTER, namespace, name);
    if (!cluster) return problem(404, `SpicepodCluster ${namespace}/${name} not found`);
    const children = clusterChildNames(cluster);
    const role = async (setName: string) => {
      const set = await deps.getObject(SPICEPOD_SET, namespace, setName);
      return set ? setView(set) : null;
    };
    const [scheduler, executor] = await Promise.all([role(children.scheduler), role(children.executor)]);
    const view: ClusterStatus = { kind: 'SpicepodCluster', namespace, name, uid: cluster.metadata.uid ?? '', scheduler, executor };
    return json({ ...view, observedAt: new Date(now()).toISOString() });
  }

  const router = Router({
    catch: (error: unknown) => problem(500, `status unavailable: ${error instanceof Error ? error.message : String(error)}`),
  });
  router
    .get('/health', () => text('OK'))
    .get('/ready', () => (deps.ready() ? text('ready') : text('not ready', 503)))
    .get('/:namespace/:name', (request: IRequest) => {
      const { namespace, name } = request.params as { namespace: string; name: string };
      if (!isDns1123Label(namespace)) return problem(400, `${JSON.stringify(namespace)} is not a namespace name`);
      if (!isDns1123Subdomain(name)) return problem(400, `${JSON.stringify(name)} is not an object name`);
      const kind = request.query.kind ?? SPICEPOD_SET.kind;
      if (typeof kind !== 'string') return problem(400, 'give kind at most once');
      if (kind.toLowerCase() === SPICEPOD_SET.kind.toLowerCase() || kind === '') return spicepodSet(namespace, name);
      if (kind.toLowerCase() === SPICEPOD_CLUSTER.kind.toLowerCase()) return spicepodCluster(namespace, name);
      return problem(400, `unknown kind ${JSON.stringify(kind)}: use SpicepodSet (the default) or SpicepodCluster`);
    })
    .all('/health', () => methodNotAllowed())
    .all('/ready', () => methodNotAllowed())
    .all('/:namespace/:name', () => methodNotAllowed())
    .all('*', (request: IRequest) =>
      problem(404, `no route for ${new URL(request.url).pathname}: GET /health, /ready, /{namespace}/{name}[?kind=SpicepodCluster]`),
    );

  return async (request: Request) => (await router.fetch(request)) as Response;
}

function methodNotAllowed(): Response {
  return new Response(`${JSON.stringify({ error: 'only GET is supported' })}\n`, {
    status: 405,
    headers: { ...jsonHeaders, allow: 'GET' },
  });
}
