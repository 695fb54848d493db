// Informer against a real kube-apiserver: initial list, add/update/delete from
// the watch, label selectors, stop, relist after 410 Gone with a diff of what
// changed meanwhile, resuming after the server ends a watch, indexes, resync.
// Objects are changed with kubectl so the code under test does not check itself.
import { WIDGET_API, widgetCrd } from '../harness/widget.ts';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Informer, type InformerEventType, type InformerOptions } from '../../shim/informer.ts';
import { SharedInformers, type InformerListener } from '../../shim/informers.ts';
import { KubeClient, type KObject } from '../../shim/kube/client.ts';
import { loadKubeConfig } from '../../shim/kube/kubeconfig.ts';
import { copiesInHeap } from '../harness/heap.ts';
import { eventually, freshNamespace, kubectl, kubectlJson, kubectlOk, testKubeconfig } from '../harness/kube.ts';

const client = new KubeClient(loadKubeConfig(testKubeconfig()));
let ns = '';
const informers: Informer[] = [];

interface Recorded {
  type: InformerEventType;
  name: string;
  data?: Record<string, string>;
  old?: KObject;
  obj: KObject;
}

function record(options: Omit<InformerOptions, 'apiVersion' | 'kind' | 'onEvent' | 'namespace'> & { apiVersion?: string; kind?: string }) {
  const events: Recorded[] = [];
  const errors: string[] = [];
  const informer = new Informer(client, {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    namespace: ns,
    onError: (error, during) => errors.push(`${during}: ${(error as Error).message}`),
    ...options,
    onEvent: (type, obj, old) => events.push({ type, name: obj.metadata.name, data: (obj as any).data, old, obj }),
  });
  informers.push(informer);
  const lines = (types: InformerEventType[] = ['add', 'update', 'delete']) =>
    events.filter((e) => types.includes(e.type)).map((e) => `${e.type} ${e.name}${e.data?.v ? ` ${e.data.v}` : ''}`);
  return { informer, events, errors, lines };
}

// A tiny CRD (the same one client.test.ts uses): a custom resource's watch
// cache starts at the revision its CRD was established at, so a watch from
// resourceVersion 1 is refused with 410 Gone on any cluster, however young.

function applyWidget(name: string, labels: Record<string, string>, size: number): void {
  kubectlOk(
    ['apply', '-n', ns, '-f', '-'],
    JSON.stringify({ apiVersion: WIDGET_API, kind: 'Widget', metadata: { name, labels }, spec: { size } }),
  );
}

function applyCm(name: string, labels: Record<string, string>, data: Record<string, string> = {}): void {
  kubectlOk(['apply', '-n', ns, '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels }, data }));
}

const cacheNames = (informer: Informer) =>
  informer
    .list()
    .map((o) => o.metadata.name)
    .sort();

test.before(() => {
  ns = freshNamespace('shim-informer');
  kubectlOk(['apply', '--server-side', '--field-manager=shim-client-test', '-f', '-'], JSON.stringify(widgetCrd));
  kubectlOk(['wait', '--for=condition=Established', '--timeout=60s', 'crd/widgets.shimtest.spice.ai']);
});

test.after(async () => {
  await Promise.all(informers.map((i) => i.stop()));
  client.close();
  kubectl(['delete', 'namespace', ns, '--wait=false']);
});

test('start() resolves with the initial list in the cache, each object reported as add', async () => {
  applyCm('init-a', { t: 'init' }, { v: '1' });
  applyCm('init-b', { t: 'init' }, { v: '1' });
  const { informer, lines } = record({ labelSelector: 't=init' });
  assert.is(informer.hasSynced(), false);
  await informer.start();
  assert.is(informer.hasSynced(), true);
  assert.equal(cacheNames(informer), ['init-a', 'init-b']);
  assert.equal(lines().sort(), ['add init-a 1', 'add init-b 1']);
  assert.is(informer.get(ns, 'init-a')?.kind, 'ConfigMap');
  assert.is(informer.get(ns, 'init-a')?.metadata.managedFields, undefined, 'managedFields dropped');
  assert.is(informer.get(ns, 'missing'), undefined);
  assert.ok(informer.resourceVersion, 'knows the list resourceVersion');
  await eventually('the watch to connect', () => informer.watchConnected);
  assert.ok(informer.lastWatchOk > 0);
  await informer.stop();
});

test('create, update and delete arrive as add, update (with the old object) and delete', async () => {
  const { informer, events, lines, errors } = record({ labelSelector: 't=crud' });
  await informer.start();
  await eventually('the watch to connect', () => informer.watchConnected);
  applyCm('crud', { t: 'crud' }, { v: '1' });
  await eventually('add', () => informer.get(ns, 'crud'));
  applyCm('crud', { t: 'crud' }, { v: '2' });
  await eventually('update', () => (informer.get(ns, 'crud') as any)?.data?.v === '2');
  kubectlOk(['delete', 'configmap', 'crud', '-n', ns]);
  await eventually('delete', () => !informer.get(ns, 'crud') && lines().length === 3);
  assert.equal(lines(), ['add crud 1', 'update crud 2', 'delete crud 2']);
  const update = events.find((e) => e.type === 'update')!;
  assert.is((update.old as any).data.v, '1', 'update carries the previous object');
  assert.is(update.obj.metadata.managedFields, undefined);
  assert.equal(errors, []);
  await informer.stop();
});

test('a value the cached objects repeat, listed or watched, is one string in memory', async () => {
  const shared = `shared-value-${process.pid}-${Date.now()}`;
  for (const name of ['intern-1', 'intern-2', 'intern-3']) applyCm(name, { t: 'intern' }, { shared });
  const { informer } = record({ labelSelector: 't=intern' });
  await informer.start();
  await eventually('the watch to connect', () => informer.watchConnected);
  for (const name of ['intern-4', 'intern-5', 'intern-6']) applyCm(name, { t: 'intern' }, { shared });
  await eventually('six cached', () => informer.list().length === 6);
  assert.ok(informer.list().every((o) => (o as any).data.shared === shared));
  // The test's own `shared`, and the cache's one copy for all six.
  assert.is(copiesInHeap(shared), 2);
  await informer.stop();
});

test('a label selector filters, and an object that stops matching is reported deleted', async () => {
  const { informer, lines } = record({ labelSelector: 't=sel,keep=yes' });
  await informer.start();
  await eventually('the watch to connect', () => informer.watchConnected);
  applyCm('sel-in', { t: 'sel', keep: 'yes' });
  applyCm('sel-out', { t: 'sel', keep: 'no' });
  await eventually('sel-in', () => informer.get(ns, 'sel-in'));
  applyCm('sel-in', { t: 'sel', keep: 'no' }); // no longer matches
  await eventually('sel-in to leave the cache', () => !informer.get(ns, 'sel-in'));
  applyCm('sel-out', { t: 'sel', keep: 'yes' }); // now matches
  await eventually('sel-out to enter the cache', () => informer.get(ns, 'sel-out'));
  assert.equal(lines(), ['add sel-in', 'delete sel-in', 'add sel-out']);
  await informer.stop();
});

test('after stop() no more events arrive and the watch is closed', async () => {
  const { informer, events } = record({ labelSelector: 't=stop' });
  await informer.start();
  await eventually('the watch to connect', () => informer.watchConnected);
  applyCm('stop-1', { t: 'stop' });
  await eventually('stop-1', () => informer.get(ns, 'stop-1'));
  await informer.stop();
  assert.is(informer.watchConnected, false);
  const count = events.length;
  applyCm('stop-2', { t: 'stop' });
  kubectlOk(['delete', 'configmap', 'stop-1', '-n', ns]);
  // A second informer on the same selector sees both changes; by then the stopped one would have too.
  const witness = record({ labelSelector: 't=stop' });
  await witness.informer.start();
  assert.equal(cacheNames(witness.informer), ['stop-2']);
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  assert.is(events.length, count, 'no event after stop');
  assert.equal(cacheNames(informer), ['stop-1'], 'the stopped cache is frozen');
  await witness.informer.stop();
});

test('410 Gone: relists at the last resourceVersion and reports exactly what changed while the watch was down', async () => {
  applyWidget('gone-keep', { t: 'gone' }, 1);
  applyWidget('gone-change', { t: 'gone' }, 1);
  applyWidget('gone-delete', { t: 'gone' }, 1);
  let trigger = false;
  const { informer, events, errors } = record({
    apiVersion: WIDGET_API,
    kind: 'Widget',
    labelSelector: 't=gone',
    beforeWatch: () => {
      if (!trigger) return;
      trigger = false;
      // Changes made while no watch is open, then a watch from a
      // resourceVersion the server has forgotten.
      applyWidget('gone-change', { t: 'gone' }, 2);
      kubectlOk(['delete', 'widget.shimtest.spice.ai', 'gone-delete', '-n', ns]);
      applyWidget('gone-new', { t: 'gone' }, 1);
      return '1';
    },
  });
  const lines = () => events.map((e) => `${e.type} ${e.name} ${(e.obj as any).spec.size}`);
  await informer.start();
  assert.equal(lines().sort(), ['add gone-change 1', 'add gone-delete 1', 'add gone-keep 1']);
  await eventually('the watch to connect', () => informer.watchConnected);
  trigger = true;
  await informer.relist(); // interrupts the watch; the next one goes through beforeWatch
  await eventually('the relist after 410', () => informer.counters.goneRelists >= 1 && informer.watchConnected);
  const names = () =>
    informer
      .list()
      .map((o) => o.metadata.name)
      .sort();
  const onServer = () =>
    kubectlJson(['get', 'widgets.shimtest.spice.ai', '-n', ns, '-l', 't=gone'])
      .items.map((o: KObject) => o.metadata.name)
      .sort();
  await eventually('the cache to converge', () => JSON.stringify(names()) === JSON.stringify(onServer()));
  assert.equal(names(), ['gone-change', 'gone-keep', 'gone-new']);
  assert.is((informer.get(ns, 'gone-change') as any).spec.size, 2);
  assert.equal(
    lines().slice(3).sort(),
    ['add gone-new 1', 'delete gone-delete 1', 'update gone-change 2'],
    'each change once, unchanged objects not at all',
  );
  assert.equal(errors, [], '410 is not reported as a failure');
  applyWidget('gone-after', { t: 'gone' }, 1);
  await eventually('an event from the new watch', () => informer.get(ns, 'gone-after'));
  await informer.stop();
});

test('when the last resourceVersion cannot be served either, the relist falls back to a consistent list', async () => {
  applyCm('rv-keep', { t: 'rv' }, { v: '1' });
  applyCm('rv-delete', { t: 'rv' }, { v: '1' });
  let trigger = false;
  const TOO_LARGE = '999999999999';
  const { informer, lines, errors } = record({
    labelSelector: 't=rv',
    beforeWatch: () => {
      if (!trigger) return;
      trigger = false;
      applyCm('rv-keep', { t: 'rv' }, { v: '2' });
      kubectlOk(['delete', 'configmap', 'rv-delete', '-n', ns]);
      applyCm('rv-new', { t: 'rv' }, { v: '1' });
      // The server will answer a list at this resourceVersion with 504 "Too large resource version".
      return TOO_LARGE;
    },
  });
  await informer.start();
  const before = lines().length;
  trigger = true;
  await informer.relist();
  await eventually('a watch from the unservable resourceVersion', () => informer.resourceVersion === TOO_LARGE && informer.watchConnected);
  await informer.relist(); // at TOO_LARGE: refused, then listed with resourceVersion ""
  assert.is.not(informer.resourceVersion, TOO_LARGE);
  assert.equal(cacheNames(informer), ['rv-keep', 'rv-new']);
  assert.equal(lines().slice(before).sort(), ['add rv-new 1', 'delete rv-delete 1', 'update rv-keep 2']);
  assert.equal(errors, []);
  applyCm('rv-after', { t: 'rv' });
  await eventually('an event from the new watch', () => informer.get(ns, 'rv-after'));
  await informer.stop();
});

test('relist() with nothing changed reports nothing', async () => {
  applyCm('quiet-1', { t: 'quiet' });
  applyCm('quiet-2', { t: 'quiet' });
  const { informer, events } = record({ labelSelector: 't=quiet' });
  await informer.start();
  assert.is(events.length, 2);
  await informer.relist();
  await informer.relist();
  assert.is(events.length, 2, 'no duplicate events');
  assert.ok(informer.counters.lists >= 3);
  await informer.stop();
});

test('when the server ends a watch, the next one resumes without losing changes made in between', async () => {
  let watchNo = 0;
  const { informer, lines, errors } = record({
    labelSelector: 't=resume',
    watchTimeoutSeconds: [1, 2],
    beforeWatch: () => {
      watchNo++;
      // Changes made between two watches (the previous one was ended by the server).
      if (watchNo === 2) applyCm('between-1', { t: 'resume' });
      if (watchNo === 3) applyCm('between-2', { t: 'resume' });
    },
  });
  await informer.start();
  await eventually('four watches', () => informer.counters.watches >= 4, 60_000);
  applyCm('during', { t: 'resume' });
  await eventually('all three objects', () => lines().length === 3);
  assert.equal(lines(), ['add between-1', 'add between-2', 'add during']);
  assert.is(informer.counters.goneRelists, 0, 'resumed from the last resourceVersion, no relist');
  assert.is(informer.counters.lists, 1);
  assert.equal(errors, []);
  await informer.stop();
});

test('byOwnerUid and custom indexes follow adds, updates and deletes', async () => {
  applyCm('owner', { t: 'idx' });
  const owner = kubectlJson(['get', 'configmap', 'owner', '-n', ns]);
  const ownerRef = { apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: owner.metadata.uid };
  const child = (name: string, owned: boolean, tier: string) =>
    kubectlOk(
      ['apply', '-n', ns, '-f', '-'],
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name, labels: { t: 'idx', tier }, ...(owned ? { ownerReferences: [ownerRef] } : {}) },
      }),
    );
  child('child-1', true, 'a');
  const { informer } = record({ labelSelector: 't=idx' });
  informer.addIndex('tier', (o) => (o.metadata.labels?.tier ? [o.metadata.labels.tier] : []));
  await informer.start();
  await eventually('the watch to connect', () => informer.watchConnected);
  const owned = () =>
    informer
      .byOwnerUid(owner.metadata.uid)
      .map((o) => o.metadata.name)
      .sort();
  assert.equal(owned(), ['child-1']);
  child('child-2', true, 'b');
  await eventually('child-2 indexed', () => owned().length === 2);
  child('child-1', false, 'b'); // ownerReference removed, tier changed
  await eventually('child-1 unindexed', () => owned().length === 1);
  assert.equal(owned(), ['child-2']);
  assert.equal(
    informer
      .byIndex('tier', 'b')
      .map((o) => o.metadata.name)
      .sort(),
    ['child-1', 'child-2'],
  );
  assert.equal(informer.byIndex('tier', 'a'), []);
  kubectlOk(['delete', 'configmap', 'child-2', '-n', ns]);
  await eventually('child-2 gone from the index', () => owned().length === 0);
  assert.equal(
    informer.byIndex('tier', 'b').map((o) => o.metadata.name),
    ['child-1'],
  );
  assert.equal(
    informer.listBy((o) => o.metadata.name.startsWith('child')).map((o) => o.metadata.name),
    ['child-1'],
  );
  await informer.stop();
});

test('resyncMs replays the cache as resync events with old === obj', async () => {
  applyCm('resync-1', { t: 'resync' });
  const { informer, events } = record({ labelSelector: 't=resync', resyncMs: 200 });
  await informer.start();
  await eventually('two resyncs', () => events.filter((e) => e.type === 'resync').length >= 2, 30_000);
  const resync = events.find((e) => e.type === 'resync')!;
  assert.is(resync.name, 'resync-1');
  assert.is(resync.old, resync.obj);
  await informer.stop();
  const count = events.length;
  await new Promise((resolve) => setTimeout(resolve, 600));
  assert.is(events.length, count, 'resync stops with the informer');
});

test('an informer without resyncMs never resyncs', async () => {
  applyCm('noresync', { t: 'noresync' });
  const { informer, events } = record({ labelSelector: 't=noresync' });
  await informer.start();
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  assert.equal(
    events.map((e) => e.type),
    ['add'],
  );
  await informer.stop();
});

test('stop() before the first list completes rejects start()', async () => {
  const { informer } = record({ labelSelector: 't=never' });
  const started = informer.start();
  const stopped = informer.stop();
  try {
    await started;
    // The list may win the race; then start() resolved, which is fine too.
    assert.ok(informer.hasSynced());
  } catch (error) {
    assert.match((error as Error).message, /stopped/);
  }
  await stopped;
  assert.equal(informer.list(), [], 'still readable (nothing matches t=never)');
});

test('SharedInformers: one cache per watched thing, every listener told everything, stopped when the last leaves', async () => {
  const shared = new SharedInformers(client);
  const listen = () => {
    const seen: string[] = [];
    const errors: string[] = [];
    const listener: InformerListener = {
      onEvent: (type, obj) => seen.push(`${type} ${obj.metadata.name}`),
      onError: (error, during) => errors.push(`${during}: ${(error as Error).message}`),
    };
    return { seen, errors, listener };
  };
  applyCm('shared-1', { t: 'shared' });
  const a = listen();
  const b = listen();
  const informer = shared.acquire({ apiVersion: 'v1', kind: 'ConfigMap', namespace: ns, labelSelector: 't=shared' }, a.listener);
  const other = shared.acquire({ apiVersion: 'v1', kind: 'ConfigMap', namespace: ns, labelSelector: 't=other' }, b.listener);
  assert.is.not(other, informer, 'a different selector is a different cache');
  await shared.release(other, b.listener);
  assert.is(
    shared.acquire({ apiVersion: 'v1', kind: 'ConfigMap', namespace: ns, labelSelector: 't=shared' }, b.listener),
    informer,
    'the same options share one cache',
  );
  await informer.start();
  await eventually('the watch to connect', () => informer.watchConnected);
  // A listener that joins a running cache is told what it holds; one whose handling throws harms no other.
  const late = listen();
  const broken: InformerListener = {
    onEvent: () => {
      throw new Error('broken listener');
    },
    onError: (error, during) => late.errors.push(`${during}: ${(error as Error).message}`),
  };
  assert.is(shared.acquire({ apiVersion: 'v1', kind: 'ConfigMap', namespace: ns, labelSelector: 't=shared' }, broken), informer);
  assert.is(shared.acquire({ apiVersion: 'v1', kind: 'ConfigMap', namespace: ns, labelSelector: 't=shared' }, late.listener), informer);
  applyCm('shared-2', { t: 'shared' });
  await eventually('shared-2 to reach every listener', () => [a, b, late].every((l) => l.seen.includes('add shared-2')));
  for (const l of [a, b, late]) assert.equal(l.seen, ['add shared-1', 'add shared-2']);
  assert.equal(late.errors, ['handler: broken listener', 'handler: broken listener']);
  // Released listeners hear nothing more; the cache runs on while anyone uses it.
  await shared.release(informer, a.listener);
  await shared.release(informer, broken);
  applyCm('shared-3', { t: 'shared' });
  await eventually('shared-3', () => b.seen.includes('add shared-3') && late.seen.includes('add shared-3'));
  assert.equal(a.seen, ['add shared-1', 'add shared-2']);
  assert.ok(informer.watchConnected);
  await shared.release(informer, b.listener);
  await shared.release(informer, late.listener);
  assert.is(informer.watchConnected, false, 'the last release stops the informer');
  assert.equal(shared.all(), []);
  assert.equal([...a.errors, ...b.errors], []);
});

test.run();
