// The image's layers are written by scripts/image/tar.ts; GNU tar, which
// reads what container runtimes read, is the judge of what they hold.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tarArchive, withParents, type TarEntry } from '../../scripts/image/tar.ts';

const dir = mkdtempSync(join(tmpdir(), 'image-tar-'));
const long = `usr/share/doc/${'a'.repeat(60)}/${'b'.repeat(60)}/copyright`;
const entries: TarEntry[] = withParents([
  { path: 'nodejs/bin/node', type: 'file', mode: 0o755, content: new TextEncoder().encode('#!binary\n') },
  { path: 'lib64/ld-linux-x86-64.so.2', type: 'symlink', mode: 0o777, linkname: '/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2' },
  { path: 'home/nonroot', type: 'dir', mode: 0o700, uid: 65532, gid: 65532 },
  { path: 'tmp', type: 'dir', mode: 0o1777 },
  { path: long, type: 'file', mode: 0o644, content: new Uint8Array(1000).fill(65) },
  { path: 'empty', type: 'file', mode: 0o600 },
]);

function gnuTar(archive: Uint8Array, ...args: string[]) {
  const file = join(dir, `a-${Math.random().toString(36).slice(2)}.tar`);
  writeFileSync(file, archive);
  const r = spawnSync('tar', [...args, '-f', file], { encoding: 'utf8', cwd: dir });
  assert.is(r.status, 0, r.stderr);
  return r.stdout;
}

test('GNU tar lists every entry with the owner, mode and time given, parents first', () => {
  const listing = gnuTar(tarArchive(entries, 1_700_000_000), '--numeric-owner', '--full-time', '-tv');
  const lines = listing
    .trim()
    .split('\n')
    .map((l) => l.replace(/\s+/g, ' '));
  const line = (path: string) => lines.find((l) => l.endsWith(` ${path}`) || l.includes(` ${path} -> `)) ?? '';
  assert.match(line('home/nonroot/'), /^drwx------ 65532\/65532 0 2023-11-14 /);
  assert.match(line('tmp/'), /^drwxrwxrwt 0\/0 0 /);
  assert.match(line('nodejs/bin/node'), /^-rwxr-xr-x 0\/0 9 /);
  assert.match(line('lib64/ld-linux-x86-64.so.2'), /^lrwxrwxrwx 0\/0 0 .* -> \/lib\/x86_64-linux-gnu\/ld-linux-x86-64\.so\.2$/);
  assert.match(line(long), /^-rw-r--r-- 0\/0 1000 /);
  assert.match(line('empty'), /^-rw------- 0\/0 0 /);
  const paths = lines.map((l) => l.split(' ')[5]!);
  assert.ok(
    paths.indexOf('nodejs/') < paths.indexOf('nodejs/bin/') && paths.indexOf('nodejs/bin/') < paths.indexOf('nodejs/bin/node'),
    listing,
  );
});

test('GNU tar extracts the same contents and links', () => {
  const out = join(dir, 'x');
  spawnSync('mkdir', ['-p', out]);
  gnuTar(tarArchive(entries, 0), '-x', '-C', out);
  assert.is(readFileSync(join(out, 'nodejs/bin/node'), 'utf8'), '#!binary\n');
  assert.is(readFileSync(join(out, long), 'utf8'), 'A'.repeat(1000));
  assert.is(readlinkSync(join(out, 'lib64/ld-linux-x86-64.so.2')), '/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2');
  assert.is(statSync(join(out, 'nodejs/bin/node')).mode & 0o777, 0o755);
});

test('the same entries give the same bytes in any order (reproducible layers)', () => {
  const a = tarArchive(entries, 0);
  const b = tarArchive([...entries].reverse(), 0);
  assert.ok(Buffer.from(a).equals(Buffer.from(b)));
});

test('refuses entries a layer must not hold', () => {
  assert.throws(() => tarArchive([{ path: '/etc/passwd', type: 'file', mode: 0o644 }], 0), /bad path/);
  assert.throws(() => tarArchive([{ path: 'a/../../etc', type: 'dir', mode: 0o755 }], 0), /bad path/);
  assert.throws(() => tarArchive([{ path: 'etc/passwd', type: 'file', mode: 0o644 }], 0), /without its directory etc/);
  assert.throws(
    () =>
      tarArchive(
        withParents([
          { path: 'x', type: 'file', mode: 0o644 },
          { path: 'x', type: 'file', mode: 0o644 },
        ]),
        0,
      ),
    /twice/,
  );
});

test.run();
