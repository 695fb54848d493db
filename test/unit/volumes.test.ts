// The claims and mounts of a SpicepodSet, case by case: v1's volume, v2's
// volumeClaimTemplates with the full PVC spec, data mounted at /data without
// an entry, others only by volumeMounts; StatefulSets on every path (rolling,
// BlueGreen, cluster nodes), never a Deployment; mounts that do not fit the
// volumes refused with the field named, at reconcile time (InvalidSpec).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { desiredStatefulSet, workloadMode, type SetContext } from '../../core/manifests/spicepodset.ts';
import { VolumeReason, claimMounts, volumeMountProblems } from '../../core/manifests/volumes.ts';
import { normalizeSpicepodSetSpec } from '../../core/spec/normalize.ts';
import type { SpicepodSetSpec } from '../../core/spec/spicepodset.ts';
import { handlerConfig, SPICEPOD } from '../kit/fixtures.ts';
import { desiredChildSet } from '../../core/manifests/spicepodcluster.ts';
import { spicepodClusterSpecSchema } from '../../core/spec/spicepodcluster.ts';
import { SetWorld } from '../kit/set-world.ts';

const spec = (s: Record<string, unknown>): SpicepodSetSpec => {
  const n = normalizeSpicepodSetSpec({ spicepod: SPICEPOD, ...s });
  if (!n.ok) throw new Error(JSON.stringify(n.problems));
  return n.spec;
};
const ctx = (s: Record<string, unknown>): SetContext => ({ set: 'app', namespace: 'ns', spec: spec(s), config: handlerConfig() });
const sts = (s: Record<string, unknown>, version?: string): any => desiredStatefulSet(ctx(s), { ordinal: 0, replicas: 1, version });

const TWO = {
  volumeClaimTemplates: [
    {
      metadata: { name: 'data' },
      spec: { accessModes: ['ReadWriteOnce'], storageClassName: 'fast', resources: { requests: { storage: '10Gi' } } },
    },
    {
      metadata: { name: 'cache', labels: { tier: 'scratch' }, annotations: { note: 'x' } },
      spec: {
        accessModes: ['ReadWriteMany'],
        storageClassName: 'shared',
        volumeMode: 'Filesystem',
        resources: { requests: { storage: '5Gi' }, limits: { storage: '8Gi' } },
      },
    },
  ],
  volumeMounts: [{ name: 'cache', mountPath: '/var/cache/spice', readOnly: false }],
};

test('two templates: each is a claim template with its full PVC spec; data at /data, the other where volumeMounts says', () => {
  const s = sts(TWO);
  assert.equal(s.spec.volumeClaimTemplates, [
    {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: 'data', labels: { 'spice.ai/app': 'app' }, annotations: undefined },
      spec: {
        accessModes: ['ReadWriteOnce'],
        storageClassName: 'fast',
        resources: { requests: { storage: '10Gi' }, limits: undefined },
        volumeMode: undefined,
        selector: undefined,
        volumeName: undefined,
      },
    },
    {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: 'cache', labels: { tier: 'scratch', 'spice.ai/app': 'app' }, annotations: { note: 'x' } },
      spec: {
        accessModes: ['ReadWriteMany'],
        storageClassName: 'shared',
        resources: { requests: { storage: '5Gi' }, limits: { storage: '8Gi' } },
        volumeMode: 'Filesystem',
        selector: undefined,
        volumeName: undefined,
      },
    },
  ]);
  const mounts = s.spec.template.spec.containers[0].volumeMounts;
  assert.equal(mounts, [
    { name: 'spicepod', mountPath: '/app/spicepod.yaml', subPath: 'spicepod.yaml', readOnly: true },
    { name: 'data', mountPath: '/data' },
    { name: 'cache', mountPath: '/var/cache/spice', readOnly: false },
  ]);
  assert.equal(s.spec.persistentVolumeClaimRetentionPolicy, { whenDeleted: 'Retain', whenScaled: 'Retain' });
});

test("defaults: a template without a name is data, without accessModes ReadWriteOnce, without a storage request 1Gi (as v1's volume)", () => {
  const s = sts({ volumeClaimTemplates: [{ spec: {} }] });
  assert.is(s.spec.volumeClaimTemplates[0].metadata.name, 'data');
  assert.equal(s.spec.volumeClaimTemplates[0].spec.accessModes, ['ReadWriteOnce']);
  assert.equal(s.spec.volumeClaimTemplates[0].spec.resources.requests, { storage: '1Gi' });
  assert.ok(s.spec.template.spec.containers[0].volumeMounts.some((m: { mountPath: string }) => m.mountPath === '/data'));
});

test("a template data with the same fields as v1's volume renders the same StatefulSet as volume (a v2 object of a v1 set does not roll it)", () => {
  const json = (o: unknown) => JSON.stringify(o);
  assert.is(
    json(
      sts({
        volumeClaimTemplates: [
          { metadata: { name: 'data' }, spec: { storageClassName: 'fast', resources: { requests: { storage: '10Gi' } } } },
        ],
      }),
    ),
    json(sts({ volume: { storageClassName: 'fast', storageRequests: '10Gi' } })),
  );
});

test('a volumeMounts entry for data replaces its /data mount; a subPath is kept', () => {
  assert.equal(
    claimMounts(
      spec({ volumeClaimTemplates: [{ spec: {} }], volumeMounts: [{ name: 'data', mountPath: '/var/lib/spice', subPath: 'db' }] }),
    ),
    [{ name: 'data', mountPath: '/var/lib/spice', subPath: 'db' }],
  );
  assert.equal(
    claimMounts(spec({ volume: { storageRequests: '1Gi' }, volumeMounts: [{ name: 'data', mountPath: '/data', readOnly: true }] })),
    [{ name: 'data', mountPath: '/data', readOnly: true }],
  );
});

test("claims mean StatefulSets: one replica with templates is never a Deployment, as with v1's volume; an empty list is none", () => {
  assert.is(workloadMode(spec({ volumeClaimTemplates: [{ spec: {} }] })), 'StatefulSets');
  assert.is(workloadMode(spec({ volume: {} })), 'StatefulSets');
  assert.is(workloadMode(spec({ volumeClaimTemplates: [] })), 'Deployment');
  assert.is(workloadMode(spec({})), 'Deployment');
});

test('BlueGreen generations get the templates too, with claims deleted with the generation', () => {
  const s = sts({ ...TWO, updateStrategy: { type: 'BlueGreen' } }, 'abcdef0123');
  assert.equal(
    s.spec.volumeClaimTemplates.map((t: { metadata: { name: string } }) => t.metadata.name),
    ['data', 'cache'],
  );
  assert.ok(s.spec.template.spec.containers[0].volumeMounts.some((m: { name: string }) => m.name === 'cache'));
});

test('the workloads handler: rolling and BlueGreen sets and a cluster node render the templates and mounts', async () => {
  for (const extra of [{}, { updateStrategy: { type: 'BlueGreen' } }, { replicas: 2, updateStrategy: { type: 'RollingParallel' } }]) {
    const w = new SetWorld({ spicepod: SPICEPOD, ...TWO, ...extra });
    await w.pass();
    const sets = w.kinds().filter((k) => k.startsWith('StatefulSet/'));
    assert.ok(sets.length >= 1, JSON.stringify(w.kinds()));
    assert.ok(!w.kinds().some((k) => k.startsWith('Deployment/')), 'never a Deployment');
    for (const k of sets) {
      const o = w.object('StatefulSet', k.slice('StatefulSet/'.length));
      assert.equal(
        o.spec.volumeClaimTemplates.map((t: { metadata: { name: string } }) => t.metadata.name),
        ['data', 'cache'],
        `${k} ${JSON.stringify(extra)}`,
      );
      assert.equal(
        o.spec.template.spec.containers[0].volumeMounts.map((m: { mountPath: string }) => m.mountPath),
        ['/app/spicepod.yaml', '/data', '/var/cache/spice'],
      );
    }
  }
  const node = sts({
    ...TWO,
    cluster: { role: 'scheduler', clusterName: 'c' },
    spicepod: { ...SPICEPOD, runtime: { scheduler: { state_location: 'file:///data/state' } } },
  });
  assert.equal(
    node.spec.template.spec.containers[0].volumeMounts.map((m: { name: string }) => m.name),
    ['spicepod', 'data', 'cache', 'node-tls'],
  );
});

test("growing a template's storage patches its claims only; a smaller size is reported with the field named", async () => {
  const w = new SetWorld({ spicepod: SPICEPOD, ...TWO });
  await w.pass();
  const pvc = (name: string, storage: string) => ({
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name, namespace: 'ns', labels: { 'spice.ai/app': 'app' } },
    spec: { resources: { requests: { storage } } },
  });
  w.putRelated(pvc('data-app-0-0', '10Gi'));
  w.putRelated(pvc('cache-app-0-0', '5Gi'));
  const grown = structuredClone(TWO);
  grown.volumeClaimTemplates[1]!.spec.resources = { requests: { storage: '6Gi' }, limits: { storage: '8Gi' } };
  w.setSpec({ spicepod: SPICEPOD, ...grown });
  const desired = await w.pass();
  assert.equal(
    desired.patch?.filter((p) => p.target.kind === 'PersistentVolumeClaim').map((p) => [p.target.name, p.patch]),
    [['cache-app-0-0', { spec: { resources: { requests: { storage: '6Gi' } } } }]],
  );
  assert.match(w.condition('VolumeResized')?.message ?? '', /10Gi \(data\), 6Gi \(cache\)/);
  const shrunk = structuredClone(grown);
  shrunk.volumeClaimTemplates[0]!.spec.resources = { requests: { storage: '1Gi' } };
  w.setSpec({ spicepod: SPICEPOD, ...shrunk });
  await w.pass();
  assert.is(w.condition('VolumeResized')?.reason, 'ShrinkNotSupported');
  assert.match(
    w.condition('VolumeResized')?.message ?? '',
    /^volumeClaimTemplates\[0\]\.spec\.resources\.requests\.storage is below the size of data-app-0-0 \(10Gi\); volumes cannot shrink/,
  );
});

const problems = (s: Record<string, unknown>) => volumeMountProblems(spec(s)).map((p) => `${p.reason} ${p.field}`);

test('mounts that do not fit the volumes: unknown volume, template not mounted, path taken, reserved name', () => {
  assert.equal(problems({ volumeClaimTemplates: [{ spec: {} }], volumeMounts: [{ name: 'cahce', mountPath: '/cache' }] }), [
    `${VolumeReason.MountUnknownVolume} spec.volumeMounts[0].name`,
  ]);
  assert.equal(
    problems({ volumeMounts: [{ name: 'cache', mountPath: '/cache' }] }),
    [`${VolumeReason.MountUnknownVolume} spec.volumeMounts[0].name`],
    'no templates at all',
  );
  assert.equal(problems({ volumeClaimTemplates: [{ spec: {} }, { metadata: { name: 'cache' }, spec: {} }] }), [
    `${VolumeReason.NotMounted} spec.volumeClaimTemplates[1]`,
  ]);
  assert.equal(
    problems({
      volumeClaimTemplates: [{ spec: {} }, { metadata: { name: 'cache' }, spec: {} }],
      volumeMounts: [{ name: 'cache', mountPath: '/data' }],
    }),
    [`${VolumeReason.MountPathTaken} spec.volumeMounts[0].mountPath`],
  );
  assert.equal(
    problems({
      volumeClaimTemplates: [{ metadata: { name: 'spicepod' }, spec: {} }],
      volumeMounts: [{ name: 'spicepod', mountPath: '/x' }],
    }),
    [`${VolumeReason.NameReserved} spec.volumeClaimTemplates[0].metadata.name`],
  );
  assert.equal(problems({ volumeMounts: [{ name: 'spicepod', mountPath: '/app/spicepod.yaml' }] }), [
    `${VolumeReason.MountPathTaken} spec.volumeMounts[0].mountPath`,
  ]);
  // The pod's own volumes may be mounted again; data may move.
  assert.equal(problems({ volumeMounts: [{ name: 'spicepod', mountPath: '/etc/spicepod' }] }), []);
  assert.equal(problems({ volume: {}, volumeMounts: [{ name: 'data', mountPath: '/var/lib/spice' }] }), []);
  assert.equal(problems(TWO), []);
  // node-tls is a volume of a cluster node with mTLS, not of a plain set.
  assert.equal(problems({ volumeMounts: [{ name: 'node-tls', mountPath: '/tls' }] }), [
    `${VolumeReason.MountUnknownVolume} spec.volumeMounts[0].name`,
  ]);
});

test('volume and volumeClaimTemplates together are InvalidSpec, naming the field', () => {
  const n = normalizeSpicepodSetSpec({ spicepod: SPICEPOD, volume: {}, volumeClaimTemplates: [{ spec: {} }] });
  assert.ok(!n.ok && n.problems.some((p) => p.field === 'spec.volumeClaimTemplates'), JSON.stringify(n));
});

test('the backstop: a set whose mount names no volume gets Ready=False InvalidSpec naming the field, and nothing is written', async () => {
  const w = new SetWorld({
    spicepod: SPICEPOD,
    volumeClaimTemplates: [{ spec: {} }],
    volumeMounts: [{ name: 'cahce', mountPath: '/cache' }],
  });
  const desired = await w.pass();
  assert.equal(desired.apply, []);
  const ready = w.condition('Ready');
  assert.is(ready?.reason, 'InvalidSpec');
  assert.match(ready?.message ?? '', /spec\.volumeMounts\[0\]\.name "cahce" is neither a volumeClaimTemplate nor a volume of the pods/);
});

test("a cluster node spec's templates and mounts reach its child set, and the child's StatefulSets mount them next to the node certificate", () => {
  const cluster = spicepodClusterSpecSchema.parse({
    schedulerSetSpec: { spicepod: { ...SPICEPOD, runtime: { scheduler: { state_location: 'file:///data/state' } } } },
    executorSetSpec: {
      replicas: 2,
      volumeClaimTemplates: [{ metadata: { name: 'spill' }, spec: { resources: { requests: { storage: '20Gi' } } } }],
      volumeMounts: [{ name: 'spill', mountPath: '/spill' }],
    },
  });
  const child = desiredChildSet('c', 'ns', cluster, 'executor', 'cluster.local');
  const childSpec = child.spec as Record<string, unknown>;
  assert.equal(childSpec.volumeMounts, [{ name: 'spill', mountPath: '/spill' }]);
  const s = sts(childSpec);
  assert.equal(
    s.spec.volumeClaimTemplates.map((t: { metadata: { name: string }; spec: { resources: { requests: { storage: string } } } }) => [
      t.metadata.name,
      t.spec.resources.requests.storage,
    ]),
    [['spill', '20Gi']],
  );
  assert.equal(
    s.spec.template.spec.containers[0].volumeMounts.map((m: { name: string }) => m.name),
    ['spicepod', 'spill', 'node-tls'],
  );
});

test.run();
