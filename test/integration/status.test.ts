// The status API and /metrics of `spiceai-operator run` against the real
// control plane. kwok's pods get IPs from 10.0.0.0/16 that belong to nothing
// here; the operator runs with a fetch that reaches loopback only
// (harness/loopback-fetch-guard.mjs), so those pods are reported unreachable
// without any traffic leaving the machine. Pods this test wants probed for
// real get a loopback IP (a status patch) where a fake spiced listens.
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { stringify } from 'yaml';
import type { ClusterStatus, SetStatus } from '../../functions/status/index.ts';
import { HANDLERS } from '../../shim/handlers.ts';
import { applyShippedCrds, eventually, freshNamespace, kubectl, kubectlJson, kubectlOk } from '../harness/kube.ts';
import { startOperator, type OperatorProcess } from '../harness/operator.ts';
import { checkMetrics, histogramCount, problemsOf, sampleValue, sumValues } from '../harness/prometheus.ts';

const OPERATOR_NS = 'spiceai-operator-system';
const spicepod = { version: 'v1', kind: 'Spicepod', name: 'app' };
const schedulerSpicepod = {
  version: 'v1',
  kind: 'Spicepod',
  name: 'app',
  runtime: { scheduler: { state_location: 'file:///tmp/spice-cluster' } },
};
/** The operator's default probe timeout is 1 s; an answer slower than this means a probe held it. */
const GENEROUS_MS = 15_000;
const withCluster = 'cluster' in HANDLERS;

let ns = '';
let operator: OperatorProcess | undefined;
const servers: Server[] = [];
const sockets = new Set<Socket>();
/** spiced's HTTP port in the sets below: a healthy fake on 127.0.0.1, a hanging one on 127.0.0.2, nothing on 127.0.0.3. */
let spicedPort = 0;

async function listen(server: Server, host: string, port: number): Promise<number> {
  servers.push(server);
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return (server.address() as AddressInfo).port;
}

const apply = (obj: Record<string, unknown>, namespace = ns) =>
  kubectlOk(['apply', '--server-side', '-n', namespace, '-f', '-'], stringify(obj));
const applySet = (name: string, spec: Record<string, unknown>, namespace = ns) =>
  apply({ apiVersion: 'spice.ai/v1', kind: 'SpicepodSet', metadata: { name }, spec: { spicepod, ...spec } }, namespace);
const pods = (selector: string) => kubectlJson(['get', 'pods', '-n', ns, '-l', selector]).items as any[];

async function get(path: string): Promise<{ status: number; body: any; ms: number }> {
  const started = performance.now();
  const r = await fetch(`http://127.0.0.1:${operator!.httpPort}${path}`);
  const text = await r.text();
  const ms = performance.now() - started;
  let body: unknown = text;
  if (r.headers.get('content-type')?.includes('application/json')) body = JSON.parse(text);
  return { status: r.status, body, ms };
}

async function scrape() {
  const r = await fetch(`http://127.0.0.1:${operator!.metricsPort}/metrics`);
  assert.is(r.status, 200);
  return checkMetrics(await r.text());
}

/** Gives a pod a loopback IP (kwok leaves a set IP alone) and waits until the operator's cache has it. */
async function setPodIp(pod: string, ip: string) {
  kubectlOk([
    'patch',
    'pod',
    pod,
    '-n',
    ns,
    '--subresource=status',
    '--type=merge',
    '-p',
    JSON.stringify({ status: { podIP: ip, podIPs: [{ ip }] } }),
  ]);
}

async function waitRunning(selector: string, count: number) {
  return eventually(
    `${count} Running pods (${selector})`,
    () => {
      const items = pods(selector).filter((p) => !p.metadata.deletionTimestamp);
      return items.length === count && items.every((p) => p.status?.phase === 'Running' && p.status?.podIP) ? items : undefined;
    },
    90_000,
    500,
  );
}

test.before(async () => {
  applyShippedCrds();
  kubectl(['create', 'namespace', OPERATOR_NS]);
  ns = freshNamespace('status');

  const healthy = createServer((req, res) => {
    if (req.url === '/health') return void res.writeHead(200).end('ok\n');
    if (req.url === '/v1/ready') return void res.writeHead(200).end('ready');
    res.writeHead(404).end();
  });
  spicedPort = await listen(healthy, '127.0.0.1', 0);
  await listen(
    createServer(() => {}),
    '127.0.0.2',
    spicedPort,
  ); // accepts, never answers

  const guard = new URL('../harness/loopback-fetch-guard.mjs', import.meta.url).href;
  const nodeOptions = process.env.NODE_OPTIONS;
  process.env.NODE_OPTIONS = `${nodeOptions ?? ''} --import ${guard}`.trim();
  try {
    operator = await startOperator([
      '--namespaces',
      ns,
      '--handlers',
      withCluster ? 'workloads,cluster' : 'workloads',
      '--no-leader-elect',
      '--pause-crashlooping-pods-threshold',
      '3',
    ]);
  } finally {
    if (nodeOptions === undefined) delete process.env.NODE_OPTIONS;
    else process.env.NODE_OPTIONS = nodeOptions;
  }
});

test.after(async () => {
  await operator?.stop();
  for (const s of sockets) s.destroy();
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  if (ns) kubectl(['delete', 'namespace', ns, '--wait=false']);
});

test('/health answers OK and /ready 200 once the caches are synced', async () => {
  const health = await get('/health');
  assert.is(health.status, 200);
  assert.is(health.body, 'OK');
  await eventually('/ready 200', async () => (await get('/ready')).status === 200);
  assert.is((await get('/ready')).body, 'ready');
});

test('a running set: every pod with its details; healthy, hanging and refusing spiced told apart, within the probe timeout', async () => {
  applySet('run', { replicas: 4, httpPort: spicedPort });
  const running = await waitRunning('spice.ai/app=run', 4);
  const names = running.map((p) => p.metadata.name).sort();
  assert.equal(names, ['run-0-0', 'run-1-0', 'run-2-0', 'run-3-0']);
  await setPodIp('run-0-0', '127.0.0.1'); // healthy fake spiced
  await setPodIp('run-1-0', '127.0.0.2'); // hangs
  await setPodIp('run-2-0', '127.0.0.3'); // nothing listens: refused
  // run-3-0 keeps its kwok IP (10.0.x.x): the guard blocks it, as no route would.

  const view = await eventually(
    'the patched IPs in the status answer',
    async () => {
      const r = await get(`/${ns}/run`);
      const byName = Object.fromEntries(((r.body as SetStatus).pods ?? []).map((p) => [p.name, p]));
      return r.status === 200 &&
        byName['run-0-0']?.ip === '127.0.0.1' &&
        byName['run-1-0']?.ip === '127.0.0.2' &&
        byName['run-2-0']?.ip === '127.0.0.3'
        ? r
        : undefined;
    },
    30_000,
    500,
  );
  assert.ok(view.ms < GENEROUS_MS, `answered in ${view.ms} ms`);
  const body = view.body as SetStatus & { observedAt: string };
  assert.is(body.kind, 'SpicepodSet');
  assert.is(body.namespace, ns);
  assert.is(body.name, 'run');
  assert.is(body.uid, kubectlJson(['get', 'spicepodset', 'run', '-n', ns]).metadata.uid);
  assert.is(body.paused, false);
  assert.is(body.role, null);
  assert.is(body.replicas.total, 4);
  assert.ok(!Number.isNaN(Date.parse(body.observedAt)));
  const byName = Object.fromEntries(body.pods.map((p) => [p.name, p]));
  const actual = Object.fromEntries(pods('spice.ai/app=run').map((p) => [p.metadata.name, p]));
  for (const name of names) {
    const p = byName[name]!;
    assert.is(p.uid, actual[name].metadata.uid);
    assert.is(p.phase, 'Running');
    assert.is(p.port, spicedPort);
    assert.is(p.startTime, actual[name].status.startTime);
    assert.is(p.podReady, true);
    assert.not.ok(p.error);
  }
  assert.is(byName['run-0-0']!.health, 'healthy');
  assert.is(byName['run-0-0']!.readiness, 'ready');
  assert.is(byName['run-1-0']!.health, 'unreachable');
  assert.is(byName['run-1-0']!.readiness, 'unreachable');
  assert.match(byName['run-1-0']!.probeMessage!, /timed out after 1000 ms/);
  assert.is(byName['run-2-0']!.health, 'unreachable');
  assert.match(byName['run-2-0']!.probeMessage!, /connection refused/);
  assert.is(byName['run-3-0']!.health, 'unreachable');
  assert.is(byName['run-3-0']!.readiness, 'unreachable');
  assert.match(byName['run-3-0']!.ip!, /^10\.0\./);
  assert.match(byName['run-3-0']!.probeMessage!, /not a loopback address/);
});

test('a crashlooping set: the pod error while it crashes, then paused: true with pauseReason CrashLooping', async () => {
  applySet('crash', { replicas: 1, labels: { 'kwok.spiceai.io/crashloop': 'true' } });
  const crashing = await eventually(
    'a CrashLoopBackOff in the status answer',
    async () => {
      const r = await get(`/${ns}/crash`);
      const pod = (r.body as SetStatus).pods?.[0];
      return r.status === 200 && pod?.error?.reason === 'CrashLoopBackOff' ? pod : undefined;
    },
    60_000,
    300,
  );
  assert.is(crashing.podReady, false);
  assert.is(crashing.health, 'unreachable');
  assert.ok(crashing.restarts >= 1);

  const metrics = await eventually(
    'dead-pod observations exported',
    async () => {
      const m = await scrape();
      return (sampleValue(m.families, 'spiceai_operator_dead_pod_observations', { namespace: ns, spicepodset: 'crash' }) ?? 0) > 0
        ? m
        : undefined;
    },
    60_000,
    500,
  );
  assert.ok(metrics);

  const paused = await eventually(
    'paused: CrashLooping',
    async () => {
      const r = await get(`/${ns}/crash`);
      return (r.body as SetStatus).paused ? (r.body as SetStatus) : undefined;
    },
    90_000,
    500,
  );
  assert.is(paused.pauseReason, 'CrashLooping');
  assert.is(paused.replicas.total, 1);
  await eventually('the crashing pod to go', async () => ((await get(`/${ns}/crash`)).body as SetStatus).pods.length === 0, 60_000, 500);
});

test('a set at replicas: 0 is paused with pauseReason ScaledToZero and has no pods', async () => {
  applySet('zero', { replicas: 0 });
  const view = await eventually('ScaledToZero', async () => {
    const r = await get(`/${ns}/zero`);
    return r.status === 200 && (r.body as SetStatus).pauseReason === 'ScaledToZero' ? (r.body as SetStatus) : undefined;
  });
  assert.is(view.paused, true);
  assert.equal(view.pods, []);
  assert.equal(view.replicas, { ready: 0, total: 0 });
});

test('a cluster: its scheduler and executor pods grouped by role; the scheduler probed, executors not', async () => {
  if (withCluster) {
    apply({
      apiVersion: 'spice.ai/v1alpha1',
      kind: 'SpicepodCluster',
      metadata: { name: 'dq' },
      spec: {
        allowInsecureConnections: true,
        schedulerSetSpec: { replicas: 1, httpPort: spicedPort, spicepod: schedulerSpicepod },
        executorSetSpec: { replicas: 2 },
      },
    });
  } else {
    // Without the cluster handler: the cluster object and the two child sets it would create.
    apply({
      apiVersion: 'spice.ai/v1alpha1',
      kind: 'SpicepodCluster',
      metadata: { name: 'dq' },
      spec: {
        allowInsecureConnections: true,
        schedulerSetSpec: { replicas: 1, spicepod: schedulerSpicepod },
        executorSetSpec: { replicas: 2 },
      },
    });
    // Owned by the cluster, as the cluster handler makes them: a SpicepodSet with spec.cluster of its own is refused.
    const uid = kubectlJson(['get', 'spicepodcluster', 'dq', '-n', ns]).metadata.uid;
    const owned = (name: string, spec: Record<string, unknown>) =>
      apply({
        apiVersion: 'spice.ai/v1',
        kind: 'SpicepodSet',
        metadata: {
          name,
          ownerReferences: [{ apiVersion: 'spice.ai/v1alpha1', kind: 'SpicepodCluster', name: 'dq', uid, controller: true }],
        },
        spec: { spicepod, ...spec },
      });
    owned('dq-scheduler', {
      replicas: 1,
      httpPort: spicedPort,
      cluster: { role: 'scheduler', clusterName: 'dq', allowInsecureConnections: true },
    });
    owned('dq-executor', { replicas: 2, cluster: { role: 'executor', clusterName: 'dq', allowInsecureConnections: true } });
  }
  await waitRunning('spice.ai/cluster=dq,spice.ai/cluster-role=scheduler', 1);
  await waitRunning('spice.ai/cluster=dq,spice.ai/cluster-role=executor', 2);
  await setPodIp('dq-scheduler-0-0', '127.0.0.1');

  const r = await eventually(
    'the scheduler healthy in the cluster answer',
    async () => {
      const answer = await get(`/${ns}/dq?kind=SpicepodCluster`);
      const body = answer.body as ClusterStatus;
      return answer.status === 200 && body.scheduler?.pods[0]?.health === 'healthy' && body.executor?.pods.length === 2
        ? answer
        : undefined;
    },
    60_000,
    500,
  );
  assert.ok(r.ms < GENEROUS_MS, `answered in ${r.ms} ms`);
  const body = r.body as ClusterStatus;
  assert.is(body.kind, 'SpicepodCluster');
  assert.is(body.name, 'dq');
  assert.is(body.uid, kubectlJson(['get', 'spicepodcluster', 'dq', '-n', ns]).metadata.uid);
  assert.is(body.scheduler!.name, 'dq-scheduler');
  assert.is(body.scheduler!.role, 'scheduler');
  assert.equal(
    body.scheduler!.pods.map((p) => [p.name, p.health, p.readiness]),
    [['dq-scheduler-0-0', 'healthy', 'ready']],
  );
  assert.is(body.executor!.name, 'dq-executor');
  assert.is(body.executor!.role, 'executor');
  assert.equal(
    body.executor!.pods.map((p) => [p.name, p.phase, p.health, p.readiness]),
    [
      ['dq-executor-0-0', 'Running', 'not-probed', 'not-probed'],
      ['dq-executor-1-0', 'Running', 'not-probed', 'not-probed'],
    ],
  );
});

test('unknown objects are 404 and unknown kinds 400, as JSON', async () => {
  const missing = await get(`/${ns}/nope`);
  assert.is(missing.status, 404);
  assert.equal(missing.body, { error: `SpicepodSet ${ns}/nope not found` });
  const cluster = await get(`/${ns}/run?kind=SpicepodCluster`);
  assert.is(cluster.status, 404);
  assert.equal(cluster.body, { error: `SpicepodCluster ${ns}/run not found` });
  const kind = await get(`/${ns}/run?kind=Deployment`);
  assert.is(kind.status, 400);
  assert.match(kind.body.error, /unknown kind/);
});

test('watched namespaces are answered from the caches; others from the API server', async () => {
  const before = await scrape();
  const reads = (m: Awaited<ReturnType<typeof scrape>>) =>
    (histogramCount(m.families, 'spiceai_operator_kubernetes_request_duration_seconds', { verb: 'get' }) ?? 0) +
    (histogramCount(m.families, 'spiceai_operator_kubernetes_request_duration_seconds', { verb: 'list' }) ?? 0);
  for (let i = 0; i < 3; i++) assert.is((await get(`/${ns}/run`)).status, 200);
  assert.is(reads(await scrape()), reads(before));

  const other = freshNamespace('status-other');
  try {
    applySet('elsewhere', { replicas: 0 }, other);
    const r = await get(`/${other}/elsewhere`);
    assert.is(r.status, 200);
    assert.is((r.body as SetStatus).name, 'elsewhere');
    assert.is((r.body as SetStatus).paused, true);
    assert.ok(reads(await scrape()) > reads(before));
  } finally {
    kubectl(['delete', 'namespace', other, '--wait=false']);
  }
});

test('/metrics parses with the Prometheus parser, passes promlint, and its counters move when reconciles happen', async () => {
  const before = await scrape();
  assert.equal(problemsOf(before, ['spiceai_operator_', 'workqueue_']), []);
  for (const name of [
    'spiceai_operator_reconcile_duration_seconds',
    'spiceai_operator_reconcile_total',
    'workqueue_depth',
    'workqueue_adds_total',
    'workqueue_retries_total',
    'workqueue_queue_duration_seconds',
    'workqueue_work_duration_seconds',
    'spiceai_operator_kubernetes_request_duration_seconds',
    'spiceai_operator_managed_objects',
    'spiceai_operator_dead_pod_observations',
    'process_cpu_seconds_total',
    'process_resident_memory_bytes',
  ]) {
    assert.ok(before.families.has(name), `${name} is exported`);
  }
  assert.ok((sampleValue(before.families, 'spiceai_operator_managed_objects', { controller: 'workloads', kind: 'SpicepodSet' }) ?? 0) >= 3);
  assert.ok(
    (histogramCount(before.families, 'spiceai_operator_kubernetes_request_duration_seconds', { verb: 'apply', code: '200' }) ?? 0) > 0,
  );
  const reconciles = (m: typeof before) => sumValues(m.families, 'spiceai_operator_reconcile_total', { controller: 'workloads' });
  const adds = (m: typeof before) => sumValues(m.families, 'workqueue_adds_total', { name: 'workloads' });
  const durations = (m: typeof before) =>
    histogramCount(m.families, 'spiceai_operator_reconcile_duration_seconds', { controller: 'workloads' }) ?? 0;

  applySet('run', { replicas: 4, httpPort: spicedPort, annotations: { 'example.com/touched': String(Date.now()) } });
  const after = await eventually(
    'reconcile counters to move',
    async () => {
      const m = await scrape();
      return reconciles(m) > reconciles(before) ? m : undefined;
    },
    60_000,
    500,
  );
  assert.ok(adds(after) > adds(before));
  assert.ok(durations(after) > durations(before));
  assert.ok((sampleValue(after.families, 'spiceai_operator_reconcile_total', { controller: 'workloads', result: 'success' }) ?? 0) > 0);
});

test.run();
