// The CLI through its real executable, as a user runs it.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseAllDocuments } from 'yaml';

const bin = new URL('../../bin/spiceai-operator.mjs', import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), 'spiceai-cli-'));

function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  const result = spawnSync(process.execPath, [bin, ...args], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH, HOME: tmp, ...env },
  });
  return { code: result.status, out: result.stdout, err: result.stderr };
}

function assertOneLineError(r: ReturnType<typeof cli>, pattern: RegExp) {
  assert.is.not(r.code, 0);
  assert.is(r.err.trim().split('\n').length, 1, `one line, got: ${r.err}`);
  assert.match(r.err, pattern);
  assert.not.match(r.err, /\n\s+at /, 'no stack trace');
}

test('--help lists every command, and each command has --help', () => {
  const r = cli(['--help']);
  assert.is(r.code, 0);
  for (const name of ['crd', 'run', 'serve', 'json-schema', 'pki']) {
    assert.match(r.out, new RegExp(`\\n  ${name} `));
    const sub = cli([name, '--help']);
    assert.is(sub.code, 0);
    assert.match(sub.out, /Usage: spiceai-operator/);
  }
});

test('crd prints both CRDs, identical to crds/', () => {
  const r = cli(['crd']);
  assert.is(r.code, 0);
  const docs = parseAllDocuments(r.out).map((d) => d.toJS());
  assert.equal(
    docs.map((d) => d.metadata.name),
    ['spicepodsets.spice.ai', 'spicepodclusters.spice.ai'],
  );
  for (const doc of docs) {
    const checkedIn = parseAllDocuments(readFileSync(new URL(`../../crds/${doc.metadata.name}.yaml`, import.meta.url), 'utf8'))[0]!.toJS();
    assert.equal(doc, checkedIn);
  }
});

test('crd --output and json-schema --output write files', () => {
  const file = join(tmp, 'crds.yaml');
  assert.is(cli(['crd', '--output', file]).code, 0);
  assert.is(parseAllDocuments(readFileSync(file, 'utf8')).length, 2);
  const schemaFile = join(tmp, 'schema.json');
  assert.is(cli(['json-schema', '-o', schemaFile, '--kind', 'SpicepodCluster']).code, 0);
  const schema = JSON.parse(readFileSync(schemaFile, 'utf8'));
  assert.ok(schema.properties.schedulerSetSpec && schema.properties.executorSetSpec);
});

test('json-schema prints the SpicepodSet spec schema by default', () => {
  const r = cli(['json-schema']);
  assert.is(r.code, 0);
  const schema = JSON.parse(r.out);
  assert.is(schema.type, 'object');
  assert.equal(schema.required, ['spicepod']);
  assert.ok(schema.properties.updateStrategy.properties.type.enum.includes('BlueGreen'));
});

test('user errors end in one line and a non-zero exit', () => {
  assertOneLineError(cli(['crd', '--bogus']), /unknown flag --bogus/);
  assertOneLineError(cli(['nope']), /unknown command nope/);
  assertOneLineError(cli(['json-schema', '--kind', 'Pod']), /unknown --kind Pod/);
  assertOneLineError(cli(['crd', '--apply']), /no kubeconfig/);
  assertOneLineError(cli(['crd', '--apply'], { KUBECONFIG: join(tmp, 'missing') }), /kubeconfig not found/);
  assertOneLineError(cli(['crd', '--apply', '--kubeconfig', join(tmp, 'missing')]), /kubeconfig not found/);
  assert.is(
    cli(['crd', '--apply', '--kubeconfig', join(tmp, 'missing')]).code,
    2,
    'a kubeconfig the user must fix exits 2, as a usage error does',
  );
  const garbage = join(tmp, 'garbage');
  writeFileSync(garbage, 'this: [is not a kubeconfig');
  assertOneLineError(cli(['crd', '--apply', '--kubeconfig', garbage]), /kubeconfig/);
  assertOneLineError(cli(['crd', '--output']), /needs a value/);
  // spiced reads --set-runtime telemetry.properties.KEY=VALUE with KEY as one path segment.
  assertOneLineError(
    cli(['run', '--telemetry-properties', 'team.name=data']),
    /--telemetry-properties team\.name=data: the key may not contain '=' or '\.'/,
  );
  assertOneLineError(
    cli(['run', '--operator-pod-labels', 'app=spiceai-operator,bad key!=x']),
    /--operator-pod-labels .*label key "bad key!" is invalid/,
  );
  assertOneLineError(cli(['run', '--operator-pod-labels', ',']), /--operator-pod-labels: expected at least one KEY=VALUE/);
});

test('an unreachable API server is one line too', () => {
  const kubeconfig = join(tmp, 'unreachable');
  writeFileSync(
    kubeconfig,
    `apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n`,
  );
  assertOneLineError(cli(['crd', '--apply', '--kubeconfig', kubeconfig]), /cannot reach the API server at https:\/\/127.0.0.1:1/);
});

test.run();
