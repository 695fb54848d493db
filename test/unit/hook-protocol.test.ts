// The hook protocol (core/hook-protocol): a handler served as a fetch module
// answers POST /reconcile with exactly what it returns in-process; every bad
// request gets a 4xx JSON error naming what is wrong; and the operator's side
// acts only on an answer that passes the schema.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Desired } from '../../core/handler.ts';
import { canonicalJson } from '../../core/manifests/hash.ts';
import {
  desiredFromWire,
  desiredToWire,
  parseHookAnswer,
  reconcileWorker,
  HOOK_API_VERSION,
  KIND_ERROR,
  KIND_RESPONSE,
  REASON_HOOK_ERROR,
  REASON_HOOK_INVALID_ANSWER,
} from '../../core/hook-protocol/index.ts';
import clusterWorker from '../../functions/cluster/worker.ts';
import networkPolicyWorker from '../../functions/network-policy/worker.ts';
import pkiWorker from '../../functions/pki/worker.ts';
import podMonitorWorker from '../../functions/pod-monitor/worker.ts';
import workloadsWorker from '../../functions/workloads/worker.ts';
import { clusterHandler } from '../../functions/cluster/index.ts';
import { networkPolicyHandler } from '../../functions/network-policy/index.ts';
import { podMonitorHandler } from '../../functions/pod-monitor/index.ts';
import { workloadsHandler } from '../../functions/workloads/index.ts';
import { badCases, exampleCases, exampleParents, observedOf, request, secondPassCase, type HookCase } from '../hooks/corpus.ts';

const workers: Record<string, { fetch(r: Request): Promise<Response> }> = {
  workloads: workloadsWorker,
  'network-policy': networkPolicyWorker,
  cluster: clusterWorker,
  pki: pkiWorker,
  'pod-monitor': podMonitorWorker,
};
const inProcess: Record<string, (o: any) => Promise<Desired>> = {
  workloads: workloadsHandler.reconcile,
  'network-policy': networkPolicyHandler.reconcile,
  cluster: clusterHandler.reconcile,
  'pod-monitor': podMonitorHandler.reconcile,
};

const send = (c: HookCase) =>
  workers[c.handler]!.fetch(new Request(`http://hook${c.path}`, { method: c.method, headers: c.headers, body: c.body }));

/**
 * What the shim acts on: the JSON it sends (undefined fields dropped, as in-process too; key order
 * is irrelevant to server-side apply), and which status keys are to be removed.
 */
const visible = (d: Desired) =>
  canonicalJson({
    ...JSON.parse(JSON.stringify(d)),
    removed: Object.entries(d.status ?? {})
      .filter(([, v]) => v === undefined)
      .map(([k]) => k)
      .sort(),
  });

test('every example: the served handler answers what it returns in-process, first and second pass', async () => {
  const cases = exampleCases();
  assert.ok(cases.length >= 5, `${cases.length} example cases`);
  for (const first of cases) {
    {
      const c = first;
      const response = await send(c);
      const text = await response.text();
      assert.is(response.status, 200, `${c.name}: ${text}`);
      assert.is(response.headers.get('content-type'), 'application/json');
      const answer = parseHookAnswer(c.handler, response.status, text);
      assert.ok(answer.ok, c.name);
      const req = JSON.parse(c.body as string);
      const local = await inProcess[c.handler]!(req.observed);
      assert.is(visible((answer as { desired: Desired }).desired), visible(local), c.name);

      const second = secondPassCase(c, JSON.parse(text));
      const r2 = await send(second);
      const t2 = await r2.text();
      assert.is(r2.status, 200, second.name);
      const a2 = parseHookAnswer(c.handler, 200, t2);
      assert.ok(a2.ok);
      assert.is(
        visible((a2 as { desired: Desired }).desired),
        visible(await inProcess[c.handler]!(JSON.parse(second.body as string).observed)),
        second.name,
      );
    }
  }
});

test('every bad request gets its 4xx and a JSON error that names the problem; the handler is not called', async () => {
  for (const c of badCases()) {
    const response = await send(c);
    const text = await response.text();
    assert.is(response.status, c.expect.status, `${c.name}: ${text}`);
    assert.is(response.headers.get('content-type'), 'application/json', c.name);
    if (c.expect.status === 200) continue;
    const error = JSON.parse(text);
    assert.is(error.apiVersion, HOOK_API_VERSION, c.name);
    assert.is(error.kind, KIND_ERROR, c.name);
    assert.is(error.code, c.expect.status, c.name);
    assert.is(error.reason, c.expect.reason, c.name);
    assert.is(error.field, c.expect.field, `${c.name}: field`);
    assert.ok(error.message.length > 10, c.name);
    if (c.expect.field)
      assert.ok(error.message.includes(c.expect.field), `${c.name}: the message names ${c.expect.field}: ${error.message}`);
  }
});

test('an unknown version is refused with the versions the server speaks', async () => {
  const parent = exampleParents()[1]!;
  const r = await workloadsWorker.fetch(
    new Request('http://hook/reconcile', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(request('workloads', observedOf(parent), 'hooks.spice.ai/v2')),
    }),
  );
  const e = (await r.json()) as any;
  assert.is(r.status, 400);
  assert.match(e.message, /"hooks\.spice\.ai\/v2" is not supported; this server speaks hooks\.spice\.ai\/v1/);
});

test('a body sent without Content-Length is cut off at the limit (413), not read to the end', async () => {
  const worker = reconcileWorker({ name: 'x', reconcile: async () => ({ apply: [] }) }, { maxRequestBytes: 1000 });
  let pulled = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      pulled++;
      if (pulled > 100) controller.close();
      else controller.enqueue(new Uint8Array(600).fill(0x20));
    },
  });
  const r = await worker.fetch(
    new Request('http://hook/reconcile', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
      duplex: 'half',
    } as RequestInit),
  );
  assert.is(r.status, 413);
  assert.is(((await r.json()) as any).reason, 'BodyTooLarge');
  assert.ok(pulled < 10, `read ${pulled} chunks`);
});

test('a handler that throws, or answers outside the schema, gets a 500: no ReconcileResponse is ever sent for it', async () => {
  const parent = exampleParents()[1]!;
  const body = (handler: string) => JSON.stringify(request(handler, observedOf(parent)));
  const call = (w: ReturnType<typeof reconcileWorker>, handler: string) =>
    w.fetch(new Request('http://h/reconcile', { method: 'POST', headers: { 'content-type': 'application/json' }, body: body(handler) }));
  const throwing = reconcileWorker({
    name: 'boom',
    reconcile: async () => {
      throw new Error('no spec');
    },
  });
  let r = await call(throwing, 'boom');
  let e = (await r.json()) as any;
  assert.is(r.status, 500);
  assert.is(e.reason, 'HandlerFailed');
  assert.match(e.message, /the boom handler failed: no spec/);
  const bad = reconcileWorker({
    name: 'bad',
    reconcile: async () => ({ apply: [{ kind: 'ConfigMap', metadata: { name: 'x' } }] }) as unknown as Desired,
  });
  r = await call(bad, 'bad');
  e = (await r.json()) as any;
  assert.is(r.status, 500);
  assert.is(e.kind, KIND_ERROR);
  assert.match(e.message, /desired\.apply\.0\.apiVersion/);
});

test('a status key the handler removes (undefined) survives the wire', () => {
  const d: Desired = { apply: [], status: { error: undefined, phase: 'Ready' } };
  const wire = desiredToWire(d);
  assert.equal(JSON.parse(JSON.stringify(wire)), { apply: [], status: { phase: 'Ready' }, statusRemove: ['error'] });
  const back = desiredFromWire(JSON.parse(JSON.stringify(wire)));
  assert.ok('error' in back.status!);
  assert.is(back.status!.error, undefined);
  assert.is(back.status!.phase, 'Ready');
});

test('the operator acts only on a valid answer for the handler it asked', () => {
  const ok = {
    apiVersion: HOOK_API_VERSION,
    kind: KIND_RESPONSE,
    handler: 'workloads',
    desired: { apply: [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a' } }] },
  };
  assert.ok(parseHookAnswer('workloads', 200, JSON.stringify(ok)).ok);
  const failures: [string, number, string, string, RegExp][] = [
    [
      '500 with a JSON error',
      500,
      JSON.stringify({ apiVersion: HOOK_API_VERSION, kind: KIND_ERROR, code: 500, reason: 'HandlerFailed', message: 'x broke' }),
      REASON_HOOK_ERROR,
      /answered HTTP 500: HandlerFailed: x broke/,
    ],
    ['502 from a proxy', 502, '<html>bad gateway</html>', REASON_HOOK_ERROR, /answered HTTP 502: <html>bad gateway/],
    ['200 not JSON', 200, '{"apply": [', REASON_HOOK_INVALID_ANSWER, /not JSON/],
    ['200 empty', 200, '', REASON_HOOK_INVALID_ANSWER, /empty body/],
    ['200 JSON but not a response', 200, JSON.stringify({ apply: [] }), REASON_HOOK_INVALID_ANSWER, /not a ReconcileResponse: \w+/],
    [
      'object without a name',
      200,
      JSON.stringify({ ...ok, desired: { apply: [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: {} }] } }),
      REASON_HOOK_INVALID_ANSWER,
      /desired\.apply\.0\.metadata\.name/,
    ],
    [
      'negative requeue',
      200,
      JSON.stringify({ ...ok, desired: { apply: [], requeueAfterSeconds: -1 } }),
      REASON_HOOK_INVALID_ANSWER,
      /desired\.requeueAfterSeconds/,
    ],
    [
      'another version',
      200,
      JSON.stringify({ ...ok, apiVersion: 'hooks.spice.ai/v9' }),
      REASON_HOOK_INVALID_ANSWER,
      /apiVersion "hooks\.spice\.ai\/v9"/,
    ],
    ['another handler', 200, JSON.stringify({ ...ok, handler: 'pki' }), REASON_HOOK_INVALID_ANSWER, /from the pki handler, not workloads/],
  ];
  for (const [name, status, text, reason, message] of failures) {
    const a = parseHookAnswer('workloads', status, text);
    assert.not.ok(a.ok, name);
    assert.is((a as { reason: string }).reason, reason, name);
    assert.match((a as { message: string }).message, message, name);
  }
});

test('/healthz answers which handler and versions are served', async () => {
  const r = await pkiWorker.fetch(new Request('http://h/healthz'));
  assert.is(r.status, 200);
  assert.equal(await r.json(), { status: 'ok', handler: 'pki', apiVersions: [HOOK_API_VERSION] });
});

test.run();
