// The bundled build (npm run build's dist/spiceai-operator.mjs), copied where
// no node_modules can be found, runs the CLI on its own, as the image does.
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseAllDocuments } from 'yaml';

const root = new URL('../../', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'bundle-'));
const bundle = join(dir, 'spiceai-operator.mjs');

test.before(() => {
  execFileSync(process.execPath, ['scripts/bundle.mjs'], { cwd: root, stdio: 'ignore' });
  copyFileSync(join(root, 'dist', 'spiceai-operator.mjs'), bundle);
});

const run = (...args: string[]) => spawnSync(process.execPath, [bundle, ...args], { cwd: dir, encoding: 'utf8', env: { PATH: process.env.PATH, HOME: dir } });

test('the bundle prints its help with no node_modules around', () => {
  const r = run('--help');
  assert.is(r.status, 0, r.stderr);
  for (const command of ['crd', 'run', 'json-schema', 'pki']) assert.match(r.stdout, new RegExp(`\\n  ${command} `));
  assert.is(run('run', '--help').status, 0);
});

test('the bundle prints the same CRDs as crds/', () => {
  const r = run('crd');
  assert.is(r.status, 0, r.stderr);
  const docs = parseAllDocuments(r.stdout).map((d) => d.toJS());
  for (const doc of docs) {
    const checkedIn = parseAllDocuments(readFileSync(join(root, 'crds', `${doc.metadata.name}.yaml`), 'utf8'))[0]!.toJS();
    assert.equal(doc, checkedIn);
  }
  assert.is(docs.length, 2);
});

test('the bundle issues certificates (pkijs on WebCrypto, bundled)', () => {
  assert.is(run('pki', 'init', '--dir', join(dir, 'pki')).status, 0);
  const r = run('pki', 'issue', 'n1', '--dir', join(dir, 'pki'));
  assert.is(r.status, 0, r.stderr);
  assert.is(spawnSync('openssl', ['verify', '-CAfile', join(dir, 'pki', 'ca.crt'), join(dir, 'pki', 'n1.crt')]).status, 0);
});

test.run();
