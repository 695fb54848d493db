// The same fetch module on three runtimes: `spiceai-operator serve` (Node),
// `deno serve` and workerd (the Workers runtime, bundled for a neutral
// platform) answer the whole corpus (every example, first and second pass,
// every bad input) with byte-identical answers.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { badCases, exampleCases, exampleParents, observedOf, request, secondPassCase, type HookCase } from '../hooks/corpus.ts';
import { rawRequest, startDenoHook, startNodeHook, startWorkerdHook, type HookServer } from '../hooks/servers.ts';

const HANDLERS = ['workloads', 'network-policy', 'cluster', 'pod-monitor'];
const servers: Record<string, { node: HookServer; deno: HookServer; workerd: HookServer }> = {};

test.before(async () => {
  for (const h of [...HANDLERS, 'pki']) {
    const [node, deno, workerd] = await Promise.all([startNodeHook(h), startDenoHook(h), startWorkerdHook(h)]);
    servers[h] = { node, deno, workerd };
  }
});

test.after(async () => {
  await Promise.all(Object.values(servers).flatMap((s) => [s.node.stop(), s.deno.stop(), s.workerd.stop()]));
});

const ask = (server: HookServer, c: HookCase) => rawRequest(server.url, c.method, c.path, c.headers, c.body);

test('Node, Deno and workerd answer every request of the corpus byte for byte alike', async () => {
  const first = exampleCases();
  const cases: HookCase[] = [...badCases()];
  for (const c of first) {
    const answer = await ask(servers[c.handler]!.node, c);
    assert.is(answer.status, 200, `${c.name}: ${answer.body}`);
    cases.push(c, secondPassCase(c, JSON.parse(answer.body.toString())));
  }
  let compared = 0;
  for (const c of cases) {
    const { node, deno, workerd } = servers[c.handler]!;
    const a = await ask(node, c);
    assert.is(a.status, c.expect.status, `${c.name} (node): ${a.body.toString().slice(0, 300)}`);
    for (const [runtime, server] of [
      ['deno', deno],
      ['workerd', workerd],
    ] as const) {
      const b = await ask(server, c);
      assert.is(b.status, a.status, `${c.name} (${runtime}): status`);
      assert.is(b.contentType, a.contentType, `${c.name} (${runtime}): content type`);
      assert.ok(
        b.body.equals(a.body),
        `${c.name}: bodies differ\nnode: ${a.body.toString().slice(0, 400)}\n${runtime}: ${b.body.toString().slice(0, 400)}`,
      );
    }
    compared++;
  }
  assert.ok(compared >= 30, `${compared} requests compared`);
});

test('pki (which generates keys) answers alike in shape on all three: the same objects, conditions and events', async () => {
  const parent = exampleParents().find((p) => p.kind === 'SpicepodCluster')!;
  const body = JSON.stringify(request('pki', observedOf(parent)));
  const shape = (text: Buffer) => {
    const d = JSON.parse(text.toString()).desired;
    return {
      apply: d.apply.map((o: any) => `${o.kind}/${o.metadata.namespace}/${o.metadata.name}:${Object.keys(o.data ?? {}).sort()}`),
      write: (d.write ?? []).map(
        (w: any) => `${w.object.kind}/${w.object.metadata.namespace}/${w.object.metadata.name}:${Object.keys(w.object.data ?? {}).sort()}`,
      ),
      conditions: (d.status?.conditions ?? []).map((c: any) => `${c.type}=${c.status}/${c.reason}`),
      events: (d.events ?? []).map((e: any) => e.reason),
    };
  };
  const headers = { 'content-type': 'application/json' };
  const a = await rawRequest(servers.pki!.node.url, 'POST', '/reconcile', headers, body);
  assert.is(a.status, 200, a.body.toString());
  const s = shape(a.body);
  assert.ok(s.write.length + s.apply.length > 0, 'pki creates something for a new cluster');
  for (const runtime of ['deno', 'workerd'] as const) {
    const b = await rawRequest(servers.pki![runtime].url, 'POST', '/reconcile', headers, body);
    assert.is(b.status, 200, `${runtime}: ${b.body.toString()}`);
    assert.equal(shape(b.body), s, runtime);
  }
});

test.run();
