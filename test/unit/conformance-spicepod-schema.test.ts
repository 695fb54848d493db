// The conformance kit, Spicepod half: every Spicepod we ship or test with is
// one spiced accepts, judged by the JSON schema spiced publishes (vendored in
// test/conformance/spiced/, validated with ajv's JSON Schema 2020-12).
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { REFERENCE_SCHEMA_PATH, VENDORED_SCHEMA_PATH, runtimeProblems, spicepodProblems } from '../conformance/spicepod-schema.ts';
import { fixturesIn, spicepodFixtures } from '../conformance/fixtures.ts';
import { everyGeneratedContainer, exampleDocuments } from '../conformance/generated.ts';
import { normalizeSpicepodSetSpec } from '../../core/spec/normalize.ts';
import { executorSpicepod } from '../../core/manifests/spicepodcluster.ts';

test('the vendored schema is the reference copy, byte for byte (when the reference exists on this machine)', () => {
  const vendored = readFileSync(VENDORED_SCHEMA_PATH);
  const source = readFileSync(new URL('../conformance/spiced/SOURCE.md', import.meta.url), 'utf8');
  assert.match(source, /Repository: spiceai\/spiceai/);
  assert.match(source, /Path: \.schema\/spicepod\.schema\.json/);
  assert.match(source, /Commit: [0-9a-f]{40}/);
  assert.is(JSON.parse(vendored.toString('utf8')).$schema, 'https://json-schema.org/draft/2020-12/schema');
  if (existsSync(REFERENCE_SCHEMA_PATH)) {
    assert.ok(
      vendored.equals(readFileSync(REFERENCE_SCHEMA_PATH)),
      `${VENDORED_SCHEMA_PATH} differs from ${REFERENCE_SCHEMA_PATH}: copy it again and update SOURCE.md`,
    );
    const referenceSource = readFileSync(REFERENCE_SCHEMA_PATH.replace(/spicepod\.schema\.json$/, 'SOURCE.md'), 'utf8');
    const commit = (text: string) => text.match(/Commit: ([0-9a-f]{40})/)?.[1];
    assert.is(commit(source), commit(referenceSource), 'SOURCE.md names the commit of the reference copy');
  }
});

test('the validator is live: it refuses what spiced refuses', () => {
  assert.equal(spicepodProblems({ version: 'v1', kind: 'Spicepod', name: 'ok' }), []);
  assert.ok(
    spicepodProblems({ version: 'v3', kind: 'Spicepod', name: 'x' }).some((p) => /version/.test(p)),
    'an unknown version',
  );
  assert.ok(
    spicepodProblems({ kind: 'Spicepod', name: 'x' }).some((p) => /version/.test(p)),
    'version is required',
  );
  assert.ok(
    spicepodProblems({ version: 'v1', kind: 'Spicepod', name: 'x', runtime: { scheduler: {} } }).some((p) => /state_location/.test(p)),
    'a scheduler section needs state_location',
  );
  assert.ok(
    spicepodProblems({ version: 'v1', kind: 'Spicepod', name: 'x', runtime: { bogus: true } }).some((p) => /bogus/.test(p)),
    'runtime refuses unknown fields',
  );
  assert.ok(
    runtimeProblems({ telemetry: { properties: { build: 42 } } }).some((p) => /properties\/build must be string/.test(p)),
    'telemetry properties are strings',
  );
  assert.equal(
    spicepodProblems({ version: 'v1', kind: 'Spicepod', name: 'x', runtime: { scheduler: { state_location: 'file:///tmp/state' } } }),
    [],
  );
});

test('every Spicepod of examples/ is valid (as written, and after the operator normalizes it)', () => {
  const docs = exampleDocuments();
  assert.ok(docs.length >= 4, 'the examples are found');
  for (const { file, object } of docs) {
    const spec = object.spec as Record<string, any>;
    const raw = object.kind === 'SpicepodCluster' ? spec.schedulerSetSpec.spicepod : spec.spicepod;
    const normalized = object.kind === 'SpicepodSet' ? normalizeSpicepodSetSpec(spec) : undefined;
    const spicepod = normalized?.ok ? normalized.spec.spicepod : raw;
    assert.equal(spicepodProblems(spicepod), [], `${file} ${object.kind} ${object.metadata.name}`);
  }
});

test('the fixture scanner finds object and YAML literals, and reports what it cannot read', () => {
  const text = [
    "const a = { version: 'v9', kind: 'Spicepod', name: 'a', datasets: [{ from: 'x', name: 'y' }] };",
    "const b = 'name: b\\nkind: Spicepod\\nversion: v1\\n';",
    "const c = { version: 'v1', kind: 'Spicepod', name };",
    "const d = { version: 'v1', kind: 'Spicepod', name: 'd', runtime: { scheduler: {} } }; // conformance: refused",
  ].join('\n');
  const found = fixturesIn(text, 'x.ts');
  assert.equal(
    found.map((f) => f.at),
    ['x.ts:1', 'x.ts:3', 'x.ts:4', 'x.ts:2'],
  );
  assert.ok(spicepodProblems(found[0]!.spicepod).length > 0, 'v9 is refused');
  assert.equal(found[3]!.spicepod, { name: 'b', kind: 'Spicepod', version: 'v1' });
  assert.match(found[1]!.error ?? '', /not a literal/);
  assert.equal(
    found.map((f) => !!f.refused),
    [false, false, true, false],
  );
});

test('every Spicepod fixture of the tests is a literal spiced accepts', () => {
  const fixtures = spicepodFixtures();
  assert.ok(fixtures.length >= 20, `the fixtures are found (${fixtures.length})`);
  const bad = fixtures
    .filter((f) => !f.refused)
    .map((f) => ({ f, problems: f.error ? [f.error] : spicepodProblems(f.spicepod) }))
    .filter(({ problems }) => problems.length)
    .map(({ f, problems }) => `${f.at}: ${problems.join('; ')}\n    ${f.source.slice(0, 120)}`);
  assert.equal(bad, []);
  // Those wrong on purpose must be wrong by spiced's rules too.
  const accepted = fixtures.filter((f) => f.refused && !f.error && spicepodProblems(f.spicepod).length === 0).map((f) => f.at);
  assert.equal(accepted, [], 'fixtures marked "conformance: refused" that spiced accepts');
});

test('the Spicepods the operator generates are valid: every ConfigMap it writes, the executor placeholder included', async () => {
  assert.equal(spicepodProblems(executorSpicepod('my-cluster')), []);
  const containers = await everyGeneratedContainer();
  const spicepods = containers.filter((c) => c.spicepod !== undefined);
  assert.ok(spicepods.length === containers.length, 'every generated pod mounts a Spicepod');
  for (const c of spicepods) assert.equal(spicepodProblems(c.spicepod), [], c.origin);
});

test.run();
