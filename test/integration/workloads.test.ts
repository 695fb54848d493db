// SpicepodSets end to end: the operator runs as its own process against the
// real control plane; kwok plays the kubelets, so pods are scheduled and
// become Ready. Rollout order is recorded from watch events, not polling, and
// ordered by resourceVersion.
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { stringify } from 'yaml';

import { Informer } from '../../shim/informer.ts';
import { KubeClient } from '../../shim/kube/client.ts';
import { loadKubeConfig } from '../../shim/kube/kubeconfig.ts';
import {
  auditWrites,
  eventually,
  freshNamespace,
  kubectl,
  kubectlJson,
  kubectlOk,
  namespaceState,
  testKubeconfig,
} from '../harness/kube.ts';
import { startOperator, type OperatorProcess } from '../harness/operator.ts';
import { ANNOTATION_REVISION } from '../../core/annotations.ts';

const OPERATOR_NS = 'spiceai-operator-system';
const spicepod = { version: 'v1', kind: 'Spicepod', name: 'app' };
let ns = '';
let operator: OperatorProcess | undefined;
const client = new KubeClient(loadKubeConfig(testKubeconfig()));

function applySet(name: string, spec: Record<string, unknown>) {
  kubectlOk(
    ['apply', '--server-side', '-n', ns, '-f', '-'],
    stringify({ apiVersion: 'spice.ai/v1', kind: 'SpicepodSet', metadata: { name }, spec }),
  );
}
const getSet = (name: string) => kubectlJson(['get', 'spicepodset', name, '-n', ns]);
const condition = (set: any, type: string) => set.status?.conditions?.find((c: any) => c.type === type);
const owned = (kind: string, set: string) =>
  kubectlJson(['get', kind, '-n', ns, '-l', `spice.ai/app=${set}`])
    .items.filter((o: any) => !o.metadata.deletionTimestamp)
    .map((o: any) => o.metadata.name)
    .sort();

async function waitReady(name: string, timeoutMs = 90_000) {
  try {
    return await eventually(
      `${name} Ready`,
      () => {
        const set = getSet(name);
        if (set.status?.observedGeneration === set.metadata.generation && condition(set, 'Ready')?.status === 'True') return set;
        const ready = condition(set, 'Ready');
        throw new Error(
          `generation ${set.metadata.generation}, observed ${set.status?.observedGeneration}; Ready=${ready?.status} ${ready?.reason}: ${ready?.message}`,
        );
      },
      timeoutMs,
      500,
    );
  } catch (error) {
    throw new Error(`${(error as Error).message} | ${namespaceState(ns, `spice.ai/app=${name}`)}`);
  }
}

test.before(async () => {
  kubectlOk(['apply', '--server-side', '-f', '-'], readFileSync(new URL('../../crds/spicepodsets.spice.ai.yaml', import.meta.url), 'utf8'));
  kubectl(['create', 'namespace', OPERATOR_NS]);
  ns = freshNamespace('wl');
  operator = await startOperator(['--namespaces', ns, '--handlers', 'workloads']);
});

test('a new set gets every child and its pod becomes Ready; kubectl wait works', async () => {
  applySet('basic', { spicepod, serviceAccount: { enabled: true, create: true, annotations: { 'eks.amazonaws.com/role-arn': 'arn:x' } } });
  const r = kubectl(['wait', '--for=condition=Ready', 'spicepodset/basic', '-n', ns, '--timeout=90s']);
  assert.is(r.code, 0, r.err);
  assert.equal(owned('configmap', 'basic'), ['basic-spicepod']);
  assert.equal(owned('service', 'basic'), ['basic']);
  assert.equal(owned('deployment', 'basic'), ['basic']);
  assert.equal(owned('serviceaccount', 'basic'), ['basic']);
  assert.equal(owned('role', 'basic'), ['basic-spicepod']);
  assert.equal(owned('rolebinding', 'basic'), ['basic-spicepod']);
  const pods = kubectlJson(['get', 'pods', '-n', ns, '-l', 'spice.ai/app=basic']).items;
  assert.is(pods.length, 1);
  assert.is(pods[0].status.phase, 'Running');
  assert.is(pods[0].spec.serviceAccountName, 'basic');
  const set = getSet('basic');
  assert.is(set.status.replicas, '1/1');
  assert.is(set.status.role, '<none>');
  assert.match(kubectlOk(['get', 'spicepodset', 'basic', '-n', ns]), /basic\s+1\/1\s+<none>/);
  const dep = kubectlJson(['get', 'deployment', 'basic', '-n', ns]);
  assert.is(dep.metadata.ownerReferences[0].kind, 'SpicepodSet');
  assert.is(dep.metadata.labels['app.kubernetes.io/managed-by'], 'spiceai-operator');
});

async function reconciles(): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${operator!.metricsPort}/metrics`)).text();
  return [...text.matchAll(/^spiceai_operator_reconcile_total\{controller="workloads",[^}]*\} (\d+)$/gm)].reduce(
    (n, m) => n + Number(m[1]),
    0,
  );
}

test('children changed by hand are put back; a child whose status changes, or that gets new annotations, is not reconciled for', async () => {
  const hash = kubectlJson(['get', 'deployment', 'basic', '-n', ns]).metadata.annotations['spice.ai/applied-hash'];
  kubectlOk(['annotate', 'deployment', 'basic', '-n', ns, '--overwrite', 'spice.ai/applied-hash=edited']);
  await eventually(
    'the applied-hash annotation put back',
    () => kubectlJson(['get', 'deployment', 'basic', '-n', ns]).metadata.annotations['spice.ai/applied-hash'] === hash,
  );
  kubectlOk(['scale', 'deployment', 'basic', '-n', ns, '--replicas=3']);
  kubectlOk([
    'patch',
    'configmap',
    'basic-spicepod',
    '-n',
    ns,
    '--type=merge',
    '-p',
    JSON.stringify({ data: { 'spicepod.yaml': 'edited' } }),
  ]);
  kubectlOk([
    'patch',
    'service',
    'basic',
    '-n',
    ns,
    '--type=merge',
    '-p',
    JSON.stringify({ spec: { selector: { 'spice.ai/app': 'other' } } }),
  ]);
  await eventually('the Deployment scaled back', () => kubectlJson(['get', 'deployment', 'basic', '-n', ns]).spec.replicas === 1);
  await eventually('the Spicepod put back', () =>
    /name: app/.test(kubectlJson(['get', 'configmap', 'basic-spicepod', '-n', ns]).data['spicepod.yaml']),
  );
  await eventually(
    'the selector put back',
    () => kubectlJson(['get', 'service', 'basic', '-n', ns]).spec.selector['spice.ai/app'] === 'basic',
  );
  await waitReady('basic');
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  // The workloads handler reads readiness from pods, never a Deployment's status, nor annotations
  // others add: five status changes (and whatever the controller-manager writes back) and three
  // new annotations cause no reconcile.
  const before = await reconciles();
  for (let i = 1; i <= 5; i++) {
    kubectlOk([
      'patch',
      'deployment',
      'basic',
      '-n',
      ns,
      '--subresource=status',
      '--type=merge',
      '-p',
      JSON.stringify({ status: { collisionCount: i } }),
    ]);
  }
  for (let i = 1; i <= 3; i++) kubectlOk(['annotate', 'deployment', 'basic', '-n', ns, `example.com/note-${i}=x`]);
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  assert.ok((await reconciles()) - before <= 1, `${(await reconciles()) - before} reconciles after status changes and added annotations`);
});

test('1 -> 3 replicas moves to per-replica StatefulSets, 3 -> 1 back, with no orphans', async () => {
  applySet('scale', { spicepod });
  await waitReady('scale');
  applySet('scale', { spicepod, replicas: 3 });
  await waitReady('scale');
  await eventually('the Deployment to go', () => owned('deployment', 'scale').length === 0);
  assert.equal(owned('statefulset', 'scale'), ['scale-0', 'scale-1', 'scale-2']);
  assert.equal(owned('service', 'scale'), ['scale', 'scale-headless']);
  assert.is(getSet('scale').status.replicas, '3/3');
  applySet('scale', { spicepod, replicas: 1 });
  await waitReady('scale');
  await eventually('the StatefulSets to go', () => owned('statefulset', 'scale').length === 0);
  assert.equal(owned('deployment', 'scale'), ['scale']);
  assert.equal(owned('service', 'scale'), ['scale']);
  await eventually('only one pod left', () => owned('pod', 'scale').length === 1);
});

interface Step {
  /** The resourceVersion of the change: one etcd's revision, so it orders changes across kinds. */
  at: number;
  what: 'template' | 'ready';
  ordinal: number;
}

/**
 * Records when each StatefulSet moves to a new template and when each new pod is Ready, in the
 * order the API server made those changes (two watches may deliver them in either order).
 */
async function recordRollout(set: string, oldRevision: string) {
  const steps: Step[] = [];
  const add = (step: Step) => {
    steps.push(step);
    steps.sort((a, b) => a.at - b.at);
  };
  const ordinal = (name: string) => Number(/-(\d+)(?:-0)?$/.exec(name)![1]);
  const seenTemplate = new Set<string>();
  const seenReady = new Set<string>();
  const sts = new Informer(client, {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    namespace: ns,
    labelSelector: `spice.ai/app=${set}`,
    onEvent: (_t, o: any) => {
      const rev = o.spec.template.metadata.annotations[ANNOTATION_REVISION];
      if (rev !== oldRevision && !seenTemplate.has(o.metadata.name)) {
        seenTemplate.add(o.metadata.name);
        add({ at: Number(o.metadata.resourceVersion), what: 'template', ordinal: ordinal(o.metadata.name) });
      }
    },
  });
  const pods = new Informer(client, {
    apiVersion: 'v1',
    kind: 'Pod',
    namespace: ns,
    labelSelector: `spice.ai/app=${set}`,
    onEvent: (_t, p: any) => {
      const ready = p.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True');
      if (ready && p.metadata.annotations?.[ANNOTATION_REVISION] !== oldRevision && !seenReady.has(p.metadata.name)) {
        seenReady.add(p.metadata.name);
        add({ at: Number(p.metadata.resourceVersion), what: 'ready', ordinal: ordinal(p.metadata.name) });
      }
    },
  });
  await Promise.all([sts.start(), pods.start()]);
  return { steps, stop: () => Promise.all([sts.stop(), pods.stop()]) };
}

const revisionOf = (set: string) =>
  kubectlJson(['get', 'statefulset', `${set}-0`, '-n', ns]).spec.template.metadata.annotations[ANNOTATION_REVISION];

test('RollingOrdered replaces one replica at a time, in ordinal order, each Ready before the next', async () => {
  applySet('ordered', { spicepod, replicas: 3 });
  await waitReady('ordered');
  const recorder = await recordRollout('ordered', revisionOf('ordered'));
  applySet('ordered', { spicepod: { ...spicepod, datasets: [] }, replicas: 3 });
  await eventually('3 new pods Ready', () => recorder.steps.filter((s) => s.what === 'ready').length === 3, 120_000);
  await waitReady('ordered');
  await recorder.stop();
  const order = recorder.steps.map((s) => `${s.what}:${s.ordinal}`);
  assert.equal(order, ['template:0', 'ready:0', 'template:1', 'ready:1', 'template:2', 'ready:2'], `observed ${order.join(' ')}`);
});

test('Parallel replaces every replica at once', async () => {
  applySet('parallel', { spicepod, replicas: 3, updateStrategy: { type: 'Parallel' } });
  await waitReady('parallel');
  const recorder = await recordRollout('parallel', revisionOf('parallel'));
  applySet('parallel', { spicepod: { ...spicepod, datasets: [] }, replicas: 3, updateStrategy: { type: 'Parallel' } });
  await eventually('3 new pods Ready', () => recorder.steps.filter((s) => s.what === 'ready').length === 3, 120_000);
  await recorder.stop();
  const firstReady = recorder.steps.findIndex((s) => s.what === 'ready');
  const templatesBefore = recorder.steps.slice(0, firstReady).filter((s) => s.what === 'template').length;
  assert.is(
    templatesBefore,
    3,
    `all three templates changed before any new pod was Ready: ${recorder.steps.map((s) => `${s.what}:${s.ordinal}`).join(' ')}`,
  );
});

test('RollingParallel replaces maxUnavailable replicas at once, never more', async () => {
  const strategy = { type: 'RollingParallel', maxUnavailable: 2 };
  applySet('bounded', { spicepod, replicas: 4, updateStrategy: strategy });
  await waitReady('bounded');
  const recorder = await recordRollout('bounded', revisionOf('bounded'));
  applySet('bounded', { spicepod: { ...spicepod, datasets: [] }, replicas: 4, updateStrategy: strategy });
  await eventually('4 new pods Ready', () => recorder.steps.filter((s) => s.what === 'ready').length === 4, 120_000);
  await recorder.stop();
  // Replicas between their new template and their new pod's readiness, after each step.
  let inFlight = 0;
  const widths = recorder.steps.map((s) => (inFlight += s.what === 'template' ? 1 : -1));
  const order = recorder.steps.map((s) => `${s.what}:${s.ordinal}`).join(' ');
  assert.is(Math.max(...widths), 2, `two replicas at once, never more: ${order}`);
  assert.is(recorder.steps.filter((s) => s.what === 'template').length, 4, order);
});

test('replicas 0 pauses: no pods, supporting objects kept, pauseReason set', async () => {
  applySet('pause', { spicepod, replicas: 2 });
  await waitReady('pause');
  applySet('pause', { spicepod, replicas: 0 });
  await eventually('pods gone', () => owned('pod', 'pause').length === 0);
  const set = await eventually('Paused condition', () => {
    const s = getSet('pause');
    return condition(s, 'Paused')?.status === 'True' ? s : undefined;
  });
  assert.is(set.status.pauseReason, 'ScaledToZero');
  assert.equal(owned('configmap', 'pause'), ['pause-spicepod']);
  assert.equal(owned('service', 'pause'), ['pause']);
});

test('an invalid spec is reported in status and as an Event, and nothing is touched', async () => {
  applySet('invalid', { spicepod });
  await waitReady('invalid');
  const before = owned('deployment', 'invalid');
  applySet('invalid', { spicepod, serviceAccount: { enabled: true, create: false } });
  const set = await eventually('InvalidSpec', () => {
    const s = getSet('invalid');
    return condition(s, 'Ready')?.reason === 'InvalidSpec' ? s : undefined;
  });
  assert.match(condition(set, 'Ready').message, /spec\.serviceAccount\.name/);
  const events = await eventually('an InvalidSpec Event', () =>
    kubectlJson(['get', 'events', '-n', ns, '--field-selector', 'involvedObject.name=invalid,reason=InvalidSpec']).items.length > 0
      ? true
      : undefined,
  );
  assert.ok(events);
  assert.equal(owned('deployment', 'invalid'), before);
});

test('the operator restarted mid-rollout converges with no duplicates', async () => {
  applySet('restart', { spicepod, replicas: 3 });
  await waitReady('restart');
  // The new pods take 3 s to become Ready, so the rollout is still in flight when the operator dies.
  applySet('restart', { spicepod: { ...spicepod, datasets: [] }, replicas: 3, annotations: { 'kwok.spiceai.io/ready-delay': '3s' } });
  await eventually('the rollout to start', () => condition(getSet('restart'), 'Progressing')?.status === 'True');
  await operator!.kill();
  operator = await startOperator(['--namespaces', ns, '--handlers', 'workloads']);
  await waitReady('restart', 120_000);
  assert.equal(owned('statefulset', 'restart'), ['restart-0', 'restart-1', 'restart-2']);
  await eventually('exactly three pods', () => owned('pod', 'restart').length === 3);
});

test('an unchanged set causes no writes over a full resync', async () => {
  applySet('steady', { spicepod, replicas: 2 });
  await waitReady('steady');
  await new Promise((r) => setTimeout(r, 3000));
  // A fresh operator lists every object and reconciles every set once: nothing may be written.
  await operator!.stop();
  const since = Date.now();
  operator = await startOperator(['--namespaces', ns, '--handlers', 'workloads']);
  await operator.waitForLog((l) => l.msg === 'became leader', 60_000);
  await new Promise((r) => setTimeout(r, 8000));
  const writes = auditWrites(since, (e) => !!e.userAgent?.startsWith('spiceai-operator') && e.objectRef?.resource !== 'leases');
  assert.equal(
    writes.map((e) => `${e.verb} ${e.objectRef?.resource}/${e.objectRef?.name}`),
    [],
  );
  const reconciles = await (await fetch(`http://127.0.0.1:${operator.metricsPort}/metrics`)).text();
  assert.match(reconciles, /spiceai_operator_reconcile_total\{controller="workloads",result="[a-z_]+"\} [1-9]/, 'the sets were reconciled');
});

const serviceVersion = (name: string) => kubectlJson(['get', 'service', name, '-n', ns]).spec.selector['spice.ai/version'];

test('BlueGreen: the Service switches once the new generation is Ready; the rollback annotation switches it back', async () => {
  const spec = { replicas: 2, updateStrategy: { type: 'BlueGreen' }, instantRollback: { enabled: true, retentionPeriodSeconds: 600 } };
  applySet('bg', { ...spec, spicepod });
  const first = await waitReady('bg');
  const v1 = first.status.activeVersion;
  assert.is(serviceVersion('bg'), v1);
  applySet('bg', { ...spec, spicepod: { ...spicepod, datasets: [] } });
  const switched = await eventually(
    'the cutover',
    () => {
      const s = getSet('bg');
      return s.status.activeVersion && s.status.activeVersion !== v1 ? s : undefined;
    },
    120_000,
  );
  const v2 = switched.status.activeVersion;
  assert.is(serviceVersion('bg'), v2);
  assert.is(switched.status.standbyVersion, v1);
  // The new generation was all Ready before the Service moved to it.
  const newPods = kubectlJson(['get', 'pods', '-n', ns, '-l', `spice.ai/version=${v2}`]).items;
  assert.is(newPods.length, 2);
  assert.is(owned('statefulset', 'bg').length, 4, 'the standby generation is retained');
  kubectlOk(['annotate', 'spicepodset', 'bg', '-n', ns, 'spice.ai/rollback=true', '--overwrite']);
  const back = await eventually('the rollback', () => {
    const s = getSet('bg');
    return s.status.activeVersion === v1 && !s.metadata.annotations?.['spice.ai/rollback'] ? s : undefined;
  });
  assert.is(serviceVersion('bg'), v1);
  assert.is(back.status.standbyVersion, v2);
  assert.ok(back.status.standbyExpiresAt > Date.now() / 1000);
  await new Promise((r) => setTimeout(r, 3000));
  assert.is(serviceVersion('bg'), v1, 'it does not roll forward again on its own');
});

test('raising storageRequests resizes the PVCs; lowering it is refused in a condition and an Event', async () => {
  kubectlOk(
    ['apply', '-f', '-'],
    stringify({
      apiVersion: 'storage.k8s.io/v1',
      kind: 'StorageClass',
      metadata: { name: 'expandable' },
      provisioner: 'kubernetes.io/no-provisioner',
      allowVolumeExpansion: true,
      volumeBindingMode: 'Immediate',
    }),
  );
  for (const i of [0, 1]) {
    kubectlOk(
      ['apply', '-f', '-'],
      stringify({
        apiVersion: 'v1',
        kind: 'PersistentVolume',
        metadata: { name: `${ns}-pv-${i}` },
        spec: {
          capacity: { storage: '10Gi' },
          accessModes: ['ReadWriteOnce'],
          storageClassName: 'expandable',
          hostPath: { path: `/tmp/${ns}-${i}` },
        },
      }),
    );
  }
  applySet('vol', { spicepod, replicas: 2, volume: { storageClassName: 'expandable', storageRequests: '1Gi' } });
  await waitReady('vol', 120_000);
  const pvcs = () => kubectlJson(['get', 'pvc', '-n', ns, '-l', 'spice.ai/app=vol']).items;
  assert.equal(
    pvcs()
      .map((p: any) => p.metadata.name)
      .sort(),
    ['data-vol-0-0', 'data-vol-1-0'],
  );
  applySet('vol', { spicepod, replicas: 2, volume: { storageClassName: 'expandable', storageRequests: '2Gi' } });
  await eventually('both claims to ask for 2Gi', () => pvcs().every((p: any) => p.spec.resources.requests.storage === '2Gi'));
  applySet('vol', { spicepod, replicas: 2, volume: { storageClassName: 'expandable', storageRequests: '1Gi' } });
  const set = await eventually('ShrinkNotSupported', () => {
    const s = getSet('vol');
    return condition(s, 'VolumeResized')?.reason === 'ShrinkNotSupported' ? s : undefined;
  });
  assert.match(condition(set, 'VolumeResized').message, /cannot shrink/);
  assert.ok(
    pvcs().every((p: any) => p.spec.resources.requests.storage === '2Gi'),
    'claims keep their size',
  );
  await eventually(
    'a ShrinkNotSupported Event',
    () =>
      kubectlJson(['get', 'events', '-n', ns, '--field-selector', 'involvedObject.name=vol,reason=ShrinkNotSupported']).items.length > 0,
  );
});

test('a resize the StorageClass does not allow is refused by the API server: the condition and a Warning Event say so', async () => {
  kubectlOk(
    ['apply', '-f', '-'],
    stringify({
      apiVersion: 'storage.k8s.io/v1',
      kind: 'StorageClass',
      metadata: { name: 'fixed-size' },
      provisioner: 'kubernetes.io/no-provisioner',
      volumeBindingMode: 'Immediate',
    }),
  );
  kubectlOk(
    ['apply', '-f', '-'],
    stringify({
      apiVersion: 'v1',
      kind: 'PersistentVolume',
      metadata: { name: `${ns}-fixed-0` },
      spec: {
        capacity: { storage: '10Gi' },
        accessModes: ['ReadWriteOnce'],
        storageClassName: 'fixed-size',
        hostPath: { path: `/tmp/${ns}-fixed` },
      },
    }),
  );
  applySet('fixed', { spicepod, replicas: 1, volume: { storageClassName: 'fixed-size', storageRequests: '1Gi' } });
  await waitReady('fixed', 120_000);
  await eventually('the claim bound', () => kubectlJson(['get', 'pvc', 'data-fixed-0-0', '-n', ns]).status.phase === 'Bound');
  applySet('fixed', { spicepod, replicas: 1, volume: { storageClassName: 'fixed-size', storageRequests: '2Gi' } });
  const set = await eventually(
    'ResizeRefused',
    () => {
      const s = getSet('fixed');
      return condition(s, 'VolumeResized')?.reason === 'ResizeRefused' ? s : undefined;
    },
    60_000,
  );
  assert.is(condition(set, 'VolumeResized').status, 'False');
  assert.match(
    condition(set, 'VolumeResized').message,
    /data-fixed-0-0 to 2Gi: .*storageclass that provisions the pvc must support resize/,
  );
  const events = await eventually(
    'a ResizeRefused Warning',
    () => kubectlJson(['get', 'events', '-n', ns, '--field-selector', 'involvedObject.name=fixed,reason=ResizeRefused,type=Warning']).items,
  );
  assert.match(events[0].message, /must support resize/);
  assert.is(kubectlJson(['get', 'pvc', 'data-fixed-0-0', '-n', ns]).spec.resources.requests.storage, '1Gi');
  await new Promise((r) => setTimeout(r, 3000));
  assert.is(condition(getSet('fixed'), 'VolumeResized').reason, 'ResizeRefused', 'it stays refused, not Resizing for ever');
});

test('pods that keep crashing pause the set; a spec change resumes it', async () => {
  applySet('crash', { spicepod, replicas: 2, labels: { 'kwok.spiceai.io/crashloop': 'true' } });
  const paused = await eventually(
    'CrashLooping',
    () => {
      const s = getSet('crash');
      return s.status?.pauseReason === 'CrashLooping' ? s : undefined;
    },
    120_000,
  );
  assert.is(condition(paused, 'Paused').status, 'True');
  assert.is(condition(paused, 'Paused').reason, 'CrashLooping');
  await eventually('no pods while paused', () => owned('pod', 'crash').length === 0);
  await eventually(
    'a CrashLooping Warning Event',
    () =>
      kubectlJson(['get', 'events', '-n', ns, '--field-selector', 'involvedObject.name=crash,reason=CrashLooping,type=Warning']).items
        .length > 0,
  );
  applySet('crash', { spicepod, replicas: 2 });
  const resumed = await waitReady('crash');
  assert.is(resumed.status.pauseReason, undefined);
});

test('spice.ai/rollback on a set that cannot roll back is cleared, with a Warning Event and a RolledBack condition saying why', async () => {
  applySet('norollback', { spicepod, replicas: 2 });
  await waitReady('norollback');
  kubectlOk(['annotate', 'spicepodset', 'norollback', '-n', ns, 'spice.ai/rollback=true']);
  const set = await eventually('the annotation cleared and the answer recorded', () => {
    const s = getSet('norollback');
    return !s.metadata.annotations?.['spice.ai/rollback'] && condition(s, 'RolledBack') ? s : undefined;
  });
  assert.is(condition(set, 'RolledBack').status, 'False');
  assert.is(condition(set, 'RolledBack').reason, 'NotBlueGreen');
  assert.match(condition(set, 'RolledBack').message, /RollingOrdered replaces pods in place .* re-apply the previous spec/);
  const events = await eventually(
    'a RollbackUnavailable Warning',
    () =>
      kubectlJson(['get', 'events', '-n', ns, '--field-selector', 'involvedObject.name=norollback,reason=RollbackUnavailable,type=Warning'])
        .items,
  );
  assert.match(events[0].message, /NotBlueGreen|RollingOrdered/);
});

test('crashloop: the resume command in the Paused condition resumes a paused set even though the spec did not change', async () => {
  applySet('resume', { spicepod, replicas: 2, labels: { 'kwok.spiceai.io/crashloop': 'true' } });
  const paused = await eventually(
    'CrashLooping',
    () => {
      const s = getSet('resume');
      return s.status?.pauseReason === 'CrashLooping' ? s : undefined;
    },
    120_000,
  );
  await eventually('no pods while paused', () => owned('pod', 'resume').length === 0);
  // Re-applying the same spec changes nothing: the set stays paused.
  applySet('resume', { spicepod, replicas: 2, labels: { 'kwok.spiceai.io/crashloop': 'true' } });
  await new Promise((r) => setTimeout(r, 2000));
  assert.is(getSet('resume').status.pauseReason, 'CrashLooping');
  // The user copies the command the condition gives and runs it.
  const command = /resume with: (kubectl annotate .*?)(?: \(|$)/.exec(condition(paused, 'Paused').message)![1]!.split(' ');
  assert.equal(command.slice(0, 4), ['kubectl', 'annotate', 'spicepodset', 'resume']);
  kubectlOk(command.slice(1));
  const resumed = await eventually(
    'resumed: pods back, the annotation removed',
    () => {
      const s = getSet('resume');
      return s.status?.pauseReason === undefined && !s.metadata.annotations?.['spice.ai/resume'] && owned('pod', 'resume').length === 2
        ? s
        : undefined;
    },
    60_000,
  );
  assert.ok(['Resumed', 'Running'].includes(condition(resumed, 'Paused').reason), condition(resumed, 'Paused').reason);
  assert.is(condition(resumed, 'Paused').status, 'False');
  assert.is(kubectlJson(['get', 'statefulset', 'resume-0', '-n', ns]).spec.replicas, 1);
  await eventually(
    'a Resumed Event',
    () => kubectlJson(['get', 'events', '-n', ns, '--field-selector', 'involvedObject.name=resume,reason=Resumed']).items.length > 0,
  );
  // The pods still crash: protection counts afresh and pauses again; the same command works again.
  await eventually('paused again', () => getSet('resume').status?.pauseReason === 'CrashLooping', 120_000);
  await eventually('resumeHandled cleared', () => getSet('resume').status?.resumeHandled === undefined);
  kubectlOk(command.slice(1));
  await eventually(
    'resumed again',
    () => getSet('resume').status?.pauseReason === undefined && owned('pod', 'resume').length === 2,
    60_000,
  );
  applySet('resume', { spicepod, replicas: 0 });
});

/** Sets a pod's status as a kubelet would report it (kwok leaves Running pods alone). */
function podStatus(name: string, restarts: number, ready: boolean) {
  const pod = kubectlJson(['get', 'pod', name, '-n', ns]);
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const conditions = pod.status.conditions.map((c: any) =>
    c.type === 'Ready' || c.type === 'ContainersReady' ? { ...c, status: ready ? 'True' : 'False', lastTransitionTime: now } : c,
  );
  const containerStatuses = pod.status.containerStatuses.map((c: any) => ({ ...c, ready, restartCount: restarts }));
  kubectlOk([
    'patch',
    'pod',
    name,
    '-n',
    ns,
    '--subresource=status',
    '--type=merge',
    '-p',
    JSON.stringify({ status: { conditions, containerStatuses } }),
  ]);
}

test('crashloop: long-lived pods with old restarts that blip unready together do not pause the set; real deaths do', async () => {
  applySet('blip', { spicepod, replicas: 2 });
  await waitReady('blip');
  // Weeks of history: 6 and 5 restarts, both pods Ready again.
  podStatus('blip-0-0', 6, true);
  podStatus('blip-1-0', 5, true);
  await eventually('their deaths accounted for', () => (getSet('blip').status.crashloopBaselines ?? []).length === 2);
  // A blip: both unready at once, no new deaths. 11 lifetime restarts are above the threshold of 10.
  podStatus('blip-0-0', 6, false);
  podStatus('blip-1-0', 5, false);
  await eventually('the set to see the blip', () => condition(getSet('blip'), 'Ready')?.status === 'False');
  await new Promise((r) => setTimeout(r, 3000));
  assert.is(getSet('blip').status.pauseReason, undefined, 'not paused by old restarts');
  const metrics = await (await fetch(`http://127.0.0.1:${operator!.metricsPort}/metrics`)).text();
  assert.match(metrics, new RegExp(`spiceai_operator_dead_pod_observations\\{namespace="${ns}",spicepodset="blip"\\} 0`));
  // Real deaths since they were last Ready: 6 + 5 = 11 above the threshold of 10.
  podStatus('blip-0-0', 12, false);
  podStatus('blip-1-0', 10, false);
  await eventually('paused: CrashLooping', () => getSet('blip').status?.pauseReason === 'CrashLooping', 30_000);
  applySet('blip', { spicepod, replicas: 0 });
});

test("kubectl get shows LAST UPDATED, the time of the operator's last change; it moves only when the operator changes something", async () => {
  applySet('stamp', { spicepod, replicas: 0 });
  const first = await eventually('lastUpdated', () => getSet('stamp').status?.lastUpdated);
  assert.match(kubectlOk(['get', 'spicepodset', 'stamp', '-n', ns]).split('\n')[0]!, /LAST UPDATED/);
  await new Promise((r) => setTimeout(r, 2500));
  assert.is(getSet('stamp').status.lastUpdated, first, 'reconciles that change nothing leave it');
  applySet('stamp', { spicepod, replicas: 0, enableService: false });
  const next = await eventually('a later lastUpdated', () => {
    const t = getSet('stamp').status?.lastUpdated;
    return t && Date.parse(t) > Date.parse(first) ? t : undefined;
  });
  assert.ok(Date.parse(next) - Date.parse(first) >= 2000);
});

test('two operators at once: only the Lease holder writes, and the other takes over when it stops', async () => {
  const second = await startOperator(['--namespaces', ns, '--handlers', 'workloads']);
  try {
    const since = Date.now();
    applySet('duo', { spicepod, replicas: 2 });
    await waitReady('duo');
    applySet('duo', { spicepod, replicas: 3 });
    await waitReady('duo');
    const writers = new Set(
      auditWrites(
        since,
        (e) => !!e.userAgent?.startsWith('spiceai-operator') && e.objectRef?.namespace === ns && e.objectRef?.resource !== 'leases',
      ).map((e) => e.userAgent),
    );
    assert.is(writers.size, 1, `writers: ${[...writers].join(', ')}`);
    assert.ok([...writers][0]!.includes(`-${operator!.child.pid})`), 'the first operator holds the Lease');
    // The leader stops (releasing the Lease); the other one takes over and acts.
    await operator!.stop();
    await second.waitForLog((l) => l.msg === 'became leader', 30_000);
    applySet('duo', { spicepod, replicas: 1 });
    await waitReady('duo');
    await eventually('back to a Deployment', () => owned('deployment', 'duo').length === 1);
  } finally {
    // Whatever failed, the first operator must not outlive the test (it would keep this file running).
    const first = operator;
    operator = second;
    await first?.stop();
  }
});

test.after(async () => {
  await operator?.stop();
  if (ns) kubectl(['delete', 'namespace', ns, '--wait=false']);
  client.close();
});

test.run();
