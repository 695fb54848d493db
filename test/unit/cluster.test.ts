// The cluster handler (SpicepodCluster -> two child SpicepodSets), and the
// spiced pods the workloads handler renders for those children.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { HandlerConfig, KubeObject } from '../../core/handler.ts';
import { reconcileSpicepodCluster } from '../../functions/cluster/index.ts';
import { reconcileSpicepodSet } from '../../functions/workloads/index.ts';

const config: HandlerConfig = { operatorNamespace: 'op', clusterDomain: 'cluster.local', pauseCrashloopingPodsThreshold: 10, telemetryProperties: {} };
// A scheduler's Spicepod names where the cluster keeps its state: spiced refuses to start a scheduler without it.
const pod = { version: 'v1', kind: 'Spicepod', name: 's', runtime: { scheduler: { state_location: 'file:///tmp/spice-cluster' } } };
const now = Date.parse('2026-01-01T00:00:00Z');

function clusterObject(spec: Record<string, unknown>, generation = 1): KubeObject {
  return { apiVersion: 'spice.ai/v1alpha1', kind: 'SpicepodCluster', metadata: { name: 'c', namespace: 'ns', uid: 'u', generation }, spec };
}
const baseSpec = { schedulerSetSpec: { replicas: 1, spicepod: pod }, executorSetSpec: { replicas: 2 } };

/** A child as the API server would store it after the workloads handler settled it. */
function settled(child: KubeObject, generation = 1, ready = true): KubeObject {
  const replicas = (child.spec as { replicas?: number }).replicas ?? 1;
  return {
    ...child,
    metadata: { ...child.metadata, generation },
    status: {
      observedGeneration: generation,
      readyReplicas: ready ? replicas : 0,
      conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', reason: 'x', message: 'x' }],
    },
  };
}

/** The owner reference the shim puts on every child the cluster handler writes. */
const CLUSTER_OWNER = { apiVersion: 'spice.ai/v1alpha1', kind: 'SpicepodCluster', name: 'c', uid: 'u', controller: true };
const run = (parent: KubeObject, children: KubeObject[] = []) => reconcileSpicepodCluster({ parent, children, related: {}, now, config });
const child = (d: { apply: KubeObject[] }, role: string) => d.apply.find((o) => o.metadata.name === `c-${role}`) as any;

test('a cluster becomes a scheduler set (with the Spicepod) and an executor set (without one)', async () => {
  const d = await run(clusterObject(baseSpec));
  const scheduler = child(d, 'scheduler');
  const executor = child(d, 'executor');
  assert.equal(scheduler.spec.spicepod, pod);
  assert.equal(scheduler.spec.cluster, { role: 'scheduler', clusterName: 'c', allowInsecureConnections: false, schedulerAddress: undefined });
  assert.is(executor.spec.spicepod.name, 'c-executor', 'a placeholder: executors fetch the Spicepod from the scheduler');
  assert.is(executor.spec.cluster.schedulerAddress, 'https://c-scheduler-headless.ns.svc.cluster.local:50052');
  assert.is(executor.spec.replicas, 2);
  assert.equal(scheduler.metadata.labels, { 'spice.ai/cluster': 'c', 'spice.ai/cluster-role': 'scheduler' });
  const status = d.status as any;
  assert.is(status.schedulerSpicepodsetName, 'c-scheduler');
  assert.is(status.executorSpicepodsetName, 'c-executor');
  assert.is(status.executors, '0/2');
});

test('the child sets render spiced with the cluster flags, per-node certificates, and no probes on executors', async () => {
  const d = await run(clusterObject(baseSpec));
  const render = (c: KubeObject) => reconcileSpicepodSet({ parent: { ...c, metadata: { ...c.metadata, uid: 'x', generation: 1, ownerReferences: [CLUSTER_OWNER] } }, children: [], related: {}, now, config });
  const sched = (await render(child(d, 'scheduler'))).apply.find((o) => o.kind === 'StatefulSet' && o.metadata.name === 'c-scheduler-0') as any;
  const args: string[] = sched.spec.template.spec.containers[0].args;
  const flag = (name: string) => args[args.indexOf(name) + 1];
  assert.is(flag('--role'), 'scheduler');
  assert.is(flag('--node-bind-address'), '0.0.0.0:50052');
  assert.is(flag('--node-advertise-address'), '$(POD_NAME).c-scheduler-headless.ns.svc.cluster.local');
  assert.is(flag('--node-mtls-ca-certificate-file'), '/etc/spice/tls/ca.crt');
  assert.is(flag('--node-mtls-certificate-file'), '/etc/spice/tls/tls.crt');
  assert.is(flag('--node-mtls-key-file'), '/etc/spice/tls/tls.key');
  assert.ok(sched.spec.template.spec.volumes.some((v: any) => v.secret?.secretName === 'c-scheduler-0-tls'));
  assert.ok(sched.spec.template.spec.containers[0].readinessProbe);
  const execObjects = (await render(child(d, 'executor'))).apply;
  const exec = execObjects.find((o) => o.kind === 'StatefulSet' && o.metadata.name === 'c-executor-1') as any;
  const eargs: string[] = exec.spec.template.spec.containers[0].args;
  assert.is(eargs[eargs.indexOf('--role') + 1], 'executor');
  assert.is(eargs[eargs.indexOf('--scheduler-address') + 1], 'https://c-scheduler-headless.ns.svc.cluster.local:50052');
  assert.is(exec.spec.template.spec.containers[0].readinessProbe, undefined);
  assert.is(exec.spec.template.spec.containers[0].livenessProbe, undefined);
  assert.ok(exec.spec.template.spec.volumes.some((v: any) => v.secret?.secretName === 'c-executor-1-tls'));
  const headless = execObjects.find((o) => o.kind === 'Service' && o.metadata.name === 'c-executor-headless') as any;
  assert.ok(headless.spec.ports.some((p: any) => p.port === 50052));
  assert.is(exec.spec.template.metadata.labels['spice.ai/cluster'], 'c');
  assert.is(exec.spec.template.metadata.labels['spice.ai/cluster-role'], 'executor');
});

test('allowInsecureConnections: --allow-insecure-connections, http, no certificates mounted (Secure and its Warning are the pki handler\'s)', async () => {
  const parent = clusterObject({ ...baseSpec, allowInsecureConnections: true });
  const d = await run(parent);
  assert.is(child(d, 'executor').spec.cluster.schedulerAddress, 'http://c-scheduler-headless.ns.svc.cluster.local:50052');
  assert.not.ok((d.status as any).conditions.some((c: any) => c.type === 'Secure'), 'the pki handler, which knows the certificates, owns Secure');
  const set = await reconcileSpicepodSet({ parent: { ...child(d, 'scheduler'), metadata: { name: 'c-scheduler', namespace: 'ns', uid: 'x', generation: 1, ownerReferences: [CLUSTER_OWNER] } }, children: [], related: {}, now, config });
  const sts = set.apply.find((o) => o.kind === 'StatefulSet') as any;
  assert.ok(sts.spec.template.spec.containers[0].args.includes('--allow-insecure-connections'));
  assert.not.ok(sts.spec.template.spec.volumes.some((v: any) => v.name === 'node-tls'));
});

test('upgrades roll schedulers first: the executor set waits until the schedulers are updated and Ready', async () => {
  const first = await run(clusterObject(baseSpec));
  const children = [settled(child(first, 'scheduler')), settled(child(first, 'executor'))];
  const upgraded = { schedulerSetSpec: { replicas: 1, spicepod: pod, image: { tag: '2.0' } }, executorSetSpec: { replicas: 2, image: { tag: '2.0' } } };
  const step1 = await run(clusterObject(upgraded, 2), children);
  assert.is(child(step1, 'scheduler').spec.image.tag, '2.0');
  assert.is(child(step1, 'executor'), undefined, 'the executor set is kept as it is');
  assert.ok(step1.keep?.some((r) => r.name === 'c-executor'));
  assert.is((step1.status as any).conditions.find((c: any) => c.type === 'Progressing').reason, 'SchedulersFirst');
  // The scheduler set takes the new spec but is not Ready yet: executors still wait.
  const rolling = [settled(child(step1, 'scheduler'), 2, false), children[1]!];
  assert.is(child(await run(clusterObject(upgraded, 2), rolling), 'executor'), undefined);
  // Schedulers updated and Ready: now the executors.
  const done = [settled(child(step1, 'scheduler'), 2, true), children[1]!];
  const step2 = await run(clusterObject(upgraded, 2), done);
  assert.is(child(step2, 'executor').spec.image.tag, '2.0');
});

test('an invalid cluster spec is reported and nothing is touched', async () => {
  const first = await run(clusterObject(baseSpec));
  const children = [settled(child(first, 'scheduler')), settled(child(first, 'executor'))];
  const d = await run(clusterObject({ ...baseSpec, executorSetSpec: { replicas: 2, updateStrategy: { type: 'BlueGreen' } } }, 2), children);
  assert.equal(d.apply, []);
  assert.is(d.keep?.length, 2);
  assert.match((d.status as any).conditions[0].message, /spec\.executorSetSpec\.updateStrategy\.type BlueGreen is not supported/);
});

test('a scheduler Spicepod without runtime.scheduler.state_location is refused (spiced would not start), not reported as waiting for nodes', async () => {
  for (const spicepod of [
    { version: 'v1', kind: 'Spicepod', name: 's' },
    { version: 'v1', kind: 'Spicepod', name: 's', runtime: { scheduler: {} } }, // conformance: refused
    'version: v1\nkind: Spicepod\nname: s\n',
  ]) {
    const d = await run(clusterObject({ ...baseSpec, schedulerSetSpec: { replicas: 1, spicepod } }));
    assert.equal(d.apply, [], 'no child set is written');
    const ready = (d.status as any).conditions.find((c: any) => c.type === 'Ready');
    assert.is(ready.status, 'False');
    assert.is(ready.reason, 'InvalidSpec');
    assert.match(ready.message, /^spec\.schedulerSetSpec\.spicepod\.runtime\.scheduler\.state_location is required: spiced refuses to start a scheduler without it/);
    assert.equal(d.events?.map((e) => [e.type, e.reason, e.message]), [['Warning', 'InvalidSpec', ready.message]]);
  }
  const notUrl = await run(clusterObject({ ...baseSpec, schedulerSetSpec: { replicas: 1, spicepod: { ...pod, runtime: { scheduler: { state_location: 'tmp/state' } } } } }));
  assert.match((notUrl.status as any).conditions[0].message, /state_location "tmp\/state" is not a URL/);
});

test('Ready once both sets are settled on the current spec', async () => {
  const first = await run(clusterObject(baseSpec));
  const d = await run(clusterObject(baseSpec), [settled(child(first, 'scheduler')), settled(child(first, 'executor'))]);
  const status = d.status as any;
  assert.is(status.conditions.find((c: any) => c.type === 'Ready').status, 'True');
  assert.equal([status.schedulerReadyReplicas, status.executorReadyReplicas, status.schedulers, status.executors], [1, 2, '1/1', '2/2']);
  assert.ok(d.events?.some((e) => e.reason === 'Ready'));
});

const cond = (d: { status?: Record<string, unknown> }, type: string) => ((d.status as any).conditions as any[]).find((c) => c.type === type);

/** A child whose status says what the workloads handler said about it. */
function withStatus(c: KubeObject, status: Record<string, unknown>): KubeObject {
  return { ...c, metadata: { ...c.metadata, generation: 1 }, status: { observedGeneration: 1, readyReplicas: 0, ...status } };
}

test('a child spec the workloads handler would refuse is InvalidSpec on the cluster, naming the field under its node spec; nothing is touched', async () => {
  const first = await run(clusterObject(baseSpec));
  const children = [settled(child(first, 'scheduler')), settled(child(first, 'executor'))];
  const bad = { ...baseSpec, executorSetSpec: { replicas: 2, env: [{ name: 'A=B', value: 'x' }], resources: { requests: { cpu: '2' }, limits: { cpu: '1' } } } };
  const d = await run(clusterObject(bad, 2), children);
  assert.equal(d.apply, []);
  assert.is(d.keep?.length, 2);
  const ready = cond(d, 'Ready');
  assert.is(ready.reason, 'InvalidSpec');
  assert.match(ready.message, /spec\.executorSetSpec\.env\.0\.name .*other than '='/);
  assert.match(ready.message, /spec\.executorSetSpec\.resources\.requests\.cpu must be at most the cpu limit of 1/);
  assert.is((d.status as any).error, ready.message, 'status.error says the same');
  assert.ok(d.events?.some((e) => e.type === 'Warning' && e.reason === 'InvalidSpec'));
  const long = await run({ ...clusterObject(baseSpec), metadata: { ...clusterObject(baseSpec).metadata, name: 'c'.repeat(41) } });
  assert.match(cond(long, 'Ready').message, /^metadata\.name makes the scheduler set name "c{41}-scheduler" \(the cluster name and "-scheduler"\), which is too long for its StatefulSets/);
});

test('a child set whose objects or pods the cluster refuses: the cluster says so, naming its node spec, and status.error carries it', async () => {
  const first = await run(clusterObject(baseSpec));
  const refused = withStatus(child(first, 'executor'), {
    conditions: [{ type: 'Ready', status: 'False', reason: 'PodsRefused', message: 'the cluster refuses to create pods: create Pod c-executor-0-0 in StatefulSet c-executor-0 failed error: violates PodSecurity' }],
  });
  const d = await run(clusterObject(baseSpec), [settled(child(first, 'scheduler')), refused]);
  const ready = cond(d, 'Ready');
  assert.is(ready.reason, 'PodsRefused');
  assert.match(ready.message, /^spec\.executorSetSpec: the executor set c-executor: the cluster refuses to create pods: .*violates PodSecurity/);
  assert.is((d.status as any).error, ready.message);
  assert.ok(d.events?.some((e) => e.type === 'Warning' && e.reason === 'PodsRefused'));
  const fine = await run(clusterObject(baseSpec), [settled(child(first, 'scheduler')), settled(child(first, 'executor'))]);
  assert.is((fine.status as any).error, undefined, 'no error when nothing is wrong');
});

test('a child set the API server refuses is reported on the cluster', async () => {
  const parent = clusterObject(baseSpec);
  const d = await reconcileSpicepodCluster({
    parent,
    children: [],
    related: {},
    now,
    config,
    failedWrites: [{ target: { apiVersion: 'spice.ai/v1', kind: 'SpicepodSet', namespace: 'ns', name: 'c-executor' }, verb: 'apply', code: 422, reason: 'Invalid', message: 'SpicepodSet.spice.ai "c-executor" is invalid: spec.replicas: Invalid value' }],
  });
  assert.is(cond(d, 'Ready').reason, 'ChildRefused');
  assert.match(cond(d, 'Ready').message, /the API server refused SpicepodSet c-executor: .*is invalid/);
});

test('Paused on the cluster: True when a node set is paused, with its reason and how to resume it', async () => {
  const first = await run(clusterObject(baseSpec));
  const running = await run(clusterObject(baseSpec), [settled(child(first, 'scheduler')), settled(child(first, 'executor'))]);
  assert.is(cond(running, 'Paused').status, 'False');
  const paused = withStatus(child(first, 'executor'), {
    pauseReason: 'CrashLooping',
    conditions: [
      { type: 'Ready', status: 'False', reason: 'Paused', message: 'paused after repeated pod failures' },
      { type: 'Paused', status: 'True', reason: 'CrashLooping', message: '12 pod deaths since the pods were last Ready exceed the threshold of 10; fix the cause, then resume with: kubectl annotate spicepodset c-executor -n ns spice.ai/resume=true' },
    ],
  });
  const d = await run(clusterObject(baseSpec), [settled(child(first, 'scheduler')), paused]);
  const p = cond(d, 'Paused');
  assert.is(p.status, 'True');
  assert.is(p.reason, 'CrashLooping');
  assert.match(p.message, /the executor set c-executor is paused \(CrashLooping\): .*kubectl annotate spicepodset c-executor -n ns spice\.ai\/resume=true/);
  assert.match((d.status as any).error, /executor set c-executor is paused after repeated pod failures/);
  assert.ok(d.events?.some((e) => e.type === 'Warning' && e.reason === 'Paused'));
  const scaled = withStatus(child(first, 'executor'), { pauseReason: 'ScaledToZero', conditions: [{ type: 'Paused', status: 'True', reason: 'ScaledToZero', message: 'replicas is 0' }] });
  const zero = await run(clusterObject(baseSpec), [settled(child(first, 'scheduler')), scaled]);
  assert.is(cond(zero, 'Paused').reason, 'ScaledToZero');
  assert.match(cond(zero, 'Paused').message, /set spec\.executorSetSpec\.replicas above 0 to resume/);
  assert.is((zero.status as any).error, undefined, 'replicas: 0 is not an error');
});

test('spice.ai/rollback on a cluster is cleared with a Warning and a RolledBack condition that says why', async () => {
  const parent = { ...clusterObject(baseSpec), metadata: { ...clusterObject(baseSpec).metadata, annotations: { 'spice.ai/rollback': 'true' } } };
  const d = await run(parent);
  assert.equal(d.patch?.[0]?.patch, { metadata: { annotations: { 'spice.ai/rollback': null } } });
  assert.ok(d.events?.some((e) => e.type === 'Warning' && e.reason === 'RollbackUnavailable' && /re-apply the previous spec/.test(e.message)));
  assert.is(cond(d, 'RolledBack').reason, 'NotSupportedOnClusters');
});

test.run();
