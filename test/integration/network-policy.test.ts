// NetworkPolicies on the real control plane: the operator (workloads,
// cluster and network-policy handlers, as its own process) creates them, the
// API server accepts them with strict field validation, they follow the spec,
// and the garbage collector (kube-controller-manager) deletes them with their
// parents. What the policies mean is checked in network-policy-semantics.test.ts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { stringify } from 'yaml';
import {
  applyShippedCrds,
  auditWrites,
  eventually,
  freshNamespace,
  kubectl,
  kubectlJson,
  kubectlOk,
  namespacedWatches,
} from '../harness/kube.ts';
import { startOperator, type OperatorProcess } from '../harness/operator.ts';

const OPERATOR_NS = 'spiceai-operator-system';
const spicepod = { version: 'v1', kind: 'Spicepod', name: 'app' };
const schedulerSpicepod = {
  version: 'v1',
  kind: 'Spicepod',
  name: 'app',
  runtime: { scheduler: { state_location: 'file:///tmp/spice-cluster' } },
};
let ns = '';
let operator: OperatorProcess | undefined;
let setWatchesBefore = 0;
const args = () => ['--namespaces', ns, '--handlers', 'workloads,cluster,network-policy', '--operator-namespace', OPERATOR_NS];

const apply = (kind: string, apiVersion: string, name: string, spec: Record<string, unknown>) =>
  kubectlOk(
    ['apply', '--server-side', '--field-manager', 'np-test', '-n', ns, '-f', '-'],
    stringify({ apiVersion, kind, metadata: { name }, spec }),
  );
const applySet = (name: string, spec: Record<string, unknown>) => apply('SpicepodSet', 'spice.ai/v1', name, { spicepod, ...spec });
const applyCluster = (name: string, spec: Record<string, unknown>) => apply('SpicepodCluster', 'spice.ai/v1alpha1', name, spec);
const policy = (name: string) => {
  const r = kubectl(['get', 'networkpolicy', name, '-n', ns, '-o', 'json']);
  if (r.code !== 0) return undefined;
  const p = JSON.parse(r.out);
  return p.metadata.deletionTimestamp ? undefined : p;
};
const policyNames = () =>
  kubectlJson(['get', 'networkpolicies', '-n', ns])
    .items.filter((p: any) => !p.metadata.deletionTimestamp)
    .map((p: any) => p.metadata.name)
    .sort();
const condition = (o: any, type: string) => o.status?.conditions?.find((c: any) => c.type === type);

const fromNamespace = (name: string, port: number) => ({
  from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': name } } }],
  ports: [{ protocol: 'TCP', port }],
});
// The operator's own pods (the default --operator-pod-labels), in its namespace.
const fromOperator = {
  from: [
    {
      namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': OPERATOR_NS } },
      podSelector: { matchLabels: { 'app.kubernetes.io/name': 'spiceai-operator' } },
    },
  ],
  ports: [{ protocol: 'TCP', port: 8090 }],
};
const DNS = {
  ports: [
    { protocol: 'UDP', port: 53 },
    { protocol: 'TCP', port: 53 },
  ],
};
const toDatabase = { to: [{ ipBlock: { cidr: '10.20.0.0/16', except: ['10.20.1.0/24'] } }], ports: [{ protocol: 'TCP', port: 5432 }] };
const peers = (cluster: string, direction: 'from' | 'to') => ({
  [direction]: [{ podSelector: { matchLabels: { 'spice.ai/cluster': cluster } } }],
  ports: [{ protocol: 'TCP', port: 50052 }],
});
const PUBLIC = {
  ports: [
    { protocol: 'TCP', port: 8090 },
    { protocol: 'TCP', port: 50051 },
    { protocol: 'TCP', port: 9090 },
  ],
};

test.before(async () => {
  applyShippedCrds();
  kubectl(['create', 'namespace', OPERATOR_NS]);
  ns = freshNamespace('np');
  setWatchesBefore = namespacedWatches('spicepodsets');
  operator = await startOperator(args());
});

test('the workloads and network-policy handlers share one watch (and cache) of SpicepodSets', async () => {
  // Two watches: the SpicepodSets both handlers reconcile, and the cluster handler's own (its children, by label).
  await eventually('the operator to watch SpicepodSets', () => namespacedWatches('spicepodsets') - setWatchesBefore >= 2);
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  assert.is(namespacedWatches('spicepodsets') - setWatchesBefore, 2);
});

test("a SpicepodSet's policy is accepted as generated, owned by the set, and follows spec changes", async () => {
  // A policy the user wrote themselves: the operator must never touch it.
  kubectlOk(
    ['apply', '-n', ns, '-f', '-'],
    stringify({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'users-own' },
      spec: { podSelector: { matchLabels: { 'spice.ai/app': 'web' } }, policyTypes: ['Ingress'], ingress: [{ ports: [{ port: 9090 }] }] },
    }),
  );
  const usersOwn = policy('users-own');
  applySet('web', { network: { ingress: [fromNamespace('monitoring', 8090)], egress: [toDatabase] } });
  const p = await eventually('the web NetworkPolicy', () => policy('web'));
  assert.equal(p.spec, {
    podSelector: { matchLabels: { 'spice.ai/app': 'web' } },
    policyTypes: ['Ingress', 'Egress'],
    ingress: [fromNamespace('monitoring', 8090), fromOperator],
    egress: [toDatabase, DNS],
  });
  const set = kubectlJson(['get', 'spicepodset', 'web', '-n', ns]);
  assert.equal(p.metadata.ownerReferences, [
    { apiVersion: 'spice.ai/v1', kind: 'SpicepodSet', name: 'web', uid: set.metadata.uid, controller: true, blockOwnerDeletion: true },
  ]);
  assert.is(p.metadata.labels['spice.ai/handler'], 'network-policy');

  // Rules change: the policy follows.
  applySet('web', { network: { ingress: [fromNamespace('monitoring', 9090)] } });
  const changed = await eventually('the policy to follow the spec', () => {
    const q = policy('web');
    return q?.spec.policyTypes.length === 1 ? q : undefined;
  });
  assert.equal(changed.spec, {
    podSelector: { matchLabels: { 'spice.ai/app': 'web' } },
    policyTypes: ['Ingress'],
    ingress: [fromNamespace('monitoring', 9090), fromOperator],
  });
  assert.is(changed.metadata.uid, p.metadata.uid, 'updated in place');

  // A field dropped inside a rule (the except list) is dropped from the policy too.
  const { except: _, ...wholeRange } = toDatabase.to[0]!.ipBlock;
  applySet('web', {
    network: { ingress: [fromNamespace('monitoring', 9090)], egress: [{ ...toDatabase, to: [{ ipBlock: wholeRange }] }] },
  });
  const widened = await eventually('the except list to go', () => {
    const q = policy('web');
    return q?.spec.egress && !q.spec.egress[0].to[0].ipBlock.except ? q : undefined;
  });
  assert.equal(widened.spec.egress, [{ ...toDatabase, to: [{ ipBlock: { cidr: '10.20.0.0/16' } }] }, DNS]);

  // network removed: exactly the operator's policy goes; the user's stays as it was.
  applySet('web', { network: { dnsPolicy: 'ClusterFirst' } });
  await eventually('the policy to be removed', () => !policy('web'));
  assert.is(policy('users-own')?.metadata.resourceVersion, usersOwn.metadata.resourceVersion);
});

test('an unchanged policy causes no writes when the operator starts again', async () => {
  applySet('steady', {
    network: {
      ingress: [{ from: [], ports: [{ port: 'http' }] }],
      egress: [{ to: [{ ipBlock: { cidr: '192.168.0.0/16', except: [] } }] }],
    },
  });
  await eventually('the steady policy', () => policy('steady'));
  await new Promise((r) => setTimeout(r, 2000));
  await operator!.stop();
  const since = Date.now();
  operator = await startOperator(args());
  await operator.waitForLog((l) => l.msg === 'became leader', 60_000);
  await new Promise((r) => setTimeout(r, 6000));
  const writes = auditWrites(since, (e) => !!e.userAgent?.startsWith('spiceai-operator') && e.objectRef?.resource === 'networkpolicies');
  assert.equal(
    writes.map((e) => `${e.verb} ${e.objectRef?.name}`),
    [],
  );
});

test('an invalid rule: InvalidSpec naming the field, and the policy is left as it was', async () => {
  applySet('strict', { network: { egress: [toDatabase] } });
  const before = await eventually('the strict policy', () => policy('strict'));
  applySet('strict', { network: { egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/33' } }], ports: [{ port: 70000 }] }] } });
  const set = await eventually('InvalidSpec', () => {
    const s = kubectlJson(['get', 'spicepodset', 'strict', '-n', ns]);
    return condition(s, 'Ready')?.reason === 'InvalidSpec' && s.status.observedGeneration === s.metadata.generation ? s : undefined;
  });
  const message = condition(set, 'Ready').message;
  assert.match(message, /spec\.network\.egress\.0\.to\.0\.ipBlock\.cidr "10\.0\.0\.0\/33" is not a CIDR/);
  assert.match(message, /spec\.network\.egress\.0\.ports\.0\.port must be between 1 and 65535 \(got 70000\)/);
  await eventually(
    'an InvalidSpec Event',
    () => kubectlJson(['get', 'events', '-n', ns, '--field-selector', 'involvedObject.name=strict,reason=InvalidSpec']).items.length >= 1,
  );
  await new Promise((r) => setTimeout(r, 2000));
  assert.is(policy('strict')?.metadata.resourceVersion, before.metadata.resourceVersion);
});

test("a SpicepodCluster: one policy per role, owned by the role's set; deleting the set or the cluster deletes them", async () => {
  applyCluster('qa', {
    schedulerSetSpec: { replicas: 1, spicepod: schedulerSpicepod, network: { ingress: [fromNamespace('monitoring', 8090)] } },
    executorSetSpec: { replicas: 2, network: { egress: [toDatabase] } },
  });
  applyCluster('qb', { schedulerSetSpec: { replicas: 1, spicepod: schedulerSpicepod }, executorSetSpec: { replicas: 1 } });
  await eventually(
    'four cluster policies',
    () => ['qa-executor', 'qa-scheduler', 'qb-executor', 'qb-scheduler'].every((n) => policy(n)),
    90_000,
    500,
  );
  assert.equal(policy('qa-scheduler').spec.ingress, [fromNamespace('monitoring', 8090), fromOperator, peers('qa', 'from')]);
  assert.equal(policy('qa-scheduler').spec.policyTypes, ['Ingress']);
  const executor = policy('qa-executor');
  assert.equal(executor.spec.policyTypes, ['Ingress', 'Egress']);
  assert.equal(executor.spec.ingress, [peers('qa', 'from'), PUBLIC]);
  assert.equal(executor.spec.egress, [toDatabase, DNS, peers('qa', 'to')]);
  assert.equal(policy('qb-scheduler').spec.ingress, [peers('qb', 'from'), PUBLIC]);
  const childSet = kubectlJson(['get', 'spicepodset', 'qa-executor', '-n', ns]);
  assert.equal(
    executor.metadata.ownerReferences.map((r: any) => [r.kind, r.name, r.uid]),
    [['SpicepodSet', 'qa-executor', childSet.metadata.uid]],
  );
  assert.equal(
    childSet.metadata.ownerReferences.map((r: any) => [r.kind, r.name]),
    [['SpicepodCluster', 'qa']],
  );

  // The cluster's rules change: the role's policy follows; the other role's is untouched.
  const schedulerVersion = policy('qa-scheduler').metadata.resourceVersion;
  applyCluster('qa', {
    schedulerSetSpec: { replicas: 1, spicepod: schedulerSpicepod, network: { ingress: [fromNamespace('monitoring', 8090)] } },
    executorSetSpec: { replicas: 2 },
  });
  await eventually('the executor policy to drop its egress', () => policy('qa-executor')?.spec.policyTypes.length === 1, 90_000, 500);
  assert.equal(policy('qa-executor').spec, {
    podSelector: { matchLabels: { 'spice.ai/app': 'qa-executor' } },
    policyTypes: ['Ingress'],
    ingress: [peers('qa', 'from'), PUBLIC],
  });
  assert.is(policy('qa-scheduler').metadata.resourceVersion, schedulerVersion);

  // Deleting the cluster: the garbage collector removes its sets, then their policies.
  kubectlOk(['delete', 'spicepodcluster', 'qb', '-n', ns, '--wait=false']);
  await eventually('qb policies to be collected', () => !policy('qb-scheduler') && !policy('qb-executor'), 90_000, 500);
  assert.ok(policy('qa-scheduler') && policy('qa-executor'), 'the other cluster keeps its policies');
});

test('deleting a SpicepodSet deletes its policy (garbage collector)', async () => {
  assert.ok(policy('strict'));
  kubectlOk(['delete', 'spicepodset', 'strict', '-n', ns, '--wait=false']);
  await eventually('the strict policy to be collected', () => !policy('strict'), 60_000, 500);
  assert.not.ok(policyNames().includes('strict'));
  assert.ok(policyNames().includes('users-own'));
});

test.after(async () => {
  await operator?.stop();
  if (ns) kubectl(['delete', 'namespace', ns, '--wait=false']);
});

test.run();
