import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { applyShippedCrds, eventually, freshNamespace, kubectl, kubectlJson, kubectlOk } from '../harness/kube.ts';
import { restoreShippedWebhooks, startWithCrdWebhooks } from '../harness/crd-webhooks.ts';
import type { OperatorProcess } from '../harness/operator.ts';

const OPERATOR_NS = 'spiceai-operator-system';
const V1 = 'spicepodsets.v1.spice.ai';
const V2 = 'spicepodsets.v2.spice.ai';
let ns = '';
let operator: OperatorProcess | undefined;
const pod = { version: 'v1', kind: 'Spicepod', name: 'p' };

const TEMPLATES = [
  { metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '2Gi' } } } },
  {
    metadata: { name: 'cache', labels: { tier: 'scratch' } },
    spec: { accessModes: ['ReadWriteMany'], volumeMode: 'Filesystem', resources: { requests: { storage: '5Gi' } } },
  },
];
const MOUNTS = [{ name: 'cache', mountPath: '/var/cache/spice' }];

const set = (name: string, spec: Record<string, unknown>, apiVersion = 'spice.ai/v2') =>
  JSON.stringify({ apiVersion, kind: 'SpicepodSet', metadata: { name }, spec: { spicepod: pod, image: { tag: '1.9.0-models' }, ...spec } });
const apply = (manifest: string) => kubectl(['apply', '--server-side', '-n', ns, '-f', '-'], manifest);

test.before(async () => {
  try {
    applyShippedCrds({ forceConflicts: true });
    kubectl(['create', 'namespace', OPERATOR_NS]);
    ns = freshNamespace('vol');
    operator = await startWithCrdWebhooks(['--namespaces', ns, '--handlers', 'workloads', '--operator-namespace', OPERATOR_NS], {
      validating: true,
    });
    await eventually('conversion served', () => kubectl(['get', V2, '-n', ns]).code === 0, 30_000, 500);
  } catch (error) {
    console.error(error); // uvu does not print a failed hook
    throw error;
  }
});

test.after(async () => {
  await operator?.stop();
  restoreShippedWebhooks();
});

test('a v2 set with two volumeClaimTemplates: the StatefulSet claims both, data at /data, cache where volumeMounts says', async () => {
  const applied = apply(set('vols', { volumeClaimTemplates: TEMPLATES, volumeMounts: MOUNTS }));
  assert.is(applied.code, 0, applied.err);
  const sts = await eventually(
    'StatefulSet vols-0',
    () => {
      const r = kubectl(['get', 'statefulset', 'vols-0', '-n', ns, '-o', 'json']);
      return r.code === 0 ? JSON.parse(r.out) : undefined;
    },
    60_000,
    500,
  );
  const claims = sts.spec.volumeClaimTemplates.map((t: any) => ({
    name: t.metadata.name,
    labels: t.metadata.labels,
    accessModes: t.spec.accessModes,
    volumeMode: t.spec.volumeMode,
    storage: t.spec.resources.requests.storage,
  }));
  assert.equal(claims, [
    { name: 'data', labels: { 'spice.ai/app': 'vols' }, accessModes: ['ReadWriteOnce'], volumeMode: 'Filesystem', storage: '2Gi' },
    {
      name: 'cache',
      labels: { tier: 'scratch', 'spice.ai/app': 'vols' },
      accessModes: ['ReadWriteMany'],
      volumeMode: 'Filesystem',
      storage: '5Gi',
    },
  ]);
  const mounts = sts.spec.template.spec.containers[0].volumeMounts.map((m: any) => `${m.name}:${m.mountPath}`);
  assert.equal(mounts, ['spicepod:/app/spicepod.yaml', 'data:/data', 'cache:/var/cache/spice']);
  assert.is(kubectl(['get', 'deployment', 'vols', '-n', ns]).code, 1, 'one replica with claims is a StatefulSet, never a Deployment');
});

test('it reads back through v1 with the same fields, and a round trip through v1 changes nothing', () => {
  const v1 = kubectlJson([`get`, V1, 'vols', '-n', ns, '-o', 'json']);
  assert.equal(v1.spec.volumeClaimTemplates, TEMPLATES);
  assert.equal(v1.spec.volumeMounts, MOUNTS);
  assert.is(v1.spec.volume, undefined);
  assert.is(v1.metadata.annotations?.['spice.ai/v2-fields'], undefined, 'nothing kept aside: v1 stores them');
  const generation = v1.metadata.generation;
  // Written back through v1 as read: the same object, so no new generation, and v2 reads as applied.
  kubectlOk(['replace', '-n', ns, '-f', '-'], JSON.stringify(v1));
  const v2 = kubectlJson([`get`, V2, 'vols', '-n', ns, '-o', 'json']);
  assert.is(v2.metadata.generation, generation);
  assert.equal(v2.spec.volumeClaimTemplates, TEMPLATES);
  assert.equal(v2.spec.volumeMounts, MOUNTS);
});

test("a v2 template data with only a class and a size is v1's volume: stored as volume, and the same StatefulSet", async () => {
  assert.is(
    apply(set('simple', { volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { resources: { requests: { storage: '3Gi' } } } }] }))
      .code,
    0,
  );
  assert.equal(kubectlJson([`get`, V1, 'simple', '-n', ns, '-o', 'json']).spec.volume, { storageRequests: '3Gi' });
  const sts = await eventually(
    'StatefulSet simple-0',
    () => {
      const r = kubectl(['get', 'statefulset', 'simple-0', '-n', ns, '-o', 'json']);
      return r.code === 0 ? JSON.parse(r.out) : undefined;
    },
    60_000,
    500,
  );
  assert.equal(
    sts.spec.volumeClaimTemplates.map((t: any) => [t.metadata.name, t.spec.resources.requests.storage]),
    [['data', '3Gi']],
  );
});

test('CEL in the CRD: duplicate template names, duplicate mount paths, volume with volumeClaimTemplates are refused as kubectl prints them', () => {
  const dup = apply(set('dup', { volumeClaimTemplates: [{ spec: {} }, { metadata: { name: 'data' }, spec: {} }] }));
  assert.is(dup.code, 1);
  assert.match(
    dup.err,
    /The SpicepodSet "dup" is invalid: spec.volumeClaimTemplates: Invalid value: "array": volumeClaimTemplates must have unique names \(metadata.name, default data\)/,
  );
  const paths = apply(
    set('paths', { volumeClaimTemplates: TEMPLATES, volumeMounts: [...MOUNTS, { name: 'data', mountPath: '/var/cache/spice' }] }),
  );
  assert.is(paths.code, 1);
  assert.match(paths.err, /spec.volumeMounts: Invalid value: "array": volumeMounts must have unique mountPath values/);
  const both = apply(
    set('both', { volume: { storageRequests: '1Gi' }, volumeClaimTemplates: TEMPLATES, volumeMounts: MOUNTS }, 'spice.ai/v1'),
  );
  assert.is(both.code, 1);
  assert.match(both.err, /spec.volumeClaimTemplates: Forbidden: set volume or volumeClaimTemplates, not both/);
  const name = apply(set('badname', { volumeClaimTemplates: [{ metadata: { name: 'Cache_1' }, spec: {} }] }));
  assert.is(name.code, 1);
  assert.match(
    name.err,
    /spec.volumeClaimTemplates\[0\].metadata.name: Invalid value: "Cache_1": spec.volumeClaimTemplates\[0\].metadata.name in body should match/,
  );
  for (const n of ['dup', 'paths', 'both', 'badname']) assert.is(kubectl(['get', V1, n, '-n', ns]).code, 1, `${n} not stored`);
});

test('the webhook: a mount of no volume and a template nobody mounts are refused, naming the field; DNS on one protocol warns', () => {
  const unknown = apply(
    set('unknown', { volumeClaimTemplates: TEMPLATES, volumeMounts: [{ name: 'cahce', mountPath: '/var/cache/spice' }] }),
  );
  assert.is(unknown.code, 1);
  assert.match(
    unknown.err,
    /denied the request: SpicepodSet unknown refused \(spice.ai\/validation-level=err\): spec.volumeMounts\[0\].name "cahce" is neither a volumeClaimTemplate nor a volume of the pods \("data", "cache", "spicepod"\)/,
  );
  assert.match(unknown.err, /spec.volumeClaimTemplates\[1\] "cache" is not mounted/);
  const dns = apply(set('dns', { network: { egress: [{ ports: [{ protocol: 'UDP', port: 53 }] }] } }));
  assert.is(dns.code, 0, dns.err);
  assert.match(dns.err, /Warning: spec.network.egress opens port 53 without TCP/);
});

test.run();
