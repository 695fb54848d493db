// The operator's /metrics (shim/metrics.ts) read back with a Prometheus
// text-format parser, the gauges fed from caches at scrape time, and the
// cache reader the status API and those gauges use (shim/cache-reader.ts).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { TypeRef } from '../../core/handler.ts';
import { CacheReader, selectorImpliedBy, toLabelSelector } from '../../shim/cache-reader.ts';
import type { Informer } from '../../shim/informer.ts';
import type { KObject, KubeClient } from '../../shim/kube/client.ts';
import { OperatorMetrics } from '../../shim/metrics.ts';
import { deadPodSamples } from '../../shim/status.ts';
import { checkMetrics, histogramCount, problemsOf, sampleValue } from '../harness/prometheus.ts';

async function scrape(metrics: OperatorMetrics) {
  return checkMetrics(await metrics.registry.metrics()).families;
}

test('every family parses, has the documented type and labels, and follows the naming conventions', async () => {
  const metrics = new OperatorMetrics();
  const c = metrics.forController('workloads');
  c.queue!.onAdd!();
  c.queue!.onAdd!();
  c.queue!.onRetry!();
  c.queue!.onDepth!(3);
  c.queue!.onQueueLatency!(0.02);
  c.queue!.onWorkDuration!(0.5);
  c.onReconcile!('workloads', 'success', 0.04);
  c.onReconcile!('workloads', 'error', 0.2);
  c.onManaged!('workloads', { Deployment: 2, SpicepodSet: 2 });
  metrics.onRequest({ verb: 'apply', code: 200, seconds: 0.01 } as Parameters<typeof metrics.onRequest>[0]);
  metrics.clusterCaExpiry.provide(() => [{ labels: { namespace: 'ns', cluster: 'dq' }, value: 2_000_000_000 }]);
  metrics.nodeCertificateExpiry.provide(() => [
    { labels: { namespace: 'ns', cluster: 'dq', node: 'dq-scheduler-0-0' }, value: 1_900_000_000 },
  ]);
  metrics.deadPodObservations.provide(() => [{ labels: { namespace: 'ns', spicepodset: 'app' }, value: 4 }]);

  const checked = checkMetrics(await metrics.registry.metrics());
  const families = checked.families;
  const expected: [string, string, string[]][] = [
    ['spiceai_operator_reconcile_duration_seconds', 'HISTOGRAM', ['controller']],
    ['spiceai_operator_reconcile_total', 'COUNTER', ['controller', 'result']],
    ['workqueue_depth', 'GAUGE', ['name', 'controller', 'priority']],
    ['workqueue_adds_total', 'COUNTER', ['name', 'controller']],
    ['workqueue_retries_total', 'COUNTER', ['name', 'controller']],
    ['workqueue_queue_duration_seconds', 'HISTOGRAM', ['name', 'controller']],
    ['workqueue_work_duration_seconds', 'HISTOGRAM', ['name', 'controller']],
    ['spiceai_operator_kubernetes_request_duration_seconds', 'HISTOGRAM', ['verb', 'code']],
    ['spiceai_operator_managed_objects', 'GAUGE', ['controller', 'kind']],
    ['spiceai_operator_cluster_ca_expiry_timestamp_seconds', 'GAUGE', ['namespace', 'cluster']],
    ['spiceai_operator_cluster_node_certificate_expiry_timestamp_seconds', 'GAUGE', ['namespace', 'cluster', 'node']],
    ['spiceai_operator_dead_pod_observations', 'GAUGE', ['namespace', 'spicepodset']],
    ['process_cpu_seconds_total', 'COUNTER', []],
    ['process_resident_memory_bytes', 'GAUGE', []],
  ];
  for (const [name, type, labels] of expected) {
    const family = families.get(name);
    assert.ok(family, `${name} is exported`);
    assert.is(family!.type, type, name);
    assert.ok(family!.help.length > 0, `${name} has help`);
    const seen = Object.keys(family!.metrics[0]?.labels ?? {});
    assert.equal(seen.sort(), [...labels].sort(), `${name} labels`);
  }
  // promlint: what `promtool check metrics` reports (suffixes, base units, snake_case, help).
  assert.equal(problemsOf(checked, ['spiceai_operator_', 'workqueue_', 'process_']), []);

  assert.is(sampleValue(families, 'spiceai_operator_reconcile_total', { controller: 'workloads', result: 'success' }), 1);
  assert.is(sampleValue(families, 'spiceai_operator_reconcile_total', { controller: 'workloads', result: 'error' }), 1);
  assert.is(histogramCount(families, 'spiceai_operator_reconcile_duration_seconds', { controller: 'workloads' }), 2);
  assert.is(sampleValue(families, 'workqueue_adds_total', { name: 'workloads' }), 2);
  assert.is(sampleValue(families, 'workqueue_retries_total', { name: 'workloads' }), 1);
  assert.is(sampleValue(families, 'workqueue_depth', { name: 'workloads' }), 3);
  assert.is(histogramCount(families, 'spiceai_operator_kubernetes_request_duration_seconds', { verb: 'apply', code: '200' }), 1);
  assert.is(sampleValue(families, 'spiceai_operator_managed_objects', { controller: 'workloads', kind: 'Deployment' }), 2);
  assert.is(
    sampleValue(families, 'spiceai_operator_cluster_ca_expiry_timestamp_seconds', { namespace: 'ns', cluster: 'dq' }),
    2_000_000_000,
  );
  assert.is(
    sampleValue(families, 'spiceai_operator_cluster_node_certificate_expiry_timestamp_seconds', { node: 'dq-scheduler-0-0' }),
    1_900_000_000,
  );
  assert.is(sampleValue(families, 'spiceai_operator_dead_pod_observations', { namespace: 'ns', spicepodset: 'app' }), 4);
});

test("a controller's counters exist at zero before anything happens", async () => {
  const metrics = new OperatorMetrics();
  metrics.forController('pki');
  const families = await scrape(metrics);
  assert.is(sampleValue(families, 'workqueue_retries_total', { name: 'pki' }), 0);
  assert.is(sampleValue(families, 'workqueue_adds_total', { name: 'pki' }), 0);
  assert.is(sampleValue(families, 'spiceai_operator_reconcile_total', { controller: 'pki', result: 'error' }), 0);
  assert.is(sampleValue(families, 'spiceai_operator_reconcile_total', { controller: 'pki', result: 'success' }), 0);
});

test('the parser refuses what is not text format, and promlint flags names that break the conventions', () => {
  assert.throws(() => checkMetrics('# TYPE x counter\nx{a="1" 2\n'), /not valid Prometheus text format/);
  const checked = checkMetrics(
    [
      '# HELP spiceai_operator_things things',
      '# TYPE spiceai_operator_things counter',
      'spiceai_operator_things 1',
      '# HELP spiceai_operator_reconcile_duration_milliseconds latency',
      '# TYPE spiceai_operator_reconcile_duration_milliseconds gauge',
      'spiceai_operator_reconcile_duration_milliseconds 1',
      '',
    ].join('\n'),
  );
  const problems = problemsOf(checked, ['spiceai_operator_']);
  assert.ok(
    problems.some((p) => p.startsWith('spiceai_operator_things: counter metrics should have "_total" suffix')),
    problems.join('\n'),
  );
  assert.ok(
    problems.some((p) => p.startsWith('spiceai_operator_reconcile_duration_milliseconds: use base unit')),
    problems.join('\n'),
  );
});

test('provided gauges are read at scrape time: a removed provider or a vanished object leaves no series, a failing one loses only its own', async () => {
  const metrics = new OperatorMetrics();
  let clusters = [
    { labels: { namespace: 'ns', cluster: 'a' }, value: 100 },
    { labels: { namespace: 'ns', cluster: 'b' }, value: 200 },
  ];
  const remove = metrics.clusterCaExpiry.provide(() => clusters);
  metrics.clusterCaExpiry.provide(async () => {
    throw new Error('cache not ready');
  });
  metrics.clusterCaExpiry.provide(async () => [{ labels: { namespace: 'other', cluster: 'c' }, value: 300 }]);
  let families = await scrape(metrics);
  assert.is(sampleValue(families, 'spiceai_operator_cluster_ca_expiry_timestamp_seconds', { cluster: 'a' }), 100);
  assert.is(sampleValue(families, 'spiceai_operator_cluster_ca_expiry_timestamp_seconds', { cluster: 'b' }), 200);
  assert.is(sampleValue(families, 'spiceai_operator_cluster_ca_expiry_timestamp_seconds', { cluster: 'c' }), 300);
  clusters = [{ labels: { namespace: 'ns', cluster: 'a' }, value: 150 }];
  families = await scrape(metrics);
  assert.is(sampleValue(families, 'spiceai_operator_cluster_ca_expiry_timestamp_seconds', { cluster: 'a' }), 150);
  assert.is(sampleValue(families, 'spiceai_operator_cluster_ca_expiry_timestamp_seconds', { cluster: 'b' }), undefined);
  remove();
  families = await scrape(metrics);
  assert.is(sampleValue(families, 'spiceai_operator_cluster_ca_expiry_timestamp_seconds', { cluster: 'a' }), undefined);
  assert.is(sampleValue(families, 'spiceai_operator_cluster_ca_expiry_timestamp_seconds', { cluster: 'c' }), 300);
});

// --- the cache reader ---

test('selectorImpliedBy: equality and existence requirements; anything else is not implied', () => {
  assert.ok(selectorImpliedBy(undefined, {}));
  assert.ok(selectorImpliedBy('', { a: '1' }));
  assert.ok(selectorImpliedBy('spice.ai/app', { 'spice.ai/app': 'x' }));
  assert.not.ok(selectorImpliedBy('spice.ai/app', { 'spice.ai/cluster': 'x' }));
  assert.ok(selectorImpliedBy('spice.ai/handler=workloads', { 'spice.ai/handler': 'workloads', a: 'b' }));
  assert.ok(selectorImpliedBy('a==b, c', { a: 'b', c: '' }));
  assert.not.ok(selectorImpliedBy('spice.ai/handler=workloads', { 'spice.ai/handler': 'cluster' }));
  assert.not.ok(selectorImpliedBy('a!=b', { a: 'c' }));
  assert.not.ok(selectorImpliedBy('a in (b)', { a: 'b' }));
  assert.not.ok(selectorImpliedBy('!a', {}));
  assert.is(toLabelSelector({ 'spice.ai/app': 'x', b: 'c' }), 'spice.ai/app=x,b=c');
});

const POD: TypeRef = { apiVersion: 'v1', kind: 'Pod' };
const SET: TypeRef = { apiVersion: 'spice.ai/v1', kind: 'SpicepodSet' };

function fakeInformer(type: TypeRef, scope: { namespace?: string; labelSelector?: string }, objects: KObject[], synced = true): Informer {
  const key = (ns: string | undefined, name: string) => `${ns}/${name}`;
  const byKey = new Map(objects.map((o) => [key(o.metadata.namespace, o.metadata.name), o]));
  return {
    ref: { ...type, group: '', version: '', plural: '', namespaced: true },
    scope,
    hasSynced: () => synced,
    get: (ns: string | undefined, name: string) => byKey.get(key(ns, name)),
    list: () => [...byKey.values()],
    listBy: (predicate: (o: KObject) => boolean) => [...byKey.values()].filter(predicate),
  } as unknown as Informer;
}

function fakeClient() {
  const calls: string[] = [];
  const client = {
    get: async (apiVersion: string, kind: string, ns: string, name: string) => {
      calls.push(`get ${apiVersion} ${kind} ${ns}/${name}`);
      return undefined;
    },
    list: async (type: TypeRef, options: { namespace?: string; labelSelector?: string }) => {
      calls.push(`list ${type.kind} ${options.namespace} ${options.labelSelector}`);
      return { items: [], resourceVersion: '1' };
    },
  } as unknown as KubeClient;
  return { client, calls };
}

const obj = (
  type: TypeRef,
  namespace: string,
  name: string,
  labels: Record<string, string> = {},
  uid = `${namespace}-${name}`,
): KObject => ({
  apiVersion: type.apiVersion,
  kind: type.kind,
  metadata: { name, namespace, labels, uid },
});

test('CacheReader answers from a cache only when it is sure to hold the answer, and asks the API server otherwise', async () => {
  const setA = obj(SET, 'watched', 'a');
  const childSet = obj(SET, 'watched', 'dq-scheduler', { 'spice.ai/handler': 'cluster' });
  const podA = obj(POD, 'watched', 'a-0', { 'spice.ai/app': 'a' });
  const podB = obj(POD, 'watched', 'b-0', { 'spice.ai/app': 'b' });
  const informers = [
    fakeInformer(SET, { labelSelector: 'spice.ai/handler=cluster' }, [childSet]),
    fakeInformer(SET, { namespace: 'watched' }, [setA]),
    fakeInformer(POD, { namespace: 'watched', labelSelector: 'spice.ai/app' }, [podA, podB]),
  ];
  const { client, calls } = fakeClient();
  const reader = new CacheReader(() => informers, client);

  assert.is(await reader.get(SET, 'watched', 'a'), setA);
  assert.is(await reader.get(SET, 'watched', 'dq-scheduler'), childSet);
  assert.is(await reader.get(SET, 'watched', 'gone'), undefined); // the unfiltered cache of that namespace is sure
  assert.equal(calls, []);
  assert.is(await reader.get(SET, 'elsewhere', 'a'), undefined);
  assert.equal(calls, ['get spice.ai/v1 SpicepodSet elsewhere/a']);

  assert.equal(await reader.list(POD, 'watched', { 'spice.ai/app': 'a' }), [podA]);
  assert.equal(await reader.list(POD, 'watched', { 'spice.ai/app': 'c' }), []);
  assert.is(calls.length, 1);
  // Without the label the cache selects on, it cannot be sure.
  await reader.list(POD, 'watched', { 'spice.ai/cluster': 'dq' });
  assert.is(calls[1], 'list Pod watched spice.ai/cluster=dq');
  assert.equal(reader.counters, { cache: 5, api: 2 });
});

test('CacheReader does not trust a cache that has not synced', async () => {
  const { client, calls } = fakeClient();
  const reader = new CacheReader(() => [fakeInformer(SET, {}, [obj(SET, 'ns', 'a')], false), fakeInformer(POD, {}, [], false)], client);
  await reader.get(SET, 'ns', 'a');
  await reader.list(POD, 'ns', { 'spice.ai/app': 'a' });
  assert.equal(calls, ['get spice.ai/v1 SpicepodSet ns/a', 'list Pod ns spice.ai/app=a']);
});

// --- dead-pod observations ---

const deadPod = (ns: string, name: string, app: string, restarts: number, ready: boolean, phase = 'Running'): KObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: ns, uid: `${ns}-${name}`, labels: { 'spice.ai/app': app } },
  status: {
    phase,
    conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }],
    containerStatuses: [{ name: 'spiced', restartCount: restarts }],
  },
});

test('dead-pod observations per SpicepodSet count restarts and failures of pods that are not Ready', () => {
  const sets = [obj(SET, 'ns', 'loop'), obj(SET, 'ns', 'fine'), obj(SET, 'other', 'loop')];
  const pods = [
    deadPod('ns', 'loop-0', 'loop', 3, false),
    deadPod('ns', 'loop-1', 'loop', 2, false, 'Failed'),
    deadPod('ns', 'fine-0', 'fine', 5, true),
    deadPod('other', 'loop-0', 'loop', 1, false),
    deadPod('ns', 'spiceai-operator-0', 'spiceai-operator', 9, false),
  ];
  const { client } = fakeClient();
  const reader = new CacheReader(() => [fakeInformer(SET, {}, sets), fakeInformer(POD, { labelSelector: 'spice.ai/app' }, pods)], client);
  const samples = deadPodSamples(reader).map((s) => [s.labels.namespace, s.labels.spicepodset, s.value]);
  assert.equal(samples.sort(), [
    ['ns', 'fine', 0],
    ['ns', 'loop', 6],
    ['other', 'loop', 1],
  ]);
  // Deaths accounted for when the pods were last Ready (the set's status) do not count.
  const withBaselines = [{ ...obj(SET, 'ns', 'loop'), status: { crashloopBaselines: [{ pod: 'loop-0', uid: 'ns-loop-0', deaths: 2 }] } }];
  const counted = new CacheReader(
    () => [fakeInformer(SET, {}, withBaselines), fakeInformer(POD, { labelSelector: 'spice.ai/app' }, pods)],
    client,
  );
  assert.equal(
    deadPodSamples(counted).map((s) => s.value),
    [4],
    '3 - 2 restarts of loop-0, and the failed loop-1 (2 restarts + 1)',
  );
  // No pod cache here: no series rather than zeros that would look like health.
  const noPods = new CacheReader(() => [fakeInformer(SET, {}, sets)], client);
  assert.equal(deadPodSamples(noPods), []);
});

test.run();
