// core/ and functions/ must run unchanged on Deno (and so on edge runtimes):
// type-check them with Deno's own libraries, then run core under Deno and
// compare with Node.
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, relative } from 'node:path';
import { createRequire } from 'node:module';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { probe } from '../deno/core-probe.ts';

const root = new URL('../../', import.meta.url).pathname;
const deno = join(root, 'node_modules', '.bin', 'deno');
const env = {
  ...process.env,
  DENO_DIR: join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'spiceai-operator', 'deno'),
  NO_COLOR: '1',
};
createRequire(import.meta.url).resolve('deno/package.json');

function sources(dir: string): string[] {
  let out: string[] = [];
  for (const entry of readdirSync(join(root, dir))) {
    const path = join(dir, entry);
    if (statSync(join(root, path)).isDirectory()) out = out.concat(sources(path));
    else if (entry.endsWith('.ts') && !entry.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

test('deno type-checks every module of core/ and functions/', () => {
  const files = [...sources('core'), ...sources('functions')];
  assert.ok(files.length > 0);
  const r = spawnSync(deno, ['check', '--quiet', ...files], { cwd: root, env, encoding: 'utf8' });
  assert.is(r.status, 0, `deno check failed:\n${r.stderr}${r.stdout}`);
});

test('core/ and functions/ use no Node-only globals or modules (Deno would accept Buffer and process)', () => {
  const banned =
    /\bBuffer\b|\bprocess\.|\brequire\(|__dirname|__filename|from ['"](node:|fs|path|os|http|https|net|tls|child_process|prom-client|@kubernetes\/client-node)['"]/;
  const offenders: string[] = [];
  for (const file of [...sources('core'), ...sources('functions')]) {
    readFileSync(join(root, file), 'utf8')
      .split('\n')
      .forEach((line, i) => {
        const code = line.replace(/\/\/.*$/, '');
        if (banned.test(code)) offenders.push(`${file}:${i + 1}: ${line.trim()}`);
      });
  }
  assert.equal(offenders, []);
});

test('core runs under deno and gives the same results as on node', () => {
  // The yaml package reads its debug switches LOG_TOKENS and LOG_STREAM from the environment.
  const r = spawnSync(
    deno,
    ['run', '--no-prompt', '--allow-env=LOG_TOKENS,LOG_STREAM', relative(root, join(root, 'test/deno/core-probe.ts'))],
    { cwd: root, env, encoding: 'utf8' },
  );
  assert.is(r.status, 0, `deno run failed:\n${r.stderr}`);
  assert.equal(JSON.parse(r.stdout), JSON.parse(JSON.stringify(probe())));
});

test.run();
