// Pods and children the cluster admits, and what the user is told when it
// does not: namespaces enforcing the restricted and baseline Pod Security
// Standards (the API server's built-in PodSecurity admission), and
// ResourceQuotas that refuse the pods or a child.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { stringify } from 'yaml';
import { applyShippedCrds, eventually, freshNamespace, kubectl, kubectlJson, kubectlOk } from '../harness/kube.ts';
import { startOperator, type OperatorProcess } from '../harness/operator.ts';

const OPERATOR_NS = 'spiceai-operator-system';
const spicepod = { version: 'v1', kind: 'Spicepod', name: 'app' };
/** spiced refuses to start a scheduler without runtime.scheduler.state_location. */
const schedulerSpicepod = { ...spicepod, runtime: { scheduler: { state_location: 'file:///tmp/spice-cluster' } } };
const namespaces: string[] = [];
let operator: OperatorProcess | undefined;

const restricted = freshNamespace('pss-restricted');
const baseline = freshNamespace('pss-baseline');
const quota = freshNamespace('quota');
const quotaCluster = freshNamespace('quota-cluster');
namespaces.push(restricted, baseline, quota, quotaCluster);

function apply(ns: string, object: Record<string, unknown>) {
  kubectlOk(['apply', '--server-side', '-n', ns, '-f', '-'], stringify(object));
}
const set = (name: string, spec: Record<string, unknown>) => ({
  apiVersion: 'spice.ai/v1',
  kind: 'SpicepodSet',
  metadata: { name },
  spec: { spicepod, ...spec },
});
const get = (ns: string, kind: string, name: string) => kubectlJson(['get', kind, name, '-n', ns]);
const condition = (o: any, type: string) => o.status?.conditions?.find((c: any) => c.type === type);
const pods = (ns: string, selector: string) => kubectlJson(['get', 'pods', '-n', ns, '-l', selector]).items;

test.before(async () => {
  applyShippedCrds();
  kubectl(['create', 'namespace', OPERATOR_NS]);
  kubectlOk(['label', 'namespace', restricted, 'pod-security.kubernetes.io/enforce=restricted']);
  kubectlOk(['label', 'namespace', baseline, 'pod-security.kubernetes.io/enforce=baseline']);
  operator = await startOperator([
    '--namespaces',
    namespaces.join(','),
    '--handlers',
    'workloads,cluster,pki',
    '--operator-namespace',
    OPERATOR_NS,
  ]);
});

test('the API server enforces Pod Security here: a non-compliant pod is refused in the restricted namespace', () => {
  const r = kubectl(['run', 'plain', '-n', restricted, '--image=busybox', '--restart=Never']);
  assert.is.not(r.code, 0);
  assert.match(r.err, /violates PodSecurity "restricted:latest"/);
});

test('in a namespace enforcing restricted, every pod the operator generates is admitted: a Deployment, per-replica StatefulSets, cluster nodes', async () => {
  apply(restricted, set('single', { replicas: 1 }));
  apply(restricted, set('many', { replicas: 2 }));
  apply(restricted, {
    apiVersion: 'spice.ai/v1alpha1',
    kind: 'SpicepodCluster',
    metadata: { name: 'dq' },
    spec: { schedulerSetSpec: { replicas: 1, spicepod: schedulerSpicepod }, executorSetSpec: { replicas: 2 } },
  });
  for (const name of ['single', 'many']) {
    await eventually(`${name} Ready`, () => condition(get(restricted, 'spicepodset', name), 'Ready')?.status === 'True', 120_000, 500);
  }
  assert.is(pods(restricted, 'spice.ai/app=single').length, 1);
  assert.is(pods(restricted, 'spice.ai/app=many').length, 2);
  await eventually('the cluster nodes', () => pods(restricted, 'spice.ai/cluster=dq').length === 3, 120_000, 500);
  await eventually(
    'the cluster Ready',
    () => condition(get(restricted, 'spicepodcluster', 'dq'), 'Ready')?.status === 'True',
    180_000,
    1000,
  );
});

test('in a namespace enforcing baseline, the pods are admitted too', async () => {
  apply(baseline, set('single', { replicas: 1 }));
  apply(baseline, set('many', { replicas: 2 }));
  for (const name of ['single', 'many']) {
    await eventually(`${name} Ready`, () => condition(get(baseline, 'spicepodset', name), 'Ready')?.status === 'True', 120_000, 500);
  }
});

test("pods a ResourceQuota refuses: Ready=False PodsRefused with the controller's message and a Warning Event, for a Deployment and for StatefulSets; fixed, the set becomes Ready", async () => {
  apply(quota, { apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'no-pods' }, spec: { hard: { pods: '0' } } });
  await eventually('the quota in force', () => get(quota, 'resourcequota', 'no-pods').status?.hard?.pods === '0');
  apply(quota, set('deploy', { replicas: 1 }));
  apply(quota, set('stateful', { replicas: 2 }));
  for (const [name, workload] of [
    ['deploy', /Deployment deploy: /],
    ['stateful', /create Pod stateful-\d-0 in StatefulSet stateful-\d failed error: /],
  ] as const) {
    const refused = await eventually(
      `${name}: PodsRefused`,
      () => {
        const s = get(quota, 'spicepodset', name);
        return condition(s, 'Ready')?.reason === 'PodsRefused' ? s : undefined;
      },
      120_000,
      500,
    );
    const message = condition(refused, 'Ready').message;
    assert.match(message, /^the cluster refuses to create pods: /);
    assert.match(message, workload);
    assert.match(message, /exceeded quota: no-pods/);
    const events = await eventually(
      `${name}: a PodsRefused Warning`,
      () =>
        kubectlJson(['get', 'events', '-n', quota, '--field-selector', `involvedObject.name=${name},reason=PodsRefused,type=Warning`])
          .items,
    );
    assert.match(events[0].message, /exceeded quota/);
  }
  kubectlOk(['delete', 'resourcequota', 'no-pods', '-n', quota]);
  for (const name of ['deploy', 'stateful']) {
    await eventually(
      `${name} Ready once the quota is gone`,
      () => condition(get(quota, 'spicepodset', name), 'Ready')?.status === 'True',
      120_000,
      500,
    );
  }
});

test("a child the API server refuses (a quota on Services): Ready=False ChildRefused naming it with the API server's message, and a Warning Event", async () => {
  apply(quota, { apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'no-services' }, spec: { hard: { services: '0' } } });
  await eventually('the quota in force', () => get(quota, 'resourcequota', 'no-services').status?.hard?.services === '0');
  apply(quota, set('noservice', { replicas: 1 }));
  const refused = await eventually(
    'ChildRefused',
    () => {
      const s = get(quota, 'spicepodset', 'noservice');
      return condition(s, 'Ready')?.reason === 'ChildRefused' ? s : undefined;
    },
    60_000,
    500,
  );
  assert.match(
    condition(refused, 'Ready').message,
    /^the API server refused Service noservice: services "noservice" is forbidden: exceeded quota: no-services/,
  );
  await eventually(
    'a ChildRefused Warning',
    () =>
      kubectlJson(['get', 'events', '-n', quota, '--field-selector', 'involvedObject.name=noservice,reason=ChildRefused,type=Warning'])
        .items.length > 0,
  );
  kubectlOk(['delete', 'resourcequota', 'no-services', '-n', quota]);
  await eventually(
    'Ready once the Service is written',
    () => condition(get(quota, 'spicepodset', 'noservice'), 'Ready')?.status === 'True',
    120_000,
    500,
  );
  assert.ok(get(quota, 'service', 'noservice'));
});

test('a cluster whose executor set cannot create pods says so on the cluster, naming spec.executorSetSpec', async () => {
  const ns = quotaCluster;
  // Schedulers ask for 100m, executors for 2 CPUs: only the executors exceed the quota.
  apply(ns, { apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'one-cpu' }, spec: { hard: { 'requests.cpu': '1' } } });
  await eventually('the quota in force', () => get(ns, 'resourcequota', 'one-cpu').status?.hard?.['requests.cpu'] === '1');
  apply(ns, {
    apiVersion: 'spice.ai/v1alpha1',
    kind: 'SpicepodCluster',
    metadata: { name: 'small' },
    spec: {
      allowInsecureConnections: true,
      schedulerSetSpec: { replicas: 1, spicepod: schedulerSpicepod, resources: { requests: { cpu: '100m' } } },
      executorSetSpec: { replicas: 1, resources: { requests: { cpu: '2' } } },
    },
  });
  const cluster = await eventually(
    'PodsRefused on the cluster',
    () => {
      const c = get(ns, 'spicepodcluster', 'small');
      return condition(c, 'Ready')?.reason === 'PodsRefused' ? c : undefined;
    },
    120_000,
    1000,
  );
  assert.match(
    condition(cluster, 'Ready').message,
    /^spec\.executorSetSpec: the executor set small-executor: the cluster refuses to create pods: .*exceeded quota: one-cpu/,
  );
  assert.is(cluster.status.error, condition(cluster, 'Ready').message, 'status.error says the same');
  await eventually(
    'a PodsRefused Warning on the cluster',
    () =>
      kubectlJson([
        'get',
        'events',
        '-n',
        ns,
        '--field-selector',
        'involvedObject.kind=SpicepodCluster,involvedObject.name=small,reason=PodsRefused,type=Warning',
      ]).items.length > 0,
  );
});

test.after(async () => {
  await operator?.stop();
  for (const ns of namespaces) kubectl(['delete', 'namespace', ns, '--wait=false']);
});

test.run();
