// `spiceai-operator pki` through the real executable; files checked with openssl.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const bin = new URL('../../bin/spiceai-operator.mjs', import.meta.url).pathname;
const dir = join(mkdtempSync(join(tmpdir(), 'pki-cli-')), 'pki');
const cli = (...args: string[]) => spawnSync(process.execPath, [bin, 'pki', ...args], { encoding: 'utf8' });
const mode = (path: string) => (statSync(path).mode & 0o777).toString(8);

test('issue before init says to run init', () => {
  const r = cli('issue', 'node1', '--dir', dir);
  assert.is(r.status, 2);
  assert.match(r.stderr, /no CA in .*: run spiceai-operator pki init --dir/);
});

test('init writes the CA with private modes and refuses to overwrite without --force', () => {
  assert.is(cli('init', '--dir', dir).status, 0);
  assert.is(mode(dir), '700');
  assert.is(mode(join(dir, 'ca.key')), '600');
  const ca = readFileSync(join(dir, 'ca.crt'), 'utf8');
  const again = cli('init', '--dir', dir);
  assert.is(again.status, 2);
  assert.match(again.stderr, /already exist: pass --force/);
  assert.is(readFileSync(join(dir, 'ca.crt'), 'utf8'), ca, 'the CA is untouched');
  assert.match(
    execFileSync('openssl', ['x509', '-in', join(dir, 'ca.crt'), '-noout', '-text'], { encoding: 'utf8' }),
    /CA:TRUE, pathlen:0/,
  );
});

test('issue writes a node certificate that openssl verifies, with the hosts as SANs', () => {
  const r = cli('issue', 'executor-1', '--host', 'exec1.example.internal', '--host', '10.0.0.7', '--dir', dir);
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /--node-mtls-certificate-file .*executor-1\.crt/);
  assert.is(mode(join(dir, 'executor-1.key')), '600');
  const verify = spawnSync('openssl', ['verify', '-CAfile', join(dir, 'ca.crt'), join(dir, 'executor-1.crt')], { encoding: 'utf8' });
  assert.is(verify.status, 0, verify.stderr);
  const text = execFileSync('openssl', ['x509', '-in', join(dir, 'executor-1.crt'), '-noout', '-text'], { encoding: 'utf8' });
  assert.match(text, /DNS:localhost, DNS:exec1\.example\.internal, IP Address:127\.0\.0\.1, IP Address:10\.0\.0\.7/);
  assert.match(text, /TLS Web Server Authentication, TLS Web Client Authentication/);
  assert.is(cli('issue', 'executor-1', '--dir', dir).status, 2, 'no silent overwrite');
  assert.is(cli('issue', 'executor-1', '--dir', dir, '--force').status, 0);
});

test('bad names and flags are refused in one line', () => {
  for (const [args, pattern] of [
    [['issue', '../evil', '--dir', dir], /invalid NAME/],
    [['issue', 'a b', '--dir', dir], /invalid NAME/],
    [['issue', '--dir', dir], /needs a NAME/],
    [['issue', 'n', '--days', '0', '--dir', dir], /--days 0/],
    [['rotate'], /unknown pki action rotate/],
    [[], /needs an action/],
  ] as [string[], RegExp][]) {
    const r = cli(...args);
    assert.is(r.status, 2, args.join(' '));
    assert.match(r.stderr, pattern);
    assert.is(r.stderr.trim().split('\n').length, 1);
  }
});

test.run();
