import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse } from 'yaml';
import { normalizeSpicepodClusterSpec, normalizeSpicepodSetSpec } from '../../core/spec/normalize.ts';
import { Memo } from '../../core/memo.ts';
import { ACCEPTED_BY_THE_API_SERVER, REFUSED_BY_THE_API_SERVER } from './refused-specs.ts';

const example = (name: string) => parse(readFileSync(new URL(`../../examples/${name}.yaml`, import.meta.url), 'utf8'));
const pod = { version: 'v1', kind: 'Spicepod', name: 'p' };

function ok(raw: unknown) {
  const result = normalizeSpicepodSetSpec(raw);
  if (!result.ok) throw new Error(`expected a valid spec, got ${JSON.stringify(result.problems)}`);
  return result.spec;
}
function problems(raw: unknown) {
  const result = normalizeSpicepodSetSpec(raw);
  if (result.ok) throw new Error('expected the spec to be refused');
  return result.problems;
}

test('a minimal spec gets the documented defaults', () => {
  const spec = ok(example('spicepodset-minimal').spec);
  assert.is(spec.replicas, 1);
  assert.equal([spec.httpPort, spec.flightPort, spec.metricsPort], [8090, 50051, 9090]);
  assert.equal(spec.image, { name: 'spiceai/spiceai', tag: 'latest-models', pullPolicy: 'Always' });
  assert.is(spec.updateStrategy.type, 'RollingOrdered');
  assert.is(spec.enableService, true);
  assert.equal(spec.serviceAccount, { enabled: false, create: false });
  assert.equal(spec.instantRollback, { enabled: false, retentionPeriodSeconds: 900 });
  assert.equal(spec.spicepod, { version: 'v1', kind: 'Spicepod', name: 'my-spicepod' });
});

test('pull policy defaults to IfNotPresent for pinned tags and digests', () => {
  assert.is(ok({ spicepod: pod, image: { tag: '1.9.0-models' } }).image.pullPolicy, 'IfNotPresent');
  assert.is(ok({ spicepod: pod, image: { tag: `latest@sha256:${'a'.repeat(64)}` } }).image.pullPolicy, 'Always');
  assert.is(ok({ spicepod: pod, image: { tag: 'latest', pullPolicy: 'Never' } }).image.pullPolicy, 'Never');
});

test('the snake_case spelling means the same as the camelCase one', () => {
  const legacy = ok(example('spicepodset-legacy').spec);
  const camel = ok({
    replicas: 1,
    image: { registry: 'docker.io', name: 'spiceai/spiceai', tag: '1.9.0-models' },
    httpPort: 8091,
    serviceAccount: {
      enabled: true,
      create: true,
      annotations: { 'eks.amazonaws.com/role-arn': 'arn:aws:iam::123456789012:role/spice-ai-role' },
    },
    updateStrategy: { type: 'RollingParallel', maxUnavailable: 1 },
    volume: { storageClassName: 'standard', storageRequests: '5Gi' },
    spicepod: { name: 'legacy-spicepod', kind: 'Spicepod', version: 'v1' },
  });
  assert.equal(legacy, camel);
});

test('every legacy alias lands on its camelCase field', () => {
  const spec = ok({
    spicepod: pod,
    spiceai_image_pull_secret: 'regcred',
    spiced: { flight_port: 15051, metrics_port: 19090 },
    enable_service: false,
    env_from_source: [{ secretRef: { name: 's' } }],
    service_account: { enabled: true, name: 'existing' },
    ingress: [{ ports: [{ port: 8090 }] }],
    egress: [{ ports: [{ port: 443 }] }],
    dnsPolicy: 'Default',
  });
  assert.is(spec.image.pullSecret, 'regcred');
  assert.is(spec.flightPort, 15051);
  assert.is(spec.metricsPort, 19090);
  assert.is(spec.enableService, false);
  assert.equal(spec.envFromSource, [{ secretRef: { name: 's' } }]);
  assert.equal(spec.serviceAccount, { enabled: true, create: false, name: 'existing' });
  assert.equal(spec.network, { ingress: [{ ports: [{ port: 8090 }] }], egress: [{ ports: [{ port: 443 }] }], dnsPolicy: 'Default' });
});

test('camelCase wins when both spellings are given', () => {
  const spec = ok({
    spicepod: pod,
    image: { tag: 'new' },
    spiceai_image_tag: 'old',
    httpPort: 9000,
    spiced: { http_port: 9001 },
    serviceAccount: { enabled: true, create: true },
    service_account: { enabled: false, create: false, name: 'legacy' },
    updateStrategy: { type: 'Parallel' },
    update_strategy: { type: 'BlueGreen', max_unavailable: 2 },
    volume: { storageRequests: '2Gi', storage_requests: '1Gi' },
  });
  assert.is(spec.image.tag, 'new');
  assert.is(spec.httpPort, 9000);
  assert.equal(spec.serviceAccount, { enabled: true, create: true, name: 'legacy' });
  assert.equal(spec.updateStrategy, { type: 'Parallel', maxUnavailable: 2 });
  assert.equal(spec.volume, { storageRequests: '2Gi' });
});

test('the older update_strategy defaults to RollingParallel, as it was documented', () => {
  assert.is(ok({ spicepod: pod, update_strategy: { max_unavailable: 2 } }).updateStrategy.type, 'RollingParallel');
  assert.is(ok({ spicepod: pod, updateStrategy: { maxUnavailable: 2 } }).updateStrategy.type, 'RollingOrdered');
});

test('a Spicepod given as a YAML string is parsed', () => {
  const spec = ok({ spicepod: 'name: s\nkind: Spicepod\nversion: v1\ndatasets:\n  - from: file:data.csv\n    name: d\n' });
  assert.equal(spec.spicepod, { name: 's', kind: 'Spicepod', version: 'v1', datasets: [{ from: 'file:data.csv', name: 'd' }] });
});

test('bad input is refused with the field named', () => {
  const cases: [unknown, string, RegExp][] = [
    [{ spicepod: 'name: [unclosed' }, 'spec.spicepod', /not valid YAML/],
    [{ spicepod: '- a list' }, 'spec.spicepod', /Spicepod object/],
    [{}, 'spec.spicepod', /.+/],
    [{ spicepod: pod, replicas: -1 }, 'spec.replicas', /.+/],
    [{ spicepod: pod, updateStrategy: { type: 'Sideways' } }, 'spec.updateStrategy.type', /.+/],
    [{ spicepod: pod, image: { pullPolicy: 'Sometimes' } }, 'spec.image.pullPolicy', /.+/],
    [{ spicepod: pod, volume: { storageRequests: 'ten gigs' } }, 'spec.volume.storageRequests', /quantity/],
    [{ spicepod: pod, httpPort: 70000 }, 'spec.httpPort', /.+/],
    [{ spicepod: pod, serviceAccount: { enabled: true } }, 'spec.serviceAccount.name', /create: true/],
    [{ spicepod: pod, network: { dnsPolicy: 'None' } }, 'spec.network.dnsConfig.nameservers', /nameserver/],
    [{ spicepod: pod, httpPort: 9090 }, 'spec.metricsPort', /must differ from spec.httpPort/],
  ];
  for (const [raw, field, message] of cases) {
    const found = problems(raw);
    assert.ok(
      found.some((p) => p.field === field && message.test(p.message)),
      `${JSON.stringify(raw)}: expected a problem at ${field}, got ${JSON.stringify(found)}`,
    );
  }
});

test('normalization never throws and is idempotent', () => {
  const specArbitrary = fc.record(
    {
      replicas: fc.integer({ min: -2, max: 9 }),
      httpPort: fc.integer({ min: 0, max: 70000 }),
      spiced: fc.record(
        { http_port: fc.integer({ min: 1, max: 65535 }), flight_port: fc.integer({ min: 1, max: 65535 }) },
        { requiredKeys: [] },
      ),
      image: fc.record({ tag: fc.string(), pullPolicy: fc.constantFrom('Always', 'Never', 'IfNotPresent', 'Bogus') }, { requiredKeys: [] }),
      spiceai_image_tag: fc.string(),
      update_strategy: fc.record(
        { type: fc.constantFrom('RollingOrdered', 'BlueGreen', 'Nope'), max_unavailable: fc.oneof(fc.nat(5), fc.constant('50%')) },
        { requiredKeys: [] },
      ),
      spicepod: fc.oneof(fc.constant(pod), fc.string(), fc.constant('kind: Spicepod\nname: x\nversion: v1')),
      serviceAccount: fc.record({ enabled: fc.boolean(), create: fc.boolean(), name: fc.string({ minLength: 1 }) }, { requiredKeys: [] }),
    },
    { requiredKeys: [] },
  );
  fc.assert(
    fc.property(specArbitrary, (raw) => {
      const first = normalizeSpicepodSetSpec(raw);
      if (!first.ok) return first.problems.every((p) => p.field.startsWith('spec') && p.message.length > 0);
      const second = normalizeSpicepodSetSpec(first.spec);
      return second.ok && JSON.stringify(second.spec) === JSON.stringify(first.spec);
    }),
    { numRuns: 500 },
  );
});

test('a cluster spec: the scheduler keeps its Spicepod, executors may not have one', () => {
  const cluster = normalizeSpicepodClusterSpec(example('spicepodcluster').spec);
  assert.ok(cluster.ok);
  if (cluster.ok) {
    assert.is(cluster.spec.allowInsecureConnections, false);
    assert.is(cluster.spec.executorSetSpec.replicas, 3);
    assert.is((cluster.spec.schedulerSetSpec.spicepod as { name: string }).name, 'my-cluster-scheduler');
  }
  const refused = normalizeSpicepodClusterSpec({ schedulerSetSpec: { spicepod: pod }, executorSetSpec: { spicepod: pod } });
  assert.not.ok(refused.ok);
  if (!refused.ok) assert.is(refused.problems[0]!.field, 'spec.executorSetSpec.spicepod');
  const missing = normalizeSpicepodClusterSpec({ schedulerSetSpec: {}, executorSetSpec: {} });
  assert.not.ok(missing.ok);
  if (!missing.ok) assert.ok(missing.problems.some((p) => p.field === 'spec.schedulerSetSpec.spicepod'));
});

test('normalized specs are remembered by content, frozen, and never go stale', () => {
  const raw = { spicepod: { version: 'v1', kind: 'Spicepod', name: 'a' }, replicas: 2 };
  const first = normalizeSpicepodSetSpec(raw);
  const again = normalizeSpicepodSetSpec(JSON.parse(JSON.stringify(raw)));
  assert.ok(first.ok && again.ok);
  assert.is(again, first, 'an equal spec (another object) gets the remembered result');
  assert.throws(() => {
    (first as { spec: { replicas: number } }).spec.replicas = 5;
  }, TypeError);
  raw.replicas = 3; // a changed object is a different key: no stale answer
  const changed = normalizeSpicepodSetSpec(raw);
  assert.ok(changed.ok);
  assert.is(changed.ok && changed.spec.replicas, 3);
  const bad = normalizeSpicepodSetSpec({ ...raw, replicas: -1 });
  assert.is(bad.ok, false);
});

test('Memo keeps the most recently used entries', () => {
  const memo = new Memo<string, number>(2);
  memo.set('a', 1);
  memo.set('b', 2);
  assert.is(memo.get('a'), 1); // a is now the most recent
  memo.set('c', 3); // evicts b
  assert.is(memo.get('b'), undefined);
  assert.is(memo.get('a'), 1);
  assert.is(memo.get('c'), 3);
});

/** Malformed image references: the API server accepts them, every pod then fails with InvalidImageName. */
const MALFORMED_IMAGES: [string, Record<string, unknown>, RegExp][] = [
  [
    'an upper-case repository',
    { image: { name: 'spiceai/SpiceAI' } },
    /^spec\.image\.name "spiceai\/SpiceAI" is not an image repository name/,
  ],
  ['a tag with a colon', { image: { tag: '1.0:models' } }, /^spec\.image\.tag "1\.0:models" is not an image tag/],
  ['a tag with a short digest', { image: { tag: 'latest@sha256:abc' } }, /^spec\.image\.tag/],
  [
    'a registry with a scheme',
    { image: { registry: 'https://ghcr.io' } },
    /^spec\.image\.registry "https:\/\/ghcr\.io" is not a registry host/,
  ],
  ['a repository with a space', { image: { name: 'spiceai/ spiceai' } }, /^spec\.image\.name/],
];

test('what the API server (or the kubelet, for images) would refuse is InvalidSpec naming the field', () => {
  for (const [what, extra, message] of [...REFUSED_BY_THE_API_SERVER, ...MALFORMED_IMAGES]) {
    const result = normalizeSpicepodSetSpec({ spicepod: pod, ...extra });
    assert.not.ok(result.ok, `${what}: refused`);
    const found = result.ok ? [] : result.problems.map((p) => `${p.field} ${p.message}`);
    assert.ok(
      found.some((m) => message.test(m)),
      `${what}: ${found.join('; ')}`,
    );
  }
});

test('valid corner cases pass: relaxed env names, equal requests, quantities, digests, registries with ports and paths', () => {
  for (const [what, extra] of ACCEPTED_BY_THE_API_SERVER) {
    const result = normalizeSpicepodSetSpec({ spicepod: pod, ...extra });
    assert.ok(result.ok, `${what}: ${result.ok ? '' : JSON.stringify(result.problems)}`);
  }
});

test.run();
