// spice.ai/v2 on the real control plane: the API server calls the operator's
// conversion webhook over TLS (registered by the operator in the CRDs with its
// own CA), v2 manifests written with the documented fields apply and become
// Ready, every object reads back through every version, and kubectl scale
// works in every version.
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse, stringify } from 'yaml';
import { applyShippedCrds, auditWrites, eventually, freshNamespace, kubectl, kubectlJson, kubectlOk } from '../harness/kube.ts';
import { restoreShippedWebhooks, startWithCrdWebhooks, webhookPort } from '../harness/crd-webhooks.ts';
import type { OperatorProcess } from '../harness/operator.ts';

const OPERATOR_NS = 'spiceai-operator-system';
const V1 = 'spicepodsets.v1.spice.ai';
const V2 = 'spicepodsets.v2.spice.ai';
const C1 = 'spicepodclusters.v1alpha1.spice.ai';
const C2 = 'spicepodclusters.v2.spice.ai';
let ns = '';
let operator: OperatorProcess | undefined;

const get = (resource: string, name: string) => kubectlJson(['get', resource, name, '-n', ns]);
const condition = (o: any, type: string) => o.status?.conditions?.find((c: any) => c.type === type);
const apply = (object: object) => kubectlOk(['apply', '--server-side', '-n', ns, '-f', '-'], stringify(object));

async function ready(resource: string, name: string, timeoutMs = 180_000) {
  return eventually(
    `${resource} ${name} Ready`,
    () => {
      const o = get(resource, name);
      return o.status?.observedGeneration === o.metadata.generation && condition(o, 'Ready')?.status === 'True' ? o : undefined;
    },
    timeoutMs,
    1000,
  );
}

const shipped = (crd: string) => parse(readFileSync(new URL(`../../crds/${crd}.yaml`, import.meta.url), 'utf8'));
/** The CRD as it was before v2: the storage version alone, no conversion. */
function beforeV2(crd: string) {
  const c = shipped(crd);
  c.spec.versions = c.spec.versions.filter((v: any) => v.storage).map((v: any) => ({ ...v, subresources: { status: {} } }));
  c.spec.conversion = { strategy: 'None' };
  return c;
}
let upgradedAt = 0;

test.before(async () => {
  try {
    kubectl(['create', 'namespace', OPERATOR_NS]);
    ns = freshNamespace('v2');
    // A cluster that holds v1 objects under the CRDs of before: the CRDs are upgraded in place under them.
    for (const crd of ['spicepodsets.spice.ai', 'spicepodclusters.spice.ai']) {
      const live = kubectl(['get', 'crd', crd, '-o', 'json']);
      if (live.code === 0)
        kubectlOk(
          ['replace', '-f', '-'],
          JSON.stringify({ ...beforeV2(crd), metadata: { name: crd, resourceVersion: JSON.parse(live.out).metadata.resourceVersion } }),
        );
      else kubectlOk(['create', '-f', '-'], JSON.stringify(beforeV2(crd)));
    }
    await eventually(
      'the CRDs of before served',
      () =>
        kubectl(['get', 'spicepodsets.v1.spice.ai', '-n', ns]).code === 0 &&
        kubectl(['get', 'spicepodsets.v2.spice.ai', '-n', ns]).code !== 0,
      30_000,
      500,
    );
    for (let i = 0; i < 5; i++)
      apply({
        apiVersion: 'spice.ai/v1',
        kind: 'SpicepodSet',
        metadata: { name: `old-${i}` },
        spec: { replicas: 0, spicepod: { version: 'v1', kind: 'Spicepod', name: 'old' } },
      });
    upgradedAt = Date.now();
    applyShippedCrds({ forceConflicts: true });
    // The webhook server starts after the controllers; the CRDs name it once it serves.
    operator = await startWithCrdWebhooks(['--namespaces', ns, '--handlers', 'workloads,cluster,pki', '--operator-namespace', OPERATOR_NS]);
  } catch (error) {
    console.error(error); // uvu does not print a failed hook
    throw error;
  }
});

test.after(async () => {
  await operator?.stop();
  restoreShippedWebhooks();
});

test('CRDs upgraded in place over v1 objects: every object still served in v1 and v2, and none rewritten', () => {
  const names = kubectlJson(['get', 'spicepodsets.v1.spice.ai', '-n', ns])
    .items.map((o: any) => o.metadata.name)
    .filter((n: string) => n.startsWith('old-'));
  assert.equal(names.sort(), ['old-0', 'old-1', 'old-2', 'old-3', 'old-4']);
  const v2 = kubectlJson(['get', 'spicepodsets.v2.spice.ai', '-n', ns]).items.filter((o: any) => o.metadata.name.startsWith('old-'));
  assert.is(v2.length, 5);
  assert.ok(v2.every((o: any) => o.apiVersion === 'spice.ai/v2' && o.spec.replicas === 0));
  const writes = auditWrites(
    upgradedAt,
    (e) => e.objectRef?.resource === 'spicepodsets' && e.objectRef?.namespace === ns && !e.objectRef?.subresource,
  );
  assert.equal(
    writes.map((e) => `${e.verb} ${e.objectRef?.name} ${e.userAgent}`),
    [],
    'no object was rewritten by the upgrade (the operator writes status only)',
  );
  assert.equal(kubectlJson(['get', 'crd', 'spicepodsets.spice.ai']).status.storedVersions, ['v1']);
});

test('the operator points both CRDs at its conversion webhook, with its CA as caBundle', () => {
  const secret = kubectlJson(['get', 'secret', 'spiceai-operator-webhook-tls', '-n', OPERATOR_NS]);
  for (const crd of ['spicepodsets.spice.ai', 'spicepodclusters.spice.ai']) {
    const client = kubectlJson(['get', 'crd', crd]).spec.conversion.webhook.clientConfig;
    assert.match(client.url, /^https:\/\/127\.0\.0\.1:\d+\/convert$/);
    assert.is(client.service, undefined);
    assert.is(client.caBundle, secret.data['ca.crt']);
  }
});

const v2Set = {
  apiVersion: 'spice.ai/v2',
  kind: 'SpicepodSet',
  metadata: { name: 'docs' },
  spec: {
    replicas: 2,
    image: { repository: 'ghcr.io/spiceai/spiceai', tag: '1.9.0-models', pullPolicy: 'IfNotPresent' },
    http: { port: 8091 },
    flight: { port: 50055 },
    metrics: { port: 9095 },
    service: { enabled: true },
    updateStrategy: { type: 'RollingParallel', maxUnavailable: 1 },
    standbyVersion: { enabled: true, retentionPeriodSeconds: 600 },
    resources: { requests: { cpu: '100m', memory: '128Mi' } },
    spicepod: { version: 'v1', kind: 'Spicepod', name: 'docs' },
  },
};

test('a v2 SpicepodSet from the docs applies, becomes Ready, and reads back through v2 and v1', async () => {
  apply(v2Set);
  const readyV2 = await ready(V2, 'docs');
  assert.is(readyV2.apiVersion, 'spice.ai/v2');
  for (const [k, v] of Object.entries(v2Set.spec)) assert.equal(readyV2.spec[k], v, `v2 spec.${k} reads back as written`);
  assert.is(readyV2.status.replicas, '2/2');
  assert.is(readyV2.status.selector, 'spice.ai/app=docs');
  const v1 = get(V1, 'docs');
  assert.is(v1.apiVersion, 'spice.ai/v1');
  assert.equal(v1.spec.image, { registry: 'ghcr.io', name: 'spiceai/spiceai', tag: '1.9.0-models', pullPolicy: 'IfNotPresent' });
  assert.equal([v1.spec.httpPort, v1.spec.flightPort, v1.spec.metricsPort, v1.spec.enableService], [8091, 50055, 9095, true]);
  assert.equal(v1.spec.instantRollback, { enabled: true, retentionPeriodSeconds: 600 });
  // The operator acted on the v2 meaning: the pods run the repository and ports the v2 manifest named.
  const pod = kubectlJson(['get', 'pods', '-n', ns, '-l', 'spice.ai/app=docs']).items[0];
  assert.is(pod.spec.containers[0].image, 'ghcr.io/spiceai/spiceai:1.9.0-models');
  assert.ok(pod.spec.containers[0].ports.some((p: any) => p.containerPort === 8091));
});

test("v2's volume fields are stored in v1 as written: a second volume template and its mount", () => {
  const spec = {
    replicas: 0,
    spicepod: { version: 'v1', kind: 'Spicepod', name: 'vols' },
    volumeClaimTemplates: [
      { metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '10Gi' } } } },
      { metadata: { name: 'cache' }, spec: { resources: { requests: { storage: '1Gi' } } } },
    ],
    volumeMounts: [{ name: 'cache', mountPath: '/cache' }],
  };
  apply({ apiVersion: 'spice.ai/v2', kind: 'SpicepodSet', metadata: { name: 'vols' }, spec });
  const v2 = get(V2, 'vols');
  assert.equal(v2.spec.volumeClaimTemplates, spec.volumeClaimTemplates);
  assert.equal(v2.spec.volumeMounts, spec.volumeMounts);
  assert.is(v2.metadata.annotations?.['spice.ai/v2-fields'], undefined, 'nothing kept shows on the v2 object');
  const v1 = get(V1, 'vols');
  // v1 has the same two fields (the operator acts on them); a lone plain data template would be volume.
  assert.equal(v1.spec.volumeClaimTemplates, spec.volumeClaimTemplates);
  assert.equal(v1.spec.volumeMounts, spec.volumeMounts);
  assert.is(v1.spec.volume, undefined);
  assert.is(v1.metadata.annotations?.['spice.ai/v2-fields'], undefined, 'nothing is kept aside');
});

const g1 = {
  replicas: 1,
  spiceai_image_registry: 'docker.io',
  spiceai_image_name: 'spiceai/spiceai',
  spiceai_image_tag: '1.9.0-models',
  enable_service: false,
  update_strategy: { type: 'Parallel' },
  spicepod: '# kept as written\nname: legacy\nkind: Spicepod\nversion: v1\n',
};

test('an object created as v1 reads back as v2, then as v1 unchanged, and keeps its spelling after a v2 edit', async () => {
  apply({ apiVersion: 'spice.ai/v1', kind: 'SpicepodSet', metadata: { name: 'legacy' }, spec: g1 });
  const before = get(V1, 'legacy');
  const v2 = get(V2, 'legacy');
  assert.equal(v2.spec.image, { repository: 'docker.io/spiceai/spiceai', tag: '1.9.0-models' });
  assert.equal(v2.spec.service, { enabled: false });
  assert.equal(v2.spec.updateStrategy, { type: 'RollingOrdered' }, 'Parallel reads as the default in v2');
  assert.equal(v2.spec.spicepod, { name: 'legacy', kind: 'Spicepod', version: 'v1' });
  assert.ok(v2.metadata.annotations['spice.ai/v1-fields']);
  // Written back through v2 unchanged (kubectl replace): v1 reads exactly what was there.
  kubectlOk(['replace', '-f', '-'], JSON.stringify(v2));
  const after = get(V1, 'legacy');
  assert.equal(after.spec, before.spec);
  assert.is(after.metadata.annotations?.['spice.ai/v2-fields'], undefined);
  // A v2 edit of another field leaves the v1 spellings alone.
  kubectlOk(['patch', V2, 'legacy', '-n', ns, '--type', 'merge', '-p', JSON.stringify({ spec: { replicas: 2 } })]);
  const edited = get(V1, 'legacy');
  assert.is(edited.spec.replicas, 2);
  assert.equal(edited.spec.update_strategy, { type: 'Parallel' });
  assert.is(edited.spec.spicepod, g1.spicepod);
  assert.is(edited.spec.spiceai_image_tag, '1.9.0-models');
});

test('a v2 SpicepodCluster applies, becomes Ready, and reads back through v1alpha1 with the v1alpha1 status names', async () => {
  apply({
    apiVersion: 'spice.ai/v2',
    kind: 'SpicepodCluster',
    metadata: { name: 'dq' },
    spec: {
      schedulerSpec: {
        replicas: 1,
        spicepod: { version: 'v1', kind: 'Spicepod', name: 'dq', runtime: { scheduler: { state_location: 'file:///tmp/spice-cluster' } } },
        resources: { requests: { cpu: '100m', memory: '256Mi' } },
      },
      executorSpec: { replicas: 2, image: { repository: 'spiceai/spiceai', tag: '1.9.0-models' } },
    },
  });
  await ready(C2, 'dq', 240_000);
  // Ready comes from the cluster handler (its sets); the root certificate fields from the pki handler, maybe a moment later.
  const c2 = await eventually(
    'the root certificate in the v2 status',
    () => {
      const o = get(C2, 'dq');
      return o.status?.rootCertificateSecretName ? o : undefined;
    },
    120_000,
    1000,
  );
  assert.ok(Date.parse(c2.status.rootCertificateExpiresAt) > Date.now());
  assert.is(c2.status.rootSecretName, undefined);
  const c1 = get(C1, 'dq');
  assert.is(c1.status.rootSecretName, c2.status.rootCertificateSecretName);
  assert.is(c1.status.rootExpiresAt, c2.status.rootCertificateExpiresAt);
  assert.equal(c1.spec.executorSetSpec.image, { name: 'spiceai/spiceai', tag: '1.9.0-models' });
  assert.is(c1.spec.schedulerSpec, undefined);
});

test('kubectl scale works through every version of both kinds', async () => {
  kubectlOk(['scale', `${V2}/docs`, '-n', ns, '--replicas', '3']);
  assert.is(get(V1, 'docs').spec.replicas, 3);
  kubectlOk(['scale', `${V1}/docs`, '-n', ns, '--replicas', '1']);
  assert.is(get(V2, 'docs').spec.replicas, 1);
  await ready(V2, 'docs');
  const scale = kubectlJson(['get', `${V1}/docs`, '-n', ns, '--subresource', 'scale']);
  assert.equal([scale.spec.replicas, scale.status.replicas, scale.status.selector], [1, 1, 'spice.ai/app=docs']);
  kubectlOk(['scale', `${C2}/dq`, '-n', ns, '--replicas', '3']);
  assert.is(get(C1, 'dq').spec.executorSetSpec.replicas, 3);
  kubectlOk(['scale', `${C1}/dq`, '-n', ns, '--replicas', '1']);
  assert.is(get(C2, 'dq').spec.executorSpec.replicas, 1);
  await eventually('the executors scaled down', () => get(C2, 'dq').status.executorReadyReplicas === 1, 120_000, 1000);
  const clusterScale = kubectlJson(['get', `${C2}/dq`, '-n', ns, '--subresource', 'scale']);
  assert.equal([clusterScale.spec.replicas, clusterScale.status.selector], [1, 'spice.ai/app=dq-executor']);
});

test('kubectl shows v2 by default, with its descriptions', () => {
  const table = kubectlOk(['get', 'spicepodsets.spice.ai,spicepodclusters.spice.ai', '-n', ns]);
  assert.match(table, /docs\s+1\/1/);
  assert.is(kubectlJson(['get', 'spicepodsets.spice.ai', 'docs', '-n', ns]).apiVersion, 'spice.ai/v2');
  const explain = (field: string) => kubectlOk(['explain', field, '--api-version=spice.ai/v2']).replace(/\s+/g, ' ');
  assert.match(explain('spicepodset.spec.image.repository'), /Full image repository, registry included/);
  assert.match(
    explain('spicepodset.spec.volumeClaimTemplates'),
    /The one named data is mounted at \/data; others need a volumeMounts entry/,
  );
  assert.match(explain('spicepodcluster.spec.executorSpec'), /The executor nodes/);
});

test('a restart rewrites neither the CRDs nor the objects', async () => {
  const since = Date.now();
  await operator!.stop();
  operator = await startWithCrdWebhooks(['--namespaces', ns, '--handlers', 'workloads,cluster,pki', '--operator-namespace', OPERATOR_NS]);
  // A new port is a new URL: the CRDs are written once each. The objects are not rewritten.
  const port = await webhookPort(operator);
  await eventually(
    'the CRDs point at the new port',
    () => kubectlJson(['get', 'crd', 'spicepodsets.spice.ai']).spec.conversion.webhook.clientConfig.url.endsWith(`:${port}/convert`),
    30_000,
    500,
  );
  await new Promise((r) => setTimeout(r, 5000));
  // Only this test's objects (other tests' namespaces being deleted meanwhile show as deletecollection elsewhere).
  const ours = (e: { objectRef?: { resource?: string; namespace?: string } }) =>
    e.objectRef?.resource === 'customresourcedefinitions' || e.objectRef?.namespace === ns;
  const writes = auditWrites(
    since,
    (e) =>
      /customresourcedefinitions|spicepodsets|spicepodclusters/.test(e.objectRef?.resource ?? '') && !e.objectRef?.subresource && ours(e),
  );
  assert.equal(writes.map((e) => `${e.verb} ${e.objectRef?.resource}/${e.objectRef?.name}`).sort(), [
    'update customresourcedefinitions/spicepodclusters.spice.ai',
    'update customresourcedefinitions/spicepodsets.spice.ai',
  ]);
});

test.run();
