// The bundled build (npm run build's dist/spiceai-operator.mjs), copied where
// no node_modules can be found, runs the CLI on its own, as the image does:
// on this machine's Node and on the Node LTS the image ships (the pinned
// build from npm, scripts/image/runtime.json).
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseAllDocuments, stringify } from 'yaml';
import { hostArch, nodeRuntime } from '../../scripts/image/node-runtime.ts';
import { ENV, NODE_FLAGS, RUNTIME } from '../../scripts/image/spec.ts';

const root = new URL('../../', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'bundle-'));
const bundle = join(dir, 'spiceai-operator.mjs');

const nodes: { name: string; path: string }[] = [{ name: `this machine's Node ${process.version}`, path: process.execPath }];

test.before(() => {
  execFileSync(process.execPath, ['scripts/bundle.mjs'], { cwd: root, stdio: 'ignore' });
  copyFileSync(join(root, 'dist', 'spiceai-operator.mjs'), bundle);
  const lts = nodeRuntime(hostArch(), (line) => process.stderr.write(`${line}\n`));
  nodes.push({ name: `the image's Node ${lts.version}`, path: lts.node });
});

// With the image's node flags, which both Nodes must accept.
const run = (node: string, ...args: string[]) =>
  spawnSync(node, [...NODE_FLAGS, bundle, ...args], {
    cwd: dir,
    encoding: 'utf8',
    env: { PATH: process.env.PATH, HOME: dir },
  });

test("the image's Node is the pinned LTS and this test runs the bundle on it", () => {
  assert.is(nodes.length, 2);
  const version = spawnSync(nodes[1]!.path, ['--version'], { encoding: 'utf8' }).stdout.trim();
  assert.is(version, `v${RUNTIME.node.version}`);
  // Even majors become LTS; 22 and 24 are the supported ones the image may use.
  assert.ok(['22', '24'].includes(RUNTIME.node.version.split('.')[0]!), RUNTIME.node.version);
});

test('the bundle prints its help with no node_modules around', () => {
  for (const node of nodes) {
    const r = run(node.path, '--help');
    assert.is(r.status, 0, `${node.name}: ${r.stderr}`);
    for (const command of ['crd', 'run', 'serve', 'json-schema', 'pki']) assert.match(r.stdout, new RegExp(`\\n  ${command} `));
    assert.is(run(node.path, 'run', '--help').status, 0, node.name);
  }
});

test('the bundle prints the same CRDs as crds/', () => {
  for (const node of nodes) {
    const r = run(node.path, 'crd');
    assert.is(r.status, 0, `${node.name}: ${r.stderr}`);
    const docs = parseAllDocuments(r.stdout).map((d) => d.toJS());
    for (const doc of docs) {
      const checkedIn = parseAllDocuments(readFileSync(join(root, 'crds', `${doc.metadata.name}.yaml`), 'utf8'))[0]!.toJS();
      assert.equal(doc, checkedIn, node.name);
    }
    assert.is(docs.length, 2);
  }
});

test('a user error is one line on stderr and exit code 2, with no runtime warning (DEP0040 punycode on Node 22+)', () => {
  for (const node of nodes) {
    const r = run(node.path, 'run', '--kubeconfig', join(dir, 'no-such-kubeconfig'));
    assert.is(r.status, 2, node.name);
    assert.is(r.stderr, `spiceai-operator: kubeconfig not found: ${join(dir, 'no-such-kubeconfig')}\n`, node.name);
  }
});

/** A kubeconfig for a closed loopback port whose user's token comes from an exec plugin (node -e SCRIPT). */
function execKubeconfig(name: string, script: string): string {
  const path = join(dir, name);
  writeFileSync(
    path,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'c', cluster: { server: 'https://127.0.0.1:1', 'insecure-skip-tls-verify': true } }],
      users: [
        {
          name: 'plugin-user',
          user: {
            exec: {
              apiVersion: 'client.authentication.k8s.io/v1',
              command: process.execPath,
              args: ['-e', script],
              interactiveMode: 'Never',
            },
          },
        },
      ],
      contexts: [{ name: 'x', context: { cluster: 'c', user: 'plugin-user' } }],
      'current-context': 'x',
    }),
  );
  return path;
}

test("the bundle reads a kubeconfig and runs its exec plugin (client-node's KubeConfig, without its generated API clients)", () => {
  const token = `console.log(JSON.stringify({ kind: 'ExecCredential', apiVersion: 'client.authentication.k8s.io/v1', status: { token: 't' } }))`;
  const good = execKubeconfig('exec-ok.yaml', token);
  const silent = execKubeconfig('exec-fails.yaml', 'process.exit(3)');
  for (const node of nodes) {
    // The plugin's token applied, the request reached the (closed) port.
    const ok = run(node.path, 'crd', '--apply', '--kubeconfig', good);
    assert.is(ok.stderr, 'spiceai-operator: cannot reach the API server at https://127.0.0.1:1 (ECONNREFUSED)\n', node.name);
    assert.is(ok.status, 2);
    const failed = run(node.path, 'crd', '--apply', '--kubeconfig', silent);
    assert.is(
      failed.stderr,
      `spiceai-operator: cannot get credentials from the exec plugin ${process.execPath} of kubeconfig user plugin-user: it failed and printed nothing\n`,
      node.name,
    );
    assert.is(failed.status, 2);
  }
  // makeApiClient's models are left out (scripts/bundle.mjs): the operator does not load them.
  assert.not.match(readFileSync(bundle, 'utf8'), /V1PodSpec|ObjectSerializer/);
});

test("neither whatwg-url's IDNA table (node-fetch's, unused on Node) nor zod's 63 other locales are in the bundle", () => {
  const source = readFileSync(bundle, 'utf8');
  assert.not.ok(source.includes('disallowed_STD3_valid'), "tr46's mapping table");
  assert.not.ok(source.includes('Ung\\xFCltige Eingabe'), "zod's German locale");
  assert.ok(source.includes('Invalid input: expected'), "zod's English locale");
});

const LOADED_BUILTINS = new URL('../harness/loaded-builtins.mjs', import.meta.url).pathname;

test("loading the bundle loads neither undici (fetch, Request, Response) nor what comes with it, nor node:util's lazy exports (worker_threads): Node's built-ins are required, not ESM-imported, and handed on as views", () => {
  for (const [i, node] of nodes.entries()) {
    const out = join(dir, `builtins-${i}.txt`);
    // --help evaluates every module the bundle holds (the lazy imports aside), as `run` does at start.
    const r = spawnSync(node.path, [...NODE_FLAGS, '--import', LOADED_BUILTINS, bundle, '--help'], {
      cwd: dir,
      encoding: 'utf8',
      env: { PATH: process.env.PATH, HOME: dir, SPICEAI_TEST_LOADED_BUILTINS: out },
    });
    assert.is(r.status, 0, `${node.name}: ${r.stderr}`);
    const loaded = readFileSync(out, 'utf8').trim().split('\n');
    for (const id of ['https', 'tls', 'crypto']) assert.ok(loaded.includes(id), `${node.name}: ${id} is loaded (the check sees what is)`);
    for (const id of ['internal/deps/undici/undici', 'http2', 'assert', 'internal/repl/history', 'worker_threads'])
      assert.not.ok(loaded.includes(id), `${node.name}: ${id} is loaded`);
  }
});

const MALLOC_HEAP = new URL('../harness/malloc-heap.mjs', import.meta.url).pathname;

test("on the image's Node and malloc settings, compiling the bundle leaves no freed compiler memory in malloc's heap", () => {
  const lts = nodes[1]!;
  /** KiB resident in malloc's heap once the bundle is loaded (--help evaluates every module it holds). */
  const heapAfterLoad = (env: Record<string, string>, i: number) => {
    const out = join(dir, `malloc-heap-${i}.txt`);
    const r = spawnSync(lts.path, [...NODE_FLAGS, '--import', MALLOC_HEAP, bundle, '--help'], {
      cwd: dir,
      encoding: 'utf8',
      env: { PATH: process.env.PATH, HOME: dir, SPICEAI_TEST_MALLOC_HEAP: out, ...env },
    });
    assert.is(r.status, 0, r.stderr);
    return Number(readFileSync(out, 'utf8'));
  };
  // The image's ENV, and the same without its mmap threshold (glibc's default, 128 KiB): V8's
  // zone segments (32 KiB) then come from the heap, and what a compilation freed stays resident.
  const { MALLOC_MMAP_THRESHOLD_, ...withoutThreshold } = ENV;
  assert.ok(MALLOC_MMAP_THRESHOLD_);
  const image = heapAfterLoad(ENV, 0);
  const glibcDefault = heapAfterLoad(withoutThreshold, 1);
  assert.ok(glibcDefault > 0, 'the [heap] mapping is read');
  assert.ok(image * 2 < glibcDefault, `malloc's heap: ${image} KiB with the image's ENV, ${glibcDefault} KiB without its mmap threshold`);
});

test('the bundle issues certificates (pkijs on WebCrypto, bundled)', () => {
  for (const [i, node] of nodes.entries()) {
    const pki = join(dir, `pki-${i}`);
    assert.is(run(node.path, 'pki', 'init', '--dir', pki).status, 0, node.name);
    const r = run(node.path, 'pki', 'issue', 'n1', '--dir', pki);
    assert.is(r.status, 0, `${node.name}: ${r.stderr}`);
    assert.is(spawnSync('openssl', ['verify', '-CAfile', join(pki, 'ca.crt'), join(pki, 'n1.crt')]).status, 0, node.name);
  }
});

test.run();
