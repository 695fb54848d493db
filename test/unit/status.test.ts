// The status API (functions/status) against real local HTTP servers playing
// spiced's /health and /v1/ready: healthy, not ready, hanging, refusing.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { KubeObject, TypeRef } from '../../core/handler.ts';
import { createStatusHandler, type ClusterStatus, type SetStatus, type StatusDependencies } from '../../functions/status/index.ts';
import { urlHost } from '../../functions/status/probe.ts';
import { PAUSE_CRASHLOOPING } from '../../core/set-reasons.ts';

// Long enough that a loaded machine answers a healthy loopback server in time (300 ms flaked at load 15).
const TIMEOUT_MS = 2000;
/** Far above TIMEOUT_MS: only a handler that waits for a hanging pod gets near it. */
const GENEROUS_MS = 30_000;

interface FakeSpiced {
  port: number;
  /** Requests received, by path. */
  hits: string[];
  /** Most requests open at the same time. */
  maxOpen: number;
  close(): Promise<void>;
}

async function fakeSpiced(answer: ((req: IncomingMessage, res: ServerResponse) => void) | 'hang'): Promise<FakeSpiced> {
  const sockets = new Set<Socket>();
  let open = 0;
  const state = { hits: [] as string[], maxOpen: 0 };
  const server: Server = createServer((req, res) => {
    state.hits.push(req.url ?? '');
    open++;
    state.maxOpen = Math.max(state.maxOpen, open);
    res.on('close', () => open--);
    if (answer !== 'hang') answer(req, res);
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    get hits() {
      return state.hits;
    },
    get maxOpen() {
      return state.maxOpen;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  } as FakeSpiced;
}

/** spiced as reference §4.4 describes it: /health "ok\n"; /v1/ready "ready" or 503 "not ready". */
const spiced = (ready: boolean) => (req: IncomingMessage, res: ServerResponse) => {
  if (req.url === '/health') return res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
  if (req.url === '/v1/ready') return res.writeHead(ready ? 200 : 503, { 'content-type': 'text/plain' }).end(ready ? 'ready' : 'not ready');
  res.writeHead(404).end();
};

/** A port nothing listens on: bound, then closed. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

let healthy: FakeSpiced, notReady: FakeSpiced, hanging: FakeSpiced, unhealthy: FakeSpiced;
let refusedPort = 0;

test.before(async () => {
  healthy = await fakeSpiced(spiced(true));
  notReady = await fakeSpiced(spiced(false));
  hanging = await fakeSpiced('hang');
  unhealthy = await fakeSpiced((_req, res) => res.writeHead(500).end('boom'));
  refusedPort = await closedPort();
});

test.after(async () => {
  await Promise.all([healthy, notReady, hanging, unhealthy].map((s) => s.close()));
});

// --- fixtures ---

function set(name: string, spec: Record<string, unknown> = {}, status?: Record<string, unknown>, generation = 1): KubeObject {
  return {
    apiVersion: 'spice.ai/v1',
    kind: 'SpicepodSet',
    metadata: { name, namespace: 'ns', uid: `uid-${name}`, generation },
    spec: { spicepod: { version: 'v1', kind: 'Spicepod', name: 'app' }, ...spec },
    ...(status ? { status } : {}),
  };
}

interface PodInput {
  name: string;
  app: string;
  port?: number;
  ip?: string | null;
  phase?: string;
  ready?: boolean;
  role?: 'scheduler' | 'executor';
  waiting?: { reason: string; message?: string };
  terminated?: { reason: string; message?: string; exitCode?: number };
  restarts?: number;
  containerName?: string;
}

function pod(p: PodInput): KubeObject {
  const labels: Record<string, string> = { 'spice.ai/app': p.app };
  if (p.role) labels['spice.ai/cluster-role'] = p.role;
  const state = p.waiting ? { waiting: p.waiting } : p.terminated ? { terminated: p.terminated } : { running: {} };
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: p.name, namespace: 'ns', uid: `uid-${p.name}`, labels },
    spec: {
      containers: [
        {
          name: p.containerName ?? 'spiced',
          ports:
            p.port === undefined
              ? []
              : [
                  { name: 'flight', containerPort: 50051 },
                  { name: 'http', containerPort: p.port },
                ],
        },
      ],
    },
    status: {
      phase: p.phase ?? 'Running',
      podIP: p.ip === null ? undefined : (p.ip ?? '127.0.0.1'),
      startTime: '2025-01-02T03:04:05Z',
      conditions: [{ type: 'Ready', status: (p.ready ?? true) ? 'True' : 'False' }],
      containerStatuses: [{ name: 'spiced', ready: p.ready ?? true, restartCount: p.restarts ?? 0, state }],
    },
  };
}

interface World {
  objects: KubeObject[];
  pods: KubeObject[];
  ready?: boolean;
  fetch?: typeof fetch;
}

function handlerFor(world: World) {
  const calls: { getObject: [string, string, string][]; listPods: [string, Record<string, string>][] } = { getObject: [], listPods: [] };
  const deps: StatusDependencies = {
    getObject: (type: TypeRef, namespace, name) => {
      calls.getObject.push([type.kind, namespace, name]);
      return world.objects.find(
        (o) => o.apiVersion === type.apiVersion && o.kind === type.kind && o.metadata.namespace === namespace && o.metadata.name === name,
      );
    },
    listPods: async (namespace, labels) => {
      calls.listPods.push([namespace, labels]);
      return world.pods.filter(
        (p) => p.metadata.namespace === namespace && Object.entries(labels).every(([k, v]) => p.metadata.labels?.[k] === v),
      );
    },
    ready: () => world.ready ?? true,
    fetch: world.fetch,
    probeTimeoutMs: TIMEOUT_MS,
    now: () => Date.parse('2025-06-01T00:00:00Z'),
  };
  const handle = createStatusHandler(deps);
  return { calls, get: (path: string, init?: RequestInit) => handle(new Request(`http://operator${path}`, init)) };
}

/** The answer, or a failure if it does not come within GENEROUS_MS (a hanging probe would hold it forever). */
async function within<T>(promise: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${GENEROUS_MS} ms`)), GENEROUS_MS);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

const byName = (view: SetStatus) => Object.fromEntries(view.pods.map((p) => [p.name, p]));

// --- /health and /ready ---

test('GET /health answers OK', async () => {
  const r = await handlerFor({ objects: [], pods: [] }).get('/health');
  assert.is(r.status, 200);
  assert.is(await r.text(), 'OK');
});

test('GET /ready is 503 until ready() says so, then 200', async () => {
  const world: World = { objects: [], pods: [], ready: false };
  const { get } = handlerFor(world);
  const before = await get('/ready');
  assert.is(before.status, 503);
  assert.is(await before.text(), 'not ready');
  world.ready = true;
  const after = await get('/ready');
  assert.is(after.status, 200);
  assert.is(await after.text(), 'ready');
});

// --- a SpicepodSet ---

test('a set: per-pod details and spiced health/readiness for healthy, not ready, hanging, refusing and erroring pods', async () => {
  const pods = [
    pod({ name: 'app-0-0', app: 'app', port: healthy.port }),
    pod({ name: 'app-1-0', app: 'app', port: notReady.port, ready: false }),
    pod({ name: 'app-2-0', app: 'app', port: hanging.port }),
    pod({ name: 'app-3-0', app: 'app', port: refusedPort }),
    pod({ name: 'app-4-0', app: 'app', port: unhealthy.port }),
    pod({
      name: 'app-5-0',
      app: 'app',
      port: refusedPort,
      ready: false,
      restarts: 7,
      waiting: { reason: 'CrashLoopBackOff', message: 'back-off 5m0s restarting failed container=spiced' },
    }),
    pod({
      name: 'app-6-0',
      app: 'app',
      port: healthy.port,
      phase: 'Pending',
      ip: null,
      ready: false,
      waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image "spiceai/spiceai:nope"' },
    }),
    pod({ name: 'other-0', app: 'other', port: healthy.port }),
  ];
  const hangingBefore = hanging.hits.length;
  const { get, calls } = handlerFor({ objects: [set('app', { replicas: 7 }, { readyReplicas: 4, observedGeneration: 1 })], pods });
  const r = await within(get('/ns/app'));
  assert.is(r.status, 200);
  assert.match(r.headers.get('content-type') ?? '', /application\/json/);
  const view = (await r.json()) as SetStatus & { observedAt: string };
  assert.equal(calls.listPods, [['ns', { 'spice.ai/app': 'app' }]]);
  assert.is(view.kind, 'SpicepodSet');
  assert.is(view.namespace, 'ns');
  assert.is(view.name, 'app');
  assert.is(view.uid, 'uid-app');
  assert.is(view.role, null);
  assert.is(view.paused, false);
  assert.not.ok('pauseReason' in view);
  assert.equal(view.replicas, { ready: 4, total: 7 });
  assert.is(view.observedAt, '2025-06-01T00:00:00.000Z');
  assert.equal(
    view.pods.map((p) => p.name),
    ['app-0-0', 'app-1-0', 'app-2-0', 'app-3-0', 'app-4-0', 'app-5-0', 'app-6-0'],
  );
  const p = byName(view);

  assert.equal(p['app-0-0'], {
    name: 'app-0-0',
    uid: 'uid-app-0-0',
    phase: 'Running',
    ip: '127.0.0.1',
    port: healthy.port,
    startTime: '2025-01-02T03:04:05Z',
    podReady: true,
    terminating: false,
    restarts: 0,
    health: 'healthy',
    readiness: 'ready',
  });
  assert.is(p['app-1-0']!.health, 'healthy');
  assert.is(p['app-1-0']!.readiness, 'not-ready');
  assert.is(p['app-1-0']!.podReady, false);
  assert.is(p['app-1-0']!.probeMessage, '/v1/ready: HTTP 503 "not ready"');

  assert.is(p['app-2-0']!.health, 'unreachable');
  assert.is(p['app-2-0']!.readiness, 'unreachable');
  assert.is(p['app-2-0']!.probeMessage, `/health: timed out after ${TIMEOUT_MS} ms; /v1/ready: timed out after ${TIMEOUT_MS} ms`);
  // The hanging server did get both requests: the probes were made, not skipped.
  assert.equal(hanging.hits.slice(hangingBefore).sort(), ['/health', '/v1/ready']);

  assert.is(p['app-3-0']!.health, 'unreachable');
  assert.is(p['app-3-0']!.readiness, 'unreachable');
  assert.is(p['app-3-0']!.probeMessage, '/health: connection refused; /v1/ready: connection refused');

  assert.is(p['app-4-0']!.health, 'unhealthy');
  assert.is(p['app-4-0']!.readiness, 'not-ready');
  assert.is(p['app-4-0']!.probeMessage, '/health: HTTP 500 "boom"; /v1/ready: HTTP 500 "boom"');

  assert.equal(p['app-5-0']!.error, { reason: 'CrashLoopBackOff', message: 'back-off 5m0s restarting failed container=spiced' });
  assert.is(p['app-5-0']!.restarts, 7);
  assert.is(p['app-5-0']!.health, 'unreachable');

  assert.equal(p['app-6-0']!.error, { reason: 'ImagePullBackOff', message: 'Back-off pulling image "spiceai/spiceai:nope"' });
  assert.is(p['app-6-0']!.phase, 'Pending');
  assert.is(p['app-6-0']!.ip, null);
  assert.is(p['app-6-0']!.health, 'not-probed');
  assert.is(p['app-6-0']!.readiness, 'not-probed');
  assert.is(p['app-6-0']!.probeMessage, 'pod is Pending; not probed');
});

test('a terminated container reports its reason (OOMKilled) and never counts as healthy', async () => {
  const pods = [pod({ name: 'oom-0', app: 'oom', port: refusedPort, ready: false, terminated: { reason: 'OOMKilled', exitCode: 137 } })];
  const view = (await (await within(handlerFor({ objects: [set('oom')], pods }).get('/ns/oom'))).json()) as SetStatus;
  assert.equal(view.pods[0]!.error, { reason: 'OOMKilled' });
  assert.is(view.pods[0]!.health, 'unreachable');
});

test('probes of all pods run in parallel: N hanging pods cost one timeout, not N', async () => {
  const before = hanging.maxOpen;
  const pods = Array.from({ length: 5 }, (_, i) => pod({ name: `h-${i}`, app: 'h', port: hanging.port }));
  const view = (await (await within(handlerFor({ objects: [set('h')], pods }).get('/ns/h'))).json()) as SetStatus;
  assert.ok(view.pods.every((p) => p.health === 'unreachable' && p.readiness === 'unreachable'));
  // All ten requests (two per pod) were open at the hanging server at once.
  assert.ok(hanging.maxOpen >= 10, `at most ${hanging.maxOpen} probes were open at once (before: ${before})`);
});

test('a fetch that ignores the abort signal still cannot hold the answer: the pod is unreachable', async () => {
  let calls = 0;
  const neverSettles = (() => {
    calls++;
    return new Promise<Response>(() => {});
  }) as typeof fetch;
  const pods = [pod({ name: 'stuck-0', app: 'stuck', port: 8090 })];
  const view = (await (
    await within(handlerFor({ objects: [set('stuck')], pods, fetch: neverSettles }).get('/ns/stuck'))
  ).json()) as SetStatus;
  assert.is(calls, 2);
  assert.is(view.pods[0]!.health, 'unreachable');
  assert.is(view.pods[0]!.readiness, 'unreachable');
  assert.match(view.pods[0]!.probeMessage ?? '', new RegExp(`timed out after ${TIMEOUT_MS} ms`));
});

test('the probe goes to the pod IP and the spiced container port named http; IPv6 addresses are bracketed', async () => {
  const urls: string[] = [];
  const recording = (async (input: string | URL | Request) => {
    urls.push(String(input));
    return new Response('ok', { status: 200 });
  }) as typeof fetch;
  const pods = [
    pod({ name: 'v4', app: 'ip', port: 8123, ip: '10.1.2.3' }),
    pod({ name: 'v6', app: 'ip', port: 8124, ip: 'fd00::7' }),
    pod({ name: 'sidecar', app: 'ip', port: 8125, ip: '10.1.2.4', containerName: 'other' }),
    pod({ name: 'noport', app: 'ip', ip: '10.1.2.5' }),
  ];
  const view = (await (await handlerFor({ objects: [set('ip')], pods, fetch: recording }).get('/ns/ip')).json()) as SetStatus;
  assert.equal(urls.sort(), [
    'http://10.1.2.3:8123/health',
    'http://10.1.2.3:8123/v1/ready',
    'http://10.1.2.4:8125/health',
    'http://10.1.2.4:8125/v1/ready',
    'http://[fd00::7]:8124/health',
    'http://[fd00::7]:8124/v1/ready',
  ]);
  const p = byName(view);
  assert.is(p.noport!.port, null);
  assert.is(p.noport!.health, 'not-probed');
  assert.is(p.noport!.probeMessage, 'no container port named http; not probed');
  assert.is(urlHost('127.0.0.1'), '127.0.0.1');
});

// --- pause ---

test('a set at replicas 0 is paused (ScaledToZero), even before the operator wrote its status', async () => {
  const view = (await (await handlerFor({ objects: [set('zero', { replicas: 0 })], pods: [] }).get('/ns/zero')).json()) as SetStatus;
  assert.is(view.paused, true);
  assert.is(view.pauseReason, 'ScaledToZero');
  assert.equal(view.replicas, { ready: 0, total: 0 });
  assert.equal(view.pods, []);
});

test('a crashlooping set is paused with the pauseReason of its status; a newer spec lifts it', async () => {
  const paused = set('loop', { replicas: 3 }, { pauseReason: PAUSE_CRASHLOOPING, observedGeneration: 4, readyReplicas: 0 }, 4);
  const view = (await (await handlerFor({ objects: [paused], pods: [] }).get('/ns/loop')).json()) as SetStatus;
  assert.is(view.paused, true);
  assert.is(view.pauseReason, 'CrashLooping');
  assert.equal(view.replicas, { ready: 0, total: 3 });
  const resumed = set('loop', { replicas: 3 }, { pauseReason: PAUSE_CRASHLOOPING, observedGeneration: 4 }, 5);
  const after = (await (await handlerFor({ objects: [resumed], pods: [] }).get('/ns/loop')).json()) as SetStatus;
  assert.is(after.paused, false);
  assert.not.ok('pauseReason' in after);
});

// --- a SpicepodCluster ---

function cluster(name: string, status?: Record<string, unknown>): KubeObject {
  return {
    apiVersion: 'spice.ai/v1alpha1',
    kind: 'SpicepodCluster',
    metadata: { name, namespace: 'ns', uid: `uid-${name}` },
    spec: {},
    ...(status ? { status } : {}),
  };
}

const clusterSet = (name: string, role: 'scheduler' | 'executor', replicas: number) =>
  set(
    name,
    { replicas, cluster: { role, clusterName: 'dq', allowInsecureConnections: true } },
    { readyReplicas: replicas, observedGeneration: 1 },
  );

test('a cluster: its scheduler and executor sets with their pods, grouped by role; executors are not probed', async () => {
  const objects = [cluster('dq'), clusterSet('dq-scheduler', 'scheduler', 1), clusterSet('dq-executor', 'executor', 2)];
  const pods = [
    pod({ name: 'dq-scheduler-0-0', app: 'dq-scheduler', role: 'scheduler', port: healthy.port }),
    pod({ name: 'dq-executor-0-0', app: 'dq-executor', role: 'executor', port: healthy.port }),
    pod({ name: 'dq-executor-1-0', app: 'dq-executor', role: 'executor', port: healthy.port }),
  ];
  const hitsBefore = healthy.hits.length;
  const r = await within(handlerFor({ objects, pods }).get('/ns/dq?kind=SpicepodCluster'));
  assert.is(r.status, 200);
  const view = (await r.json()) as ClusterStatus & { observedAt: string };
  assert.is(view.kind, 'SpicepodCluster');
  assert.is(view.name, 'dq');
  assert.is(view.uid, 'uid-dq');
  assert.is(view.observedAt, '2025-06-01T00:00:00.000Z');
  assert.is(view.scheduler!.name, 'dq-scheduler');
  assert.is(view.scheduler!.role, 'scheduler');
  assert.equal(view.scheduler!.replicas, { ready: 1, total: 1 });
  assert.equal(
    view.scheduler!.pods.map((p) => [p.name, p.health, p.readiness]),
    [['dq-scheduler-0-0', 'healthy', 'ready']],
  );
  assert.is(view.executor!.name, 'dq-executor');
  assert.is(view.executor!.role, 'executor');
  assert.equal(
    view.executor!.pods.map((p) => [p.name, p.health, p.readiness, p.probeMessage]),
    [
      ['dq-executor-0-0', 'not-probed', 'not-probed', 'executors run no HTTP probes; not probed'],
      ['dq-executor-1-0', 'not-probed', 'not-probed', 'executors run no HTTP probes; not probed'],
    ],
  );
  // Only the scheduler was asked.
  assert.is(healthy.hits.length - hitsBefore, 2);
});

test('a cluster whose child sets do not exist yet has null roles; child names come from its status when set', async () => {
  const early = (await (
    await handlerFor({ objects: [cluster('new')], pods: [] }).get('/ns/new?kind=SpicepodCluster')
  ).json()) as ClusterStatus;
  assert.is(early.scheduler, null);
  assert.is(early.executor, null);
  const objects = [
    cluster('named', { schedulerSpicepodsetName: 'custom-s', executorSpicepodsetName: 'custom-e' }),
    clusterSet('custom-s', 'scheduler', 1),
  ];
  const { get, calls } = handlerFor({ objects, pods: [] });
  const view = (await (await get('/ns/named?kind=spicepodcluster')).json()) as ClusterStatus;
  assert.is(view.scheduler!.name, 'custom-s');
  assert.is(view.executor, null);
  assert.equal(
    calls.getObject
      .filter(([kind]) => kind === 'SpicepodSet')
      .map(([, , name]) => name)
      .sort(),
    ['custom-e', 'custom-s'],
  );
});

// --- errors ---

test('an unknown set or cluster is 404 with a JSON error', async () => {
  const { get } = handlerFor({ objects: [set('app')], pods: [] });
  const r = await get('/ns/missing');
  assert.is(r.status, 404);
  assert.match(r.headers.get('content-type') ?? '', /application\/json/);
  assert.equal(await r.json(), { error: 'SpicepodSet ns/missing not found' });
  const c = await get('/ns/app?kind=SpicepodCluster');
  assert.is(c.status, 404);
  assert.equal(await c.json(), { error: 'SpicepodCluster ns/app not found' });
  const other = await get('/elsewhere/app');
  assert.is(other.status, 404);
});

test('an unknown kind is 400; so are names that cannot be Kubernetes names', async () => {
  const { get, calls } = handlerFor({ objects: [set('app')], pods: [] });
  const r = await get('/ns/app?kind=Deployment');
  assert.is(r.status, 400);
  assert.match(((await r.json()) as { error: string }).error, /unknown kind "Deployment"/);
  assert.is((await get('/ns/app?kind=SpicepodSet&kind=SpicepodCluster')).status, 400);
  assert.is((await get('/NS/app')).status, 400);
  assert.is((await get('/ns/app%2Cx')).status, 400);
  assert.is((await get('/ns/-app')).status, 400);
  assert.equal(calls.getObject, []);
  assert.is((await get('/ns/app?kind=SpicepodSet')).status, 200);
});

test('other paths are 404 and other methods 405, as JSON', async () => {
  const { get } = handlerFor({ objects: [set('app')], pods: [] });
  const root = await get('/');
  assert.is(root.status, 404);
  assert.match(((await root.json()) as { error: string }).error, /no route for \//);
  assert.is((await get('/a/b/c')).status, 404);
  const post = await get('/ns/app', { method: 'POST', body: '{}' });
  assert.is(post.status, 405);
  assert.is(post.headers.get('allow'), 'GET');
  assert.is((await get('/health', { method: 'DELETE' })).status, 405);
});

test('a failing read is a 500 with a JSON error, not a crash', async () => {
  const handle = createStatusHandler({
    getObject: () => {
      throw new Error('connect ECONNREFUSED 127.0.0.1:6443');
    },
    listPods: () => [],
    ready: () => true,
  });
  const r = await handle(new Request('http://operator/ns/app'));
  assert.is(r.status, 500);
  assert.equal(await r.json(), { error: 'status unavailable: connect ECONNREFUSED 127.0.0.1:6443' });
});

test.run();
