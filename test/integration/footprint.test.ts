// What the shipped operator loads while it does what a cluster asks of it: the image's bundle on the
// image's Node with the image's node flags, against the real control plane, reconciling a set,
// answering the kubelet's probes and Prometheus's scrape. Node's fetch, Request and Response are
// undici's, which loads (with http2, assert, readline and web streams: about 14 MiB of RSS on Node 24)
// only when something builds one: the probes and /metrics are answered without (shim/http.ts,
// PlainRoute), and the bundle requires Node's built-ins instead of importing them as ESM, whose
// facade reads every export, http's lazy WebSocket among them (scripts/bundle.mjs).
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { bundleOptions } from '../../scripts/bundle.mjs';
import { hostArch, nodeRuntime } from '../../scripts/image/node-runtime.ts';
import { NODE_FLAGS } from '../../scripts/image/spec.ts';
import { applyMinimalSetAndWait, eventually, freshNamespace, kubectl, kubectlOk } from '../harness/kube.ts';
import { startOperator, type OperatorProcess } from '../harness/operator.ts';

const UNDICI = 'internal/deps/undici/undici';
const dir = mkdtempSync(join(tmpdir(), 'footprint-'));
const loadedFile = join(dir, 'loaded-builtins.txt');
let ns = '';
/** The operator's own namespace (its Leases). */
let operatorNs = '';
let operator: OperatorProcess | undefined;

test.before(async () => {
  kubectlOk(['apply', '--server-side', '-f', '-'], readFileSync(new URL('../../crds/spicepodsets.spice.ai.yaml', import.meta.url), 'utf8'));
  ns = freshNamespace('footprint');
  operatorNs = freshNamespace('footprint-op');
  const bundle = join(dir, 'spiceai-operator.mjs');
  await build({ ...bundleOptions, outfile: bundle, logLevel: 'silent' });
  const saved = { ...process.env };
  Object.assign(process.env, {
    SPICEAI_OPERATOR_BIN: bundle,
    SPICEAI_OPERATOR_NODE: nodeRuntime(hostArch()).node,
    SPICEAI_OPERATOR_NODE_FLAGS: NODE_FLAGS.join(' '),
    SPICEAI_TEST_LOADED_BUILTINS: loadedFile,
    NODE_OPTIONS: [process.env.NODE_OPTIONS, `--import=${new URL('../harness/loaded-builtins.mjs', import.meta.url).pathname}`]
      .filter(Boolean)
      .join(' '),
  });
  try {
    operator = await startOperator([
      '--watch-namespaces',
      ns,
      '--operator-namespace',
      operatorNs,
      '--handlers',
      'workloads',
      '--health-probe-bind-address',
      '127.0.0.1:0',
      '--metrics-bind-address',
      '127.0.0.1:0',
    ]);
  } finally {
    process.env = saved;
  }
  await operator.waitForLog((l) => l.msg === 'became leader', 60_000);
});

test.after(async () => {
  await operator?.stop();
  for (const namespace of [ns, operatorNs]) if (namespace) kubectl(['delete', 'namespace', namespace, '--wait=false']);
  rmSync(dir, { recursive: true, force: true });
});

/** The built-in modules the operator has loaded so far (harness/loaded-builtins.mjs writes them on SIGUSR2). */
async function loadedBuiltins(): Promise<string[]> {
  rmSync(loadedFile, { force: true });
  operator!.child.kill('SIGUSR2');
  await eventually('the list of loaded built-ins', () => existsSync(loadedFile) || undefined, 10_000);
  return readFileSync(loadedFile, 'utf8').trim().split('\n');
}

test('reconciling a set, answering its probes and a scrape, the operator loads no undici (nor http2 or assert), nor worker_threads', async () => {
  await applyMinimalSetAndWait(ns);
  const probes = `http://127.0.0.1:${operator!.probePort}`;
  assert.is((await fetch(`${probes}/healthz`)).status, 200);
  await eventually('/readyz 200', async () => (await fetch(`${probes}/readyz`)).status === 200 || undefined);
  assert.is((await fetch(`http://127.0.0.1:${operator!.httpPort}/readyz`)).status, 200, "on the status API's port too");
  const scrape = await fetch(`http://127.0.0.1:${operator!.metricsPort}/metrics`);
  assert.is(scrape.status, 200);
  assert.match(await scrape.text(), /controller_runtime_reconcile_total\{controller="workloads",result="success"\} [1-9]/);
  const loaded = await loadedBuiltins();
  for (const id of ['https', 'tls', 'net']) assert.ok(loaded.includes(id), `${id} is loaded (the list is the operator's)`);
  for (const id of [UNDICI, 'http2', 'assert', 'worker_threads']) assert.not.ok(loaded.includes(id), `${id} is loaded`);
});

test("the status API's first request builds a Request, and undici is loaded then", async () => {
  const answer = await fetch(`http://127.0.0.1:${operator!.httpPort}/${ns}/app`);
  assert.is(answer.status, 200);
  assert.is(((await answer.json()) as { name: string }).name, 'app');
  assert.ok((await loadedBuiltins()).includes(UNDICI));
});

test.run();
