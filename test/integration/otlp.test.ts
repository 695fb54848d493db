// `spiceai-operator run` with the standard OTEL_* variables pushes its own
// metrics over OTLP/HTTP to a real receiver on loopback that decodes them with
// the official opentelemetry-proto bindings (test/tools/otlpreceiver): after
// a reconcile on the real control plane, the receiver has the service name,
// controller-runtime's reconcile counter as a monotonic cumulative sum with
// its labels, a histogram with its buckets, and the headers; a value the
// operator cannot honour stops it at start with a message naming the variable.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { applyMinimalSetAndWait, eventually, freshNamespace, kubectl, kubectlOk, testKubeconfig } from '../harness/kube.ts';
import { startOperator, type OperatorProcess } from '../harness/operator.ts';
import { attributesOf, metricsOf, pointOf, startOtlpReceiver, type OtlpReceiver, type ReceivedPush } from '../harness/otlp-receiver.ts';

let ns = '';
let operator: OperatorProcess | undefined;
let receiver: OtlpReceiver;
const OTEL = {
  OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
  OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20otlp-token,x-scope-orgid=spice',
  OTEL_METRIC_EXPORT_INTERVAL: '500',
  OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=test,k8s.namespace.name=spiceai-operator-system',
};

const successes = (p: ReceivedPush) =>
  pointOf(metricsOf(p).get('controller_runtime_reconcile_total')?.sum?.dataPoints, { controller: 'workloads', result: 'success' })
    ?.asDouble ?? 0;

test.before(async () => {
  kubectlOk(['apply', '--server-side', '-f', '-'], readFileSync(new URL('../../crds/spicepodsets.spice.ai.yaml', import.meta.url), 'utf8'));
  ns = freshNamespace('otlp');
  receiver = await startOtlpReceiver();
  // The operator process inherits these (test/harness/operator.ts passes process.env on).
  Object.assign(process.env, OTEL, { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.base });
  operator = await startOperator(['--namespaces', ns, '--handlers', 'workloads', '--no-leader-elect']);
  for (const name of [...Object.keys(OTEL), 'OTEL_EXPORTER_OTLP_ENDPOINT']) delete process.env[name];
});

test.after(async () => {
  await operator?.stop();
  await receiver?.stop();
  if (ns) kubectl(['delete', 'namespace', ns, '--wait=false']);
});

test('after a reconcile, the receiver has it: service.name, the reconcile counter as a monotonic cumulative sum with its labels, a histogram with buckets, the headers', async () => {
  const start = await operator!.waitForLog((l) => l.msg === 'pushing metrics over OTLP');
  assert.is(start.url, `${receiver.base}/v1/metrics`);
  assert.not.match(JSON.stringify(operator!.logs), /otlp-token/, 'the headers never reach a log line');
  await applyMinimalSetAndWait(ns);
  const push = await receiver.waitFor((p) => successes(p) > 0, 60_000);

  assert.is(push.error, undefined);
  assert.is(push.path, '/v1/metrics');
  assert.is(push.contentType, 'application/x-protobuf');
  assert.is(push.headers.authorization, 'Bearer otlp-token');
  assert.is(push.headers['x-scope-orgid'], 'spice');
  const resource = attributesOf(push.request!.resourceMetrics[0].resource?.attributes);
  assert.is(resource['service.name'], 'spice-k8s-operator', "the product's documented service name");
  assert.is(resource['deployment.environment'], 'test');
  assert.is(resource['k8s.namespace.name'], 'spiceai-operator-system');

  const metrics = metricsOf(push);
  const total = metrics.get('controller_runtime_reconcile_total')!;
  assert.is(total.sum?.isMonotonic, true);
  assert.is(total.sum?.aggregationTemporality, 'AGGREGATION_TEMPORALITY_CUMULATIVE');
  const point = pointOf(total.sum?.dataPoints, { controller: 'workloads', result: 'success' })!;
  assert.equal(Object.keys(attributesOf(point.attributes)).sort(), ['controller', 'result']);

  const time = pointOf(metrics.get('controller_runtime_reconcile_time_seconds')?.histogram?.dataPoints, { controller: 'workloads' })!;
  assert.ok(time, 'controller_runtime_reconcile_time_seconds as a histogram');
  assert.is(time.explicitBounds?.[0], 0.005, "controller-runtime's buckets");
  assert.is(time.bucketCounts?.length, time.explicitBounds!.length + 1);
  assert.is(
    time.bucketCounts!.reduce((a, c) => a + BigInt(c), 0n),
    BigInt(time.count!),
    'per-bucket counts add up to the count',
  );
  assert.ok(BigInt(time.count!) > 0n);

  // The same numbers as /metrics: the push exports what the registry holds.
  const scraped = await (await fetch(`http://127.0.0.1:${operator!.metricsPort}/metrics`)).text();
  assert.match(scraped, /^spiceai_operator_otlp_exports_total\{result="success"\} [1-9]/m, 'successful pushes are counted');
});

test('with an hour between pushes, the one push is the last: at stop, with the final counts', async () => {
  assert.is(await operator!.stop(), 0, JSON.stringify(operator!.logs.slice(-8)));
  operator = undefined;
  Object.assign(process.env, {
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.base,
    OTEL_METRIC_EXPORT_INTERVAL: '3600000',
    OTEL_SERVICE_NAME: 'final-push',
  });
  const quiet = await startOperator(['--namespaces', ns, '--handlers', 'workloads', '--no-leader-elect']);
  for (const name of ['OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_METRIC_EXPORT_INTERVAL', 'OTEL_SERVICE_NAME']) delete process.env[name];
  // Started (the push starts once everything else has): a SIGTERM before that would find no handler.
  await quiet.waitForLog((l) => l.msg === 'pushing metrics over OTLP');
  const ours = (p: ReceivedPush) => attributesOf(p.request?.resourceMetrics[0].resource?.attributes)['service.name'] === 'final-push';
  // Its first reconcile of the SpicepodSet the test above created.
  await eventually(
    'a reconcile',
    async () =>
      /^controller_runtime_reconcile_total\{controller="workloads",result="success"\} [1-9]/m.test(
        await (await fetch(`http://127.0.0.1:${quiet.metricsPort}/metrics`)).text(),
      ) || undefined,
  );
  assert.is(receiver.pushes.filter(ours).length, 0, 'nothing pushed before the interval');
  assert.is(await quiet.stop(), 0, JSON.stringify(quiet.logs.slice(-8)));
  const last = await receiver.waitFor(ours, 10_000);
  assert.ok(successes(last) > 0, 'the reconcile is in the last push');
});

test('a bad variable stops the operator at start, naming it', () => {
  const run = spawnSync(
    process.execPath,
    [new URL('../../bin/spiceai-operator.mjs', import.meta.url).pathname, 'run', '--kubeconfig', testKubeconfig(), '--namespaces', ns],
    {
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, OTEL_EXPORTER_OTLP_ENDPOINT: receiver.base, OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' },
    },
  );
  assert.is(run.status, 2);
  assert.match(run.stderr, /OTEL_EXPORTER_OTLP_PROTOCOL="grpc": gRPC is not supported: use http\/protobuf/);
});

test.run();
