// The OTLP push (shim/otlp-export.ts, shim/otlp-metrics.ts), judged by a real
// receiver on loopback that decodes with the official opentelemetry-proto
// bindings (test/tools/otlpreceiver): what a user's Collector would get.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { jsonLogger } from '../../shim/log.ts';
import { OperatorMetrics } from '../../shim/metrics.ts';
import type { OtlpConfig } from '../../shim/otlp-config.ts';
import { startOtlpExport, type OtlpExportResult } from '../../shim/otlp-export.ts';
import { attributesOf, metricsOf, pointOf, startOtlpReceiver, type OtlpReceiver, type ReceivedPush } from '../harness/otlp-receiver.ts';

let receiver: OtlpReceiver;
const logs: Record<string, any>[] = [];
const log = jsonLogger({ level: 'debug', write: (line) => logs.push(JSON.parse(line)) });

function sample() {
  const registry = new Registry();
  const reconciles = new Counter({
    name: 'controller_runtime_reconcile_total',
    help: 'Total number of reconciliations per controller',
    labelNames: ['controller', 'result'],
    registers: [registry],
  });
  reconciles.inc({ controller: 'workloads', result: 'success' }, 3);
  reconciles.inc({ controller: 'cluster', result: 'error' });
  new Gauge({
    name: 'controller_runtime_active_workers',
    help: 'Number of currently used workers per controller',
    labelNames: ['controller'],
    registers: [registry],
  }).set({ controller: 'workloads' }, 2);
  const time = new Histogram({
    name: 'controller_runtime_reconcile_time_seconds',
    help: 'Length of time per reconciliation per controller',
    labelNames: ['controller'],
    buckets: [0.1, 1, 10],
    registers: [registry],
  });
  for (const s of [0.05, 0.5, 0.7, 5, 50]) time.observe({ controller: 'workloads' }, s);
  return { registry, reconciles };
}

const config = (o: Partial<OtlpConfig> = {}): OtlpConfig => ({
  url: `${receiver.base}/v1/metrics`,
  protocol: 'http/protobuf',
  compression: 'none',
  headers: { authorization: 'Bearer s3cret', 'x-scope-orgid': 'tenant-1' },
  timeoutMs: 5000,
  intervalMs: 3_600_000,
  resource: { 'service.name': 'spice-k8s-operator', 'service.instance.id': 'op-0', 'k8s.namespace.name': 'ops' },
  ...o,
});

/** One push of `registry` with `c`, as the receiver decoded it. */
let runs = 0;
/** A header naming one exporter's pushes (the receiver reports each push on a pipe that may lag the HTTP answer). */
const tagged = (c: OtlpConfig): [OtlpConfig, (p: ReceivedPush) => boolean] => {
  const id = String(++runs);
  return [{ ...c, headers: { ...c.headers, 'x-run': id } }, (p) => p.headers['x-run'] === id];
};

async function pushOnce(registry: Registry, c: OtlpConfig): Promise<{ push: ReceivedPush; result: OtlpExportResult }> {
  const [withId, ours] = tagged(c);
  const exporter = startOtlpExport({ config: withId, registry, log });
  const result = await exporter.exportNow();
  const push = await receiver.waitFor(ours, 10_000);
  await exporter.stop();
  return { push, result };
}

function assertContent(push: ReceivedPush) {
  assert.is(push.error, undefined, push.error);
  const [rm] = push.request!.resourceMetrics;
  assert.equal(attributesOf(rm.resource?.attributes), {
    'service.name': 'spice-k8s-operator',
    'service.instance.id': 'op-0',
    'k8s.namespace.name': 'ops',
  });
  assert.is(rm.scopeMetrics?.[0].scope?.name, 'spiceai-operator');
  const metrics = metricsOf(push);

  const total = metrics.get('controller_runtime_reconcile_total')!;
  assert.is(total.description, 'Total number of reconciliations per controller');
  assert.is(total.sum?.isMonotonic, true);
  assert.is(total.sum?.aggregationTemporality, 'AGGREGATION_TEMPORALITY_CUMULATIVE');
  assert.is(pointOf(total.sum?.dataPoints, { controller: 'workloads', result: 'success' })?.asDouble, 3);
  assert.is(pointOf(total.sum?.dataPoints, { controller: 'cluster', result: 'error' })?.asDouble, 1);
  const point = pointOf(total.sum?.dataPoints, { controller: 'workloads' })!;
  assert.ok(
    BigInt(point.startTimeUnixNano!) > 0n && BigInt(point.startTimeUnixNano!) <= BigInt(point.timeUnixNano),
    'a cumulative point starts before it ends',
  );

  assert.is(pointOf(metrics.get('controller_runtime_active_workers')?.gauge?.dataPoints, { controller: 'workloads' })?.asDouble, 2);

  const time = metrics.get('controller_runtime_reconcile_time_seconds')!.histogram!;
  assert.is(time.aggregationTemporality, 'AGGREGATION_TEMPORALITY_CUMULATIVE');
  const h = pointOf(time.dataPoints, { controller: 'workloads' })!;
  assert.equal(Object.keys(attributesOf(h.attributes)), ['controller'], 'le is a bucket bound, not an attribute');
  assert.equal(h.explicitBounds, [0.1, 1, 10]);
  // 0.05 | 0.5, 0.7 | 5 | 50: per bucket, not cumulative as Prometheus's le buckets are.
  assert.equal(h.bucketCounts, ['1', '2', '1', '1']);
  assert.is(h.count, '5');
  assert.ok(Math.abs(h.sum! - 56.25) < 1e-9);
}

test.before(async () => {
  receiver = await startOtlpReceiver();
});
test.after(async () => {
  await receiver.stop();
});

test('http/protobuf: counters as monotonic cumulative sums, gauges, histograms with per-bucket counts; the resource and headers', async () => {
  const { push, result } = await pushOnce(sample().registry, config());
  assert.is(result, 'success');
  assert.is(push.path, '/v1/metrics');
  assert.is(push.contentType, 'application/x-protobuf');
  assert.is(push.headers.authorization, 'Bearer s3cret');
  assert.is(push.headers['x-scope-orgid'], 'tenant-1');
  assertContent(push);
});

test('http/json: the same content, which the official bindings read as OTLP/JSON', async () => {
  const { push, result } = await pushOnce(sample().registry, config({ protocol: 'http/json' }));
  assert.is(result, 'success');
  assert.is(push.contentType, 'application/json');
  assertContent(push);
});

test('gzip compression', async () => {
  const { push } = await pushOnce(sample().registry, config({ compression: 'gzip' }));
  assert.is(push.contentEncoding, 'gzip');
  assertContent(push);
});

test("the operator's whole registry decodes, every family in it (no summary is dropped)", async () => {
  const metrics = new OperatorMetrics();
  metrics.forController('workloads').onWorkers!(1);
  metrics.onRequest({ verb: 'get', kind: 'Pod', code: 200, seconds: 0.1, method: 'GET', host: 'h:1' });
  const { push, result } = await pushOnce(metrics.registry, config());
  assert.is(result, 'success');
  assert.is(push.error, undefined);
  const names = [...metricsOf(push).keys()].sort();
  assert.equal(names, (await metrics.registry.getMetricsAsJSON()).map((m) => m.name).sort());
  assert.ok(names.includes('process_cpu_user_seconds_total'));
  assert.ok(!logs.some((l) => l.msg.startsWith('metric not pushed')), 'nothing skipped');
});

test('pushes on the interval with one start time and a later time each, and once more at stop with the last counts', async () => {
  const { registry, reconciles } = sample();
  const [withId, ours] = tagged(config({ intervalMs: 200 }));
  const exporter = startOtlpExport({ config: withId, registry, log });
  await receiver.waitFor((p) => ours(p) && receiver.pushes.filter(ours).length >= 2, 10_000);
  reconciles.inc({ controller: 'workloads', result: 'success' }, 10);
  await exporter.stop();
  await receiver.waitFor(
    (p) =>
      ours(p) &&
      pointOf(metricsOf(p).get('controller_runtime_reconcile_total')?.sum?.dataPoints, { controller: 'workloads', result: 'success' })
        ?.asDouble === 13,
    10_000,
  );
  const pushes = receiver.pushes.filter(ours);
  const points = pushes.map(
    (p) =>
      pointOf(metricsOf(p).get('controller_runtime_reconcile_total')?.sum?.dataPoints, { controller: 'workloads', result: 'success' })!,
  );
  assert.ok(points.length >= 3, `interval pushes and the final one: ${points.length}`);
  assert.is(new Set(points.map((p) => p.startTimeUnixNano)).size, 1, 'one start time: the series never reset');
  for (let i = 1; i < points.length; i++) assert.ok(BigInt(points[i].timeUnixNano) >= BigInt(points[i - 1].timeUnixNano));
  assert.is(points.at(-1)!.asDouble, 13, 'the final push carries the last count');
  await new Promise((r) => setTimeout(r, 500));
  assert.is(receiver.pushes.filter(ours).length, pushes.length, 'no push after stop');
});

async function server(handler: Parameters<typeof createServer>[1]): Promise<{ server: Server; url: string }> {
  const s = createServer(handler);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return { server: s, url: `http://127.0.0.1:${(s.address() as AddressInfo).port}/v1/metrics` };
}

test('a failed push is logged and counted, never thrown: refused connection, HTTP error, no answer in time', async () => {
  const metrics = new OperatorMetrics();
  const failure = async () =>
    (await metrics.registry.getSingleMetricAsString('spiceai_operator_otlp_exports_total')).match(/result="failure"} (\d+)/)?.[1];
  const closed = await server(() => {});
  closed.server.close();
  const unavailable = await server((_, res) => res.writeHead(503).end('overloaded'));
  const silent = await server(() => {});
  const cases: [string, Partial<OtlpConfig>, RegExp][] = [
    ['refused', { url: closed.url }, /fetch failed|ECONNREFUSED/],
    ['503', { url: unavailable.url }, /HTTP 503: overloaded/],
    ['no answer', { url: silent.url, timeoutMs: 300 }, /no answer within 300 ms \(OTEL_EXPORTER_OTLP_TIMEOUT\)/],
  ];
  for (const [i, [what, o, message]] of cases.entries()) {
    logs.length = 0;
    const exporter = startOtlpExport({ config: config(o), registry: metrics.registry, log, onExport: metrics.onOtlpExport });
    assert.is(await exporter.exportNow(), 'failure', what);
    const line = logs.find((l) => l.msg.startsWith('OTLP push failed'));
    assert.ok(line, what);
    assert.is(line!.level, 'warn');
    assert.match(line!.error, message);
    assert.not.match(JSON.stringify(logs), /s3cret/, 'headers are never logged');
    // stop() pushes once more: that fails too, and resolves.
    await exporter.stop();
    assert.is(await failure(), String(2 * (i + 1)), what);
  }
  unavailable.server.close();
  silent.server.closeAllConnections();
  silent.server.close();
  const ok = startOtlpExport({ config: config(), registry: metrics.registry, log, onExport: metrics.onOtlpExport });
  assert.is(await ok.exportNow(), 'success');
  await ok.stop();
  assert.match(await metrics.registry.getSingleMetricAsString('spiceai_operator_otlp_exports_total'), /result="success"} 2/);
});

test.run();
