// PodMonitors for SpicepodClusters (functions/pod-monitor) against the real
// API server and the Prometheus Operator's own CRDs at a pinned release (from
// its Go module, through the Go module proxy): none and no error without the
// CRDs; with them, one PodMonitor per cluster that the CRD's schema accepts
// (strict field validation). The chart's PrometheusRule is dry-run against
// the PrometheusRule CRD of the same release. The CRDs are removed at the end,
// so the other test files see a cluster without the Prometheus Operator.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseAllDocuments, stringify } from 'yaml';
import { CHART_DIR, helm } from '../harness/chart.ts';
import { applyShippedCrds, eventually, freshNamespace, kubectl, kubectlJson, kubectlOk } from '../harness/kube.ts';
import { startOperator, type OperatorProcess } from '../harness/operator.ts';

// A scheduler's Spicepod needs runtime.scheduler.state_location (spiced refuses to start without it).
const schedulerSpicepod = {
  version: 'v1',
  kind: 'Spicepod',
  name: 'app',
  runtime: { scheduler: { state_location: 'file:///tmp/spice-cluster' } },
};
const PROMETHEUS_OPERATOR = 'github.com/prometheus-operator/prometheus-operator@v0.85.0';
const CRDS = ['podmonitors', 'prometheusrules'];
let ns = '';
let operator: OperatorProcess | undefined;
let crdFiles: string[] = [];

test.before(() => {
  applyShippedCrds();
  const mod = spawnSync('go', ['mod', 'download', '-json', PROMETHEUS_OPERATOR], {
    encoding: 'utf8',
    cwd: mkdtempSync(join(tmpdir(), 'promop-')),
  });
  if (mod.status !== 0) throw new Error(`go mod download ${PROMETHEUS_OPERATOR}: ${mod.stderr}`);
  const dir = join(JSON.parse(mod.stdout).Dir, 'example', 'prometheus-operator-crd');
  crdFiles = CRDS.map((name) => readFileSync(join(dir, `monitoring.coreos.com_${name}.yaml`), 'utf8'));
  for (const name of CRDS) kubectl(['delete', 'crd', `${name}.monitoring.coreos.com`, '--ignore-not-found']);
  ns = freshNamespace('podmon');
});

test.after(async () => {
  await operator?.stop();
  for (const name of CRDS) kubectl(['delete', 'crd', `${name}.monitoring.coreos.com`, '--ignore-not-found', '--wait=false']);
  if (ns) kubectl(['delete', 'namespace', ns, '--wait=false']);
});

const applyCluster = (name: string) =>
  kubectlOk(
    ['apply', '--server-side', '-n', ns, '-f', '-'],
    stringify({
      apiVersion: 'spice.ai/v1alpha1',
      kind: 'SpicepodCluster',
      metadata: { name },
      spec: { schedulerSetSpec: { replicas: 1, spicepod: schedulerSpicepod }, executorSetSpec: { replicas: 1 } },
    }),
  );

test('without the Prometheus Operator the handler is not started, and the operator is ready', async () => {
  applyCluster('before');
  operator = await startOperator(['--namespaces', ns, '--handlers', 'workloads,pod-monitor', '--no-leader-elect']);
  const line = await operator.waitForLog((l) => l.handler === 'pod-monitor' && /not started/.test(l.msg));
  assert.match(line.msg, /does not serve PodMonitors/);
  assert.is((await fetch(`http://127.0.0.1:${operator.httpPort}/readyz`)).status, 200);
  assert.not.ok(
    operator.logs.some((l) => l.level === 'error' || (l.level === 'warn' && /PodMonitor/.test(JSON.stringify(l)))),
    'no errors about PodMonitors',
  );
  await operator.stop();
  operator = undefined;
});

test("with the Prometheus Operator's CRDs: a PodMonitor per SpicepodCluster, owned by it, accepted by the CRD's schema", async () => {
  kubectlOk(['apply', '--server-side', '-f', '-'], crdFiles.join('\n---\n'));
  for (const name of CRDS) {
    await eventually(`${name}.monitoring.coreos.com served`, () =>
      kubectlJson(['get', 'crd', `${name}.monitoring.coreos.com`]).status?.conditions?.some(
        (c: any) => c.type === 'Established' && c.status === 'True',
      ),
    );
  }
  // Every handler: the cluster's node pods are made too (cluster, pki, workloads).
  operator = await startOperator([
    '--namespaces',
    ns,
    '--no-leader-elect',
    '--operator-namespace',
    ns,
    '--secret-propagation-seconds',
    '3',
  ]);
  applyCluster('dq');
  for (const cluster of ['before', 'dq']) {
    const monitor = await eventually(`the PodMonitor of ${cluster}`, () => {
      const r = kubectl(['get', 'podmonitor', `${cluster}-nodes`, '-n', ns, '-o', 'json']);
      return r.code === 0 ? JSON.parse(r.out) : undefined;
    });
    assert.is(monitor.metadata.ownerReferences[0].kind, 'SpicepodCluster');
    assert.is(monitor.metadata.ownerReferences[0].name, cluster);
    assert.equal(monitor.spec.selector.matchLabels, { 'spice.ai/cluster': cluster });
    assert.is(monitor.spec.podMetricsEndpoints[0].port, 'metrics');
  }
  // The pods it selects: the cluster's node pods carry the labels and a port named metrics.
  const nodePods = await eventually(
    'the node pods',
    () => {
      const items = kubectlJson(['get', 'pods', '-n', ns, '-l', 'spice.ai/cluster=dq,spice.ai/cluster-role']).items;
      return items.length >= 2 ? items : undefined;
    },
    120_000,
  );
  for (const pod of nodePods)
    assert.ok(
      pod.spec.containers.some((c: any) => c.ports?.some((p: any) => p.name === 'metrics')),
      pod.metadata.name,
    );
});

test("the chart's PrometheusRule is accepted by the Prometheus Operator's PrometheusRule CRD", () => {
  const r = helm([
    'template',
    'r',
    CHART_DIR,
    '--namespace',
    ns,
    '--set',
    'prometheusRule.enabled=true',
    '--show-only',
    'templates/prometheusrule.yaml',
  ]);
  assert.is(r.code, 0, r.err);
  const docs = parseAllDocuments(r.out).map((d) => JSON.stringify(d.toJSON()));
  const dry = kubectl(['apply', '--server-side', '--dry-run=server', '-n', ns, '-f', '-'], docs.join('\n'));
  assert.is(dry.code, 0, dry.err);
});

test.run();
