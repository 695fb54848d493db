// The workloads handler, rule by rule, with plain objects: the kit's SetWorld
// (test/kit/set-world.ts) carries each pass out as the shim does and plays
// the pods, which follow their workloads' templates.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Desired } from '../../core/handler.ts';
import { canonicalJson, contentHash } from '../../core/manifests/hash.ts';
import { createHash } from 'node:crypto';
import { handlerConfig, pod, SPICEPOD } from '../kit/fixtures.ts';
import { SetWorld } from '../kit/set-world.ts';

const spicepod = SPICEPOD;

/** A pod in CrashLoopBackOff after this many restarts. */
const crash = (w: SetWorld, name: string, restarts: number) =>
  w.setPods({ ready: false, restarts, waiting: { reason: 'CrashLoopBackOff' } }, name);

test('revisions are SHA-256 of canonical JSON, as in earlier releases, so an upgrade of the operator rolls no pods', () => {
  const template = { spec: { containers: [{ name: 'spiced', image: 'x' }] }, metadata: { labels: { b: '1', a: '2' } } };
  const expected = createHash('sha256').update(canonicalJson(template)).digest('hex');
  assert.is(contentHash(template), expected.slice(0, 10));
  assert.is(contentHash(template, 16), expected.slice(0, 16));
  assert.is(canonicalJson(template), '{"metadata":{"labels":{"a":"2","b":"1"}},"spec":{"containers":[{"image":"x","name":"spiced"}]}}');
  // The corners, as the first release wrote them: keys in code-unit order (integer-like ones too),
  // undefined members dropped and undefined array items left as empty slots, JSON.stringify's scalars.
  const corners = {
    z: [1, 'two', null, undefined, { b: undefined, a: [[]] }, true],
    '10': 'ten',
    '2': 'two',
    é: { ß: 1.5e-7, A: -0, a: '"quoted"\n' },
    empty: {},
    arr: [],
    n: null,
    u: undefined,
  };
  assert.is(
    canonicalJson(corners),
    '{"10":"ten","2":"two","arr":[],"empty":{},"n":null,"z":[1,"two",null,,{"a":[[]]},true],"é":{"A":0,"a":"\\"quoted\\"\\n","ß":1.5e-7}}',
  );
});

test('a minimal set gets a ConfigMap, a Service and a Deployment, and becomes Ready', async () => {
  const w = new SetWorld({ spicepod });
  await w.pass();
  assert.equal(w.kinds(), ['ConfigMap/app-spicepod', 'Deployment/app', 'Service/app']);
  assert.is(w.condition('Ready')?.status, 'False');
  assert.is((w.parent.status as any).replicas, '0/1');
  w.ready();
  await w.pass();
  assert.is(w.condition('Ready')?.status, 'True');
  assert.is(w.condition('Progressing')?.status, 'False');
  assert.is((w.parent.status as any).replicas, '1/1');
  assert.is((w.parent.status as any).role, '<none>');
});

test('the ConfigMap holds the Spicepod and the pods mount it', async () => {
  const w = new SetWorld({ spicepod: 'name: app\nkind: Spicepod\nversion: v1\n' });
  await w.pass();
  assert.match(w.object('ConfigMap', 'app-spicepod').data['spicepod.yaml'], /name: app/);
  const pod = w.object('Deployment', 'app').spec.template.spec;
  assert.equal(pod.volumes[0].configMap.name, 'app-spicepod');
  assert.equal(pod.containers[0].volumeMounts[0], {
    name: 'spicepod',
    mountPath: '/app/spicepod.yaml',
    subPath: 'spicepod.yaml',
    readOnly: true,
  });
});

test('a changed Spicepod is rendered anew into the ConfigMap and rolls the pod; the same one renders the same', async () => {
  const w = new SetWorld({ spicepod: { version: 'v1', kind: 'Spicepod', name: 'app' } });
  await w.pass();
  const before = w.object('ConfigMap', 'app-spicepod').data['spicepod.yaml'];
  const revision = w.object('Deployment', 'app').spec.template.metadata.annotations['spice.ai/revision'];
  await w.pass();
  assert.is(w.object('ConfigMap', 'app-spicepod').data['spicepod.yaml'], before);
  w.setSpec({ spicepod: { version: 'v1', kind: 'Spicepod', name: 'app', datasets: [{ from: 'spice.ai:x', name: 'x' }] } });
  await w.pass();
  assert.match(w.object('ConfigMap', 'app-spicepod').data['spicepod.yaml'], /from: spice.ai:x/);
  assert.is.not(w.object('Deployment', 'app').spec.template.metadata.annotations['spice.ai/revision'], revision);
  w.setSpec({ spicepod: { version: 'v1', kind: 'Spicepod', name: 'app' } });
  await w.pass();
  assert.is(w.object('ConfigMap', 'app-spicepod').data['spicepod.yaml'], before);
  assert.is(w.object('Deployment', 'app').spec.template.metadata.annotations['spice.ai/revision'], revision);
});

test('the spiced container: args, ports, probes with the user timings, scheduling', async () => {
  const w = new SetWorld({
    spicepod,
    httpPort: 8000,
    image: { registry: 'registry.example', name: 'spice/spiced', tag: '1.2.3', pullSecret: 'regcred' },
    probes: { liveness: { periodSeconds: 30, failureThreshold: 5 } },
    nodeSelector: { disk: 'ssd' },
    tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'spice', effect: 'NoSchedule' }],
    terminationGracePeriodSeconds: 45,
    env: [{ name: 'SPICED_LOG', value: 'DEBUG' }],
    network: { dnsPolicy: 'None', dnsConfig: { nameservers: ['1.1.1.1'] } },
  });
  w.config = handlerConfig({ telemetryProperties: { env: 'prod' } });
  await w.pass();
  const pod = w.object('Deployment', 'app').spec.template.spec;
  const c = pod.containers[0];
  assert.equal(c.args, [
    '--http',
    '0.0.0.0:8000',
    '--flight',
    '0.0.0.0:50051',
    '--metrics',
    '0.0.0.0:9090',
    '--set-runtime',
    'telemetry.properties.env=prod',
  ]);
  assert.is(c.image, 'registry.example/spice/spiced:1.2.3');
  assert.is(c.imagePullPolicy, 'IfNotPresent');
  assert.equal(pod.imagePullSecrets, [{ name: 'regcred' }]);
  assert.equal(c.livenessProbe, { httpGet: { path: '/health', port: 'http' }, timeoutSeconds: 1, periodSeconds: 30, failureThreshold: 5 });
  assert.is(c.readinessProbe.httpGet.path, '/v1/ready');
  assert.equal(
    c.ports.map((p: any) => p.containerPort),
    [8000, 50051, 9090],
  );
  assert.equal(pod.nodeSelector, { disk: 'ssd' });
  assert.is(pod.tolerations.length, 1);
  assert.is(pod.terminationGracePeriodSeconds, 45);
  assert.equal(c.env, [{ name: 'SPICED_LOG', value: 'DEBUG' }]);
  assert.is(pod.dnsPolicy, 'None');
  const svc = w.object('Service', 'app').spec;
  assert.equal(
    svc.ports.map((p: any) => [p.port, p.targetPort]),
    [
      [8090, 8000],
      [50051, 50051],
      [9090, 9090],
    ],
  );
});

test('enableService: false creates no Service', async () => {
  const w = new SetWorld({ spicepod, enableService: false });
  await w.pass();
  assert.not.ok(w.kinds().includes('Service/app'));
});

test('serviceAccount: create makes a ServiceAccount (annotations only there), a Role and a RoleBinding', async () => {
  const w = new SetWorld({
    spicepod,
    serviceAccount: { enabled: true, create: true, annotations: { 'eks.amazonaws.com/role-arn': 'arn' } },
  });
  await w.pass();
  assert.ok(w.kinds().includes('ServiceAccount/app'));
  assert.ok(w.kinds().includes('Role/app-spicepod'));
  assert.ok(w.kinds().includes('RoleBinding/app-spicepod'));
  assert.equal(w.object('ServiceAccount', 'app').metadata.annotations, { 'eks.amazonaws.com/role-arn': 'arn' });
  assert.is(w.object('Deployment', 'app').metadata.annotations, undefined, 'IRSA annotations stay on the ServiceAccount');
  assert.is(w.object('Deployment', 'app').spec.template.spec.serviceAccountName, 'app');
  const existing = new SetWorld({ spicepod, serviceAccount: { enabled: true, name: 'shared' } });
  await existing.pass();
  assert.not.ok(existing.kinds().some((k) => k.startsWith('ServiceAccount/')));
  assert.is(existing.object('Deployment', 'app').spec.template.spec.serviceAccountName, 'shared');
});

test('an invalid spec sets Ready=False InvalidSpec naming the field, records one Event, and touches nothing', async () => {
  const w = new SetWorld({ spicepod });
  await w.converge();
  const before = w.kinds();
  w.setSpec({ spicepod, serviceAccount: { enabled: true, create: false } });
  const desired = await w.pass();
  assert.equal(desired.apply, []);
  assert.equal(w.kinds(), before, 'every child is kept as it was');
  assert.is(w.condition('Ready')?.reason, 'InvalidSpec');
  assert.match(w.condition('Ready')!.message, /spec\.serviceAccount\.name/);
  assert.equal(
    desired.events?.map((e) => [e.type, e.reason]),
    [['Warning', 'InvalidSpec']],
  );
  const again = await w.pass();
  assert.equal(again.events, [], 'the same problem is not reported twice');
});

test('1 -> 3 replicas switches to per-replica StatefulSets; the Deployment stays until they are Ready', async () => {
  const w = new SetWorld({ spicepod });
  await w.converge();
  w.setSpec({ spicepod, replicas: 3 });
  await w.pass();
  assert.ok(w.kinds().includes('Deployment/app'), 'old pods keep serving');
  for (const name of ['StatefulSet/app-0', 'StatefulSet/app-1', 'StatefulSet/app-2', 'Service/app-headless'])
    assert.ok(w.kinds().includes(name), name);
  w.ready('app-0-0', 'app-1-0');
  await w.pass();
  assert.ok(w.kinds().includes('Deployment/app'), 'still one replica short');
  w.ready();
  await w.pass();
  assert.not.ok(w.kinds().includes('Deployment/app'), 'dropped once all new replicas are Ready');
  assert.is(w.object('StatefulSet', 'app-1').spec.serviceName, 'app-headless');
  assert.is(w.object('StatefulSet', 'app-1').spec.replicas, 1);
  // ... and back to one replica: the Deployment is Ready before the StatefulSets go.
  w.setSpec({ spicepod, replicas: 1 });
  await w.pass();
  assert.ok(w.kinds().includes('StatefulSet/app-0') && w.kinds().includes('Deployment/app'));
  w.ready();
  await w.pass();
  assert.equal(w.kinds(), ['ConfigMap/app-spicepod', 'Deployment/app', 'Service/app']);
});

test('a volume means StatefulSets even with one replica, with a claim per replica', async () => {
  const w = new SetWorld({ spicepod, volume: { storageClassName: 'fast', storageRequests: '10Gi' } });
  await w.pass();
  const sts = w.object('StatefulSet', 'app-0').spec;
  assert.equal(sts.volumeClaimTemplates[0].spec.resources.requests.storage, '10Gi');
  assert.is(sts.volumeClaimTemplates[0].spec.storageClassName, 'fast');
  assert.ok(sts.template.spec.containers[0].volumeMounts.some((m: any) => m.mountPath === '/data'));
});

async function rolledOut(spec: Record<string, unknown>, replicas: number) {
  const w = new SetWorld({ ...spec, replicas, spicepod });
  await w.converge();
  const old = w.revisionOf('app-0');
  w.setSpec({ ...spec, replicas, spicepod: { ...spicepod, datasets: [] } });
  return { w, old };
}
const updatedOrdinals = (w: SetWorld, old: string, n: number) =>
  Array.from({ length: n }, (_, i) => i).filter((i) => w.revisionOf(`app-${i}`) !== old);

test('RollingOrdered: one replica at a time in ordinal order, each Ready before the next', async () => {
  const { w, old } = await rolledOut({}, 3);
  await w.pass();
  assert.equal(updatedOrdinals(w, old, 3), [0]);
  assert.is(w.condition('Progressing')?.status, 'True');
  await w.pass();
  assert.equal(updatedOrdinals(w, old, 3), [0], 'waits while replica 0 is not Ready');
  w.ready('app-0-0');
  await w.pass();
  assert.equal(updatedOrdinals(w, old, 3), [0, 1]);
  w.ready('app-1-0');
  await w.pass();
  assert.equal(updatedOrdinals(w, old, 3), [0, 1, 2]);
  w.ready();
  await w.pass();
  assert.is(w.condition('Ready')?.status, 'True');
  assert.is(w.condition('Progressing')?.reason, 'RolloutComplete');
});

test('RollingParallel: at most maxUnavailable at once, unready replicas first', async () => {
  const { w, old } = await rolledOut({ updateStrategy: { type: 'RollingParallel', maxUnavailable: 2 } }, 5);
  w.setPods({ ready: false }, 'app-3-0');
  await w.pass();
  assert.equal(updatedOrdinals(w, old, 5), [0, 3], 'the unready replica 3 first, then one healthy one within the budget of 2');
  w.ready('app-0-0', 'app-3-0');
  await w.pass();
  assert.equal(updatedOrdinals(w, old, 5), [0, 1, 2, 3]);
  w.ready();
  await w.pass();
  assert.equal(updatedOrdinals(w, old, 5), [0, 1, 2, 3, 4]);
});

test('RollingParallel defaults to one unavailable replica; percentages round down', async () => {
  const { w, old } = await rolledOut({ updateStrategy: { type: 'RollingParallel', maxUnavailable: '50%' } }, 4);
  await w.pass();
  assert.equal(updatedOrdinals(w, old, 4), [0, 1]);
  const d = await rolledOut({ updateStrategy: { type: 'RollingParallel' } }, 3);
  await d.w.pass();
  assert.equal(updatedOrdinals(d.w, d.old, 3), [0]);
});

test('Parallel: every replica at once', async () => {
  const { w, old } = await rolledOut({ updateStrategy: { type: 'Parallel' } }, 4);
  await w.pass();
  assert.equal(updatedOrdinals(w, old, 4), [0, 1, 2, 3]);
});

test('changing spec.annotations or spec.labels rolls every pod; reserved keys are dropped', async () => {
  const w = new SetWorld({ spicepod, replicas: 2, updateStrategy: { type: 'Parallel' } });
  await w.converge();
  const old = w.revisionOf('app-0');
  w.setSpec({
    spicepod,
    replicas: 2,
    updateStrategy: { type: 'Parallel' },
    annotations: { 'rollout-trigger': 'now', 'spice.ai/version': 'x' },
  });
  await w.pass();
  assert.is.not(w.revisionOf('app-0'), old);
  const template = w.object('StatefulSet', 'app-1').spec.template.metadata;
  assert.is(template.annotations['rollout-trigger'], 'now');
  assert.is(template.annotations['spice.ai/version'], undefined);
  const afterAnnotation = w.revisionOf('app-0');
  w.setSpec({
    spicepod,
    replicas: 2,
    updateStrategy: { type: 'Parallel' },
    annotations: { 'rollout-trigger': 'now' },
    labels: { team: 'a', 'spice.ai/app': 'evil' },
  });
  await w.pass();
  assert.is.not(w.revisionOf('app-0'), afterAnnotation);
  assert.is(w.object('StatefulSet', 'app-0').spec.template.metadata.labels['spice.ai/app'], 'app');
  assert.is(w.object('StatefulSet', 'app-0').spec.template.metadata.labels.team, 'a');
});

test('replicas 0 pauses: workloads at zero, supporting objects kept, pauseReason set', async () => {
  const w = new SetWorld({ spicepod, volume: { storageRequests: '1Gi' }, replicas: 2, serviceAccount: { enabled: true, create: true } });
  await w.converge();
  w.setSpec({ spicepod, volume: { storageRequests: '1Gi' }, replicas: 0, serviceAccount: { enabled: true, create: true } });
  const desired = await w.pass();
  assert.is(w.object('StatefulSet', 'app-0').spec.replicas, 0);
  assert.is(w.object('StatefulSet', 'app-1').spec.replicas, 0);
  for (const k of ['ConfigMap/app-spicepod', 'Service/app', 'ServiceAccount/app']) assert.ok(w.kinds().includes(k), k);
  assert.is((w.parent.status as any).pauseReason, 'ScaledToZero');
  assert.is(w.condition('Paused')?.status, 'True');
  assert.ok(desired.events?.some((e) => e.reason === 'Paused'));
  const d = new SetWorld({ spicepod, replicas: 0 });
  await d.pass();
  assert.is(d.object('Deployment', 'app').spec.replicas, 0);
});

test('raising storageRequests resizes existing claims; lowering it changes nothing and says so', async () => {
  const w = new SetWorld({ spicepod, volume: { storageRequests: '10Gi' }, replicas: 2 });
  await w.converge();
  for (const i of [0, 1])
    w.putRelated({
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: `data-app-${i}-0`, namespace: 'ns' },
      spec: { resources: { requests: { storage: '10Gi' } } },
    });
  w.setSpec({ spicepod, volume: { storageRequests: '20Gi' }, replicas: 2 });
  const grow = await w.pass();
  assert.equal(
    grow.patch?.map((p) => [p.target.name, (p.patch as any).spec.resources.requests.storage]),
    [
      ['data-app-0-0', '20Gi'],
      ['data-app-1-0', '20Gi'],
    ],
  );
  assert.equal(
    w.object('StatefulSet', 'app-0').spec.volumeClaimTemplates[0].spec.resources.requests.storage,
    '10Gi',
    'claim templates are immutable',
  );
  w.setSpec({ spicepod, volume: { storageRequests: '5Gi' }, replicas: 2 });
  const shrink = await w.pass();
  assert.equal(shrink.patch, []);
  assert.is(w.condition('VolumeResized')?.reason, 'ShrinkNotSupported');
  assert.ok(shrink.events?.some((e) => e.type === 'Warning' && e.reason === 'ShrinkNotSupported'));
});

test('crashloop protection pauses above the threshold until the spec changes', async () => {
  const w = new SetWorld({ spicepod, replicas: 2 });
  await w.converge();
  crash(w, 'app-0-0', 6);
  crash(w, 'app-1-0', 4);
  await w.pass();
  assert.is(w.condition('Paused')?.status, 'False', '10 deaths is not above the threshold of 10');
  crash(w, 'app-1-0', 5);
  const paused = await w.pass();
  assert.is((w.parent.status as any).pauseReason, 'CrashLooping');
  assert.is(w.object('StatefulSet', 'app-0').spec.replicas, 0);
  assert.ok(paused.events?.some((e) => e.type === 'Warning' && e.reason === 'CrashLooping'));
  await w.pass();
  assert.is((w.parent.status as any).pauseReason, 'CrashLooping', 'stays paused with no pods left');
  w.setSpec({ spicepod: { ...spicepod, name: 'fixed' }, replicas: 2 });
  await w.pass();
  assert.is((w.parent.status as any).pauseReason, undefined, 'a new spec resumes');
  assert.is(w.object('StatefulSet', 'app-0').spec.replicas, 1);
});

test('a threshold of 0 disables crashloop protection', async () => {
  const w = new SetWorld({ spicepod, replicas: 2 });
  w.config = handlerConfig({ pauseCrashloopingPodsThreshold: 0 });
  await w.converge();
  crash(w, 'app-0-0', 500);
  await w.pass();
  assert.is((w.parent.status as any).pauseReason, undefined);
});

test('a converged set reconciles to the same output: same status, no events', async () => {
  const w = new SetWorld({ spicepod, replicas: 3, volume: { storageRequests: '1Gi' } });
  await w.converge();
  const first = JSON.stringify(await w.pass());
  w.now += 3_600_000;
  const second = await w.pass();
  assert.is(JSON.stringify(second), first);
  assert.equal(second.events, []);
});

const bg = (extra: Record<string, unknown> = {}) => ({
  replicas: 3,
  updateStrategy: { type: 'BlueGreen' },
  instantRollback: { enabled: true, retentionPeriodSeconds: 900 },
  ...extra,
});
const stsNames = (w: SetWorld) =>
  w
    .kinds()
    .filter((k) => k.startsWith('StatefulSet/'))
    .map((k) => k.slice('StatefulSet/'.length));
const serviceVersion = (w: SetWorld) => w.object('Service', 'app').spec.selector['spice.ai/version'];
const status = (w: SetWorld) => w.status;

async function blueGreenAt(spec: Record<string, unknown>) {
  const w = new SetWorld({ ...spec, spicepod });
  await w.converge();
  const v1 = status(w).activeVersion as string;
  w.setSpec({ ...spec, spicepod: { ...spicepod, datasets: [] } });
  await w.pass();
  const v2 = (stsNames(w).find((n) => !n.includes(v1)) ?? '').split('-')[1]!;
  return { w, v1, v2 };
}

test('BlueGreen: the first generation serves at once, with the Service pinned to its version', async () => {
  const w = new SetWorld({ ...bg(), spicepod });
  await w.converge();
  const v1 = status(w).activeVersion;
  assert.ok(v1);
  assert.equal(stsNames(w), [`app-${v1}-0`, `app-${v1}-1`, `app-${v1}-2`]);
  assert.is(serviceVersion(w), v1);
  assert.is(w.object('StatefulSet', `app-${v1}-0`).spec.template.metadata.labels['spice.ai/version'], v1);
});

test('BlueGreen: a new generation comes up alongside; the Service switches in one write when all of it is Ready', async () => {
  const { w, v1, v2 } = await blueGreenAt(bg());
  assert.is(stsNames(w).length, 6, 'both generations run');
  assert.is(serviceVersion(w), v1);
  w.ready(`app-${v2}-0-0`, `app-${v2}-1-0`);
  await w.pass();
  assert.is(serviceVersion(w), v1, 'two of three is not enough');
  w.ready();
  const cut = await w.pass();
  assert.is(serviceVersion(w), v2);
  assert.is(status(w).activeVersion, v2);
  assert.is(status(w).standbyVersion, v1);
  assert.is(status(w).standbyExpiresAt, Math.floor(w.now / 1000) + 900);
  assert.ok(cut.events?.some((e) => e.reason === 'CutOver'));
  assert.is(stsNames(w).length, 6, 'the old generation is kept as the standby');
  assert.ok(cut.requeueAfterSeconds! <= 900);
});

test('BlueGreen: minReadyForCutover switches early', async () => {
  const { w, v2 } = await blueGreenAt(bg({ updateStrategy: { type: 'BlueGreen', minReadyForCutover: 2 } }));
  w.ready(`app-${v2}-0-0`, `app-${v2}-2-0`);
  await w.pass();
  assert.is(serviceVersion(w), v2);
});

test('instant rollback: the annotation switches back at once, is cleared, and the new version is not rolled out again', async () => {
  const { w, v1, v2 } = await blueGreenAt(bg());
  w.ready();
  await w.pass();
  assert.is(serviceVersion(w), v2);
  w.parent.metadata.annotations = { 'spice.ai/rollback': 'true' };
  const back = await w.pass();
  assert.is(serviceVersion(w), v1);
  assert.equal([status(w).activeVersion, status(w).standbyVersion, status(w).rolledBackVersion], [v1, v2, v2]);
  assert.equal(back.patch?.find((p) => p.target.kind === 'SpicepodSet')?.patch, {
    metadata: { annotations: { 'spice.ai/rollback': null } },
  });
  assert.ok(back.events?.some((e) => e.reason === 'RolledBack'));
  // The annotation is still there (its removal has not reached this pass): no second switch.
  const seenAgain = await w.pass();
  assert.is(serviceVersion(w), v1, 'a request seen twice is one rollback');
  assert.not.ok(seenAgain.events?.some((e) => e.reason === 'RolledBack'));
  w.parent.metadata.annotations = {};
  await w.pass();
  await w.pass();
  assert.is(serviceVersion(w), v1, 'stays rolled back while the spec is unchanged');
  w.setSpec({ ...bg(), spicepod: { ...spicepod, name: 'v3' } });
  await w.pass();
  w.ready();
  await w.pass();
  assert.is.not(serviceVersion(w), v1, 'a new spec rolls forward again');
  assert.is(status(w).rolledBackVersion, undefined);
});

test('the rollback annotation without a standby is refused with a Warning and cleared', async () => {
  const w = new SetWorld({ ...bg({ instantRollback: { enabled: false } }), spicepod });
  await w.converge();
  w.parent.metadata.annotations = { 'spice.ai/rollback': 'true' };
  const d = await w.pass();
  assert.ok(d.events?.some((e) => e.type === 'Warning' && e.reason === 'RollbackUnavailable'));
  assert.ok(d.patch?.some((p) => p.target.kind === 'SpicepodSet'));
});

test('the standby is removed when it expires; without instant rollback it stays only while endpoints move', async () => {
  const { w, v1, v2 } = await blueGreenAt(bg());
  w.ready();
  await w.pass();
  w.now += 899_000;
  await w.pass();
  assert.ok(stsNames(w).some((n) => n.includes(v1)));
  w.now += 2_000;
  const expired = await w.pass();
  assert.equal(stsNames(w), [`app-${v2}-0`, `app-${v2}-1`, `app-${v2}-2`]);
  assert.is(status(w).standbyVersion, undefined);
  assert.ok(expired.events?.some((e) => e.reason === 'StandbyRemoved'));
  const quick = await blueGreenAt(bg({ instantRollback: { enabled: false } }));
  quick.w.ready();
  const cut = await quick.w.pass();
  assert.is(cut.requeueAfterSeconds, 30);
  quick.w.now += 31_000;
  await quick.w.pass();
  assert.is(stsNames(quick.w).length, 3);
});

test('re-applying the previous spec switches straight back to the standby', async () => {
  const { w, v1, v2 } = await blueGreenAt(bg());
  w.ready();
  await w.pass();
  assert.is(serviceVersion(w), v2);
  w.setSpec({ ...bg(), spicepod });
  await w.pass();
  assert.is(serviceVersion(w), v1);
  assert.is(status(w).standbyVersion, v2);
});

test('moving from RollingOrdered to BlueGreen keeps the old StatefulSets serving until the first generation is Ready', async () => {
  const w = new SetWorld({ spicepod, replicas: 2 });
  await w.converge();
  w.setSpec({ spicepod, replicas: 2, updateStrategy: { type: 'BlueGreen' } });
  await w.pass();
  assert.ok(w.kinds().includes('StatefulSet/app-0'));
  assert.is(serviceVersion(w), undefined, 'the Service is not pinned while the old pods serve');
  w.ready();
  await w.pass();
  await w.pass();
  assert.not.ok(w.kinds().includes('StatefulSet/app-0'));
  assert.ok(serviceVersion(w));
});

// ---- rollback requests the set cannot honour ----------------------------------------------

const parentPatch = (d: Desired) => d.patch?.find((p) => p.target.kind === 'SpicepodSet')?.patch;
const clearsRollback = (d: Desired) =>
  JSON.stringify(parentPatch(d)) === JSON.stringify({ metadata: { annotations: { 'spice.ai/rollback': null } } });

test('rollback on a set that cannot roll back: cleared, a Warning and a RolledBack condition say why, in check order', async () => {
  const cases: [Record<string, unknown>, string, RegExp][] = [
    [{ replicas: 1 }, 'NotBlueGreen', /RollingOrdered replaces pods in place.*re-apply the previous spec/],
    [{ replicas: 3, updateStrategy: { type: 'RollingParallel' } }, 'NotBlueGreen', /RollingParallel/],
    [{ replicas: 2, updateStrategy: { type: 'BlueGreen' } }, 'InstantRollbackDisabled', /instantRollback\.enabled/],
    [bg(), 'NoStandby', /no standby generation/],
  ];
  for (const [spec, reason, message] of cases) {
    const w = new SetWorld({ ...spec, spicepod });
    await w.converge();
    w.parent.metadata.annotations = { 'spice.ai/rollback': 'true' };
    const d = await w.pass();
    assert.ok(clearsRollback(d), `${reason}: the annotation is cleared`);
    const warning = d.events?.find((e) => e.reason === 'RollbackUnavailable');
    assert.is(warning?.type, 'Warning', reason);
    assert.match(warning!.message, message);
    assert.is(w.condition('RolledBack')?.status, 'False');
    assert.is(w.condition('RolledBack')?.reason, reason);
    // The annotation is gone: the answer stays visible, no Warning again, nothing more to clear.
    w.parent.metadata.annotations = {};
    const after = await w.pass();
    assert.is(w.condition('RolledBack')?.reason, reason, 'the answer stays until the spec changes');
    assert.not.ok(after.events?.some((e) => e.reason === 'RollbackUnavailable'));
    assert.is(parentPatch(after), undefined);
    w.setSpec({ ...spec, spicepod: { ...spicepod, name: 'next' } });
    await w.pass();
    assert.is(w.condition('RolledBack'), undefined, 'a new spec drops it');
  }
});

test('rollback after the standby expired says when it went', async () => {
  const { w } = await blueGreenAt(bg({ instantRollback: { enabled: true, retentionPeriodSeconds: 60 } }));
  w.ready();
  await w.pass();
  w.now += 61_000;
  await w.pass();
  assert.is(status(w).standbyVersion, undefined);
  w.now += 3_600_000;
  w.parent.metadata.annotations = { 'spice.ai/rollback': 'true' };
  const d = await w.pass();
  assert.ok(clearsRollback(d));
  assert.is(w.condition('RolledBack')?.reason, 'StandbyExpired');
  assert.match(w.condition('RolledBack')!.message, /removed at 2026-01-01T00:01:0\dZ \(instantRollback\.retentionPeriodSeconds is 60\)/);
});

test('a successful rollback shows RolledBack=True until the spec changes', async () => {
  const { w, v1, v2 } = await blueGreenAt(bg());
  w.ready();
  await w.pass();
  w.parent.metadata.annotations = { 'spice.ai/rollback': 'true' };
  await w.pass();
  assert.is(w.condition('RolledBack')?.status, 'True');
  assert.match(w.condition('RolledBack')!.message, new RegExp(`serving version ${v1}, rolled back from ${v2}`));
});

// ---- crashloop protection: recent deaths, and a resume that always works -------------------

const readyWith = (w: SetWorld, name: string, restarts: number) => w.setPods({ ready: true, restarts }, name);
const unready = (w: SetWorld, name: string, restarts: number) => w.setPods({ ready: false, restarts }, name);

test('crashloop: long-lived pods with old restarts that blip unready together do not pause the set; a real crashloop still does', async () => {
  const w = new SetWorld({ spicepod, replicas: 2 });
  await w.converge();
  readyWith(w, 'app-0-0', 6);
  readyWith(w, 'app-1-0', 5);
  await w.pass();
  assert.equal(
    status(w).crashloopBaselines.map((b: any) => [b.pod, b.deaths]),
    [
      ['app-0-0', 6],
      ['app-1-0', 5],
    ],
    'deaths seen while Ready are accounted for',
  );
  unready(w, 'app-0-0', 6);
  unready(w, 'app-1-0', 5);
  await w.pass();
  assert.is(w.condition('Paused')?.status, 'False', '11 lifetime restarts, none since the pods were last Ready');
  // Now they really crash: deaths since they were last Ready add up.
  crash(w, 'app-0-0', 12);
  crash(w, 'app-1-0', 9);
  await w.pass();
  assert.is(w.condition('Paused')?.status, 'False', '6 + 4 = 10 recent deaths is not above 10');
  crash(w, 'app-1-0', 10);
  const paused = await w.pass();
  assert.is(status(w).pauseReason, 'CrashLooping');
  assert.match(w.condition('Paused')!.message, /11 pod deaths since the pods were last Ready exceed the threshold of 10/);
  assert.match(w.condition('Paused')!.message, /kubectl annotate spicepodset app -n ns spice\.ai\/resume=true/);
  assert.ok(paused.events?.some((e) => e.type === 'Warning' && e.reason === 'CrashLooping'));
});

test('crashloop: a pod that died long ago (an evicted Deployment pod) stops counting after the window', async () => {
  const w = new SetWorld({ spicepod, replicas: 1 });
  await w.converge();
  const at = (ms: number) => new Date(ms).toISOString();
  const evicted = Array.from({ length: 11 }, (_, i) =>
    w.addPod(pod({ name: `evicted-${i}`, uid: `e${i}`, app: 'app', phase: 'Failed', readySince: at(w.now - 601_000) })),
  );
  await w.pass();
  assert.is(w.condition('Paused')?.status, 'False', 'eleven pods that died over ten minutes ago');
  for (const p of evicted) {
    (p.status as any).conditions[0].lastTransitionTime = at(w.now - 60_000);
  }
  await w.pass();
  assert.is(status(w).pauseReason, 'CrashLooping', 'eleven pods that died a minute ago');
});

test('crashloop: spice.ai/resume resumes a paused set at once, is removed after the status records it, and is acted on once', async () => {
  const w = new SetWorld({ spicepod, replicas: 2 });
  await w.converge();
  crash(w, 'app-0-0', 6);
  crash(w, 'app-1-0', 5);
  await w.pass();
  assert.is(status(w).pauseReason, 'CrashLooping');
  await w.pass();
  assert.is(w.object('StatefulSet', 'app-0').spec.replicas, 0);
  // The user re-applies the same spec: nothing changes, the set stays paused (the old advice did nothing).
  await w.pass();
  assert.is(status(w).pauseReason, 'CrashLooping');
  w.parent.metadata.annotations = { 'spice.ai/resume': 'true' };
  // Removing the annotation fails (a webhook forbids it, say) until said otherwise.
  w.refuse({
    target: { apiVersion: 'spice.ai/v1', kind: 'SpicepodSet', namespace: 'ns', name: 'app' },
    verb: 'patch',
    code: 403,
    reason: 'Forbidden',
    message: 'denied',
  });
  const resumed = await w.pass();
  assert.is(status(w).pauseReason, undefined);
  assert.is(w.object('StatefulSet', 'app-0').spec.replicas, 1);
  assert.is(w.condition('Paused')?.reason, 'Resumed');
  assert.is(status(w).resumeHandled, 'true', 'the status records the resume before the annotation goes');
  assert.equal(parentPatch(resumed), { metadata: { annotations: { 'spice.ai/resume': null } } });
  assert.ok(resumed.events?.some((e) => e.type === 'Normal' && e.reason === 'Resumed'));
  // The removal failed, and the new pods crash again: the stale annotation does not resume a second time.
  crash(w, 'app-0-0', 6);
  crash(w, 'app-1-0', 5);
  const again = await w.pass();
  assert.is(status(w).pauseReason, 'CrashLooping', 'no loop: the same annotation is acted on once');
  assert.equal(parentPatch(again), { metadata: { annotations: { 'spice.ai/resume': null } } }, 'and its removal is retried');
  // The annotation is finally gone: the record goes, and the same command works again.
  w.accept();
  await w.pass();
  assert.equal(w.parent.metadata.annotations, {});
  await w.pass();
  assert.is(status(w).resumeHandled, undefined);
  w.parent.metadata.annotations = { 'spice.ai/resume': 'true' };
  await w.pass();
  assert.is(status(w).pauseReason, undefined, 'the same command resumes again');
});

test('crashloop: a resume accounts for the deaths so far, so the pods that caused the pause do not pause it again', async () => {
  const w = new SetWorld({ spicepod, replicas: 1 });
  await w.converge();
  for (let i = 0; i < 11; i++)
    w.addPod(pod({ name: `app-dead-${i}`, uid: `d${i}`, app: 'app', phase: 'Failed', readySince: new Date(w.now).toISOString() }));
  await w.pass();
  assert.is(status(w).pauseReason, 'CrashLooping');
  w.parent.metadata.annotations = { 'spice.ai/resume': 'yes' };
  await w.pass();
  w.parent.metadata.annotations = {};
  await w.pass();
  await w.pass();
  assert.is(status(w).pauseReason, undefined);
  assert.is(w.condition('Paused')?.reason, 'Running');
});

// ---- what the cluster refused --------------------------------------------------------------

test('a child the API server refuses: Ready=False ChildRefused with its message and a Warning; it clears once written', async () => {
  const w = new SetWorld({ spicepod, replicas: 2 });
  await w.converge();
  w.refuse({
    target: { apiVersion: 'apps/v1', kind: 'StatefulSet', namespace: 'ns', name: 'app-1' },
    verb: 'apply',
    code: 422,
    reason: 'Invalid',
    message: 'StatefulSet.apps "app-1" is invalid: spec.template.spec.containers[0].image: Required value',
  });
  await w.pass(); // the write is refused; the next pass is told
  const d = await w.pass();
  assert.is(w.condition('Ready')?.reason, 'ChildRefused');
  assert.match(w.condition('Ready')!.message, /the API server refused StatefulSet app-1: StatefulSet\.apps "app-1" is invalid/);
  assert.ok(d.events?.some((e) => e.type === 'Warning' && e.reason === 'ChildRefused'));
  const again = await w.pass();
  assert.not.ok(
    again.events?.some((e) => e.reason === 'ChildRefused'),
    'one Warning while the message stays the same',
  );
  w.accept();
  w.refuse({
    target: { apiVersion: 'v1', kind: 'Service', namespace: 'ns', name: 'app' },
    verb: 'apply',
    code: 500,
    reason: 'InternalError',
    message: 'etcd',
  });
  await w.pass(); // told of the StatefulSet's refusal one last time; the StatefulSet is written, the Service fails
  await w.pass();
  assert.is(w.condition('Ready')?.status, 'True', 'a server failure is not a refusal: it is retried');
  w.accept();
  await w.pass();
  assert.is(w.condition('Ready')?.status, 'True');
});

test('a resize the API server refuses: VolumeResized=False ResizeRefused naming the claim and the reason, and a Warning', async () => {
  const w = new SetWorld({ spicepod, volume: { storageRequests: '1Gi' }, replicas: 1 });
  await w.converge();
  w.putRelated({
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name: 'data-app-0-0', namespace: 'ns' },
    spec: { resources: { requests: { storage: '1Gi' } } },
  });
  w.refuse({
    target: { apiVersion: 'v1', kind: 'PersistentVolumeClaim', namespace: 'ns', name: 'data-app-0-0' },
    verb: 'patch',
    code: 403,
    reason: 'Forbidden',
    message:
      'persistentvolumeclaims "data-app-0-0" is forbidden: only dynamically provisioned pvc can be resized and the storageclass that provisions the pvc must support resize',
  });
  w.setSpec({ spicepod, volume: { storageRequests: '2Gi' }, replicas: 1 });
  await w.pass(); // the resize is refused; the next pass is told
  assert.is(w.condition('VolumeResized')?.reason, 'Resizing');
  const d = await w.pass();
  assert.is(w.condition('VolumeResized')?.status, 'False');
  assert.is(w.condition('VolumeResized')?.reason, 'ResizeRefused');
  assert.match(w.condition('VolumeResized')!.message, /data-app-0-0 to 2Gi: .*storageclass that provisions the pvc must support resize/);
  assert.ok(d.events?.some((e) => e.type === 'Warning' && e.reason === 'ResizeRefused'));
  assert.ok(
    d.patch?.some((p) => p.target.kind === 'PersistentVolumeClaim'),
    'the resize is still asked for, so the condition holds while it is refused',
  );
});

test("pods the cluster refuses to create: the Deployment's ReplicaFailure or the StatefulSet's FailedCreate Event become Ready=False PodsRefused", async () => {
  const d = new SetWorld({ spicepod, replicas: 1 });
  await d.pass();
  const deployment = d.object('Deployment', 'app');
  deployment.status = {
    conditions: [
      {
        type: 'ReplicaFailure',
        status: 'True',
        reason: 'FailedCreate',
        message: 'pods "app-5d9c-x" is forbidden: exceeded quota: q, requested: pods=1, used: pods=1, limited: pods=1',
      },
    ],
  };
  d.removePods();
  const first = await d.pass();
  assert.is(d.condition('Ready')?.reason, 'PodsRefused');
  assert.match(d.condition('Ready')!.message, /Deployment app: pods "app-5d9c-x" is forbidden: exceeded quota/);
  assert.ok(first.events?.some((e) => e.type === 'Warning' && e.reason === 'PodsRefused'));

  const s = new SetWorld({ spicepod, replicas: 2 });
  await s.pass();
  const sts = s.object('StatefulSet', 'app-1');
  sts.metadata.uid = 'sts-1';
  s.removePods('app-1-0');
  const message =
    'create Pod app-1-0 in StatefulSet app-1 failed error: pods "app-1-0" is forbidden: violates PodSecurity "restricted:latest": seccompProfile';
  s.putRelated({
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: 'e1', namespace: 'ns' },
    reason: 'FailedCreate',
    message: 'an older one',
    involvedObject: { uid: 'sts-1' },
    lastTimestamp: '2025-12-31T23:00:00Z',
  });
  s.putRelated({
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: 'e2', namespace: 'ns' },
    reason: 'FailedCreate',
    message,
    involvedObject: { uid: 'sts-1' },
    lastTimestamp: '2025-12-31T23:59:00Z',
  });
  const refused = await s.pass();
  assert.is(s.condition('Ready')?.reason, 'PodsRefused');
  assert.ok(refused.events?.some((e) => e.type === 'Warning' && e.reason === 'PodsRefused' && e.message.includes('violates PodSecurity')));
  assert.match(s.condition('Ready')!.message, /violates PodSecurity/);
  // The pod gets created after all: the Event (which outlives the problem) no longer counts.
  const sts1 = s.object('StatefulSet', 'app-1');
  sts1.metadata.uid = 'sts-1';
  s.putWorkloadPod({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'app-1-0', namespace: 'ns', uid: 'p1' },
    status: { phase: 'Pending' },
  });
  await s.pass();
  assert.is(s.condition('Ready')?.reason, 'RolloutInProgress', 'a pod that exists is on its way');
  s.ready();
  await s.pass();
  assert.is(s.condition('Ready')?.status, 'True');
});

// ---- names the API server accepts ----------------------------------------------------------

test('a set name too long for the names derived from it is InvalidSpec naming metadata.name, before anything is written', async () => {
  const named = async (name: string, spec: Record<string, unknown>) => {
    const w = new SetWorld({ spicepod, ...spec });
    w.parent.metadata.name = name;
    const d = await w.pass();
    return { d, ready: w.condition('Ready') };
  };
  const fits = 'a'.repeat(50); // <set>-<ordinal> of 52 characters
  assert.is((await named(fits, { replicas: 2 })).ready?.status, 'False', 'not yet Ready, but valid');
  assert.is.not((await named(fits, { replicas: 2 })).ready?.reason, 'InvalidSpec');
  const long = await named('a'.repeat(51), { replicas: 2 });
  assert.is(long.ready?.reason, 'InvalidSpec');
  assert.match(
    long.ready!.message,
    /metadata\.name is too long for its StatefulSets: "a{51}-1" must fit in 52 characters .* at most 50 characters/,
  );
  assert.equal(long.d.apply, [], 'nothing written');
  const bgLong = await named('a'.repeat(40), { replicas: 2, updateStrategy: { type: 'BlueGreen' } });
  assert.match(bgLong.ready!.message, /<set>-<version>-<ordinal>.*at most 39 characters/);
  assert.match(
    (await named('a'.repeat(64), { replicas: 1 })).ready!.message,
    /metadata\.name .*spice\.ai\/app label, which allows at most 63 characters/,
  );
  assert.is.not((await named('a'.repeat(63), { replicas: 1 })).ready?.reason, 'InvalidSpec', 'a Deployment and a Service take 63');
  assert.match((await named('1app', { replicas: 1 })).ready!.message, /Service, so it must be a DNS-1035 label/);
  assert.match((await named('my.app', { replicas: 2, enableService: false })).ready!.message, /headless Service "my\.app-headless"/);
});

test('the pods pass the restricted Pod Security Standard: non-root, no privilege escalation, capabilities dropped, RuntimeDefault seccomp', async () => {
  for (const spec of [{ replicas: 1 }, { replicas: 2, volume: { storageRequests: '1Gi' } }]) {
    const w = new SetWorld({ spicepod, ...spec });
    await w.pass();
    const workload = w.object('Deployment', 'app') ?? w.object('StatefulSet', 'app-0');
    const pod = workload.spec.template.spec;
    assert.equal(pod.securityContext.seccompProfile, { type: 'RuntimeDefault' });
    assert.is(pod.securityContext.runAsNonRoot, true);
    assert.is.not(pod.securityContext.runAsUser, 0);
    for (const c of pod.containers) {
      assert.is(c.securityContext.allowPrivilegeEscalation, false);
      assert.equal(c.securityContext.capabilities, { drop: ['ALL'] });
      assert.equal(c.securityContext.seccompProfile, { type: 'RuntimeDefault' });
    }
    const allowed = new Set(['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret']);
    for (const v of pod.volumes)
      assert.ok(
        Object.keys(v)
          .filter((k) => k !== 'name')
          .every((k) => allowed.has(k)),
        JSON.stringify(v),
      );
  }
});

test.run();
