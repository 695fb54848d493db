// Conversion between spice.ai/v1 (v1alpha1) and v2: round trips give back
// the identical object both ways, for generated specs in every spelling; what
// the operator reads in v1 means what v2 says; the ConversionReview exchange.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse, stringify } from 'yaml';
import { answerConversionReview, convertObject, keptAnnotation, type KubeObject } from '../../functions/conversion/index.ts';
import { normalizeSpicepodSetSpec } from '../../core/spec/normalize.ts';
import { claimMounts, desiredVolumeClaimTemplates } from '../../core/manifests/volumes.ts';
import { canonicalJson } from '../../core/manifests/hash.ts';
import { spicepodSetSpecSchema } from '../../core/spec/spicepodset.ts';
import { spicepodSetSpecSchemaV2 } from '../../core/spec/spicepodset-v2.ts';
import { spicepodClusterSpecSchemaV2 } from '../../core/spec/spicepodcluster-v2.ts';
import { spicepodClusterSpecSchema } from '../../core/spec/spicepodcluster.ts';

const RUNS = 400;
const opt = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined, freq: 2 });
const clean = <T extends object>(o: T): T => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
const record = <T extends Record<string, fc.Arbitrary<unknown>>>(shape: T) => fc.record(shape).map(clean);

const word = fc.constantFrom('a', 'spice', 'x-1', 'data', 'cache', 'models');
const port = fc.integer({ min: 1, max: 65535 });
const quantity = fc.constantFrom('1Gi', '10Gi', '500Mi', '2');
const registry = fc.constantFrom(
  'docker.io',
  'ghcr.io',
  '709825985650.dkr.ecr.us-east-1.amazonaws.com',
  'localhost:5000',
  'registry.example/',
  'localhost',
);
const repoName = fc.constantFrom('spiceai/spiceai', 'spice-ai/spiceai-enterprise-byol', 'spiced', 'a/b/c', 'localhost');
const tag = fc.constantFrom('latest', 'latest-models', '1.9.0-models', `2.0.0@sha256:${'a'.repeat(64)}`);
const pullPolicy = fc.constantFrom('Always', 'IfNotPresent', 'Never');
const labels = opt(fc.dictionary(fc.constantFrom('team', 'tier', 'example.com/x'), word, { maxKeys: 2, noNullPrototype: true }));
const envFrom = fc.array(record({ configMapRef: record({ name: word }) }), { maxLength: 2 });
const rule = record({ ports: opt(fc.array(record({ protocol: opt(fc.constantFrom('TCP', 'UDP')), port: opt(port) }), { maxLength: 2 })) });
const dnsConfig = record({ nameservers: opt(fc.array(fc.constantFrom('8.8.8.8', '1.1.1.1'), { maxLength: 2 })) });
const spicepodObject = fc
  .record({ version: fc.constantFrom('v1', 'v1beta1'), kind: fc.constant('Spicepod'), name: word }, { requiredKeys: ['name'] })
  .chain((p) =>
    fc
      .option(fc.constant({ datasets: [{ from: 'file:a.parquet', name: 'a', params: { file_format: 'parquet' } }] }), { nil: undefined })
      .map((d) => ({ ...p, ...(d ?? {}) })),
  );
/** A Spicepod as v1 may write it: an object, or YAML text (with a comment only text can hold), or text that is not a Spicepod. */
const spicepodV1 = fc.oneof(
  spicepodObject,
  spicepodObject.map((p) => `# written by hand\n${stringify(p)}`),
  fc.constant('not: [valid'),
);
const strategyV1 = fc.constantFrom('RollingOrdered', 'RollingParallel', 'Parallel', 'BlueGreen');
const cluster = record({
  role: fc.constantFrom('scheduler', 'executor'),
  clusterName: opt(word),
  bindAddress: opt(fc.constant('0.0.0.0:50052')),
});

const template = record({
  metadata: opt(record({ name: opt(fc.constantFrom('data', 'cache', 'models')), labels })),
  spec: record({
    accessModes: opt(fc.array(fc.constantFrom('ReadWriteOnce', 'ReadWriteMany'), { minLength: 1, maxLength: 2 })),
    storageClassName: opt(word),
    resources: opt(record({ requests: opt(record({ storage: opt(quantity) })), limits: opt(record({ storage: opt(quantity) })) })),
    volumeMode: opt(fc.constantFrom('Filesystem', 'Block')),
  }),
});

const mounts = fc.array(
  record({
    name: fc.constantFrom('cache', 'models', 'data'),
    mountPath: fc.constantFrom('/cache', '/models', '/data'),
    readOnly: opt(fc.boolean()),
  }),
  { maxLength: 2 },
);

/** Node spec fields shared by v1 and v1alpha1 (camelCase only). */
const workloadV1 = {
  replicas: opt(fc.integer({ min: 0, max: 5 })),
  image: opt(record({ registry: opt(registry), name: opt(repoName), tag: opt(tag), pullPolicy: opt(pullPolicy), pullSecret: opt(word) })),
  httpPort: opt(port),
  flightPort: opt(port),
  metricsPort: opt(port),
  env: opt(fc.array(record({ name: word, value: opt(word) }), { maxLength: 2 })),
  envFromSource: opt(envFrom),
  volume: opt(record({ storageClassName: opt(word), storageRequests: opt(quantity) })),
  // v2's volume fields, which v1 stores as written (also next to volume, which the CRD refuses).
  volumeClaimTemplates: opt(fc.array(template, { maxLength: 2 })),
  volumeMounts: opt(mounts),
  serviceAccount: opt(record({ enabled: opt(fc.boolean()), create: opt(fc.boolean()), name: opt(word), annotations: labels })),
  updateStrategy: opt(
    record({
      type: opt(strategyV1),
      maxUnavailable: opt(fc.oneof(fc.integer({ min: 0, max: 3 }), fc.constant('50%'))),
      minReadyForCutover: opt(fc.integer({ min: 0, max: 3 })),
    }),
  ),
  network: opt(
    record({
      ingress: opt(fc.array(rule, { maxLength: 2 })),
      egress: opt(fc.array(rule, { maxLength: 2 })),
      dnsPolicy: opt(fc.constantFrom('ClusterFirst', 'None')),
      dnsConfig: opt(dnsConfig),
    }),
  ),
  labels,
  annotations: labels,
  probes: opt(record({ liveness: opt(record({ periodSeconds: opt(fc.integer({ min: 1, max: 60 })) })) })),
  terminationGracePeriodSeconds: opt(fc.integer({ min: 0, max: 120 })),
};

/** A SpicepodSet spec as v1 admits it: both spellings, mixed as users mix them. */
const setSpecV1 = record({
  ...workloadV1,
  spicepod: spicepodV1,
  enableService: opt(fc.boolean()),
  instantRollback: opt(record({ enabled: opt(fc.boolean()), retentionPeriodSeconds: opt(fc.integer({ min: 0, max: 3600 })) })),
  cluster: opt(cluster),
  spiceai_image_registry: opt(registry),
  spiceai_image_name: opt(repoName),
  spiceai_image_tag: opt(tag),
  spiceai_image_pull_secret: opt(word),
  spiced: opt(record({ http_port: opt(port), flight_port: opt(port), metrics_port: opt(port) })),
  enable_service: opt(fc.boolean()),
  env_from_source: opt(envFrom),
  service_account: opt(record({ enabled: opt(fc.boolean()), create: opt(fc.boolean()), name: opt(word) })),
  update_strategy: opt(record({ type: opt(strategyV1), max_unavailable: opt(fc.integer({ min: 0, max: 3 })) })),
  ingress: opt(fc.array(rule, { maxLength: 1 })),
  egress: opt(fc.array(rule, { maxLength: 1 })),
  dnsPolicy: opt(fc.constantFrom('ClusterFirst', 'None')),
  dnsConfig: opt(dnsConfig),
}).map((spec) => {
  // The legacy volume spelling lives inside `volume`.
  return spec;
});

const workloadV2 = {
  replicas: opt(fc.integer({ min: 0, max: 5 })),
  image: opt(
    record({
      repository: opt(
        fc.oneof(
          repoName,
          fc.tuple(registry, repoName).map(([r, n]) => `${r.replace(/\/$/, '')}/${n}`),
        ),
      ),
      tag: opt(tag),
      pullPolicy: opt(pullPolicy),
      pullSecret: opt(word),
    }),
  ),
  http: opt(record({ port: opt(port) })),
  flight: opt(record({ port: opt(port) })),
  metrics: opt(record({ port: opt(port) })),
  env: workloadV1.env,
  envFromSource: opt(envFrom),
  volumeClaimTemplates: opt(fc.array(template, { maxLength: 3 })),
  volumeMounts: opt(mounts),
  serviceAccount: workloadV1.serviceAccount,
  updateStrategy: opt(
    record({
      type: opt(fc.constantFrom('RollingOrdered', 'RollingParallel', 'BlueGreen')),
      maxUnavailable: opt(fc.integer({ min: 0, max: 3 })),
      minReadyForCutover: opt(fc.integer({ min: 0, max: 3 })),
    }),
  ),
  network: workloadV1.network,
  labels,
  annotations: labels,
  probes: workloadV1.probes,
  terminationGracePeriodSeconds: workloadV1.terminationGracePeriodSeconds,
};

const setSpecV2 = record({
  ...workloadV2,
  spicepod: spicepodObject,
  service: opt(record({ enabled: opt(fc.boolean()) })),
  standbyVersion: opt(record({ enabled: opt(fc.boolean()), retentionPeriodSeconds: opt(fc.integer({ min: 0, max: 3600 })) })),
  cluster: opt(cluster),
});

const rfc3339 = fc.integer({ min: 0, max: 4_000_000_000 }).map((s) => new Date(s * 1000).toISOString().replace('.000Z', 'Z'));
const conditions = opt(
  fc.array(record({ type: fc.constantFrom('Ready', 'Paused'), status: fc.constantFrom('True', 'False'), reason: opt(word) }), {
    maxLength: 2,
  }),
);
const setStatusV1 = opt(
  record({
    replicas: opt(fc.constant('1/2')),
    readyReplicas: opt(fc.nat(5)),
    standbyExpiresAt: opt(fc.integer({ min: 0, max: 4_000_000_000 })),
    activeVersion: opt(word),
    conditions,
  }),
);
const setStatusV2 = opt(
  record({
    replicas: opt(fc.constant('1/2')),
    readyReplicas: opt(fc.nat(5)),
    standbyExpiresAt: opt(rfc3339),
    activeVersion: opt(word),
    conditions,
  }),
);

const metadata = record({
  name: word,
  namespace: fc.constant('default'),
  uid: fc.constant('0a6d1c6e-8f0e-4c36-9d3a-2b1f5e7c9a10'),
  generation: fc.integer({ min: 1, max: 9 }),
  annotations: opt(
    fc.dictionary(fc.constantFrom('note', 'kubectl.kubernetes.io/last-applied-configuration'), word, {
      minKeys: 1,
      maxKeys: 2,
      noNullPrototype: true,
    }),
  ),
  labels,
});

const setV1 = fc
  .record({ metadata, spec: setSpecV1, status: setStatusV1 })
  .map((o) => clean({ apiVersion: 'spice.ai/v1', kind: 'SpicepodSet', ...o }) as KubeObject);
const setV2 = fc
  .record({ metadata, spec: setSpecV2, status: setStatusV2 })
  .map((o) => clean({ apiVersion: 'spice.ai/v2', kind: 'SpicepodSet', ...o }) as KubeObject);

const nodeV1 = (withPod: boolean) =>
  record({
    ...workloadV1,
    ...(withPod ? { spicepod: spicepodV1 } : {}),
    cluster: opt(record({ bindAddress: opt(fc.constant('0.0.0.0:50052')) })),
  });
const nodeV2 = (withPod: boolean) =>
  record({
    ...workloadV2,
    ...(withPod ? { spicepod: spicepodObject } : {}),
    cluster: opt(record({ bindAddress: opt(fc.constant('0.0.0.0:50052')) })),
  });
const clusterStatusV1 = opt(
  record({ rootSecretName: opt(word), rootExpiresAt: opt(rfc3339), rootCertificateReady: opt(fc.boolean()), error: opt(word), conditions }),
);
const clusterStatusV2 = opt(
  record({
    rootCertificateSecretName: opt(word),
    rootCertificateExpiresAt: opt(rfc3339),
    rootCertificateReady: opt(fc.boolean()),
    conditions,
  }),
);
const clusterV1 = fc
  .record({
    metadata,
    spec: record({ schedulerSetSpec: nodeV1(true), executorSetSpec: nodeV1(false), allowInsecureConnections: opt(fc.boolean()) }),
    status: clusterStatusV1,
  })
  .map((o) => clean({ apiVersion: 'spice.ai/v1alpha1', kind: 'SpicepodCluster', ...o }) as KubeObject);
const clusterV2 = fc
  .record({
    metadata,
    spec: record({ schedulerSpec: nodeV2(true), executorSpec: nodeV2(false), allowInsecureConnections: opt(fc.boolean()) }),
    status: clusterStatusV2,
  })
  .map((o) => clean({ apiVersion: 'spice.ai/v2', kind: 'SpicepodCluster', ...o }) as KubeObject);

const roundTrip = (o: KubeObject, via: string) => convertObject(convertObject(structuredClone(o), via), o.apiVersion);

test('v1 -> v2 -> v1 gives back the identical SpicepodSet, every spelling included', () => {
  fc.assert(
    fc.property(setV1, (o) => assert.equal(roundTrip(o, 'spice.ai/v2'), o)),
    { numRuns: RUNS },
  );
});

test('v2 -> v1 -> v2 gives back the identical SpicepodSet', () => {
  fc.assert(
    fc.property(setV2, (o) => assert.equal(roundTrip(o, 'spice.ai/v1'), o)),
    { numRuns: RUNS },
  );
});

test('v1alpha1 -> v2 -> v1alpha1 and v2 -> v1alpha1 -> v2 give back the identical SpicepodCluster', () => {
  fc.assert(
    fc.property(clusterV1, (o) => assert.equal(roundTrip(o, 'spice.ai/v2'), o)),
    { numRuns: RUNS },
  );
  fc.assert(
    fc.property(clusterV2, (o) => assert.equal(roundTrip(o, 'spice.ai/v1alpha1'), o)),
    { numRuns: RUNS },
  );
});

test('a converted spec is one the target version admits (nothing the API server would prune or refuse)', () => {
  const admits = (schema: { safeParse(v: unknown): { success: boolean; error?: unknown } }, v: unknown) => {
    const r = schema.safeParse(v);
    assert.ok(r.success, `${JSON.stringify(v)}: ${JSON.stringify(r.error)}`);
  };
  fc.assert(
    fc.property(setV1, (o) => admits(spicepodSetSpecSchemaV2.strict(), convertObject(o, 'spice.ai/v2').spec)),
    { numRuns: RUNS },
  );
  fc.assert(
    fc.property(setV2, (o) => admits(spicepodSetSpecSchema.strict(), convertObject(o, 'spice.ai/v1').spec)),
    { numRuns: RUNS },
  );
  fc.assert(
    fc.property(clusterV1, (o) => admits(spicepodClusterSpecSchemaV2, convertObject(o, 'spice.ai/v2').spec)),
    { numRuns: RUNS / 4 },
  );
  fc.assert(
    fc.property(clusterV2, (o) => admits(spicepodClusterSpecSchema, convertObject(o, 'spice.ai/v1alpha1').spec)),
    { numRuns: RUNS / 4 },
  );
});

test('kept values survive the API server filling in v1 defaults between the conversions', () => {
  fc.assert(
    fc.property(setV2, (o) => {
      const v1 = convertObject(structuredClone(o), 'spice.ai/v1');
      // What the API server does when it reads the stored v1 object: schema defaults.
      const defaulted = { ...v1, spec: spicepodSetSpecSchema.parse(v1.spec) };
      const back = convertObject(defaulted, 'spice.ai/v2') as { spec: Record<string, unknown> };
      const spec = o.spec as Record<string, unknown>;
      assert.equal(back.spec.volumeClaimTemplates, spec.volumeClaimTemplates);
      assert.equal(back.spec.volumeMounts, spec.volumeMounts);
    }),
    { numRuns: RUNS },
  );
});

test('what the operator reads in v1 means what v2 says: image, ports, Service, volume, standby', () => {
  fc.assert(
    fc.property(setV2, (o) => {
      const v2 = o.spec as Record<string, any>;
      const normalized = normalizeSpicepodSetSpec(convertObject(structuredClone(o), 'spice.ai/v1').spec);
      if (!normalized.ok) return; // refused specs are the validation tests' business
      const spec = normalized.spec;
      if (v2.image?.repository)
        assert.is(spec.image.registry ? `${spec.image.registry}/${spec.image.name}` : spec.image.name, v2.image.repository);
      if (v2.image?.tag) assert.is(spec.image.tag, v2.image.tag);
      assert.is(spec.httpPort, v2.http?.port ?? 8090);
      assert.is(spec.enableService, v2.service?.enabled ?? true);
      // The claims and mounts rendered from the stored v1 form are those v2's fields say, verbatim.
      const asV2 = { ...spec, volume: undefined, volumeClaimTemplates: v2.volumeClaimTemplates, volumeMounts: v2.volumeMounts };
      assert.is(canonicalJson(desiredVolumeClaimTemplates('a', spec)), canonicalJson(desiredVolumeClaimTemplates('a', asV2)));
      assert.is(canonicalJson(claimMounts(spec)), canonicalJson(claimMounts(asV2)));
      assert.is(spec.instantRollback.enabled, v2.standbyVersion?.enabled ?? false);
      assert.is(spec.updateStrategy.type, v2.updateStrategy?.type ?? 'RollingOrdered');
    }),
    { numRuns: RUNS },
  );
});

test('the documented migration: a G1 manifest reads as the documented v2 fields (facts §1.17)', () => {
  const v1 = {
    apiVersion: 'spice.ai/v1',
    kind: 'SpicepodSet',
    metadata: { name: 'my-spicepod', namespace: 'default' },
    spec: {
      replicas: 1,
      spiceai_image_registry: '709825985650.dkr.ecr.us-east-1.amazonaws.com',
      spiceai_image_name: 'spice-ai/spiceai-enterprise-byol',
      spiceai_image_tag: '2.3.0-enterprise-models',
      httpPort: 8091,
      enableService: false,
      update_strategy: { type: 'Parallel' },
      volume: { storage_class_name: 'local-storage', storage_requests: '500Gi' },
      instantRollback: { enabled: true, retentionPeriodSeconds: 600 },
      spicepod: 'name: my-spicepod\nkind: Spicepod\nversion: v1\n',
    },
  };
  const v2 = convertObject(v1, 'spice.ai/v2') as any;
  assert.equal(v2.spec.image, {
    repository: '709825985650.dkr.ecr.us-east-1.amazonaws.com/spice-ai/spiceai-enterprise-byol',
    tag: '2.3.0-enterprise-models',
  });
  assert.equal(v2.spec.http, { port: 8091 });
  assert.equal(v2.spec.service, { enabled: false });
  assert.equal(v2.spec.updateStrategy, { type: 'RollingOrdered' }, 'Parallel reads as the default in v2');
  assert.equal(v2.spec.volumeClaimTemplates, [
    { metadata: { name: 'data' }, spec: { storageClassName: 'local-storage', resources: { requests: { storage: '500Gi' } } } },
  ]);
  assert.equal(v2.spec.standbyVersion, { enabled: true, retentionPeriodSeconds: 600 });
  assert.equal(v2.spec.spicepod, { name: 'my-spicepod', kind: 'Spicepod', version: 'v1' });
  const kept = JSON.parse(v2.metadata.annotations[keptAnnotation('v1')]);
  assert.equal(Object.keys(kept).sort(), ['image', 'spicepod', 'updateStrategy', 'volume'], 'only what v2 spells differently is kept');
  assert.equal(kept.updateStrategy.from, { update_strategy: { type: 'Parallel' } });
  // Edited through v2, the edit wins: the kept Parallel no longer applies once the strategy changed.
  v2.spec.updateStrategy = { type: 'BlueGreen' };
  const back = convertObject(v2, 'spice.ai/v1') as any;
  assert.equal(back.spec.updateStrategy, { type: 'BlueGreen' });
  assert.is(back.spec.update_strategy, undefined);
  assert.is(back.spec.spiceai_image_tag, '2.3.0-enterprise-models', 'unedited groups keep their spelling');
  assert.is(back.metadata.annotations, undefined);
});

test('a ConversionReview is answered with every object converted, or a Failure naming the problem', () => {
  const object = {
    apiVersion: 'spice.ai/v1',
    kind: 'SpicepodSet',
    metadata: { name: 'a' },
    spec: { httpPort: 9000, spicepod: { name: 'a' } },
  };
  const review = (objects: unknown[], desiredAPIVersion = 'spice.ai/v2') =>
    JSON.stringify({ apiVersion: 'apiextensions.k8s.io/v1', kind: 'ConversionReview', request: { uid: 'u1', desiredAPIVersion, objects } });
  const ok = answerConversionReview(review([object, object])) as any;
  assert.is(ok.status, 200);
  assert.is(ok.body.response.uid, 'u1');
  assert.is(ok.body.response.result.status, 'Success');
  assert.equal(
    ok.body.response.convertedObjects.map((o: any) => [o.apiVersion, o.spec.http]),
    [
      ['spice.ai/v2', { port: 9000 }],
      ['spice.ai/v2', { port: 9000 }],
    ],
  );
  const bad = answerConversionReview(review([object], 'spice.ai/v1alpha1')) as any;
  assert.is(bad.body.response.result.status, 'Failure');
  assert.match(bad.body.response.result.message, /SpicepodSet is served as spice.ai\/v1 and spice.ai\/v2/);
  assert.is(answerConversionReview('{').status, 400);
  assert.is(answerConversionReview(JSON.stringify({ kind: 'AdmissionReview' })).status, 400);
});

test('the examples convert and come back identical', () => {
  for (const name of ['spicepodset-minimal', 'spicepodset-full', 'spicepodset-legacy', 'spicepodcluster']) {
    const o = parse(readFileSync(new URL(`../../examples/${name}.yaml`, import.meta.url), 'utf8'));
    assert.equal(roundTrip(o, 'spice.ai/v2'), o, name);
  }
});

test.run();
