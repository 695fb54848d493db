// Benchmarks of the workloads handler on a real control plane (prints figures, asserts nothing):
//  1. convergence: 200 SpicepodSets until every child exists, against a baseline client that
//     creates the same children directly, in the same run; prints operator / baseline (target <= 1.2);
//  2. steady state: writes the operator issues over 60 s with those 200 sets unchanged (target 0);
//  3. memory: the operator's RSS with 1,000 SpicepodSets and their children cached (target <= 150 MiB).
//
//   node --import tsx bench/workloads.ts [--sets 200] [--memory-sets 1000] [--steady-seconds 60]
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { desiredConfigMap, desiredDeployment, desiredService, revisionedTemplate, deploymentSelector } from '../core/manifests/spicepodset.ts';
import { normalizeSpicepodSetSpec } from '../core/spec/normalize.ts';
import { startControlPlane } from '../test/controlplane/cluster.ts';
import { startOperator } from '../test/harness/operator.ts';
import { KubeClient, type KObject } from '../shim/kube/client.ts';
import { loadKubeConfig } from '../shim/kube/kubeconfig.ts';
import { auditWrites } from '../test/harness/kube.ts';

const { values } = parseArgs({ options: { sets: { type: 'string', default: '200' }, 'memory-sets': { type: 'string', default: '1000' }, 'steady-seconds': { type: 'string', default: '60' } } });
const SETS = Number(values.sets);
const MEMORY_SETS = Number(values['memory-sets']);
const STEADY_SECONDS = Number(values['steady-seconds']);
const WORKERS = 2; // the operator's default worker count; the baseline gets the same concurrency

// The operator runs as its bundled build, as the image ships it (tsx's transpiler would inflate its memory).
const bundle = new URL('../dist/spiceai-operator.mjs', import.meta.url).pathname;
execFileSync(process.execPath, [new URL('../scripts/bundle.mjs', import.meta.url).pathname], { cwd: new URL('..', import.meta.url).pathname, stdio: 'ignore' });
process.env.SPICEAI_OPERATOR_BIN = bundle;

const cp = await startControlPlane({ stateDir: new URL('../.cache/bench-cluster', import.meta.url).pathname, attached: true, log: () => {} });
process.env.SPICEAI_TEST_KUBECONFIG = cp.kubeconfigPath;
process.env.SPICEAI_TEST_AUDIT_LOG = cp.auditLogPath;
const client = new KubeClient(loadKubeConfig(cp.kubeconfigPath), { userAgent: 'bench-baseline' });
const config = { operatorNamespace: 'default', clusterDomain: 'cluster.local', pauseCrashloopingPodsThreshold: 10, telemetryProperties: {} };
const spicepod = { version: 'v1', kind: 'Spicepod', name: 'bench' };

async function pool<T>(items: T[], n: number, fn: (item: T) => Promise<unknown>) {
  const queue = [...items];
  await Promise.all(Array.from({ length: n }, async () => {
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) await fn(item);
  }));
}
const names = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);
async function count(kind: string, apiVersion: string, namespace: string, labelSelector?: string) {
  return (await client.list({ apiVersion, kind }, { namespace, labelSelector })).items.length;
}
async function waitFor(what: string, probe: () => Promise<boolean>, timeoutMs = 600_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
async function namespace(name: string) {
  await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
}

try {
  for (const crd of ['spicepodsets.spice.ai.yaml', 'spicepodclusters.spice.ai.yaml']) {
    const { parse } = await import('yaml');
    await client.apply(parse(readFileSync(new URL(`../crds/${crd}`, import.meta.url), 'utf8')) as KObject, { fieldManager: 'bench' });
  }
  await new Promise((r) => setTimeout(r, 2000));
  await namespace('spiceai-operator-system');

  // 1a. Baseline: the same three children per set, created directly.
  await namespace('baseline');
  const spec = normalizeSpicepodSetSpec({ spicepod, replicas: 0 });
  if (!spec.ok) throw new Error('bad bench spec');
  const started = performance.now();
  await pool(names('set', SETS), WORKERS, async (set) => {
    const ctx = { set, namespace: 'baseline', spec: spec.spec, config };
    const { template } = await revisionedTemplate(ctx, deploymentSelector(set));
    for (const obj of [desiredConfigMap(ctx), desiredService(ctx), desiredDeployment(ctx, template, 0)]) {
      await client.apply(obj as KObject, { fieldManager: 'bench-baseline' });
    }
  });
  const baselineMs = performance.now() - started;

  // 1b. The operator: create the sets, time until every child exists.
  await namespace('operator');
  const operator = await startOperator(['--namespaces', 'operator,memory', '--operator-namespace', 'spiceai-operator-system']);
  await operator.waitForLog((l) => l.msg === 'became leader', 60_000);
  const opStarted = performance.now();
  await pool(names('set', SETS), WORKERS, (set) =>
    client.create({ apiVersion: 'spice.ai/v1', kind: 'SpicepodSet', metadata: { name: set, namespace: 'operator' }, spec: { spicepod, replicas: 0 } }),
  );
  await waitFor('every child', async () =>
    (await count('ConfigMap', 'v1', 'operator', 'spice.ai/app')) >= SETS &&
    (await count('Service', 'v1', 'operator', 'spice.ai/app')) >= SETS &&
    (await count('Deployment', 'apps/v1', 'operator', 'spice.ai/app')) >= SETS,
  );
  const operatorMs = performance.now() - opStarted;
  console.log(`convergence: ${SETS} sets; operator ${(operatorMs / 1000).toFixed(2)}s, baseline ${(baselineMs / 1000).toFixed(2)}s; ratio ${(operatorMs / baselineMs).toFixed(2)} (target <= 1.2)`);

  // 2. Steady state: nothing changes, nothing may be written (Lease renewals aside).
  await waitFor('statuses to settle', async () => {
    const sets = (await client.list({ apiVersion: 'spice.ai/v1', kind: 'SpicepodSet' }, { namespace: 'operator' })).items;
    return sets.every((s: any) => s.status?.observedGeneration === s.metadata.generation);
  });
  await new Promise((r) => setTimeout(r, 5000));
  const since = Date.now();
  await new Promise((r) => setTimeout(r, STEADY_SECONDS * 1000));
  const writes = auditWrites(since, (e) => !!e.userAgent?.startsWith('spiceai-operator') && e.objectRef?.resource !== 'leases');
  console.log(`steady state: ${writes.length} writes in ${STEADY_SECONDS}s with ${SETS} unchanged sets (target 0)`);

  // 3. Memory with many sets and their children cached.
  await namespace('memory');
  await pool(names('m', MEMORY_SETS), 4, (set) =>
    client.create({ apiVersion: 'spice.ai/v1', kind: 'SpicepodSet', metadata: { name: set, namespace: 'memory' }, spec: { spicepod, replicas: 0 } }),
  );
  await waitFor('memory children', async () => (await count('Deployment', 'apps/v1', 'memory', 'spice.ai/app')) >= MEMORY_SETS, 1_200_000);
  await new Promise((r) => setTimeout(r, 10_000));
  const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${operator.child.pid}/status`, 'utf8'))![1]) / 1024;
  // The operator's own view (prom-client process metrics): how much of that is live JavaScript heap.
  const metrics = await (await fetch(`http://127.0.0.1:${operator.metricsPort}/metrics`)).text();
  const heapUsed = Number(/^nodejs_heap_size_used_bytes (\S+)/m.exec(metrics)?.[1] ?? NaN) / 2 ** 20;
  console.log(`memory: operator RSS ${rss.toFixed(0)} MiB (V8 heap in use ${heapUsed.toFixed(0)} MiB) with ${MEMORY_SETS + SETS} SpicepodSets and their children cached (target <= 150 MiB RSS)`);
  await operator.stop();
} finally {
  client.close();
  await cp.stop();
}
