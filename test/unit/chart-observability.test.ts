// The chart's Grafana dashboard and PrometheusRule, rendered by the real helm:
// every expression parses with Prometheus's own PromQL parser
// (test/tools/promql), and every metric they query is one the operator exports.
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseAllDocuments } from 'yaml';
import { metricDocs } from '../../scripts/metrics-docs.ts';
import { OperatorMetrics } from '../../shim/metrics.ts';
import { CHART_DIR, helm } from '../harness/chart.ts';
import { checkMetrics, parsePromql } from '../harness/prometheus.ts';

function render(values: string[] = []): Record<string, any>[] {
  const r = helm(['template', 'r', CHART_DIR, '--namespace', 'ops', ...values.flatMap((v) => ['--set', v])]);
  assert.is(r.code, 0, r.err);
  return parseAllDocuments(r.out)
    .map((d) => d.toJSON())
    .filter(Boolean);
}

/** Every series name /metrics can carry: the documented families, a histogram's _bucket/_sum/_count, and the process metrics. */
async function exportedNames(): Promise<Set<string>> {
  const names = new Set<string>();
  for (const d of await metricDocs()) {
    names.add(d.name);
    if (d.type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(d.name + suffix);
  }
  for (const name of checkMetrics(await new OperatorMetrics().registry.metrics()).families.keys()) names.add(name);
  return names;
}

const rulesOf = (docs: Record<string, any>[]) =>
  docs.filter((d) => d.kind === 'PrometheusRule').flatMap((d) => d.spec.groups.flatMap((g: any) => g.rules));
const dashboardOf = (docs: Record<string, any>[]) => {
  const cm = docs.find((d) => d.kind === 'ConfigMap' && d.metadata.name.endsWith('-dashboard'));
  return cm && { cm, json: JSON.parse(cm.data['spiceai-operator.json']) };
};
const panelExprs = (dashboard: any): string[] => dashboard.panels.flatMap((p: any) => (p.targets ?? []).map((t: any) => t.expr));

test('neither is rendered by default', () => {
  const docs = render();
  assert.equal(rulesOf(docs), []);
  assert.is(dashboardOf(docs), undefined);
});

test("the PrometheusRule's alerts parse with Prometheus's parser and query only metrics the operator exports", async () => {
  const rules = rulesOf(render(['prometheusRule.enabled=true', 'prometheusRule.labels.release=kube-prometheus-stack']));
  assert.equal(
    rules.map((r: any) => r.alert),
    [
      'SpiceaiOperatorClusterCANearExpiry',
      'SpiceaiOperatorSpicepodSetAboutToPause',
      'SpiceaiOperatorNoLeader',
      'SpiceaiOperatorReconcileErrors',
      'SpiceaiOperatorStuckWorker',
      'SpiceaiOperatorPodsMissingSidecar',
    ],
  );
  const exported = await exportedNames();
  for (const parsed of parsePromql(rules.map((r: any) => r.expr))) {
    assert.is(parsed.error, undefined, `${parsed.expr}: ${parsed.error}`);
    assert.ok(parsed.metrics.length > 0, parsed.expr);
    for (const metric of parsed.metrics) assert.ok(exported.has(metric), `${parsed.expr}: ${metric} is not exported`);
    // Each rule is scoped to this release's scrape job (the metrics Service's name).
    for (const selector of parsed.selectors)
      assert.ok(
        selector.matchers.some((m) => m.name === 'job' && m.value === 'r-spiceai-operator-metrics'),
        parsed.expr,
      );
  }
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  for (const rule of rules) assert.ok(readme.includes(`\`${rule.alert}\``), `README documents ${rule.alert}`);
});

test('the alert thresholds follow the values: crashloop threshold, CA days, stuck seconds; no about-to-pause alert when crashloop protection is off', () => {
  const rules = rulesOf(
    render([
      'prometheusRule.enabled=true',
      'pauseCrashloopingPodsThreshold=5',
      'prometheusRule.caExpiryDays=30',
      'prometheusRule.stuckWorkerSeconds=120',
    ]),
  );
  const expr = (alert: string) => rules.find((r: any) => r.alert === alert)?.expr;
  assert.match(expr('SpiceaiOperatorSpicepodSetAboutToPause'), />= 4$/);
  assert.match(expr('SpiceaiOperatorClusterCANearExpiry'), /< 30 \* 24 \* 3600$/);
  assert.match(expr('SpiceaiOperatorStuckWorker'), /> 120$/);
  const off = rulesOf(render(['prometheusRule.enabled=true', 'pauseCrashloopingPodsThreshold=0']));
  assert.not.ok(off.some((r: any) => r.alert === 'SpiceaiOperatorSpicepodSetAboutToPause'));
  const extra = rulesOf(
    render(['prometheusRule.enabled=true', 'prometheusRule.extraRules[0].alert=Mine', 'prometheusRule.extraRules[0].expr=up == 0']),
  );
  assert.is(extra.at(-1).alert, 'Mine');
});

test("the Grafana dashboard ships as a ConfigMap with the sidecar's label, and every query parses and names an exported metric", async () => {
  const rendered = dashboardOf(render(['grafanaDashboard.enabled=true', 'grafanaDashboard.namespace=monitoring']));
  assert.ok(rendered);
  assert.is(rendered!.cm.metadata.labels.grafana_dashboard, '1');
  assert.is(rendered!.cm.metadata.namespace, 'monitoring');
  // The file itself is what the ConfigMap carries.
  assert.equal(rendered!.json, JSON.parse(readFileSync(`${CHART_DIR}/files/grafana-dashboard.json`, 'utf8')));
  const exprs = panelExprs(rendered!.json);
  assert.ok(exprs.length >= 15);
  const exported = await exportedNames();
  const used = new Set<string>();
  for (const parsed of parsePromql(exprs)) {
    assert.is(parsed.error, undefined, `${parsed.expr}: ${parsed.error}`);
    for (const metric of parsed.metrics) {
      assert.ok(exported.has(metric), `${parsed.expr}: ${metric} is not exported`);
      used.add(metric);
    }
  }
  // The stuck-worker and leader panels are there.
  for (const metric of [
    'workqueue_unfinished_work_seconds',
    'workqueue_longest_running_processor_seconds',
    'leader_election_master_status',
    'controller_runtime_reconcile_total',
  ])
    assert.ok(used.has(metric), metric);
  // Template variables query an exported metric too.
  for (const variable of rendered!.json.templating.list.filter((v: any) => v.type === 'query')) {
    const metric = /label_values\(([a-z_:]+)/.exec(variable.query.query)?.[1];
    assert.ok(metric && exported.has(metric), variable.name);
  }
  // Panel ids are unique (Grafana keys panels by id).
  const ids = rendered!.json.panels.map((p: any) => p.id);
  assert.is(new Set(ids).size, ids.length);
});

test('the check can fail: a misspelt metric or a broken expression is caught', async () => {
  const exported = await exportedNames();
  const [typo, broken] = parsePromql(['rate(controller_runtime_reconcile_error_total[5m]) > 0', 'sum by (controller (rate(x[5m]))']);
  assert.not.ok(exported.has(typo!.metrics[0]!));
  assert.ok(broken!.error);
});

test.run();
