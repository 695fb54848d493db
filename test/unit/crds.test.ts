import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { allCrds, spicepodClusterCrd, spicepodSetCrd } from '../../core/spec/crds.ts';
import { expectedCrdFiles } from '../../scripts/crds.ts';

type Schema = Record<string, any>;
const root = new URL('../../', import.meta.url);
const versionOf = (crd: Schema, name?: string) => (name ? crd.spec.versions.find((v: Schema) => v.name === name) : crd.spec.versions[0]);
const schemaOf = (crd: Schema, name?: string) => versionOf(crd, name).schema.openAPIV3Schema;
/** Every served version of every CRD, as [label, openAPIV3Schema]. */
const everySchema = () =>
  (allCrds() as Schema[]).flatMap((crd) =>
    crd.spec.versions.map((v: Schema) => [`${crd.spec.names.kind}/${v.name}`, v.schema.openAPIV3Schema] as const),
  );

/** Visits every schema node with its dotted path. */
function walk(node: Schema, path: string, visit: (node: Schema, path: string) => void) {
  visit(node, path);
  for (const [key, child] of Object.entries(node.properties ?? {})) walk(child as Schema, `${path}.${key}`, visit);
  if (node.items) walk(node.items, `${path}[]`, visit);
  if (node.additionalProperties && typeof node.additionalProperties === 'object') walk(node.additionalProperties, `${path}{}`, visit);
}

test('crds/ is what the schemas generate (run npm run crds when this fails)', () => {
  for (const [path, text] of expectedCrdFiles()) {
    assert.fixture(readFileSync(new URL(path, root), 'utf8'), text, `${path} is stale`);
  }
});

test('every field of spec and status has a description', () => {
  for (const [label, schema] of everySchema()) {
    for (const part of ['spec', 'status']) {
      walk(schema.properties[part], part, (node, path) => {
        if (path.endsWith('[]') || path.endsWith('{}')) return;
        assert.ok(typeof node.description === 'string' && node.description.length > 3, `${label} ${path} has no description`);
      });
    }
  }
});

test('the schemas are structural', () => {
  for (const [label, schema] of everySchema()) {
    walk(schema, label, (node, path) => {
      const special = node['x-kubernetes-int-or-string'] || node['x-kubernetes-preserve-unknown-fields'];
      if (!special) assert.ok(typeof node.type === 'string', `${path} has no type`);
      if (node.anyOf) assert.ok(node['x-kubernetes-int-or-string'], `${path} uses anyOf outside int-or-string`);
      if (node.properties) assert.is(node.additionalProperties, undefined, `${path} mixes properties and additionalProperties`);
      for (const banned of ['$schema', 'oneOf', 'allOf', 'not', 'nullable', '$ref']) {
        assert.is(node[banned], undefined, `${path} uses ${banned}`);
      }
    });
  }
});

test('unknown fields are preserved only where the content is free-form', () => {
  const preserved: string[] = [];
  for (const [label, schema] of everySchema()) {
    walk(schema, label, (node, path) => {
      if (node['x-kubernetes-preserve-unknown-fields']) preserved.push(path);
    });
  }
  assert.equal(preserved.sort(), [
    'SpicepodCluster/v1alpha1.spec.executorSetSpec.spicepod',
    'SpicepodCluster/v1alpha1.spec.schedulerSetSpec.spicepod',
    'SpicepodCluster/v2.spec.executorSpec.spicepod',
    'SpicepodCluster/v2.spec.schedulerSpec.spicepod',
    'SpicepodSet/v1.spec.spicepod',
    'SpicepodSet/v2.spec.spicepod',
  ]);
});

test('defaults, enums and required fields are declared', () => {
  const spec = schemaOf(spicepodSetCrd()).properties.spec;
  assert.equal(spec.required, ['spicepod']);
  assert.is(spec.properties.replicas.default, 1);
  assert.is(spec.properties.replicas.minimum, 0);
  assert.is(spec.properties.updateStrategy.properties.type.default, 'RollingOrdered');
  assert.equal(spec.properties.updateStrategy.properties.type.enum, ['RollingOrdered', 'RollingParallel', 'Parallel', 'BlueGreen']);
  assert.equal(spec.properties.image.properties.pullPolicy.enum, ['Always', 'IfNotPresent', 'Never']);
  assert.is(spec.properties.image.properties.tag.default, 'latest-models');
  assert.is(spec.properties.instantRollback.properties.retentionPeriodSeconds.default, 900);
  assert.ok(spec.properties.volume.properties.storageRequests['x-kubernetes-int-or-string']);
  assert.ok(spec.properties.volume.properties.storageRequests.pattern);
  for (const legacy of ['spiceai_image_tag', 'service_account', 'update_strategy', 'spiced', 'enable_service']) {
    assert.ok(spec.properties[legacy], `legacy field ${legacy} is admitted`);
  }
  const cluster = schemaOf(spicepodClusterCrd()).properties.spec;
  assert.equal(cluster.required.sort(), ['executorSetSpec', 'schedulerSetSpec']);
  assert.equal(cluster.properties.schedulerSetSpec.required, ['spicepod']);
  assert.match(JSON.stringify(cluster.properties.executorSetSpec['x-kubernetes-validations']), /!has\(self.spicepod\)/);
});

test('names, printer columns and the status subresource', () => {
  const set = spicepodSetCrd() as Schema;
  assert.is(set.metadata.name, 'spicepodsets.spice.ai');
  assert.equal(set.spec.names.categories, ['spice']);
  assert.ok(set.spec.names.shortNames.length > 0);
  assert.equal(versionOf(set).subresources, {
    status: {},
    scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.totalReplicas', labelSelectorPath: '.status.selector' },
  });
  assert.equal(versionOf(set, 'v2').subresources, versionOf(set).subresources);
  assert.equal(
    versionOf(set)
      .additionalPrinterColumns.filter((c: Schema) => !c.priority)
      .map((c: Schema) => c.name),
    ['Ready', 'Role', 'Last Updated', 'Age'],
  );
  const cluster = spicepodClusterCrd() as Schema;
  assert.is(versionOf(cluster).name, 'v1alpha1');
  assert.is(versionOf(cluster).subresources.scale.specReplicasPath, '.spec.executorSetSpec.replicas');
  assert.is(versionOf(cluster, 'v2').subresources.scale.specReplicasPath, '.spec.executorSpec.replicas');
  assert.equal(
    versionOf(cluster)
      .additionalPrinterColumns.filter((c: Schema) => !c.priority)
      .map((c: Schema) => c.name),
    ['Schedulers', 'Executors', 'Last Updated', 'Age'],
  );
});

test('v2 is served next to the storage version, converted by the webhook', () => {
  for (const crd of allCrds() as Schema[]) {
    const versions = crd.spec.versions.map((v: Schema) => [v.name, v.served, v.storage]);
    assert.equal(
      versions,
      crd.spec.names.kind === 'SpicepodSet'
        ? [
            ['v1', true, true],
            ['v2', true, false],
          ]
        : [
            ['v1alpha1', true, true],
            ['v2', true, false],
          ],
    );
    assert.is(crd.spec.conversion.strategy, 'Webhook');
    assert.equal(crd.spec.conversion.webhook.clientConfig.service, {
      namespace: 'spiceai-operator-system',
      name: 'spiceai-operator-webhook',
      path: '/convert',
      port: 443,
    });
  }
  const v2 = schemaOf(spicepodSetCrd(), 'v2').properties.spec.properties;
  for (const field of ['image', 'http', 'flight', 'metrics', 'service', 'volumeClaimTemplates', 'volumeMounts', 'standbyVersion'])
    assert.ok(v2[field], `v2 has ${field}`);
  assert.equal(Object.keys(v2.image.properties).sort(), ['pullPolicy', 'pullSecret', 'repository', 'tag']);
  assert.equal(v2.updateStrategy.properties.type.enum, ['RollingOrdered', 'RollingParallel', 'BlueGreen']);
  for (const legacy of ['volume', 'instantRollback', 'httpPort', 'enableService', 'spiceai_image_tag'])
    assert.not.ok(v2[legacy], `v2 has no ${legacy}`);
  const clusterV2 = schemaOf(spicepodClusterCrd(), 'v2');
  assert.equal(Object.keys(clusterV2.properties.spec.properties).sort(), ['allowInsecureConnections', 'executorSpec', 'schedulerSpec']);
  assert.ok(clusterV2.properties.status.properties.rootCertificateSecretName);
  assert.ok(clusterV2.properties.status.properties.rootCertificateExpiresAt);
});

test.run();
