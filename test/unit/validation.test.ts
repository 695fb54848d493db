// Validating admission as a pure function: the rules, the policy levels, the
// AdmissionReview exchange, and a differential test against the JSON schema
// spiced publishes (what we refuse in a Spicepod, spiced refuses too).
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  createValidation,
  decide,
  findings,
  spicepodFindings,
  validatingWebhookConfiguration,
  SPICEPOD_RUNTIME_KEYS,
  SPICEPOD_TOP_LEVEL_KEYS,
  SPICEPOD_VERSIONS,
  REASON_RESERVED_KEY,
  REASON_STORAGE_CLASS_MISSING,
  REASON_VOLUME_MOUNT_UNKNOWN,
  REASON_VOLUME_NOT_MOUNTED,
  REASON_DNS_EGRESS_INCOMPLETE,
  type AdmittedObject,
} from '../../functions/validation/index.ts';
import { VENDORED_SCHEMA_PATH, spicepodProblems } from '../conformance/spicepod-schema.ts';
import { convertObject, type KubeObject } from '../../core/conversion/convert.ts';

const pod = { version: 'v1', kind: 'Spicepod', name: 'p' };
const set = (spec: Record<string, unknown>, annotations?: Record<string, string>, name = 'web'): AdmittedObject => ({
  kind: 'SpicepodSet',
  metadata: { name, namespace: 'ns', annotations },
  spec: { spicepod: pod, image: { tag: '1.9.0-models' }, ...spec },
});
const reasons = async (o: AdmittedObject) => (await findings(o)).map((f) => `${f.severity} ${f.reason} ${f.field}`);

test("the Spicepod constants are spiced's schema (spiceai/spiceai .schema/spicepod.schema.json)", () => {
  const schema = JSON.parse(readFileSync(VENDORED_SCHEMA_PATH, 'utf8'));
  assert.equal([...SPICEPOD_TOP_LEVEL_KEYS].sort(), Object.keys(schema.properties).sort());
  assert.equal([...SPICEPOD_RUNTIME_KEYS].sort(), Object.keys(schema.$defs.Runtime.properties).sort());
  assert.is(schema.$defs.Runtime.additionalProperties, false, 'unknown runtime keys are refused by spiced');
  assert.is(schema.additionalProperties, undefined, 'unknown top-level keys are not');
  assert.equal([...SPICEPOD_VERSIONS], schema.$defs.SpicepodVersion.enum);
  assert.equal(schema.required.sort(), ['kind', 'name', 'version']);
});

test("differential: every Spicepod we refuse, spiced's schema refuses too; the ones we pass without warning it accepts", () => {
  const key = fc.constantFrom('datasets', 'runtime', 'nmae', 'extra', 'models', 'metadata');
  const runtime = fc.dictionary(
    fc.constantFrom('results_cache', 'caching', 'cachng', 'scheduler', 'bogus', 'output_level'),
    fc.constant({}),
    { maxKeys: 3, noNullPrototype: true },
  );
  const spicepod = fc
    .record(
      {
        name: fc.oneof(fc.constant('p'), fc.constant(''), fc.constant(3)),
        version: fc.constantFrom('v1', 'v2', 'v1beta1', 'V1', 1),
        kind: fc.constantFrom('Spicepod', 'spicepod', 'Pod'),
        runtime,
        extra: fc.dictionary(key, fc.constant([]), { maxKeys: 2, noNullPrototype: true }),
      },
      { requiredKeys: [] },
    )
    .map(({ extra, ...p }) => ({ ...(extra ?? {}), ...p }));
  let refused = 0;
  fc.assert(
    fc.property(spicepod, (p) => {
      const ours = spicepodFindings(p as Record<string, unknown>, 'spec.spicepod');
      const theirs = spicepodProblems(p);
      if (ours.some((f) => f.severity === 'reject')) {
        refused++;
        assert.ok(theirs.length > 0, `we refuse ${JSON.stringify(p)} but spiced's schema accepts it`);
      }
    }),
    { numRuns: 1000 },
  );
  assert.ok(refused > 100, `the generator reaches refusals (${refused})`);
});

test('reserved labels and annotations are refused, on sets and on both node specs of a cluster', async () => {
  assert.equal(await reasons(set({ labels: { 'spice.ai/app': 'x', team: 'a' }, annotations: { 'spice.ai/validation-level': 'off' } })), [
    `reject ${REASON_RESERVED_KEY} spec.labels[spice.ai/app]`,
    `reject ${REASON_RESERVED_KEY} spec.annotations[spice.ai/validation-level]`,
  ]);
  const cluster: AdmittedObject = {
    kind: 'SpicepodCluster',
    metadata: { name: 'dq', namespace: 'ns' },
    spec: {
      schedulerSetSpec: {
        spicepod: { ...pod, runtime: { scheduler: { state_location: 'file:///tmp/x' } } },
        image: { tag: '1' },
        labels: { 'spice.ai/cluster': 'other' },
      },
      executorSetSpec: { image: { tag: '1' }, annotations: { 'spice.ai/sidecar-injected': 'true' } },
    },
  };
  assert.equal(await reasons(cluster), [
    `reject ${REASON_RESERVED_KEY} spec.schedulerSetSpec.labels[spice.ai/cluster]`,
    `reject ${REASON_RESERVED_KEY} spec.executorSetSpec.annotations[spice.ai/sidecar-injected]`,
  ]);
});

test('names that would make a child invalid are refused with the limit named', async () => {
  const f = await findings(set({ replicas: 3 }, undefined, `a${'b'.repeat(55)}`));
  assert.ok(
    f.some((x) => x.field === 'metadata.name' && x.severity === 'reject' && /at most \d+/.test(x.message)),
    JSON.stringify(f),
  );
  const digit = await findings(set({}, undefined, '1web'));
  assert.ok(
    digit.some((x) => x.field === 'metadata.name' && /DNS-1035/.test(x.message)),
    JSON.stringify(digit),
  );
});

test('the reconcile-time checks refuse at admission too; deprecated spellings, Parallel and floating tags warn', async () => {
  assert.ok((await reasons(set({ serviceAccount: { enabled: true } }))).includes('reject InvalidSpec spec.serviceAccount.name'));
  assert.equal(await reasons(set({ spiceai_image_tag: 'latest', update_strategy: { type: 'Parallel' }, image: undefined })), [
    'warn DeprecatedField spec.spiceai_image_tag',
    'warn DeprecatedField spec.update_strategy',
    'warn DeprecatedField spec.update_strategy.type',
    'warn FloatingImageTag spec.image.tag',
  ]);
  assert.equal(await reasons(set({ image: undefined })), ['warn FloatingImageTag spec.image.tag'], 'the default tag floats too');
  assert.equal(await reasons(set({ image: { tag: `latest@sha256:${'a'.repeat(64)}` } })), [], 'a digest pins it');
});

test('a StorageClass that does not exist is refused; one that cannot be looked up is not', async () => {
  const o = set({ volume: { storageClassName: 'fast', storageRequests: '1Gi' } });
  const missing = await findings(o, { storageClassExists: async () => false });
  assert.equal(
    missing.map((f) => [f.severity, f.field]),
    [['reject', 'spec.volume.storageClassName']],
  );
  assert.match(missing[0]!.message, /StorageClass "fast", which does not exist/);
  assert.equal(await findings(o, { storageClassExists: async () => true }), []);
  assert.equal(await findings(o, { storageClassExists: async () => undefined }), []);
});

test('a StorageClass of a volumeClaimTemplate that does not exist is refused, naming the template', async () => {
  const o = set({
    volumeClaimTemplates: [{ spec: { storageClassName: 'fast' } }, { metadata: { name: 'cache' }, spec: { storageClassName: 'gone' } }],
    volumeMounts: [{ name: 'cache', mountPath: '/cache' }],
  });
  const missing = await findings(o, { storageClassExists: async (name) => name === 'fast' });
  assert.equal(
    missing.map((f) => [f.severity, f.reason, f.field]),
    [['reject', REASON_STORAGE_CLASS_MISSING, 'spec.volumeClaimTemplates[1].spec.storageClassName']],
  );
});

test("volumeMounts: a mount of no volume is refused (its own reason), on sets and on a cluster's node specs; data needs no entry", async () => {
  const templates = [{ spec: {} }, { metadata: { name: 'cache' }, spec: {} }];
  assert.equal(await reasons(set({ volumeClaimTemplates: templates, volumeMounts: [{ name: 'cache', mountPath: '/cache' }] })), []);
  assert.equal(await reasons(set({ volumeClaimTemplates: templates, volumeMounts: [{ name: 'cahce', mountPath: '/cache' }] })), [
    `reject ${REASON_VOLUME_MOUNT_UNKNOWN} spec.volumeMounts[0].name`,
    `reject ${REASON_VOLUME_NOT_MOUNTED} spec.volumeClaimTemplates[1]`,
  ]);
  const unknown = (await findings(set({ volumeMounts: [{ name: 'models', mountPath: '/models' }] })))[0]!;
  assert.match(unknown.message, /"models" is neither a volumeClaimTemplate nor a volume of the pods \("spicepod"\)/);
  const cluster = (allowInsecureConnections: boolean): AdmittedObject => ({
    kind: 'SpicepodCluster',
    metadata: { name: 'dq', namespace: 'ns' },
    spec: {
      allowInsecureConnections,
      schedulerSetSpec: {
        spicepod: { ...pod, runtime: { scheduler: { state_location: 'file:///tmp/x' } } },
        image: { tag: '1' },
        volumeMounts: [{ name: 'node-tls', mountPath: '/certs' }],
      },
      executorSetSpec: {
        image: { tag: '1' },
        volumeClaimTemplates: [{ metadata: { name: 'spill' }, spec: {} }],
        volumeMounts: [{ name: 'spil', mountPath: '/spill' }],
      },
    },
  });
  assert.equal(await reasons(cluster(false)), [
    `reject ${REASON_VOLUME_MOUNT_UNKNOWN} spec.executorSetSpec.volumeMounts[0].name`,
    `reject ${REASON_VOLUME_NOT_MOUNTED} spec.executorSetSpec.volumeClaimTemplates[0]`,
  ]);
  assert.ok(
    (await reasons(cluster(true))).includes(`reject ${REASON_VOLUME_MOUNT_UNKNOWN} spec.schedulerSetSpec.volumeMounts[0].name`),
    'without mTLS there is no certificate volume to mount',
  );
});

test('egress: a rule naming port 53 on one protocol warns (it replaces the DNS egress the operator adds); both, or none, say nothing', async () => {
  const egress = (ports: { protocol?: string; port: number }[]) => set({ network: { egress: [{ ports }] } });
  assert.equal(await reasons(egress([{ protocol: 'UDP', port: 53 }])), [`warn ${REASON_DNS_EGRESS_INCOMPLETE} spec.network.egress`]);
  assert.match((await findings(egress([{ protocol: 'UDP', port: 53 }])))[0]!.message, /without TCP/);
  assert.equal(await reasons(egress([{ port: 53 }])), [`warn ${REASON_DNS_EGRESS_INCOMPLETE} spec.network.egress`], 'no protocol is TCP');
  assert.equal(
    await reasons(
      egress([
        { protocol: 'UDP', port: 53 },
        { protocol: 'TCP', port: 53 },
      ]),
    ),
    [],
  );
  assert.equal(await reasons(egress([{ protocol: 'TCP', port: 443 }])), [], 'no rule names 53: the operator adds DNS itself');
  assert.equal(
    await reasons(set({ egress: [{ ports: [{ protocol: 'TCP', port: 53 }] }] })),
    [`warn ${REASON_DNS_EGRESS_INCOMPLETE} spec.egress`, 'warn DeprecatedField spec.egress'],
    'the older spelling is named as written',
  );
});

test('policy: err refuses, warn turns refusals into warnings, off says nothing; an update is not refused for an old problem', () => {
  const bad = [
    { reason: 'R', severity: 'reject' as const, field: 'spec.x', message: 'is wrong' },
    { reason: 'W', severity: 'warn' as const, field: 'spec.y', message: 'is old' },
  ];
  assert.equal(decide(bad, 'err'), { allowed: false, message: 'spec.x is wrong', warnings: ['spec.y is old'], level: 'err' });
  assert.equal(decide(bad, 'warn'), { allowed: true, warnings: ['spec.x is wrong', 'spec.y is old'], level: 'warn' });
  assert.equal(decide(bad, 'off'), { allowed: true, warnings: [], level: 'off' });
  assert.equal(decide(bad, 'err', [bad[0]!]).allowed, true);
});

const admissionReview = (object: AdmittedObject, operation = 'CREATE', oldObject?: AdmittedObject) =>
  JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { uid: 'u', operation, object, oldObject } });

test("the AdmissionReview: denial naming every problem, warnings, the annotation overriding the operator's level", async () => {
  const validate = createValidation({ level: 'err' });
  const bad = set({ labels: { 'spice.ai/app': 'x' }, image: { tag: 'latest' } });
  const denied = (await validate(admissionReview(bad))).body as any;
  assert.is(denied.response.allowed, false);
  assert.is(denied.response.status.code, 422);
  assert.match(
    denied.response.status.message,
    /^SpicepodSet web refused \(spice.ai\/validation-level=err\): spec.labels\[spice.ai\/app\] is reserved/,
  );
  assert.equal(denied.response.warnings, [
    'spec.image.tag "latest" floats: replicas started at different times may run different spiced builds; pin a version (e.g. 1.9.0-models) or a digest',
  ]);
  const warned = (
    await validate(admissionReview({ ...bad, metadata: { ...bad.metadata, annotations: { 'spice.ai/validation-level': 'warn' } } }))
  ).body as any;
  assert.is(warned.response.allowed, true);
  assert.is(warned.response.warnings.length, 2);
  const off = (await createValidation({ level: 'off' })(admissionReview(bad))).body as any;
  assert.equal([off.response.allowed, off.response.warnings], [true, undefined]);
  const typo = (
    await createValidation({ level: 'off' })(
      admissionReview({ ...bad, metadata: { ...bad.metadata, annotations: { 'spice.ai/validation-level': 'strict' } } }),
    )
  ).body as any;
  assert.is(typo.response.allowed, true, "an unreadable level falls back to the operator's");
  const typoErr = (await validate(admissionReview(set({}, { 'spice.ai/validation-level': 'strict' })))).body as any;
  assert.match(
    typoErr.response.status.message,
    /metadata.annotations\[spice.ai\/validation-level\] must be err, warn or off \(got "strict"\)/,
  );
  assert.is((await validate('nope')).status, 400);
  const del = (
    await validate(
      JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { uid: 'u', operation: 'DELETE' } }),
    )
  ).body as any;
  assert.is(del.response.allowed, true);
});

test('a v2 write is checked as the same object in its storage version: the same answer, and an update ratcheted across versions', async () => {
  const validate = createValidation({ level: 'err' });
  const v1 = (o: AdmittedObject) => ({ ...o, apiVersion: 'spice.ai/v1' });
  const v2 = (o: AdmittedObject) => convertObject(v1(o) as unknown as KubeObject, 'spice.ai/v2') as unknown as AdmittedObject;
  const bad = set({
    labels: { 'spice.ai/app': 'x' },
    image: { tag: 'latest' },
    volume: { storageClassName: 'fast', storage_requests: '2Gi' },
  });
  const good = set({ replicas: 2 });
  for (const object of [bad, good]) {
    assert.ok(v2(object).spec !== v1(object).spec && (v2(object) as any).apiVersion === 'spice.ai/v2');
    assert.equal((await validate(admissionReview(v2(object)))).body, (await validate(admissionReview(v1(object)))).body);
  }
  // An old problem does not refuse an update, whichever version each side came in.
  const old = set({ labels: { 'spice.ai/app': 'x' } });
  const updated = set({ labels: { 'spice.ai/app': 'x' }, replicas: 3 });
  const answer = (await validate(admissionReview(v2(updated), 'UPDATE', v1(old)))).body as any;
  assert.is(answer.response.allowed, true, JSON.stringify(answer));
});

test('the configuration: every served version (a v2 write costs no conversion call), Ignore, 5 s, /validate', () => {
  const c = validatingWebhookConfiguration({ name: 'v', caBundlePem: 'PEM', url: 'https://127.0.0.1:9443/mutate' }) as any;
  const w = c.webhooks[0];
  assert.is(w.clientConfig.url, 'https://127.0.0.1:9443/validate');
  assert.equal(
    w.rules.map((r: any) => [r.apiVersions, r.resources]),
    [
      [['v1', 'v2'], ['spicepodsets']],
      [['v1alpha1', 'v2'], ['spicepodclusters']],
    ],
  );
  assert.equal([w.matchPolicy, w.failurePolicy, w.timeoutSeconds], ['Equivalent', 'Ignore', 5]);
});

test.run();
