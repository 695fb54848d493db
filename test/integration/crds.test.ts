// The CRDs on a real API server: applied by the CLI, examples accepted with
// defaults filled in, bad specs refused with the field named.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse, stringify } from 'yaml';
import { freshNamespace, kubectl, kubectlJson, kubectlOk, testKubeconfig } from '../harness/kube.ts';

const bin = new URL('../../bin/spiceai-operator.mjs', import.meta.url).pathname;
const example = (name: string) => readFileSync(new URL(`../../examples/${name}.yaml`, import.meta.url), 'utf8');

function cli(args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, KUBECONFIG: testKubeconfig() } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

let ns = '';

test('crd --apply creates both CRDs, and a second run reports unchanged', async () => {
  kubectl(['delete', 'crd', 'spicepodsets.spice.ai', 'spicepodclusters.spice.ai', '--ignore-not-found', '--wait=true']);
  const first = cli(['crd', '--apply']);
  assert.is(first.code, 0, first.err);
  assert.equal(first.out.trim().split('\n'), [
    'customresourcedefinition.apiextensions.k8s.io/spicepodsets.spice.ai created',
    'customresourcedefinition.apiextensions.k8s.io/spicepodclusters.spice.ai created',
  ]);
  const second = cli(['crd', '--apply']);
  assert.is(second.code, 0, second.err);
  assert.equal(second.out.trim().split('\n'), [
    'customresourcedefinition.apiextensions.k8s.io/spicepodsets.spice.ai unchanged',
    'customresourcedefinition.apiextensions.k8s.io/spicepodclusters.spice.ai unchanged',
  ]);
  ns = freshNamespace('crds');
});

test('crd | kubectl apply --dry-run=server succeeds', () => {
  const yaml = cli(['crd']).out;
  const r = kubectl(['apply', '--server-side', '--dry-run=server', '-f', '-'], yaml);
  assert.is(r.code, 0, r.err);
});

test('the examples are accepted and read back with defaults filled in', async () => {
  for (const name of ['spicepodset-minimal', 'spicepodset-full', 'spicepodset-legacy', 'spicepodcluster']) {
    const r = kubectl(['apply', '--server-side', '-n', ns, '-f', '-'], example(name).replace('namespace: default', `namespace: ${ns}`));
    assert.is(r.code, 0, `${name}: ${r.err}`);
  }
  const minimal = kubectlJson(['get', 'spicepodset', 'my-spicepod', '-n', ns]);
  assert.is(minimal.spec.replicas, 1, 'replicas defaulted');
  assert.equal(minimal.spec.spicepod, { version: 'v1', kind: 'Spicepod', name: 'my-spicepod' }, 'Spicepod kept as given');
  const full = kubectlJson(['get', 'sps', 'taxi', '-n', ns]);
  assert.is(full.spec.image.tag, '1.9.0-models');
  assert.is(full.spec.volume.storageRequests, '10Gi');
  assert.is(full.spec.serviceAccount.enabled, true);
  assert.is(full.spec.spicepod.datasets[0].params.file_format, 'parquet', 'nested Spicepod fields preserved');
  assert.equal(full.spec.network.egress, parse(example('spicepodset-full')).spec.network.egress);
  const legacy = kubectlJson(['get', 'spicepodset', 'legacy-spicepod', '-n', ns]);
  assert.is(legacy.spec.spiceai_image_tag, '1.9.0-models', 'snake_case fields are kept');
  assert.is(legacy.spec.update_strategy.max_unavailable, 1);
  assert.is(typeof legacy.spec.spicepod, 'string', 'a YAML-string Spicepod is kept');
  const cluster = kubectlJson(['get', 'spicepodcluster', 'my-cluster', '-n', ns]);
  assert.is(cluster.spec.allowInsecureConnections, false, 'allowInsecureConnections defaulted');
  assert.is(cluster.spec.executorSetSpec.replicas, 3);
  assert.is(cluster.spec.schedulerSetSpec.spicepod.runtime.scheduler.state_location, 'file:///tmp/spice-cluster');
  // Short name, category and printer columns as kubectl shows them.
  const table = kubectlOk(['get', 'spice', '-n', ns]);
  assert.match(table, /NAME\s+READY\s+ROLE\s+LAST UPDATED\s+AGE/);
  assert.match(table, /NAME\s+SCHEDULERS\s+EXECUTORS\s+LAST UPDATED\s+AGE/);
  assert.match(kubectlOk(['get', 'spc', '-n', ns]), /my-cluster/);
});

test('kubectl explain shows our descriptions', () => {
  const out = kubectlOk(['explain', 'spicepodset.spec.updateStrategy']);
  assert.match(out, /How pods are replaced when the spec changes/);
  assert.match(out, /minReadyForCutover/);
  assert.match(kubectlOk(['explain', 'spicepodset.spec.updateStrategy.type']), /RollingOrdered: one replica at a time/);
  assert.match(kubectlOk(['explain', 'spicepodcluster.spec.allowInsecureConnections']), /Development only/);
});

function refused(manifest: object, field: RegExp) {
  const r = kubectl(['create', '-n', ns, '-f', '-'], stringify(manifest));
  assert.is.not(r.code, 0, `expected the API server to refuse ${JSON.stringify(manifest)}`);
  assert.match(r.err, field, `the error names the field: ${r.err}`);
}

const set = (name: string, spec: object) => ({ apiVersion: 'spice.ai/v1', kind: 'SpicepodSet', metadata: { name }, spec });
const pod = { version: 'v1', kind: 'Spicepod', name: 'p' };

test('bad specs are refused by the API server, naming the field', () => {
  refused(set('neg', { spicepod: pod, replicas: -1 }), /spec\.replicas/);
  refused(
    set('strategy', { spicepod: pod, updateStrategy: { type: 'Sideways' } }),
    /spec\.updateStrategy\.type.*Unsupported value: "Sideways"/,
  );
  refused(set('nopod', { replicas: 1 }), /spec\.spicepod: Required value/);
  refused(set('policy', { spicepod: pod, image: { pullPolicy: 'Sometimes' } }), /spec\.image\.pullPolicy.*Unsupported value: "Sometimes"/);
  refused(set('qty', { spicepod: pod, volume: { storageRequests: 'ten gigs' } }), /spec\.volume\.storageRequests/);
  refused(set('port', { spicepod: pod, httpPort: 70000 }), /spec\.httpPort/);
  refused(
    {
      apiVersion: 'spice.ai/v1alpha1',
      kind: 'SpicepodCluster',
      metadata: { name: 'bad-cluster' },
      spec: { schedulerSetSpec: { spicepod: pod }, executorSetSpec: { replicas: 1, spicepod: pod } },
    },
    /spec\.executorSetSpec\.spicepod.*executorSetSpec does not accept spicepod/,
  );
  // Refused even when the client does not ask for strict field validation.
  const r = kubectl(
    ['create', '--validate=false', '-n', ns, '-f', '-'],
    stringify({
      apiVersion: 'spice.ai/v1alpha1',
      kind: 'SpicepodCluster',
      metadata: { name: 'bad-cluster-2' },
      spec: { schedulerSetSpec: { spicepod: pod }, executorSetSpec: { spicepod: pod } },
    }),
  );
  assert.is.not(r.code, 0);
  assert.match(r.err, /spec\.executorSetSpec\.spicepod/);
});

test.after(() => {
  if (ns) kubectl(['delete', 'namespace', ns, '--wait=false']);
});

test.run();
