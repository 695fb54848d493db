// `spiceai-operator run` started the way a kubebuilder operator is (its flag
// names, POD_NAMESPACE), against the real control plane: probes on their own
// port, controller-runtime's metrics with data in them, a standard
// controller-runtime dashboard's selectors answered, and reconcile log lines
// that carry controller, namespace, name and reconcileID.
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { stringify } from 'yaml';
import { KUBEBUILDER_DASHBOARD_QUERIES } from '../harness/dashboards.ts';
import { applyMinimalSetAndWait, eventually, freshNamespace, kubectl, kubectlJson, kubectlOk } from '../harness/kube.ts';
import { startOperator, type OperatorProcess } from '../harness/operator.ts';
import { checkMetrics, parsePromql, sampleValue, selectorMatches } from '../harness/prometheus.ts';

const LEASE = 'operable-test';
let ns = '';
/** The operator's own namespace (its Lease), apart from the watched one: Pods there are never injected. */
let operatorNs = '';
let operator: OperatorProcess | undefined;
const savedPodNamespace = process.env.POD_NAMESPACE;

test.before(async () => {
  kubectlOk(['apply', '--server-side', '-f', '-'], readFileSync(new URL('../../crds/spicepodsets.spice.ai.yaml', import.meta.url), 'utf8'));
  ns = freshNamespace('operable');
  operatorNs = freshNamespace('operable-op');
  // The Lease goes to the operator namespace, here taken from POD_NAMESPACE (no --operator-namespace).
  process.env.POD_NAMESPACE = operatorNs;
  operator = await startOperator([
    '--watch-namespaces',
    ns,
    '--handlers',
    'workloads',
    '--metrics-bind-address',
    '127.0.0.1:0',
    '--health-probe-bind-address',
    '127.0.0.1:0',
    '--leader-elect',
    '--leader-election-id',
    LEASE,
    '--zap-log-level',
    'debug',
    '--sidecar-scan-seconds',
    '2',
  ]);
  process.env.POD_NAMESPACE = savedPodNamespace;
  await operator.waitForLog((l) => l.msg === 'became leader', 60_000);
});

test.after(async () => {
  await operator?.stop();
  for (const namespace of [ns, operatorNs]) if (namespace) kubectl(['delete', 'namespace', namespace, '--wait=false']);
});

const metrics = async () => checkMetrics(await (await fetch(`http://127.0.0.1:${operator!.metricsPort}/metrics`)).text()).families;

test('the probes answer on their own port, and only the probes', async () => {
  const probe = (path: string) => fetch(`http://127.0.0.1:${operator!.probePort}${path}`);
  assert.ok(operator!.probePort && operator!.probePort !== operator!.httpPort);
  const healthz = await probe('/healthz');
  assert.is(healthz.status, 200);
  assert.match(await healthz.text(), /\[\+\]ping ok/);
  const readyz = await eventually('/readyz 200', async () => {
    const r = await probe('/readyz');
    return r.status === 200 ? r.text() : undefined;
  });
  assert.match(readyz, /\[\+\]informer-sync ok\n\[\+\]informer-fresh ok\nreadyz check passed/);
  assert.is((await probe('/ready')).status, 200, "the product's name too");
  assert.is((await probe(`/${ns}/anything`)).status, 404, 'no status API (pod IPs) on the probe port');
  // The status API's port answers the probes as well.
  assert.is((await fetch(`http://127.0.0.1:${operator!.httpPort}/readyz`)).status, 200);
});

test('the Leases named by --leader-election-id (one per handler, one for the sidecar scan) are held in POD_NAMESPACE, and leader_election_master_status says so', async () => {
  for (const part of ['workloads', 'sidecar-scan']) {
    const name = `${LEASE}-${part}`;
    await eventually(`Lease ${name} held`, () => kubectlJson(['get', 'lease', name, '-n', operatorNs]).spec.holderIdentity || undefined);
    await eventually(
      `leader_election_master_status{name="${name}"} 1`,
      async () => sampleValue(await metrics(), 'leader_election_master_status', { name }) === 1 || undefined,
    );
  }
});

test("a reconcile shows in controller-runtime's families, and every selector of kubebuilder's dashboard finds a series", async () => {
  await applyMinimalSetAndWait(ns);
  const families = await eventually('a successful reconcile counted', async () => {
    const f = await metrics();
    return (sampleValue(f, 'controller_runtime_reconcile_total', { controller: 'workloads', result: 'success' }) ?? 0) > 0 ? f : undefined;
  });
  assert.is(sampleValue(families, 'controller_runtime_max_concurrent_reconciles', { controller: 'workloads' }), 4);
  assert.ok((sampleValue(families, 'workqueue_adds_total', { name: 'workloads', controller: 'workloads' }) ?? 0) > 0);
  const requests = families.get('rest_client_requests_total')!.metrics;
  assert.ok(
    requests.some((m) => m.labels.code === '200' && m.labels.method === 'GET' && /^127\.0\.0\.1:\d+$|^localhost:\d+$/.test(m.labels.host!)),
    JSON.stringify(requests.slice(0, 3)),
  );
  const listed = sampleValue(families, 'spiceai_operator_informer_last_sync_timestamp_seconds', {
    kind: 'SpicepodSet',
    namespace: ns,
    operation: 'list',
  });
  assert.ok(listed && Math.abs(listed - Date.now() / 1000) < 600, `SpicepodSet cache listed recently: ${listed}`);
  for (const parsed of parsePromql(KUBEBUILDER_DASHBOARD_QUERIES)) {
    assert.is(parsed.error, undefined);
    for (const selector of parsed.selectors) assert.ok(selectorMatches(families, selector), `${parsed.expr}: ${selector.metric}`);
  }
});

test('every reconcile log line carries controller, namespace, name and reconcileID', async () => {
  await operator!.waitForLog((l) => l.reconcileID && l.msg === 'applied', 30_000);
  const lines = operator!.logs.filter((l) => 'reconcileID' in l);
  assert.ok(lines.length > 0);
  for (const l of lines) {
    assert.is(l.controller, 'workloads', JSON.stringify(l));
    assert.is(l.namespace, ns, JSON.stringify(l));
    assert.is(l.name, 'app', JSON.stringify(l));
    assert.match(l.reconcileID, /^[0-9a-f-]{36}$/);
  }
  // Each reconcile has its own ID.
  assert.ok(new Set(lines.map((l) => l.reconcileID)).size >= 1);
});

test('a Pod that asked for the sidecar and runs without it gets a Warning Event and is counted by namespace', async () => {
  // This operator serves no injector (the harness's --no-sidecar-injector): the Pod is admitted untouched.
  const annotations = { 'spice.ai/inject': 'true', 'spice.ai/spicepod-configmap': 'app-spicepod' };
  kubectlOk(
    ['apply', '-n', ns, '-f', '-'],
    stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'missed', annotations },
      spec: { containers: [{ name: 'app', image: 'busybox' }] },
    }),
  );
  kubectlOk(
    ['apply', '-n', ns, '-f', '-'],
    stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'plain' }, spec: { containers: [{ name: 'app', image: 'busybox' }] } }),
  );
  const event = await eventually(
    'the SidecarMissing Event',
    () => kubectlJson(['get', 'events', '-n', ns, '--field-selector', 'involvedObject.name=missed,reason=SidecarMissing']).items[0],
  );
  assert.is(event.type, 'Warning');
  assert.match(event.message, new RegExp(`kubectl delete pod -n ${ns} missed`));
  await eventually(
    'the gauge',
    async () => sampleValue(await metrics(), 'spiceai_operator_pods_missing_sidecar', { namespace: ns }) === 1 || undefined,
  );
  assert.equal(
    kubectlJson(['get', 'events', '-n', ns, '--field-selector', 'involvedObject.name=plain,reason=SidecarMissing']).items,
    [],
    'a Pod that asked for nothing is left alone',
  );
  // Gone: no longer counted.
  kubectlOk(['delete', 'pod', 'missed', '-n', ns, '--grace-period=0', '--force']);
  await eventually(
    'the gauge back down',
    async () => (sampleValue(await metrics(), 'spiceai_operator_pods_missing_sidecar', { namespace: ns }) ?? 0) === 0 || undefined,
  );
});

test('SIGTERM while the operator is still starting (the webhook after the controllers) stops it cleanly, exit 0', async () => {
  const name = `${LEASE}-early-stop`;
  const early = await startOperator([
    '--namespaces',
    ns,
    '--handlers',
    'workloads',
    '--no-leader-elect',
    '--operator-namespace',
    operatorNs,
    '--enable-sidecar-injector',
    '--webhook-url',
    'https://127.0.0.1:0/mutate',
    '--webhook-configuration',
    name,
    '--webhook-secret',
    name,
  ]);
  // The harness returns at "controller started": the webhook's certificate and configuration come next.
  const code = await early.stop();
  kubectl(['delete', 'mutatingwebhookconfiguration', name, '--ignore-not-found']);
  assert.is(code, 0, `exit code (null: killed by the signal); last lines: ${JSON.stringify(early.logs.slice(-3))}`);
  assert.ok(early.logs.some((l) => l.msg === 'stopped'));
});

test.run();
