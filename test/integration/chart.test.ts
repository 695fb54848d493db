// The Helm chart with the real helm: lint --strict, render with default and
// with every value, schema errors, the product's newer value names, use as a
// subchart, an independent judge of the rendered chart (kube-score), the
// NetworkPolicy's meaning (cyclonus), the cert-manager certificate against
// cert-manager's own CRDs, and the rendered manifests on the real API server.
// test/integration/chart-install.test.ts installs, upgrades and uninstalls it.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { webhookConfiguration } from '../../functions/injection/configuration.ts';
import { servingNames } from '../../shim/webhook/index.ts';
import { CHART_DIR, chartServiceAccountKubeconfig, helm, kubeScoreFindings } from '../harness/chart.ts';
import { kubectlPath } from '../harness/tools.ts';
import { eventually, kubectl, kubectlJson, testKubeconfig } from '../harness/kube.ts';
import { evaluate } from '../harness/netpol.ts';

const tmp = mkdtempSync(join(tmpdir(), 'chart-'));
const NS = 'chart-release';
const chartYaml = parse(readFileSync(join(CHART_DIR, 'Chart.yaml'), 'utf8'));
const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
const everyValue = {
  global: { imageRegistry: 'ignored.example', labels: { team: 'data' } },
  enabled: true,
  image: {
    repository: 'registry.example/team',
    name: 'spiceai-operator',
    tag: '1.2.3',
    digest: '',
    pullPolicy: 'Always',
    pullSecrets: ['regcred', { name: 'other' }],
  },
  replicaCount: 3,
  podDisruptionBudget: { enabled: true, minAvailable: 2, maxUnavailable: null },
  crds: { enabled: true, keep: true },
  serviceAccount: { create: true, name: 'spice-op', annotations: { 'eks.amazonaws.com/role-arn': 'arn:aws:iam::1:role/x' } },
  resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } },
  nodeSelector: { 'kubernetes.io/os': 'linux' },
  tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'ops', effect: 'NoSchedule' }],
  affinity: {
    nodeAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: {
        nodeSelectorTerms: [{ matchExpressions: [{ key: 'type', operator: 'In', values: ['kwok'] }] }],
      },
    },
  },
  topologySpreadConstraints: [
    {
      maxSkew: 1,
      topologyKey: 'kubernetes.io/hostname',
      whenUnsatisfiable: 'ScheduleAnyway',
      labelSelector: { matchLabels: { 'app.kubernetes.io/name': 'spiceai-operator' } },
    },
  ],
  priorityClassName: 'system-cluster-critical',
  podAnnotations: { 'example.com/owner': 'platform' },
  podLabels: { team: 'platform' },
  extraArgs: ['--lease-name=chart-lease', '--handlers=workloads,status'],
  extraEnv: [{ name: 'NODE_OPTIONS', value: '--max-old-space-size=200' }],
  namespaces: ['team-a', 'team-b'],
  logLevel: 'debug',
  workers: 8,
  serviceMonitor: { enabled: true, interval: '15s' },
  clusterDomain: 'corp.local',
  cluster: { domain: 'ignored.local' },
  pauseCrashloopingPodsThreshold: 3,
  sidecarInjector: {
    enabled: true,
    defaultImage: 'spiceai/spiceai:1.9.0',
    defaultImagePullPolicy: 'Always',
    defaultResources: { requests: { cpu: '100m' }, limits: { memory: '1Gi' } },
    certManager: { enabled: true, issuerRef: { name: 'corp-ca', kind: 'ClusterIssuer', group: 'cert-manager.io' } },
  },
  networkPolicy: {
    enabled: true,
    apiServer: { cidrs: ['172.18.0.0/16'], ports: [6443] },
    metricsFrom: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }],
    httpFrom: [],
    extraIngress: [],
    extraEgress: [{ ports: [{ port: 53, protocol: 'UDP' }] }],
  },
  telemetryProperties: { team: 'data', env: 'prod' },
  telemetry: {
    otlp: {
      enabled: true,
      endpoint: 'http://otel-collector.monitoring:4318',
      protocol: 'http/json',
      headers: { 'x-scope-orgid': 'data' },
      headersSecret: { name: 'otlp-auth', key: 'headers' },
      interval: '30s',
      timeout: '5s',
      serviceName: 'spice-operator-prod',
      resourceAttributes: { 'deployment.environment': 'prod' },
    },
  },
};
const valuesFile = join(tmp, 'every-value.yaml');
writeFileSync(valuesFile, stringify(everyValue));

function renderText(...args: string[]): string {
  const r = helm(['template', 'spiceai-operator', CHART_DIR, '--namespace', NS, ...args]);
  assert.is(r.code, 0, r.err);
  return r.out;
}
const render = (...args: string[]) =>
  parseAllDocuments(renderText(...args))
    .map((d) => d.toJS())
    .filter(Boolean) as any[];
const find = (docs: any[], kind: string, name?: string) => docs.find((d) => d.kind === kind && (!name || d.metadata.name === name));
const container = (docs: any[]) => find(docs, 'Deployment').spec.template.spec.containers[0];

test('helm lint --strict passes with default values and with every value set', () => {
  for (const args of [[], ['-f', valuesFile]]) {
    const r = helm(['lint', '--strict', CHART_DIR, ...args]);
    assert.is(r.code, 0, r.out + r.err);
  }
});

test('default values render the operator, its RBAC, Services, PodDisruptionBudget, webhook configuration and CRDs', () => {
  const docs = render();
  const kinds = docs.map((d) => `${d.kind}/${d.metadata.name}`).sort();
  for (const expected of [
    'Deployment/spiceai-operator',
    'PodDisruptionBudget/spiceai-operator',
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
  for (const optional of ['ServiceMonitor', 'NetworkPolicy', 'Certificate', 'Issuer'])
    assert.not.ok(
      kinds.some((k) => k.startsWith(`${optional}/`)),
      `no ${optional} unless enabled`,
    );
  const deployment = find(docs, 'Deployment');
  assert.is(deployment.spec.replicas, 2);
  const c = container(docs);
  // This project's own image, as npm run image and docker build name it, at the chart's appVersion.
  assert.is(c.image, `spiceai-operator:${chartYaml.appVersion}`);
  assert.not.match(c.image, /latest|ecr|amazonaws/);
  assert.is(chartYaml.appVersion, pkg.version, "the chart's appVersion is the operator version npm run image tags");
  assert.ok(c.args.includes(`--operator-namespace=${NS}`));
  assert.ok(c.args.includes('--pause-crashlooping-pods-threshold=10'));
  assert.ok(c.args.includes('--cluster-domain=cluster.local'));
  assert.ok(c.args.includes('--workers=4'));
  assert.not.ok(
    c.args.some((a: string) => a.startsWith('--namespaces') || a === '--verbose' || a === '--no-sidecar-injector'),
    c.args.join(' '),
  );
  assert.equal(c.resources, { requests: { cpu: '100m', memory: '128Mi' } });
  // The probes on --health-probe-bind-address's own port (kubebuilder's 8081), not on the status API's.
  assert.ok(c.args.includes('--health-probe-bind-address=0.0.0.0:8081'));
  assert.ok(c.ports.some((p: any) => p.name === 'probes' && p.containerPort === 8081));
  assert.equal(c.livenessProbe.httpGet, { path: '/healthz', port: 'probes' });
  assert.equal(c.readinessProbe.httpGet, { path: '/readyz', port: 'probes' });
  assert.ok(c.args.includes('--log-level=info'));
  assert.is(c.securityContext.readOnlyRootFilesystem, true);
  const anti = deployment.spec.template.spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm;
  assert.is(anti.topologyKey, 'kubernetes.io/hostname');
  assert.equal(anti.labelSelector.matchLabels, deployment.spec.selector.matchLabels);
  const pdb = find(docs, 'PodDisruptionBudget');
  assert.is(pdb.spec.minAvailable, 1);
  assert.equal(pdb.spec.selector.matchLabels, deployment.spec.selector.matchLabels);
  const crd = find(docs, 'CustomResourceDefinition', 'spicepodsets.spice.ai');
  assert.is(crd.metadata.annotations['helm.sh/resource-policy'], 'keep');
  assert.equal(
    crd.spec,
    JSON.parse(
      JSON.stringify(
        parseAllDocuments(readFileSync(new URL('../../crds/spicepodsets.spice.ai.yaml', import.meta.url), 'utf8'))[0]!.toJS().spec,
      ),
    ),
  );
});

test('every value reaches the manifests', () => {
  const docs = render('-f', valuesFile);
  const deployment = find(docs, 'Deployment');
  const pod = deployment.spec.template.spec;
  const c = pod.containers[0];
  assert.is(deployment.spec.replicas, 3);
  assert.is(c.image, 'registry.example/team/spiceai-operator:1.2.3');
  assert.is(c.imagePullPolicy, 'Always');
  assert.equal(pod.imagePullSecrets, [{ name: 'regcred' }, { name: 'other' }]);
  assert.is(pod.serviceAccountName, 'spice-op');
  assert.is(pod.priorityClassName, 'system-cluster-critical');
  assert.equal(pod.topologySpreadConstraints, everyValue.topologySpreadConstraints);
  assert.is(deployment.spec.template.metadata.annotations['example.com/owner'], 'platform');
  assert.is(deployment.spec.template.metadata.labels.team, 'platform');
  assert.equal(find(docs, 'ServiceAccount').metadata.annotations, everyValue.serviceAccount.annotations);
  assert.equal(c.resources, everyValue.resources);
  assert.equal(c.env.slice(-everyValue.extraEnv.length), everyValue.extraEnv, 'extraEnv last: it may override the OTEL_* variables');
  assert.ok(
    c.env.some((e: any) => e.name === 'OTEL_EXPORTER_OTLP_ENDPOINT'),
    'telemetry.otlp (test/unit/chart-otlp.test.ts)',
  );
  assert.equal(pod.nodeSelector, everyValue.nodeSelector);
  assert.equal(pod.tolerations, everyValue.tolerations);
  assert.equal(pod.affinity, everyValue.affinity);
  for (const arg of [
    '--cluster-domain=corp.local',
    '--pause-crashlooping-pods-threshold=3',
    '--workers=8',
    '--namespaces=team-a,team-b',
    '--log-level=debug',
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
  const podLabels = deployment.spec.template.metadata.labels;
  const selector = c.args.find((a: string) => a.startsWith('--operator-pod-labels='))!.slice('--operator-pod-labels='.length);
  for (const pair of selector.split(',')) assert.is(podLabels[pair.split('=')[0]!], pair.split('=')[1], pair);
  // extraArgs come last, so they win over the chart's own flags.
  assert.equal(c.args.slice(-2), everyValue.extraArgs);
  assert.is(find(docs, 'PodDisruptionBudget').spec.minAvailable, 2);
  const monitor = find(docs, 'ServiceMonitor');
  assert.is(monitor.spec.endpoints[0].interval, '15s');
  assert.equal(monitor.spec.selector.matchLabels['app.kubernetes.io/component'], 'metrics');
  assert.equal(find(docs, 'Service', 'spiceai-operator-metrics').metadata.labels['app.kubernetes.io/component'], 'metrics');
  const certificate = find(docs, 'Certificate');
  assert.equal(certificate.spec.issuerRef, everyValue.sidecarInjector.certManager.issuerRef);
  assert.not.ok(find(docs, 'Issuer'), 'no self-signed chain when an issuer is given');
  const policy = find(docs, 'NetworkPolicy');
  assert.equal(policy.spec.egress[0], { ports: [{ port: 6443, protocol: 'TCP' }], to: [{ ipBlock: { cidr: '172.18.0.0/16' } }] });
  assert.equal(policy.spec.egress.at(-1), everyValue.networkPolicy.extraEgress[0]);
  const metricsRule = policy.spec.ingress.find((r: any) => r.ports[0].port === 'metrics');
  assert.equal(metricsRule.from, everyValue.networkPolicy.metricsFrom);
  assert.not.ok(render('--set', 'serviceAccount.create=false').some((d) => d.kind === 'ServiceAccount'));
  assert.is(container(render('--set', `image.digest=sha256:${'a'.repeat(64)}`)).image, `spiceai-operator@sha256:${'a'.repeat(64)}`);
  assert.not.ok(
    render('--set', 'replicaCount=1').some((d) => d.kind === 'PodDisruptionBudget'),
    'one replica: a PDB would block every drain',
  );
  const maxUnavailable = find(render('--set', 'podDisruptionBudget.maxUnavailable=1'), 'PodDisruptionBudget').spec;
  assert.equal(maxUnavailable.maxUnavailable, 1);
  assert.is(maxUnavailable.minAvailable, undefined);
});

test("the product's newer value names are accepted and mean the same; the current names keep working", () => {
  const kinds = (docs: any[]) => docs.map((d) => d.kind);
  const crdsOf = (...args: string[]) => render(...args).filter((d) => d.kind === 'CustomResourceDefinition');
  // crds.enabled / crds.keep, and the deprecated installCRDs deciding both when set.
  assert.is(crdsOf('--set', 'crds.enabled=false').length, 0);
  assert.is(crdsOf('--set', 'installCRDs=false').length, 0);
  assert.is(crdsOf('--set', 'crds.enabled=false', '--set', 'installCRDs=true').length, 2);
  assert.ok(crdsOf('--set', 'crds.keep=false').every((d) => !d.metadata.annotations?.['helm.sh/resource-policy']));
  assert.ok(
    crdsOf('--set', 'crds.keep=false', '--set', 'installCRDs=true').every(
      (d) => d.metadata.annotations['helm.sh/resource-policy'] === 'keep',
    ),
  );
  // clusterDomain (newer) wins over cluster.domain (current), which still works alone.
  assert.ok(container(render('--set', 'cluster.domain=old.local')).args.includes('--cluster-domain=old.local'));
  assert.ok(
    container(render('--set', 'clusterDomain=new.local', '--set', 'cluster.domain=old.local')).args.includes('--cluster-domain=new.local'),
  );
  // sidecarInjector.enabled=false: no injector registered; the webhook server still converts the CRDs' versions.
  const off = render('--set', 'sidecarInjector.enabled=false');
  assert.ok(container(off).args.includes('--no-sidecar-injector'));
  assert.not.ok(container(off).args.some((a: string) => /^--(webhook-configuration|sidecar-default-)/.test(a)));
  assert.ok(container(off).args.some((a: string) => a.startsWith('--webhook-service=')));
  assert.not.ok(kinds(off).includes('MutatingWebhookConfiguration'));
  assert.ok(off.some((d) => d.kind === 'Service' && d.metadata.name.endsWith('-webhook')));
  // namespaces: the operator's flag, and the same webhook selector the operator applies.
  const scoped = render('--set', 'namespaces={team-a,team-b}');
  assert.ok(container(scoped).args.includes('--namespaces=team-a,team-b'));
  const operator = webhookConfiguration({
    name: 'x',
    operatorNamespace: NS,
    namespaces: ['team-a', 'team-b'],
    caBundlePem: 'x',
    service: { name: 'x', namespace: NS, path: '/mutate' },
  }) as any;
  for (const [i, webhook] of find(scoped, 'MutatingWebhookConfiguration').webhooks.entries())
    assert.equal(webhook.namespaceSelector, operator.webhooks[i].namespaceSelector);
});

test('a wrong value is refused at install time, naming it', () => {
  for (const [set, pattern] of [
    ['pauseCrashloopingPodsThreshold=many', /pauseCrashloopingPodsThreshold.*want integer/],
    ['image.pullPolicy=Sometimes', /pullPolicy/],
    ['image.digest=latest', /digest/],
    ['installCRDs=maybe', /installCRDs/],
    ['crds.enabled=yes', /crds\/enabled|crds.*enabled/],
    ['crds.install=true', /install/],
    ['serviceMonitor.interval=soon', /interval/],
    ['replicaCount=0', /replicaCount/],
    ['logLevel=trace', /logLevel/],
    ['workers=0', /workers/],
    ['namespaces={Team_A}', /namespaces/],
    ['extraArgs={verbose}', /extraArgs/],
    ['sidecarInjector.certManager.issuerRef.kind=Vault', /kind/],
    ['networkPolicy.apiServer.ports={}', /ports/],
    ['enabled=maybe', /enabled/],
    ['nosuchvalue=1', /nosuchvalue/],
  ] as [string, RegExp][]) {
    const r = helm(['template', 'x', CHART_DIR, '--set', set]);
    assert.is.not(r.code, 0, set);
    assert.match(r.err, pattern, `${set}: ${r.err}`);
  }
});

test('as a subchart: a parent chart with global values and an enabled condition renders and lints it', () => {
  const parent = join(tmp, 'platform');
  mkdirSync(join(parent, 'charts'), { recursive: true });
  mkdirSync(join(parent, 'templates'), { recursive: true });
  writeFileSync(
    join(parent, 'templates', 'configmap.yaml'),
    'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: platform\ndata:\n  registry: {{ .Values.global.imageRegistry | quote }}\n',
  );
  cpSync(CHART_DIR, join(parent, 'charts', 'spiceai-operator'), { recursive: true });
  writeFileSync(
    join(parent, 'Chart.yaml'),
    stringify({
      apiVersion: 'v2',
      name: 'platform',
      version: '1.0.0',
      dependencies: [{ name: 'spiceai-operator', version: chartYaml.version, condition: 'spiceai-operator.enabled' }],
    }),
  );
  writeFileSync(
    join(parent, 'values.yaml'),
    stringify({
      global: { imageRegistry: 'registry.example', imagePullSecrets: ['regcred'] },
      'spiceai-operator': { enabled: true, replicaCount: 3, image: { repository: 'registry.example/platform' } },
    }),
  );
  const r = helm(['template', 'platform', parent, '--namespace', 'platform']);
  assert.is(r.code, 0, r.err);
  const docs = parseAllDocuments(r.out)
    .map((d) => d.toJS())
    .filter(Boolean) as any[];
  const deployment = docs.find((d) => d.kind === 'Deployment');
  assert.is(deployment.spec.replicas, 3);
  assert.is(deployment.spec.template.spec.containers[0].image, `registry.example/platform/spiceai-operator:${chartYaml.appVersion}`);
  const lint = helm(['lint', '--strict', parent]);
  assert.is(lint.code, 0, lint.out + lint.err);
  const disabled = helm(['template', 'platform', parent, '--set', 'spiceai-operator.enabled=false']);
  assert.is(disabled.code, 0, disabled.err);
  assert.not.match(disabled.out, /kind: Deployment/);
});

/**
 * What kube-score calls CRITICAL in the default install that only the user can decide, with why.
 * The test fails on any other CRITICAL finding, and on an exception that no longer happens.
 */
const USER_DECIDES: Record<string, { summaries: string[]; reason: string }> = {
  'container-resources': {
    summaries: ['CPU limit is not set', 'Memory limit is not set'],
    reason:
      'Requests are set from the measured memory (128Mi for ~111 MiB RSS with 1,200 SpicepodSets). A memory limit depends on how many objects the cluster has (the cache grows with them), and a CPU limit only throttles reconciles and the webhook; kube-score itself has --ignore-container-cpu-limit for this.',
  },
  'container-image-pull-policy': {
    summaries: ['ImagePullPolicy is not set to Always'],
    reason:
      "The default image has a pinned tag (the appVersion); Always would break the README's local path, an image loaded into the nodes (kind load, k3d image import, minikube image load) that no registry serves. image.pullPolicy=Always is one value away.",
  },
  'container-ephemeral-storage-request-and-limit': {
    summaries: ['Ephemeral Storage limit is not set', 'Ephemeral Storage request is not set'],
    reason:
      'The operator writes no files (read-only root filesystem); its only ephemeral storage is its log, which the kubelet rotates as the cluster is configured, so only the cluster admin knows the bound. resources accepts ephemeral-storage.',
  },
  'pod-networkpolicy': {
    summaries: ['The pod does not have a matching NetworkPolicy'],
    reason:
      "The policy needs the API server's addresses and ports as the pods reach them, and a CNI that enforces it: both are the cluster's. networkPolicy.enabled=true renders one (scored below with no finding).",
  },
};

test('kube-score finds nothing CRITICAL in the default install but what only the user can decide (each listed with its reason)', () => {
  const critical = kubeScoreFindings(renderText()).filter((f) => f.grade === 'CRITICAL');
  const unexpected = critical.filter((f) => !USER_DECIDES[f.check]?.summaries.includes(f.summary));
  assert.equal(
    unexpected,
    [],
    `CRITICAL findings that are ours to fix:\n${unexpected.map((f) => `${f.object} ${f.check}: ${f.summary}`).join('\n')}`,
  );
  for (const [check, { summaries }] of Object.entries(USER_DECIDES)) {
    for (const summary of summaries)
      assert.ok(
        critical.some((f) => f.check === check && f.summary === summary),
        `exception ${check} "${summary}" no longer happens: remove it`,
      );
  }
  // With the user's decisions made, nothing at all is CRITICAL, and nothing is a WARNING.
  const decided = renderText(
    '--set',
    'networkPolicy.enabled=true',
    '--set',
    'image.pullPolicy=Always',
    '--set',
    'resources.limits.cpu=1',
    '--set',
    'resources.limits.memory=512Mi',
    '--set',
    'resources.requests.ephemeral-storage=16Mi',
    '--set',
    'resources.limits.ephemeral-storage=256Mi',
  );
  const rest = kubeScoreFindings(decided);
  assert.equal(rest, [], rest.map((f) => `${f.grade} ${f.object} ${f.check}: ${f.summary}`).join('\n'));
});

test("the NetworkPolicy lets in the API server, Prometheus, status API callers and the probes, lets out the API server and spiced's probes, nothing else (cyclonus judges)", () => {
  const rendered = render('--set', 'networkPolicy.enabled=true');
  const policy = find(rendered, 'NetworkPolicy');
  const operatorLabels = find(rendered, 'Deployment').spec.template.metadata.labels;
  const ports = container(rendered).ports.map((p: any) => ({ name: p.name, containerPort: p.containerPort, protocol: 'TCP' }));
  const { results } = evaluate({
    policies: [policy],
    namespaces: { [NS]: { 'kubernetes.io/metadata.name': NS }, team: { 'kubernetes.io/metadata.name': 'team' } },
    pods: [
      { id: 'operator', namespace: NS, labels: operatorLabels, ip: '10.0.0.10', ports },
      { id: 'spiced', namespace: 'team', labels: { 'spice.ai/app': 'my-spicepod' }, ip: '10.0.1.10', ports: [{ containerPort: 8090 }] },
      { id: 'other', namespace: 'team', labels: { app: 'web' }, ip: '10.0.1.11', ports: [{ containerPort: 80 }] },
      {
        id: 'apiserver',
        ip: '172.18.0.2',
        ports: [{ containerPort: 6443 }, { containerPort: 443 }, { containerPort: 8443 }, { containerPort: 2379 }],
      },
    ],
    queries: [
      { from: 'apiserver', to: 'operator', port: 8443 },
      { from: 'other', to: 'operator', port: 9090 },
      { from: 'other', to: 'operator', port: 8090 },
      { from: 'other', to: 'operator', port: 8081 },
      { from: 'other', to: 'operator', port: 22 },
      { from: 'operator', to: 'apiserver', port: 6443 },
      { from: 'operator', to: 'apiserver', port: 443 },
      { from: 'operator', to: 'apiserver', port: 2379 },
      { from: 'operator', to: 'spiced', port: 8090 },
      { from: 'operator', to: 'other', port: 80 },
    ],
  });
  const allowed = Object.fromEntries(results.map((r) => [`${r.from}->${r.to}:${r.port}`, r.allowed]));
  assert.equal(allowed, {
    'apiserver->operator:8443': true,
    'other->operator:9090': true,
    'other->operator:8090': true,
    'other->operator:8081': true,
    'other->operator:22': false,
    'operator->apiserver:6443': true,
    'operator->apiserver:443': true,
    'operator->apiserver:2379': false,
    'operator->spiced:8090': true,
    'operator->other:80': false,
  });
});

test("the cert-manager Certificate is accepted by cert-manager's own CRDs and names what the operator serves", async () => {
  // cert-manager's CRDs at a pinned release, from its Go module (the Go module proxy).
  const mod = spawnSync('go', ['mod', 'download', '-json', 'github.com/cert-manager/cert-manager@v1.19.1'], { encoding: 'utf8', cwd: tmp });
  assert.is(mod.status, 0, mod.stderr);
  const crdDir = join(JSON.parse(mod.stdout).Dir, 'deploy', 'crds');
  const crds = readdirSync(crdDir)
    .filter((f) => f.startsWith('cert-manager.io_'))
    .map((f) => readFileSync(join(crdDir, f), 'utf8'));
  const applied = kubectl(['apply', '--server-side', '-f', '-'], crds.join('\n---\n'));
  assert.is(applied.code, 0, applied.err);
  try {
    for (const crd of ['certificates', 'issuers', 'clusterissuers']) {
      await eventually(`${crd}.cert-manager.io to be served`, () =>
        kubectlJson(['get', 'crd', `${crd}.cert-manager.io`]).status?.conditions?.some(
          (c: any) => c.type === 'Established' && c.status === 'True',
        ),
      );
    }
    kubectl(['create', 'namespace', NS]);
    for (const issuer of [
      [],
      ['--set', 'sidecarInjector.certManager.issuerRef.name=corp-ca', '--set', 'sidecarInjector.certManager.issuerRef.kind=ClusterIssuer'],
    ]) {
      const docs = render('--set', 'sidecarInjector.certManager.enabled=true', '--set', 'clusterDomain=corp.local', ...issuer);
      const certManagerDocs = docs.filter((d) => d.apiVersion === 'cert-manager.io/v1');
      assert.ok(certManagerDocs.length === (issuer.length ? 1 : 4), certManagerDocs.map((d) => d.kind).join(','));
      const dry = kubectl(
        ['apply', '--server-side', '--dry-run=server', '-f', '-'],
        certManagerDocs.map((d) => JSON.stringify(d)).join('\n'),
      );
      assert.is(dry.code, 0, dry.err);
      const args: string[] = container(docs).args;
      const flag = (name: string) => args.find((a) => a.startsWith(`--${name}=`))!.split('=')[1]!;
      const leaf = certManagerDocs.find((d) => d.kind === 'Certificate' && !d.spec.isCA);
      assert.is(leaf.spec.secretName, flag('webhook-secret'), 'cert-manager writes the Secret the operator serves');
      const names = servingNames({ serviceName: flag('webhook-service'), operatorNamespace: NS, clusterDomain: 'corp.local' });
      assert.equal([...leaf.spec.dnsNames].sort(), [...names.dnsNames].sort(), 'the names the API server dials');
      if (!issuer.length) {
        const issuerDoc = certManagerDocs.find((d) => d.kind === 'Issuer' && d.spec.ca);
        assert.equal(leaf.spec.issuerRef, { name: issuerDoc.metadata.name, kind: 'Issuer', group: 'cert-manager.io' });
      }
    }
  } finally {
    kubectl(['delete', '-f', '-', '--ignore-not-found', '--wait=false'], crds.join('\n---\n'));
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
      for (const field of ['apiGroups', 'resources', 'verbs'])
        assert.not.ok(rule[field].includes('*'), `${role.kind} ${JSON.stringify(rule)}`);
    }
  }
  const verbs = find(docs, 'ClusterRole').rules.flatMap((r: any) => r.verbs);
  assert.not.ok(verbs.includes('escalate') || verbs.includes('bind') || verbs.includes('impersonate'));
});

test('the rendered manifests are accepted by the API server: server-side dry run, then a real apply', () => {
  kubectl(['create', 'namespace', NS]);
  // Its own release name, so its cluster-scoped objects do not meet the chart-RBAC pass's. No cert-manager,
  // no ServiceMonitor here (their CRDs are not installed); the webhook only for a namespace without Pods.
  const args = [
    '-f',
    valuesFile,
    '--set',
    'serviceMonitor.enabled=false',
    '--set',
    'sidecarInjector.certManager.enabled=false',
    '--set',
    'namespaces={chart-no-pods}',
  ];
  const r = helm(['template', 'chart-test', CHART_DIR, '--namespace', NS, ...args]);
  assert.is(r.code, 0, r.err);
  const dry = kubectl(['apply', '--server-side', '--force-conflicts', '--dry-run=server', '-f', '-'], r.out);
  assert.is(dry.code, 0, dry.err);
  const real = kubectl(['apply', '--server-side', '--force-conflicts', '-f', '-'], r.out);
  assert.is(real.code, 0, real.err);
  assert.is(kubectlJson(['get', 'deployment', 'chart-test-spiceai-operator', '-n', NS]).spec.template.spec.serviceAccountName, 'spice-op');
  assert.is(kubectlJson(['get', 'networkpolicy', 'chart-test-spiceai-operator', '-n', NS]).spec.policyTypes.length, 2);
  assert.is(kubectlJson(['get', 'poddisruptionbudget', 'chart-test-spiceai-operator', '-n', NS]).spec.minAvailable, 2);
  // The ServiceMonitor needs the Prometheus Operator's CRD; without it the API server has no such kind.
  const monitor = kubectl(
    ['apply', '--dry-run=server', '-f', '-'],
    helm(['template', 'chart-test', CHART_DIR, '--namespace', NS, '-f', valuesFile, '--show-only', 'templates/servicemonitor.yaml']).out,
  );
  assert.match(monitor.err, /no matches for kind "ServiceMonitor"|ensure CRDs are installed/);
});

test("the chart's ServiceAccount can do what the operator needs and no more", () => {
  const sa = chartServiceAccountKubeconfig(testKubeconfig(), tmp);
  const asOperator = (args: string[]) => spawnSync(kubectlPath(), ['--kubeconfig', sa, ...args], { encoding: 'utf8' });
  assert.match(
    asOperator(['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}']).stdout,
    /^system:serviceaccount:spiceai-operator-system:spiceai-operator$/,
  );
  const can = (...args: string[]) => asOperator(['auth', 'can-i', ...args]).stdout.trim();
  for (const allowed of [
    ['create', 'statefulsets.apps', '-n', 'x'],
    ['patch', 'spicepodsets.spice.ai/status', '-n', 'x'],
    ['create', 'events', '-n', 'x'],
    ['update', 'leases.coordination.k8s.io', '-n', 'spiceai-operator-system'],
    ['patch', 'persistentvolumeclaims', '-n', 'x'],
  ]) {
    assert.is(can(...allowed), 'yes', allowed.join(' '));
  }
  for (const denied of [
    ['delete', 'nodes'],
    ['update', 'leases.coordination.k8s.io', '-n', 'x'],
    ['create', 'clusterroles.rbac.authorization.k8s.io'],
    ['delete', 'pods', '-n', 'x'],
    ['*', '*'],
  ]) {
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
