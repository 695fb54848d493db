// Carrying out a handler's answer (shim/carry-out.ts, the controller's
// carryOut) against the in-memory API (test/kit/fake-kube.ts) with a fake
// clock: what is written, in which order, what is skipped because the cache
// already holds it, and what a failed write leaves for the handler's next pass.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Desired, KubeObject } from '../../core/handler.ts';
import { carryOut, type CarryOutContext } from '../../shim/carry-out.ts';
import type { KObject } from '../../shim/kube/client.ts';
import { jsonLogger } from '../../shim/log.ts';
import { FakeClock } from '../kit/fake-clock.ts';
import { FakeKube } from '../kit/fake-kube.ts';

const T0 = Date.parse('2026-05-01T10:00:00.600Z');
const PARENT: KObject = {
  apiVersion: 'spice.ai/v1alpha1',
  kind: 'SpicepodSet',
  metadata: { name: 'demo', namespace: 'apps', uid: 'p-uid', generation: 3 },
} as KObject;
const cm = (name: string, data: Record<string, string> = { a: '1' }): KubeObject =>
  ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data }) as KubeObject;

function world(options: { lastUpdatedField?: string } = {}) {
  const kube = new FakeKube();
  const parent = kube.put(PARENT);
  const clock = new FakeClock(T0);
  const requeues: string[] = [];
  const events: string[] = [];
  const lines: Record<string, unknown>[] = [];
  const ctx: CarryOutContext = {
    client: kube,
    handler: { name: 'workloads', conditionTypes: ['Ready'], ...options },
    fieldManager: 'spiceai-operator-workloads',
    clock,
    writes: { apply: 0, delete: 0, patch: 0, status: 0, event: 0 },
    written: new Map(),
    findRelated: (t) => kube.find(t.apiVersion, t.kind, t.namespace, t.name),
    requeueAfter: (key, ms) => requeues.push(`${key} ${ms}`),
    recordEvent: (p, e) => events.push(`${p.metadata.name} ${e.type} ${e.reason}`),
  };
  const log = jsonLogger({ verbose: true, write: (l) => lines.push(JSON.parse(l)) });
  /** The children as the caches would hold them: what the API holds, owned by the parent. */
  const children = () => [...kube.objects.values()].filter((o) => o.metadata.ownerReferences?.some((r) => r.uid === 'p-uid'));
  const pass = (desired: Desired, p: KObject = kube.find(PARENT.apiVersion, PARENT.kind, 'apps', 'demo')!) =>
    carryOut(ctx, p, children(), desired, log);
  return { kube, parent, clock, ctx, requeues, events, lines, children, pass };
}

test('children are applied owned and labelled; a pass the cache already matches writes nothing', async () => {
  const w = world();
  const result = await w.pass({ apply: [cm('a'), cm('b')] });
  assert.equal(result, { failed: [] });
  assert.equal(w.kube.said().sort(), ['apply ConfigMap/a', 'apply ConfigMap/b']);
  const a = w.kube.find('v1', 'ConfigMap', 'apps', 'a')!;
  assert.equal(a.metadata.ownerReferences, [
    { apiVersion: PARENT.apiVersion, kind: 'SpicepodSet', name: 'demo', uid: 'p-uid', controller: true, blockOwnerDeletion: true },
  ]);
  assert.is(a.metadata.labels?.['spice.ai/handler'], 'workloads');
  assert.is(a.metadata.labels?.['app.kubernetes.io/managed-by'], 'spiceai-operator');
  assert.match(a.metadata.annotations?.['spice.ai/applied-hash'] ?? '', /^[0-9a-f]{16}$/);

  await w.pass({ apply: [cm('a'), cm('b')] });
  assert.is(w.kube.writes.length, 2, 'nothing differs: nothing written');
  await w.pass({ apply: [cm('a', { a: '2' }), cm('b')] });
  assert.equal(w.kube.said().slice(2), ['apply ConfigMap/a']);
  assert.equal(w.ctx.writes, { apply: 3, delete: 0, patch: 0, status: 0, event: 0 });
});

test('children no longer returned are deleted (with the uid read); kept ones and ones being deleted are not', async () => {
  const w = world();
  await w.pass({ apply: [cm('a'), cm('b'), cm('c')] });
  const c = w.kube.find('v1', 'ConfigMap', 'apps', 'c')!;
  w.kube.put({ ...c, metadata: { ...c.metadata, deletionTimestamp: '2026-05-01T09:00:00Z' } });
  await w.pass({ apply: [], keep: [{ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'apps', name: 'b' }] });
  assert.equal(w.kube.said().slice(3), ['delete ConfigMap/a']);
  assert.ok(w.kube.find('v1', 'ConfigMap', 'apps', 'b'));
});

test("the order of one pass: children, pruning, other patches, guarded writes, status, the parent's own patch, Events", async () => {
  const w = world();
  await w.pass({ apply: [cm('old')] });
  w.kube.put({
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name: 'data', namespace: 'apps' },
    spec: { size: '1Gi' },
  } as KObject);
  w.kube.writes.length = 0;
  const result = await w.pass({
    apply: [cm('new')],
    patch: [
      {
        target: { apiVersion: PARENT.apiVersion, kind: 'SpicepodSet', namespace: 'apps', name: 'demo' },
        patch: { metadata: { annotations: { 'spice.ai/rollback': null } } },
      },
      { target: { apiVersion: 'v1', kind: 'PersistentVolumeClaim', namespace: 'apps', name: 'data' }, patch: { spec: { size: '2Gi' } } },
    ],
    write: [{ object: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'ca', namespace: 'ops' } } as KubeObject }],
    status: { phase: 'Ready' },
    events: [{ type: 'Normal', reason: 'Updated', message: 'm' }],
  });
  assert.equal(result, { failed: [] });
  assert.equal(w.kube.said(), [
    'apply ConfigMap/new',
    'delete ConfigMap/old',
    'patch PersistentVolumeClaim/data',
    'create Secret/ca',
    'applyStatus SpicepodSet/demo',
    'patch SpicepodSet/demo',
  ]);
  assert.equal(w.events, ['demo Normal Updated']);
  assert.is(w.kube.find('v1', 'Secret', 'ops', 'ca')!.metadata.labels?.['app.kubernetes.io/managed-by'], 'spiceai-operator');
  assert.equal(w.kube.find(PARENT.apiVersion, PARENT.kind, 'apps', 'demo')!.status, { phase: 'Ready', observedGeneration: 3 });
  assert.ok(w.ctx.written.has('apps/demo'), 'the parent as written is kept until the cache catches up');
});

test('at info a pass that applied logs one line, what it applied; the Events it records are logged at debug only', async () => {
  const pass = async (level: 'info' | 'debug') => {
    const w = world();
    const lines: { level: string; msg: string; objects?: string[]; reason?: string }[] = [];
    const log = jsonLogger({ level, write: (l) => lines.push(JSON.parse(l)) });
    await carryOut(
      w.ctx,
      w.parent,
      w.children(),
      { apply: [cm('b'), cm('a')], events: [{ type: 'Normal', reason: 'Updated', message: 'm' }] },
      log,
    );
    assert.equal(w.events, ['demo Normal Updated'], 'the Event is recorded whatever the level');
    return lines.map((l) => `${l.level} ${l.msg} ${l.objects?.join(',') ?? l.reason}`);
  };
  assert.equal(await pass('info'), ['info applied ConfigMap/a,ConfigMap/b']);
  assert.equal(await pass('debug'), ['info applied ConfigMap/a,ConfigMap/b', 'debug event Updated']);
});

test("status is written only when it differs; the last-updated time moves only when something changed, to the clock's second", async () => {
  const w = world({ lastUpdatedField: 'lastUpdated' });
  await w.pass({ apply: [cm('a')], status: { phase: 'Ready' } });
  const status = () => w.kube.find(PARENT.apiVersion, PARENT.kind, 'apps', 'demo')!.status as Record<string, unknown>;
  assert.equal(status(), { phase: 'Ready', observedGeneration: 3, lastUpdated: '2026-05-01T10:00:00Z' });
  await w.clock.advance(60_000);
  await w.pass({ apply: [cm('a')], status: { phase: 'Ready' } });
  assert.is(w.ctx.writes.status, 1, 'nothing changed: status not written, time kept');
  await w.pass({ apply: [cm('a', { a: '2' })], status: { phase: 'Ready' } });
  assert.is(w.ctx.writes.status, 2);
  assert.is(status().lastUpdated, '2026-05-01T10:01:00Z');
});

test('a failed apply is told to the next pass and returned; the other children still go out', async () => {
  const w = world();
  w.kube.refuse({ verb: 'apply', name: 'a', status: 422, reason: 'Invalid', message: 'spec.x: Invalid value' });
  const result = await w.pass({ apply: [cm('a'), cm('b')], status: { phase: 'Degraded' } });
  assert.equal(result.failed, [
    {
      target: { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'apps', name: 'a' },
      verb: 'apply',
      code: 422,
      reason: 'Invalid',
      message: 'spec.x: Invalid value',
    },
  ]);
  assert.is((result.error as { status: number }).status, 422);
  assert.ok(w.kube.find('v1', 'ConfigMap', 'apps', 'b'));
  assert.is(w.ctx.writes.status, 1, 'the status still records the pass');
  // The child is named in `object`: `name` on a reconcile's lines is the reconciled object's.
  assert.ok(w.lines.some((l) => l.msg === 'apply failed' && l.object === 'a'));
});

test("a guarded write that loses a race leaves what is there and looks again soon; a failed status holds the parent's own patch back", async () => {
  const w = world();
  w.kube.put({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'ca', namespace: 'ops' }, data: { theirs: 'x' } } as KObject);
  w.kube.refuse({ verb: 'applyStatus', status: 500, reason: 'InternalError' });
  const result = await w.pass({
    apply: [],
    write: [{ object: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'ca', namespace: 'ops' } } as KubeObject }],
    status: { phase: 'Ready' },
    patch: [
      {
        target: { apiVersion: PARENT.apiVersion, kind: 'SpicepodSet', namespace: 'apps', name: 'demo' },
        patch: { metadata: { annotations: { 'spice.ai/resume': null } } },
      },
    ],
  });
  assert.equal(w.kube.find('v1', 'Secret', 'ops', 'ca')!.data, { theirs: 'x' }, 'never overwritten');
  assert.ok(w.lines.some((l) => l.msg === 'left as found' && l.reason === 'AlreadyExists'));
  assert.equal(w.requeues, ['apps/demo 1000', 'apps/demo 1000']);
  assert.equal(w.kube.said(), [], 'the parent patch waits for its status');
  assert.equal(result.failed, [], "a lost race and a status failure are not the handler's to fix");
  assert.is((result.error as { status: number }).status, 500);
});

test.run();
