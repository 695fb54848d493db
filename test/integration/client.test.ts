// KubeClient against a real kube-apiserver: server-side apply (idempotent,
// status subresource), preconditioned delete, 404 handling, pagination,
// errors as ApiError, watch events and 410 on a too-old resourceVersion.
import { WIDGET_API, widgetCrd } from '../harness/widget.ts';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ApiError, KubeClient, type KObject, type RequestInfo, type WatchEvent } from '../../shim/kube/client.ts';
import { KubeConfig } from '@kubernetes/client-node';
import { loadKubeConfig } from '../../shim/kube/kubeconfig.ts';
import { resourceFor } from '../../shim/kube/resources.ts';
import { eventually, freshNamespace, kubectl, kubectlJson, kubectlOk, testKubeconfig } from '../harness/kube.ts';

const requests: RequestInfo[] = [];
const client = new KubeClient(loadKubeConfig(testKubeconfig()), { onRequest: (info) => requests.push(info) });
const FM = 'shim-client-test';
let ns = '';

// A tiny CRD of our own with a status subresource, so the test does not
// depend on the project's CRDs (another test file deletes and re-creates them).

function configMap(name: string, data: Record<string, string>, labels?: Record<string, string>): KObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns, ...(labels ? { labels } : {}) }, data };
}

async function rejection(promise: Promise<unknown>): Promise<ApiError> {
  let failure: unknown;
  try {
    await promise;
  } catch (error) {
    failure = error;
  }
  assert.instance(failure, ApiError, `expected an ApiError, got ${failure instanceof Error ? failure.message : 'success'}`);
  return failure as ApiError;
}

test.before(async () => {
  ns = freshNamespace('shim-client');
  await client.apply(widgetCrd, { fieldManager: FM });
  await eventually('the Widget CRD to be established', async () => {
    const crd = (await client.get('apiextensions.k8s.io/v1', 'CustomResourceDefinition', undefined, 'widgets.shimtest.spice.ai')) as any;
    return crd?.status?.conditions?.some((c: any) => c.type === 'Established' && c.status === 'True');
  });
});

test.after(() => {
  kubectl(['delete', 'namespace', ns, '--wait=false']);
  client.close();
});

test('apply creates the object; the same apply again is a no-op that keeps the resourceVersion', async () => {
  const created = await client.apply(configMap('applied', { a: '1' }), { fieldManager: FM });
  assert.is(created.kind, 'ConfigMap');
  assert.is((created as any).data.a, '1');
  assert.ok(created.metadata.uid);
  const again = await client.apply(configMap('applied', { a: '1' }), { fieldManager: FM });
  assert.is(again.metadata.resourceVersion, created.metadata.resourceVersion, 'identical apply writes nothing');
  assert.is(kubectlJson(['get', 'configmap', 'applied', '-n', ns]).metadata.resourceVersion, created.metadata.resourceVersion);
  const changed = await client.apply(configMap('applied', { a: '2' }), { fieldManager: FM });
  assert.is.not(changed.metadata.resourceVersion, created.metadata.resourceVersion);
  assert.is((changed as any).data.a, '2');
});

test('apply with dryRun does not persist', async () => {
  const dry = await client.apply(configMap('dry', { a: '1' }), { fieldManager: FM, dryRun: true });
  assert.is(dry.metadata.name, 'dry');
  assert.is(await client.get('v1', 'ConfigMap', ns, 'dry'), undefined);
});

test('apply forces ownership of fields another manager set, and strict validation refuses unknown fields', async () => {
  kubectlOk(['create', 'configmap', 'contested', '-n', ns, '--from-literal=k=kubectl']);
  const forced = await client.apply(configMap('contested', { k: 'operator' }), { fieldManager: FM });
  assert.is((forced as any).data.k, 'operator');
  const refused = await rejection(client.apply(configMap('contested', { k: 'x' }), { fieldManager: 'other', force: false }));
  assert.is(refused.status, 409, 'conflict without force');
  // The API server refuses an apply with an undeclared field (as a 500, its own choice for SSA).
  const unknown = await rejection(client.apply({ ...configMap('bad', {}), spec: { nope: true } }, { fieldManager: FM }));
  assert.match(unknown.message, /\.spec: field not declared in schema/);
  const strict = await rejection(client.create({ ...configMap('bad', {}), spec: { nope: true } }));
  assert.is(strict.status, 400, 'create uses fieldValidation=Strict');
  assert.match(strict.message, /unknown field "spec"/);
  assert.is(await client.get('v1', 'ConfigMap', ns, 'bad'), undefined);
});

test('applyUnread applies as apply does and answers nothing; a refusal is the same ApiError; the connection serves the next request', async () => {
  const answer = await client.applyUnread(configMap('unread', { a: '1' }), { fieldManager: FM });
  assert.is(answer, undefined);
  const stored = (await client.get('v1', 'ConfigMap', ns, 'unread')) as any;
  assert.is(stored.data.a, '1');
  assert.ok(stored.metadata.managedFields.some((m: { manager: string; operation: string }) => m.manager === FM && m.operation === 'Apply'));
  await client.applyUnread(configMap('unread', { a: '2' }), { fieldManager: FM, force: true });
  assert.is(((await client.get('v1', 'ConfigMap', ns, 'unread')) as any).data.a, '2');
  const refused = await rejection(client.applyUnread(configMap('unread', { a: 'x' }), { fieldManager: 'other', force: false }));
  assert.is(refused.status, 409, 'conflict without force, decoded from the answer');
  assert.match(refused.message, /conflict/i);
  const unknown = await rejection(client.applyUnread({ ...configMap('bad-unread', {}), spec: { nope: true } }, { fieldManager: FM }));
  assert.match(unknown.message, /\.spec: field not declared in schema/);
  // Many in a row on the pooled connections: each answer was read to its end, or the next would stall.
  for (let i = 0; i < 20; i++) await client.applyUnread(configMap(`unread-${i}`, { i: String(i) }), { fieldManager: FM });
  assert.is(((await client.get('v1', 'ConfigMap', ns, 'unread-19')) as any).data.i, '19');
});

test('applyStatus writes the status subresource; apply of the main resource cannot', async () => {
  const widget: KObject = { apiVersion: WIDGET_API, kind: 'Widget', metadata: { name: 'w1', namespace: ns }, spec: { size: 3 } };
  const created = await client.apply(widget, { fieldManager: FM });
  assert.is(created.metadata.generation, 1);
  // status in a main-resource apply is ignored by the server
  await client.apply({ ...widget, status: { phase: 'Ignored' } }, { fieldManager: FM });
  assert.is(((await client.get(WIDGET_API, 'Widget', ns, 'w1')) as any).status, undefined);
  const withStatus = await client.applyStatus(
    { apiVersion: WIDGET_API, kind: 'Widget', metadata: { name: 'w1', namespace: ns }, status: { observedGeneration: 1, phase: 'Ready' } },
    { fieldManager: `${FM}-status` },
  );
  assert.equal((withStatus as any).status, { observedGeneration: 1, phase: 'Ready' });
  assert.is(withStatus.metadata.generation, 1, 'a status write does not bump generation');
  assert.equal(kubectlJson(['get', 'widget.shimtest.spice.ai', 'w1', '-n', ns]).status, { observedGeneration: 1, phase: 'Ready' });
  const rv = withStatus.metadata.resourceVersion;
  const again = await client.applyStatus(
    { apiVersion: WIDGET_API, kind: 'Widget', metadata: { name: 'w1', namespace: ns }, status: { observedGeneration: 1, phase: 'Ready' } },
    { fieldManager: `${FM}-status` },
  );
  assert.is(again.metadata.resourceVersion, rv, 'identical status apply writes nothing');
});

test('delete with a wrong uid precondition fails with 409 and deletes nothing; with the right uid it deletes', async () => {
  const cm = await client.apply(configMap('victim', { a: '1' }), { fieldManager: FM });
  const error = await rejection(client.delete('v1', 'ConfigMap', ns, 'victim', { uid: '00000000-0000-0000-0000-000000000000' }));
  assert.is(error.status, 409);
  assert.is(error.reason, 'Conflict');
  assert.match(error.message, /uid/i);
  assert.ok(await client.get('v1', 'ConfigMap', ns, 'victim'), 'still there');
  assert.is(await client.delete('v1', 'ConfigMap', ns, 'victim', { uid: cm.metadata.uid }), true);
  assert.is(await client.get('v1', 'ConfigMap', ns, 'victim'), undefined);
  assert.is(await client.delete('v1', 'ConfigMap', ns, 'victim'), false, 'deleting a missing object is not an error');
});

test('get of a missing object is undefined; other errors are ApiErrors with status and reason', async () => {
  assert.is(await client.get('v1', 'ConfigMap', ns, 'does-not-exist'), undefined);
  assert.is(await client.get('v1', 'Namespace', undefined, `${ns}-missing`), undefined);
  await client.create(configMap('created', { a: '1' }));
  const exists = await rejection(client.create(configMap('created', { a: '1' })));
  assert.is(exists.status, 409);
  assert.is(exists.reason, 'AlreadyExists');
  assert.is(exists.verb, 'create');
  const invalid = await rejection(client.create(configMap('Not_A_Valid_Name', {})));
  assert.is(invalid.status, 422);
  assert.is(invalid.reason, 'Invalid');
});

test('update uses metadata.resourceVersion as a precondition', async () => {
  const cm = (await client.create(configMap('versioned', { v: '1' }))) as KObject & { data: Record<string, string> };
  const updated = await client.update({ ...cm, data: { v: '2' } });
  assert.is((updated as any).data.v, '2');
  const stale = await rejection(client.update({ ...cm, data: { v: '3' } }));
  assert.is(stale.status, 409);
  assert.is(stale.reason, 'Conflict');
  assert.is(((await client.get('v1', 'ConfigMap', ns, 'versioned')) as any).data.v, '2');
});

test('mergePatch patches the object, and the status subresource of a custom resource', async () => {
  await client.apply(configMap('patched', { a: '1', b: '2' }), { fieldManager: FM });
  const patched = await client.mergePatch('v1', 'ConfigMap', ns, 'patched', { data: { a: null, c: '3' } });
  assert.equal((patched as any).data, { b: '2', c: '3' });
  await client.apply(
    { apiVersion: WIDGET_API, kind: 'Widget', metadata: { name: 'w2', namespace: ns }, spec: { size: 1 } },
    { fieldManager: FM },
  );
  const status = await client.mergePatch(WIDGET_API, 'Widget', ns, 'w2', { status: { phase: 'Patched' } }, { subresource: 'status' });
  assert.is((status as any).status.phase, 'Patched');
});

test('list with limit=2 follows continue tokens and returns all 5 ConfigMaps; selectors filter', async () => {
  for (let i = 0; i < 5; i++)
    await client.apply(configMap(`page-${i}`, { i: String(i) }, { page: 'yes', parity: i % 2 ? 'odd' : 'even' }), { fieldManager: FM });
  const before = requests.filter((r) => r.verb === 'list').length;
  const all = await client.list(resourceFor('v1', 'ConfigMap'), { namespace: ns, labelSelector: 'page=yes', limit: 2 });
  assert.equal(all.items.map((o) => o.metadata.name).sort(), ['page-0', 'page-1', 'page-2', 'page-3', 'page-4']);
  assert.ok(
    all.items.every((o) => o.apiVersion === 'v1' && o.kind === 'ConfigMap'),
    'items carry apiVersion and kind',
  );
  assert.ok(all.resourceVersion, 'the list resourceVersion is returned');
  assert.is(requests.filter((r) => r.verb === 'list').length - before, 3, 'three pages of 2, 2 and 1');
  const odd = await client.list({ apiVersion: 'v1', kind: 'ConfigMap' }, { namespace: ns, labelSelector: 'page=yes,parity=odd' });
  assert.equal(odd.items.map((o) => o.metadata.name).sort(), ['page-1', 'page-3']);
  const byName = await client.list(resourceFor('v1', 'ConfigMap'), { namespace: ns, fieldSelector: 'metadata.name=page-4' });
  assert.equal(
    byName.items.map((o) => o.metadata.name),
    ['page-4'],
  );
});

test('watch streams ADDED/MODIFIED/DELETED in order, and resolves when the server closes it', async () => {
  const { resourceVersion } = await client.list(resourceFor('v1', 'ConfigMap'), { namespace: ns });
  const events: WatchEvent[] = [];
  let connected = false;
  const abort = new AbortController();
  const watching = client.watch(
    resourceFor('v1', 'ConfigMap'),
    {
      namespace: ns,
      labelSelector: 'watched=yes',
      resourceVersion,
      timeoutSeconds: 60,
      allowWatchBookmarks: true,
      onConnected: () => (connected = true),
    },
    (e) => events.push(e),
    abort.signal,
  );
  await eventually('the watch to connect', () => connected);
  await client.apply(configMap('watched', { a: '1' }, { watched: 'yes' }), { fieldManager: FM });
  await client.apply(configMap('watched', { a: '2' }, { watched: 'yes' }), { fieldManager: FM });
  await client.apply(configMap('unwatched', { a: '1' }), { fieldManager: FM });
  await client.delete('v1', 'ConfigMap', ns, 'watched');
  const seen = () =>
    events.filter((e) => e.type !== 'BOOKMARK').map((e) => `${e.type} ${e.object.metadata.name} ${e.object.data?.a ?? ''}`);
  await eventually('three events', () => seen().length >= 3);
  assert.equal(seen(), ['ADDED watched 1', 'MODIFIED watched 2', 'DELETED watched 2']);
  assert.is(events[0]!.object.kind, 'ConfigMap');
  abort.abort();
  await watching; // abort resolves
  const ended = await Promise.race([
    client
      .watch(
        resourceFor('v1', 'ConfigMap'),
        { namespace: ns, resourceVersion: '', timeoutSeconds: 1, allowWatchBookmarks: true },
        () => {},
        new AbortController().signal,
      )
      .then(() => 'ended'),
    new Promise((resolve) => setTimeout(() => resolve('still open'), 30_000)),
  ]);
  assert.is(ended, 'ended', 'a watch with timeoutSeconds=1 ends by itself');
});

test('an abort that comes while a request is still being built stops it: a list rejects, a watch ends', async () => {
  // The abort lands while the client awaits its credentials, before the request exists
  // (informers are stopped this way; a lost abort held a watch open until the server's timeout).
  const listAbort = new AbortController();
  const listing = client.list(resourceFor('v1', 'ConfigMap'), { namespace: ns, signal: listAbort.signal });
  listAbort.abort();
  const outcome = await listing.then(
    () => 'listed',
    (error: Error) => `rejected: ${error.message}`,
  );
  assert.match(outcome, /^rejected: .*abort/i);

  const watchAbort = new AbortController();
  const watching = client.watch(
    resourceFor('v1', 'ConfigMap'),
    { namespace: ns, resourceVersion: '', timeoutSeconds: 300, allowWatchBookmarks: true },
    () => {},
    watchAbort.signal,
  );
  watchAbort.abort();
  const ended = await Promise.race([
    watching.then(() => 'ended'),
    new Promise((resolve) => setTimeout(() => resolve('still open'), 30_000)),
  ]);
  assert.is(ended, 'ended', 'the aborted watch ends long before its 300 s timeout');
});

test('a watch from a resourceVersion the server no longer has rejects with ApiError 410', async () => {
  // A custom resource's watch cache starts at the revision its CRD was
  // established at, so resourceVersion 1 is always too old for it. (For
  // built-in kinds on a young cluster the watch cache may still hold every
  // event since revision 1 and would replay them instead.)
  const error = await rejection(
    client.watch(
      resourceFor(WIDGET_API, 'Widget'),
      { namespace: ns, resourceVersion: '1', timeoutSeconds: 30, allowWatchBookmarks: true },
      () => {},
      new AbortController().signal,
    ),
  );
  assert.is(error.status, 410);
  assert.is(error.verb, 'watch');
  assert.match(error.message, /too old resource version/);
});

test('a list at a resourceVersion the server has not reached fails with 504 "Too large resource version"', async () => {
  const error = await rejection(client.list(resourceFor('v1', 'ConfigMap'), { namespace: ns, resourceVersion: '999999999999' }));
  assert.is(error.status, 504);
  assert.match(error.message, /Too large resource version/);
});

test('onRequest reports verb, kind and status code of every request', async () => {
  requests.length = 0;
  await client.get('v1', 'ConfigMap', ns, 'does-not-exist');
  await client.apply(configMap('metered', { a: '1' }), { fieldManager: FM });
  await client.delete('v1', 'ConfigMap', ns, 'metered');
  assert.equal(
    requests.map((r) => `${r.verb} ${r.kind} ${r.code}`),
    ['get ConfigMap 404', 'apply ConfigMap 201', 'delete ConfigMap 200'],
  );
  assert.ok(requests.every((r) => r.seconds >= 0));
});

test('errors about a Secret do not contain its data', async () => {
  const secret: KObject = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'leaky', namespace: ns },
    type: 'Opaque',
    stringData: { 'not a valid key!': 'hunter2-very-secret' },
  };
  const error = await rejection(client.create(secret));
  assert.is(error.status, 422);
  assert.not.match(`${error.message} ${JSON.stringify(error.details ?? {})} ${error.stack}`, /hunter2/);
});

test('a changed bearer token is used at once after a 401, and within seconds otherwise', async () => {
  kubectlOk(['create', 'serviceaccount', 'rotator', '-n', ns]);
  const token = kubectlOk(['create', 'token', 'rotator', '-n', ns]).trim();
  const cluster = loadKubeConfig(testKubeconfig()).getCurrentCluster()!;
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [cluster],
    users: [{ name: 'rotator', token: 'not-a-token' }],
    contexts: [{ name: 'c', cluster: cluster.name, user: 'rotator' }],
    currentContext: 'c',
  });
  const user = kc.getCurrentUser() as { token?: string };
  const rotating = new KubeClient(kc);
  // 401: the token is not accepted; 403: it is (the ServiceAccount may not read ConfigMaps).
  const status = () =>
    rotating.get('v1', 'ConfigMap', ns, 'absent').then(
      () => 200,
      (error) => (error instanceof ApiError ? error.status : -1),
    );
  try {
    assert.is(await status(), 401);
    user.token = token;
    assert.is(await status(), 403, 'the request right after a 401 uses the new token');
    user.token = 'revoked';
    await eventually('the replaced token to be used', async () => (await status()) === 401, 5000, 100);
  } finally {
    rotating.close();
  }
});

test('an unknown kind fails before any request, naming the table', async () => {
  try {
    await client.get('v1', 'Gizmo', ns, 'x');
    assert.unreachable('should have thrown');
  } catch (error) {
    assert.match((error as Error).message, /unknown resource Gizmo in v1/);
  }
});

test.run();
