// The Helm chart with the real helm: lint, render with default and with every
// value, schema errors, and the rendered manifests on the real API server.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseAllDocuments, stringify } from 'yaml';
import { webhookConfiguration } from '../../functions/injection/configuration.ts';
import { CHART_DIR, chartServiceAccountKubeconfig, helm } from '../harness/chart.ts';
import { kubectlPath } from '../harness/tools.ts';
import { kubectl, kubectlJson, testKubeconfig } from '../harness/kube.ts';

const tmp = mkdtempSync(join(tmpdir(), 'chart-'));
const NS = 'chart-release';
const everyValue = {
  image: { repository: 'registry.example', name: 'team/spiceai-operator', tag: '1.2.3', pullPolicy: 'Always', pullSecrets: ['regcred', { name: 'other' }] },
  installCRDs: true,
  serviceAccount: { create: true, name: 'spice-op', annotations: { 'eks.amazonaws.com/role-arn': 'arn:aws:iam::1:role/x' } },
  resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } },
  nodeSelector: { 'kubernetes.io/os': 'linux' },
  tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'ops', effect: 'NoSchedule' }],
  affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'type', operator: 'In', values: ['kwok'] }] }] } } },
  serviceMonitor: { enabled: true, interval: '15s' },
  cluster: { domain: 'corp.local' },
  pauseCrashloopingPodsThreshold: 3,
  sidecarInjector: { defaultImage: 'spiceai/spiceai:1.9.0', defaultImagePullPolicy: 'Always', defaultResources: { requests: { cpu: '100m' }, limits: { memory: '1Gi' } } },
  telemetryProperties: { team: 'data', env: 'prod' },
};
const valuesFile = join(tmp, 'every-value.yaml');
writeFileSync(valuesFile, stringify(everyValue));

function render(...args: string[]) {
  const r = helm(['template', 'spiceai-operator', CHART_DIR, '--namespace', NS, ...args]);
  assert.is(r.code, 0, r.err);
  return parseAllDocuments(r.out).map((d) => d.toJS()).filter(Boolean) as any[];
}
const find = (docs: any[], kind: string, name?: string) => docs.find((d) => d.kind === kind && (!name || d.metadata.name === name));

test('helm lint passes with default values and with every value set', () => {
  for (const args of [[], ['-f', valuesFile]]) {
    const r = helm(['lint', CHART_DIR, ...args]);
    assert.is(r.code, 0, r.out + r.err);
  }
});

test('default values render the operator, its RBAC, Services, webhook configuration and CRDs', () => {
  const docs = render();
  const kinds = docs.map((d) => `${d.kind}/${d.metadata.name}`).sort();
  for (const expected of [
    'Deployment/spiceai-operator',
    'ServiceAccount/spiceai-operator',
    'ClusterRole/spiceai-operator',
    'ClusterRoleBinding/spiceai-operator',
    'Role/spiceai-operator',
    'RoleBinding/spiceai-operator',
    'Service/spiceai-operator',
    'Service/spiceai-operator-metrics',
    'Service/spiceai-operator-webhook',
    'MutatingWebhookConfiguration/spiceai-operator-sidecar-injector',
    'CustomResourceDefinition/spicepodsets.spice.ai',
    'CustomResourceDefinition/spicepodclusters.spice.ai',
  ]) {
    assert.ok(kinds.includes(expected), `${expected} in ${kinds.join(', ')}`);
  }
  assert.not.ok(kinds.some((k) => k.startsWith('ServiceMonitor/')), 'no ServiceMonitor unless enabled');
  const container = find(docs, 'Deployment').spec.template.spec.containers[0];
  assert.is(container.image, '709825985650.dkr.ecr.us-east-1.amazonaws.com/spice-ai/spiceai-operator:latest');
  assert.ok(container.args.includes(`--operator-namespace=${NS}`));
  assert.ok(container.args.includes('--pause-crashlooping-pods-threshold=10'));
  assert.ok(container.args.includes('--cluster-domain=cluster.local'));
  const crd = find(docs, 'CustomResourceDefinition', 'spicepodsets.spice.ai');
  assert.is(crd.metadata.annotations['helm.sh/resource-policy'], 'keep');
  assert.equal(crd.spec, JSON.parse(JSON.stringify(parseAllDocuments(readFileSync(new URL('../../crds/spicepodsets.spice.ai.yaml', import.meta.url), 'utf8'))[0]!.toJS().spec)));
});

test('every value reaches the manifests', () => {
  const docs = render('-f', valuesFile);
  const pod = find(docs, 'Deployment').spec.template.spec;
  const c = pod.containers[0];
  assert.is(c.image, 'registry.example/team/spiceai-operator:1.2.3');
  assert.is(c.imagePullPolicy, 'Always');
  assert.equal(pod.imagePullSecrets, [{ name: 'regcred' }, { name: 'other' }]);
  assert.is(pod.serviceAccountName, 'spice-op');
  assert.equal(find(docs, 'ServiceAccount').metadata.annotations, everyValue.serviceAccount.annotations);
  assert.equal(c.resources, everyValue.resources);
  assert.equal(pod.nodeSelector, everyValue.nodeSelector);
  assert.equal(pod.tolerations, everyValue.tolerations);
  assert.equal(pod.affinity, everyValue.affinity);
  for (const arg of [
    '--cluster-domain=corp.local',
    '--pause-crashlooping-pods-threshold=3',
    '--sidecar-default-image=spiceai/spiceai:1.9.0',
    '--sidecar-default-image-pull-policy=Always',
    '--sidecar-default-cpu-request=100m',
    '--sidecar-default-memory-limit=1Gi',
    '--telemetry-properties=env=prod',
    '--telemetry-properties=team=data',
    '--operator-pod-labels=app.kubernetes.io/name=spiceai-operator,app.kubernetes.io/instance=spiceai-operator',
  ]) {
    assert.ok(c.args.includes(arg), `${arg} in ${c.args.join(' ')}`);
  }
  // The labels the operator tells NetworkPolicies to admit are the ones its own pods carry.
  const podLabels = find(docs, 'Deployment').spec.template.metadata.labels;
  const selector = c.args.find((a: string) => a.startsWith('--operator-pod-labels='))!.slice('--operator-pod-labels='.length);
  for (const pair of selector.split(',')) assert.is(podLabels[pair.split('=')[0]!], pair.split('=')[1], pair);
  const monitor = find(docs, 'ServiceMonitor');
  assert.is(monitor.spec.endpoints[0].interval, '15s');
  assert.equal(monitor.spec.selector.matchLabels['app.kubernetes.io/component'], 'metrics');
  assert.equal(find(docs, 'Service', 'spiceai-operator-metrics').metadata.labels['app.kubernetes.io/component'], 'metrics');
  assert.not.ok(render('--set', 'installCRDs=false').some((d) => d.kind === 'CustomResourceDefinition'));
  assert.not.ok(render('--set', 'serviceAccount.create=false').some((d) => d.kind === 'ServiceAccount'));
});

test('a wrong value is refused at install time, naming it', () => {
  for (const [set, pattern] of [
    ['pauseCrashloopingPodsThreshold=many', /pauseCrashloopingPodsThreshold.*want integer/],
    ['image.pullPolicy=Sometimes', /pullPolicy/],
    ['installCRDs=maybe', /installCRDs/],
    ['serviceMonitor.interval=soon', /interval/],
    ['nosuchvalue=1', /nosuchvalue/],
  ] as [string, RegExp][]) {
    const r = helm(['template', 'x', CHART_DIR, '--set', set]);
    assert.is.not(r.code, 0, set);
    assert.match(r.err, pattern);
  }
});

test('the chart renders the webhook configuration the operator keeps current', () => {
  const chart = find(render(), 'MutatingWebhookConfiguration');
  const operator = webhookConfiguration({
    name: 'spiceai-operator-sidecar-injector',
    operatorNamespace: NS,
    caBundlePem: 'x',
    service: { name: 'spiceai-operator-webhook', namespace: NS, port: 443, path: '/mutate' },
  }) as any;
  const strip = (webhooks: any[]) => webhooks.map((w) => ({ ...w, clientConfig: { ...w.clientConfig, caBundle: undefined } }));
  assert.equal(JSON.parse(JSON.stringify(strip(chart.webhooks))), JSON.parse(JSON.stringify(strip(operator.webhooks))));
});

test('the ClusterRole grants no wildcards and nothing beyond what the operator uses', () => {
  const docs = render();
  for (const role of docs.filter((d) => d.kind === 'ClusterRole' || d.kind === 'Role')) {
    for (const rule of role.rules) {
      for (const field of ['apiGroups', 'resources', 'verbs']) assert.not.ok(rule[field].includes('*'), `${role.kind} ${JSON.stringify(rule)}`);
    }
  }
  const verbs = find(docs, 'ClusterRole').rules.flatMap((r: any) => r.verbs);
  assert.not.ok(verbs.includes('escalate') || verbs.includes('bind') || verbs.includes('impersonate'));
});

test('the rendered manifests are accepted by the API server: server-side dry run, then a real apply', () => {
  kubectl(['create', 'namespace', NS]);
  // Its own release name, so its cluster-scoped objects do not meet the chart-RBAC pass's.
  const r = helm(['template', 'chart-test', CHART_DIR, '--namespace', NS, '-f', valuesFile, '--set', 'serviceMonitor.enabled=false']);
  assert.is(r.code, 0, r.err);
  const dry = kubectl(['apply', '--server-side', '--force-conflicts', '--dry-run=server', '-f', '-'], r.out);
  assert.is(dry.code, 0, dry.err);
  const real = kubectl(['apply', '--server-side', '--force-conflicts', '-f', '-'], r.out);
  assert.is(real.code, 0, real.err);
  assert.is(kubectlJson(['get', 'deployment', 'chart-test-spiceai-operator', '-n', NS]).spec.template.spec.serviceAccountName, 'spice-op');
  // The ServiceMonitor needs the Prometheus Operator's CRD; without it the API server has no such kind.
  const monitor = kubectl(['apply', '--dry-run=server', '-f', '-'], helm(['template', 'chart-test', CHART_DIR, '--namespace', NS, '-f', valuesFile, '--show-only', 'templates/servicemonitor.yaml']).out);
  assert.match(monitor.err, /no matches for kind "ServiceMonitor"|ensure CRDs are installed/);
});

test("the chart's ServiceAccount can do what the operator needs and no more", () => {
  const sa = chartServiceAccountKubeconfig(testKubeconfig(), tmp);
  const asOperator = (args: string[]) => spawnSync(kubectlPath(), ['--kubeconfig', sa, ...args], { encoding: 'utf8' });
  assert.match(asOperator(['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}']).stdout, /^system:serviceaccount:spiceai-operator-system:spiceai-operator$/);
  const can = (...args: string[]) => asOperator(['auth', 'can-i', ...args]).stdout.trim();
  for (const allowed of [['create', 'statefulsets.apps', '-n', 'x'], ['patch', 'spicepodsets.spice.ai/status', '-n', 'x'], ['create', 'events', '-n', 'x'], ['update', 'leases.coordination.k8s.io', '-n', 'spiceai-operator-system'], ['patch', 'persistentvolumeclaims', '-n', 'x']]) {
    assert.is(can(...allowed), 'yes', allowed.join(' '));
  }
  for (const denied of [['delete', 'nodes'], ['update', 'leases.coordination.k8s.io', '-n', 'x'], ['create', 'clusterroles.rbac.authorization.k8s.io'], ['delete', 'pods', '-n', 'x'], ['*', '*']]) {
    assert.is(can(...denied), 'no', denied.join(' '));
  }
});

test.after(() => {
  // The webhook configuration points at a Service with no operator behind it: remove it so other tests' Pods are not delayed.
  kubectl(['delete', 'mutatingwebhookconfiguration', 'chart-test-spiceai-operator-sidecar-injector', '--ignore-not-found']);
  kubectl(['delete', 'clusterrolebinding,clusterrole', 'chart-test-spiceai-operator', '--ignore-not-found']);
  kubectl(['delete', 'namespace', NS, '--wait=false']);
});

test.run();
