// The cluster handler (SpicepodCluster -> two child SpicepodSets), and the
// spiced pods the workloads handler renders for those children. The kit's
// carrier keeps the child sets between passes; a test plays the workloads
// handler by writing a child set's status (withSetStatus).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { KubeObject } from '../../core/handler.ts';
import { clusterHandler, reconcileSpicepodCluster } from '../../functions/cluster/index.ts';
import { reconcileSpicepodSet } from '../../functions/workloads/index.ts';
import { Carrier } from '../kit/carrier.ts';
import {
  CLUSTER_SPEC,
  clusterOwner,
  handlerConfig,
  NOW,
  SCHEDULER_SPICEPOD,
  spicepodCluster,
  withSetStatus,
  type ChildSetState,
  type ObjectFixture,
} from '../kit/fixtures.ts';

const config = handlerConfig();
const pod = SCHEDULER_SPICEPOD;
const now = NOW;
const baseSpec = CLUSTER_SPEC;

/** A cluster `c` in the kit's carrier. */
const world = (spec: Record<string, unknown> = baseSpec, o: ObjectFixture = {}) =>
  new Carrier(clusterHandler, spicepodCluster(spec, o), config, now);
const childKey = (role: string) => `spice.ai/v1/SpicepodSet/ns/c-${role}`;
/** The child set of this role as the world holds it. */
const childOf = (w: Carrier, role: string) => w.children.get(childKey(role)) as any;
/** The workloads handler has written the status of the child set of this role (Ready for its spec unless said). */
const settle = (w: Carrier, role: string, state: ChildSetState = {}) =>
  w.children.set(childKey(role), withSetStatus(w.children.get(childKey(role))!, state));

/** The owner reference the shim puts on every child the cluster handler writes. */
const CLUSTER_OWNER = clusterOwner('c');
const run = (parent: KubeObject, children: KubeObject[] = []) => reconcileSpicepodCluster({ parent, children, related: {}, now, config });
const clusterObject = (spec: Record<string, unknown>, generation = 1) => spicepodCluster(spec, { generation });
const child = (d: { apply: KubeObject[] }, role: string) => d.apply.find((o) => o.metadata.name === `c-${role}`) as any;

test('a cluster becomes a scheduler set (with the Spicepod) and an executor set (without one)', async () => {
  const d = await run(clusterObject(baseSpec));
  const scheduler = child(d, 'scheduler');
  const executor = child(d, 'executor');
  assert.equal(scheduler.spec.spicepod, pod);
  assert.equal(scheduler.spec.cluster, {
    role: 'scheduler',
    clusterName: 'c',
    allowInsecureConnections: false,
    schedulerAddress: undefined,
  });
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
  const render = (c: KubeObject) =>
    reconcileSpicepodSet({
      parent: { ...c, metadata: { ...c.metadata, uid: 'x', generation: 1, ownerReferences: [CLUSTER_OWNER] } },
      children: [],
      related: {},
      now,
      config,
    });
  const sched = (await render(child(d, 'scheduler'))).apply.find(
    (o) => o.kind === 'StatefulSet' && o.metadata.name === 'c-scheduler-0',
  ) as any;
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

test("allowInsecureConnections: --allow-insecure-connections, http, no certificates mounted (Secure and its Warning are the pki handler's)", async () => {
  const parent = clusterObject({ ...baseSpec, allowInsecureConnections: true });
  const d = await run(parent);
  assert.is(child(d, 'executor').spec.cluster.schedulerAddress, 'http://c-scheduler-headless.ns.svc.cluster.local:50052');
  assert.not.ok(
    (d.status as any).conditions.some((c: any) => c.type === 'Secure'),
    'the pki handler, which knows the certificates, owns Secure',
  );
  const set = await reconcileSpicepodSet({
    parent: {
      ...child(d, 'scheduler'),
      metadata: { name: 'c-scheduler', namespace: 'ns', uid: 'x', generation: 1, ownerReferences: [CLUSTER_OWNER] },
    },
    children: [],
    related: {},
    now,
    config,
  });
  const sts = set.apply.find((o) => o.kind === 'StatefulSet') as any;
  assert.ok(sts.spec.template.spec.containers[0].args.includes('--allow-insecure-connections'));
  assert.not.ok(sts.spec.template.spec.volumes.some((v: any) => v.name === 'node-tls'));
});

test('upgrades roll schedulers first: the executor set waits until the schedulers are updated and Ready', async () => {
  const w = world();
  await w.pass();
  settle(w, 'scheduler');
  settle(w, 'executor');
  const upgraded = {
    schedulerSetSpec: { replicas: 1, spicepod: pod, image: { tag: '2.0' } },
    executorSetSpec: { replicas: 2, image: { tag: '2.0' } },
  };
  w.setSpec(upgraded);
  const step1 = await w.pass();
  assert.is(child(step1, 'scheduler').spec.image.tag, '2.0');
  assert.is(child(step1, 'executor'), undefined, 'the executor set is kept as it is');
  assert.ok(step1.keep?.some((r) => r.name === 'c-executor'));
  assert.is(w.condition('Progressing')?.reason, 'SchedulersFirst');
  // The scheduler set takes the new spec but is not Ready yet: executors still wait.
  settle(w, 'scheduler', { ready: false });
  assert.is(child(await w.pass(), 'executor'), undefined);
  assert.is(childOf(w, 'executor').spec.image, undefined);
  // Schedulers updated and Ready: now the executors.
  settle(w, 'scheduler');
  const step2 = await w.pass();
  assert.is(child(step2, 'executor').spec.image.tag, '2.0');
});

test('an invalid cluster spec is reported and nothing is touched', async () => {
  const w = world();
  await w.pass();
  settle(w, 'scheduler');
  settle(w, 'executor');
  const before = JSON.stringify([...w.children.values()]);
  w.setSpec({ ...baseSpec, executorSetSpec: { replicas: 2, updateStrategy: { type: 'BlueGreen' } } });
  const d = await w.pass();
  assert.equal(d.apply, []);
  assert.is(d.keep?.length, 2);
  assert.is(JSON.stringify([...w.children.values()]), before, 'both child sets are left as they are');
  assert.match(w.condition('Ready')!.message, /spec\.executorSetSpec\.updateStrategy\.type BlueGreen is not supported/);
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
    assert.match(
      ready.message,
      /^spec\.schedulerSetSpec\.spicepod\.runtime\.scheduler\.state_location is required: spiced refuses to start a scheduler without it/,
    );
    assert.equal(
      d.events?.map((e) => [e.type, e.reason, e.message]),
      [['Warning', 'InvalidSpec', ready.message]],
    );
  }
  const notUrl = await run(
    clusterObject({
      ...baseSpec,
      schedulerSetSpec: { replicas: 1, spicepod: { ...pod, runtime: { scheduler: { state_location: 'tmp/state' } } } },
    }),
  );
  assert.match((notUrl.status as any).conditions[0].message, /state_location "tmp\/state" is not a URL/);
});

test('Ready once both sets are settled on the current spec', async () => {
  const w = world();
  await w.pass();
  settle(w, 'scheduler');
  settle(w, 'executor');
  const d = await w.pass();
  const status = w.parent.status as any;
  assert.is(w.condition('Ready')?.status, 'True');
  assert.equal([status.schedulerReadyReplicas, status.executorReadyReplicas, status.schedulers, status.executors], [1, 2, '1/1', '2/2']);
  assert.ok(d.events?.some((e) => e.reason === 'Ready'));
  const again = await w.pass();
  assert.not.ok(
    again.events?.some((e) => e.reason === 'Ready'),
    'said once',
  );
});

test('a child spec the workloads handler would refuse is InvalidSpec on the cluster, naming the field under its node spec; nothing is touched', async () => {
  const w = world();
  await w.pass();
  settle(w, 'scheduler');
  settle(w, 'executor');
  w.setSpec({
    ...baseSpec,
    executorSetSpec: { replicas: 2, env: [{ name: 'A=B', value: 'x' }], resources: { requests: { cpu: '2' }, limits: { cpu: '1' } } },
  });
  const d = await w.pass();
  assert.equal(d.apply, []);
  assert.is(d.keep?.length, 2);
  const ready = w.condition('Ready')!;
  assert.is(ready.reason, 'InvalidSpec');
  assert.match(ready.message, /spec\.executorSetSpec\.env\.0\.name .*other than '='/);
  assert.match(ready.message, /spec\.executorSetSpec\.resources\.requests\.cpu must be at most the cpu limit of 1/);
  assert.is((w.parent.status as any).error, ready.message, 'status.error says the same');
  assert.ok(d.events?.some((e) => e.type === 'Warning' && e.reason === 'InvalidSpec'));
  const again = await w.pass();
  assert.not.ok(
    again.events?.some((e) => e.reason === 'InvalidSpec'),
    'the same problem is not reported twice',
  );
  const long = world(baseSpec, { name: 'c'.repeat(41) });
  await long.pass();
  assert.match(
    long.condition('Ready')!.message,
    /^metadata\.name makes the scheduler set name "c{41}-scheduler" \(the cluster name and "-scheduler"\), which is too long for its StatefulSets/,
  );
});

test('a child set whose objects or pods the cluster refuses: the cluster says so, naming its node spec, and status.error carries it', async () => {
  const w = world();
  await w.pass();
  settle(w, 'scheduler');
  settle(w, 'executor', {
    ready: false,
    conditions: [
      {
        type: 'Ready',
        status: 'False',
        reason: 'PodsRefused',
        message:
          'the cluster refuses to create pods: create Pod c-executor-0-0 in StatefulSet c-executor-0 failed error: violates PodSecurity',
      },
    ],
  });
  const d = await w.pass();
  const ready = w.condition('Ready')!;
  assert.is(ready.reason, 'PodsRefused');
  assert.match(
    ready.message,
    /^spec\.executorSetSpec: the executor set c-executor: the cluster refuses to create pods: .*violates PodSecurity/,
  );
  assert.is((w.parent.status as any).error, ready.message);
  assert.ok(d.events?.some((e) => e.type === 'Warning' && e.reason === 'PodsRefused'));
  settle(w, 'executor');
  await w.pass();
  assert.is((w.parent.status as any).error, undefined, 'no error when nothing is wrong');
});

test('a child set the API server refuses is reported on the cluster', async () => {
  const w = world();
  w.refuse({
    target: { apiVersion: 'spice.ai/v1', kind: 'SpicepodSet', namespace: 'ns', name: 'c-executor' },
    verb: 'apply',
    code: 422,
    reason: 'Invalid',
    message: 'SpicepodSet.spice.ai "c-executor" is invalid: spec.replicas: Invalid value',
  });
  await w.pass(); // the write is refused; the next pass is told
  assert.is(childOf(w, 'executor'), undefined, 'never written');
  const d = await w.pass();
  assert.is(w.condition('Ready')?.reason, 'ChildRefused');
  assert.match(w.condition('Ready')!.message, /the API server refused SpicepodSet c-executor: .*is invalid/);
  assert.ok(d.events?.some((e) => e.type === 'Warning' && e.reason === 'ChildRefused'));
});

test('Paused on the cluster: True when a node set is paused, with its reason and how to resume it', async () => {
  const w = world();
  await w.pass();
  settle(w, 'scheduler');
  settle(w, 'executor');
  await w.pass();
  assert.is(w.condition('Paused')?.status, 'False');
  settle(w, 'executor', {
    ready: false,
    pauseReason: 'CrashLooping',
    conditions: [
      { type: 'Ready', status: 'False', reason: 'Paused', message: 'paused after repeated pod failures' },
      {
        type: 'Paused',
        status: 'True',
        reason: 'CrashLooping',
        message:
          '12 pod deaths since the pods were last Ready exceed the threshold of 10; fix the cause, then resume with: kubectl annotate spicepodset c-executor -n ns spice.ai/resume=true',
      },
    ],
  });
  const d = await w.pass();
  const p = w.condition('Paused')!;
  assert.is(p.status, 'True');
  assert.is(p.reason, 'CrashLooping');
  assert.match(
    p.message,
    /the executor set c-executor is paused \(CrashLooping\): .*kubectl annotate spicepodset c-executor -n ns spice\.ai\/resume=true/,
  );
  assert.match((w.parent.status as any).error, /executor set c-executor is paused after repeated pod failures/);
  assert.ok(d.events?.some((e) => e.type === 'Warning' && e.reason === 'Paused'));
  settle(w, 'executor', {
    ready: false,
    pauseReason: 'ScaledToZero',
    conditions: [{ type: 'Paused', status: 'True', reason: 'ScaledToZero', message: 'replicas is 0' }],
  });
  await w.pass();
  assert.is(w.condition('Paused')?.reason, 'ScaledToZero');
  assert.match(w.condition('Paused')!.message, /set spec\.executorSetSpec\.replicas above 0 to resume/);
  assert.is((w.parent.status as any).error, undefined, 'replicas: 0 is not an error');
});

test('spice.ai/rollback on a cluster is cleared with a Warning and a RolledBack condition that says why', async () => {
  const w = world(baseSpec, { annotations: { 'spice.ai/rollback': 'true' } });
  const d = await w.pass();
  assert.equal(d.patch?.[0]?.patch, { metadata: { annotations: { 'spice.ai/rollback': null } } });
  assert.equal(w.parent.metadata.annotations, {}, 'cleared');
  assert.ok(
    d.events?.some((e) => e.type === 'Warning' && e.reason === 'RollbackUnavailable' && /re-apply the previous spec/.test(e.message)),
  );
  assert.is(w.condition('RolledBack')?.reason, 'NotSupportedOnClusters');
  const after = await w.pass();
  assert.is(w.condition('RolledBack')?.reason, 'NotSupportedOnClusters', 'the answer stays until the spec changes');
  assert.not.ok(after.events?.some((e) => e.reason === 'RollbackUnavailable'));
  w.setSpec({ ...baseSpec, executorSetSpec: { replicas: 3 } });
  await w.pass();
  assert.is(w.condition('RolledBack'), undefined, 'a new spec drops it');
});

test.run();
