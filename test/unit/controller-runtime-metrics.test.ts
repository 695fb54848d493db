// The operator's /metrics speaks controller-runtime's dialect: the families a
// controller-runtime manager exports, with the same names, types, label names
// and buckets, so the dashboards and alerts platform teams already run for
// their other controllers work on ours. Expected set written down from
// controller-runtime's source (files and commits below), read through
// Prometheus's own text-format parser (test/tools/promcheck).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { OperatorMetrics } from '../../shim/metrics.ts';
import { WorkQueue } from '../../shim/queue.ts';
import { KUBEBUILDER_DASHBOARD_QUERIES } from '../harness/dashboards.ts';
import { checkMetrics, parsePromql, problemsOf, sampleValue, selectorMatches, type MetricFamily } from '../harness/prometheus.ts';

interface Expected {
  name: string;
  type: MetricFamily['type'];
  labels: string[];
  buckets?: number[];
  source: string;
}

const CR = 'kubernetes-sigs/controller-runtime';
const RECONCILE = `${CR} pkg/internal/controller/metrics/metrics.go @ 03fe4cedb03ba7c8e799f9caf48505bb712a0c76`;
const WORKQUEUE = `${CR} pkg/metrics/workqueue.go @ 09e935a36c40dbbe122e677bfecdf085b18f6421`;
const CLIENT_GO = `${CR} pkg/metrics/client_go_adapter.go @ 0d89471258e177b9d8086c3ce9ef6f13576312a6`;
const LEADER = `${CR} pkg/metrics/leaderelection.go @ 645b7230d6e57394b7ed00fd8b5f12986a4dbb3d`;
const WEBHOOK = `${CR} pkg/webhook/internal/metrics/metrics.go @ 16f73213e2983c485a0a93d0f21236268b6834c7`;

// The literal bucket lists from those files (not our constants: a typo in ours must fail here).
const RECONCILE_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0, 3.5,
  4.0, 4.5, 5, 6, 7, 8, 9, 10, 15, 20, 25, 30, 40, 50, 60,
];
// prometheus.ExponentialBuckets(10e-9, 10, 12)
const EXPONENTIAL_10NS = [1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1, 10, 100, 1000];
// prometheus.DefBuckets (client_golang prometheus/histogram.go)
const DEF_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

const EXPECTED: Expected[] = [
  { name: 'controller_runtime_reconcile_total', type: 'COUNTER', labels: ['controller', 'result'], source: RECONCILE },
  { name: 'controller_runtime_reconcile_errors_total', type: 'COUNTER', labels: ['controller'], source: RECONCILE },
  { name: 'controller_runtime_terminal_reconcile_errors_total', type: 'COUNTER', labels: ['controller'], source: RECONCILE },
  { name: 'controller_runtime_reconcile_panics_total', type: 'COUNTER', labels: ['controller'], source: RECONCILE },
  {
    name: 'controller_runtime_reconcile_time_seconds',
    type: 'HISTOGRAM',
    labels: ['controller'],
    buckets: RECONCILE_BUCKETS,
    source: RECONCILE,
  },
  { name: 'controller_runtime_max_concurrent_reconciles', type: 'GAUGE', labels: ['controller'], source: RECONCILE },
  { name: 'controller_runtime_active_workers', type: 'GAUGE', labels: ['controller'], source: RECONCILE },
  { name: 'workqueue_depth', type: 'GAUGE', labels: ['name', 'controller', 'priority'], source: WORKQUEUE },
  { name: 'workqueue_adds_total', type: 'COUNTER', labels: ['name', 'controller'], source: WORKQUEUE },
  {
    name: 'workqueue_queue_duration_seconds',
    type: 'HISTOGRAM',
    labels: ['name', 'controller'],
    buckets: EXPONENTIAL_10NS,
    source: WORKQUEUE,
  },
  {
    name: 'workqueue_work_duration_seconds',
    type: 'HISTOGRAM',
    labels: ['name', 'controller'],
    buckets: EXPONENTIAL_10NS,
    source: WORKQUEUE,
  },
  { name: 'workqueue_unfinished_work_seconds', type: 'GAUGE', labels: ['name', 'controller'], source: WORKQUEUE },
  { name: 'workqueue_longest_running_processor_seconds', type: 'GAUGE', labels: ['name', 'controller'], source: WORKQUEUE },
  { name: 'workqueue_retries_total', type: 'COUNTER', labels: ['name', 'controller'], source: WORKQUEUE },
  { name: 'rest_client_requests_total', type: 'COUNTER', labels: ['code', 'method', 'host'], source: CLIENT_GO },
  { name: 'leader_election_master_status', type: 'GAUGE', labels: ['name'], source: LEADER },
  {
    name: 'controller_runtime_webhook_latency_seconds',
    type: 'HISTOGRAM',
    labels: ['webhook', 'code'],
    buckets: DEF_BUCKETS,
    source: WEBHOOK,
  },
  { name: 'controller_runtime_webhook_requests_total', type: 'COUNTER', labels: ['webhook', 'code'], source: WEBHOOK },
  { name: 'controller_runtime_webhook_requests_in_flight', type: 'GAUGE', labels: ['webhook'], source: WEBHOOK },
];

/** A registry with one controller that has done a bit of everything: its queue is real. */
async function exercised() {
  const metrics = new OperatorMetrics();
  const c = metrics.forController('workloads');
  const queue = new WorkQueue({ metrics: c.queue });
  c.onQueue!(queue);
  c.onWorkers!(4);
  queue.add('ns/a');
  queue.add('ns/b');
  const key = await queue.get(); // ns/a is processing, ns/b waits
  c.onActiveWorkers!(1);
  c.onReconcile!('workloads', 'success', 0.04);
  c.onReconcile!('workloads', 'error', 0.2);
  queue.addRateLimited('ns/c');
  metrics.onRequest({ verb: 'apply', kind: 'Deployment', code: 200, seconds: 0.01, method: 'PATCH', host: '127.0.0.1:6443' });
  metrics.onRequest({ verb: 'get', kind: 'Lease', code: 0, seconds: 0.01, method: 'GET', host: '127.0.0.1:6443' });
  metrics.onLeading('spiceai-operator-leader', true);
  metrics.webhookRequest('/mutate')(200);
  return { metrics, queue, key };
}

test("controller-runtime's families are exported with its names, types, label names and buckets", async () => {
  const { metrics, queue } = await exercised();
  const checked = checkMetrics(await metrics.registry.metrics());
  for (const e of EXPECTED) {
    const family = checked.families.get(e.name);
    assert.ok(family, `${e.name} is exported (${e.source})`);
    assert.is(family!.type, e.type, `${e.name}: type (${e.source})`);
    assert.ok(family!.metrics.length > 0, `${e.name} has a series`);
    for (const sample of family!.metrics) {
      assert.equal(Object.keys(sample.labels).sort(), [...e.labels].sort(), `${e.name}: label names (${e.source})`);
    }
    if (e.buckets) {
      const le = Object.keys(family!.metrics[0]!.buckets ?? {})
        .map(Number)
        .filter(Number.isFinite)
        .sort((a, b) => a - b);
      assert.is(le.length, e.buckets.length, `${e.name}: number of buckets (${e.source})`);
      le.forEach((b, i) =>
        assert.ok(
          Math.abs(b - e.buckets![i]!) <= 1e-9 * Math.max(1, b),
          `${e.name}: bucket ${i} is ${b}, controller-runtime's is ${e.buckets![i]}`,
        ),
      );
    }
  }
  assert.equal(problemsOf(checked, ['controller_runtime_', 'workqueue_', 'rest_client_', 'leader_election_', 'spiceai_operator_']), []);

  const f = checked.families;
  const q = { name: 'workloads', controller: 'workloads' };
  assert.is(sampleValue(f, 'controller_runtime_reconcile_total', { controller: 'workloads', result: 'success' }), 1);
  assert.is(sampleValue(f, 'controller_runtime_reconcile_total', { controller: 'workloads', result: 'error' }), 1);
  assert.is(
    sampleValue(f, 'controller_runtime_reconcile_total', { controller: 'workloads', result: 'requeue' }),
    0,
    'every result starts at zero',
  );
  assert.is(sampleValue(f, 'controller_runtime_reconcile_errors_total', { controller: 'workloads' }), 1);
  assert.is(sampleValue(f, 'controller_runtime_max_concurrent_reconciles', { controller: 'workloads' }), 4);
  assert.is(sampleValue(f, 'controller_runtime_active_workers', { controller: 'workloads' }), 1);
  assert.is(sampleValue(f, 'workqueue_adds_total', q), 2);
  assert.is(sampleValue(f, 'workqueue_retries_total', q), 1);
  assert.is(sampleValue(f, 'workqueue_depth', q), 1);
  assert.ok(sampleValue(f, 'workqueue_longest_running_processor_seconds', q)! > 0, 'a key is processing');
  assert.ok(sampleValue(f, 'workqueue_unfinished_work_seconds', q)! > 0);
  assert.is(sampleValue(f, 'rest_client_requests_total', { code: '200', method: 'PATCH', host: '127.0.0.1:6443' }), 1);
  assert.is(sampleValue(f, 'rest_client_requests_total', { code: '<error>', method: 'GET' }), 1, "no answer: client-go's <error>");
  assert.is(sampleValue(f, 'leader_election_master_status', { name: 'spiceai-operator-leader' }), 1);
  assert.is(sampleValue(f, 'controller_runtime_webhook_requests_total', { webhook: '/mutate', code: '200' }), 1);
  assert.is(sampleValue(f, 'controller_runtime_webhook_requests_in_flight', { webhook: '/mutate' }), 0);
  queue.shutDown();
});

test('the stuck-worker gauges rise while a key is processing and fall to zero once it is done', async () => {
  const { metrics, queue, key } = await exercised();
  const q = { name: 'workloads', controller: 'workloads' };
  await new Promise((r) => setTimeout(r, 30));
  let f = checkMetrics(await metrics.registry.metrics()).families;
  assert.ok(sampleValue(f, 'workqueue_longest_running_processor_seconds', q)! >= 0.02);
  queue.done(key!);
  f = checkMetrics(await metrics.registry.metrics()).families;
  assert.is(sampleValue(f, 'workqueue_longest_running_processor_seconds', q), 0);
  assert.is(sampleValue(f, 'workqueue_unfinished_work_seconds', q), 0);
  queue.shutDown();
});

test("every selector of kubebuilder's controller-runtime dashboard finds a series in our /metrics", async () => {
  const { metrics, queue } = await exercised();
  const families = checkMetrics(await metrics.registry.metrics()).families;
  for (const parsed of parsePromql(KUBEBUILDER_DASHBOARD_QUERIES)) {
    assert.is(parsed.error, undefined, parsed.expr);
    assert.ok(parsed.selectors.length > 0, parsed.expr);
    for (const selector of parsed.selectors)
      assert.ok(selectorMatches(families, selector), `${parsed.expr}: ${selector.metric} has a series`);
  }
  // The check can fail: a name we do not export finds nothing.
  const [missing] = parsePromql(['rate(controller_runtime_reconcile_totals[5m])']);
  assert.not.ok(selectorMatches(families, missing!.selectors[0]!));
  queue.shutDown();
});

test.run();
