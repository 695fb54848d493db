// The workloads handler: a SpicepodSet and what it observes in, the objects
// that should exist, its status and events out. Pure: no I/O, no clock.
import { setConditions, findCondition, type ConditionInput } from '../../core/conditions.ts';
import type { Desired, Handler, KubeObject, Observed, ObjectRef, RecordedEvent } from '../../core/handler.ts';
import { refOf } from '../../core/handler.ts';
import { parseQuantity } from '../../core/manifests/quantity.ts';
import { names } from '../../core/manifests/names.ts';
import { setNameProblems } from '../../core/manifests/name-limits.ts';
import { deploymentSelector, desiredConfigMap, desiredDeployment, desiredHeadlessService, desiredService, desiredServiceAccountObjects, desiredStatefulSet, revisionedTemplate, statefulSetSelector, workloadMode, type SetContext } from '../../core/manifests/spicepodset.ts';
import { isPodReady } from '../../core/pods.ts';
import { normalizeSpicepodSetSpec } from '../../core/spec/normalize.ts';
import { clusterMembershipProblem } from '../../core/spec/cluster-node.ts';
import type { SpicepodSetSpec, SpicepodSetStatus } from '../../core/spec/spicepodset.ts';
import { blueGreenWorkload } from './bluegreen.ts';
import { crashloopProtection, PAUSE_CRASHLOOPING, REASON_RESUMED } from './crashloop.ts';
import { refusedChildrenMessage, refusedPodsMessage, refusedResizeMessage, refusedResizes, EVENT_FAILED_CREATE, REASON_CHILD_REFUSED, REASON_PODS_REFUSED, REASON_RESIZE_REFUSED } from './refusals.ts';
import { ANNOTATION_VALUE_ROLLBACK, CONDITION_ROLLED_BACK, EVENT_ROLLBACK_UNAVAILABLE, REASON_ROLLED_BACK, rollbackRefusal, type RollbackRefusal } from './rollback.ts';
import { planRollout, type ReplicaState } from './rollout.ts';
import { ANNOTATION_RESUME, ANNOTATION_REVISION, ANNOTATION_ROLLBACK } from '../../core/annotations.ts';
import { LABEL_APP, LABEL_VERSION, LABEL_WORKLOAD } from '../../core/labels.ts';

const CHILDREN = [
  { apiVersion: 'v1', kind: 'ConfigMap' },
  { apiVersion: 'v1', kind: 'Service' },
  { apiVersion: 'v1', kind: 'ServiceAccount' },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role' },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding' },
  { apiVersion: 'apps/v1', kind: 'Deployment' },
  { apiVersion: 'apps/v1', kind: 'StatefulSet' },
];
const CHILD_KINDS = new Set(CHILDREN.map((c) => c.kind));

export const PAUSE_SCALED = 'ScaledToZero';
export { PAUSE_CRASHLOOPING };
export const REASON_INVALID_SPEC = 'InvalidSpec';
/** Re-check a rollout in progress even if no event arrives. */
const PROGRESS_RECHECK_SECONDS = 30;

interface Workload {
  apply: KubeObject[];
  keep: ObjectRef[];
  /** BlueGreen: the version the Service selects, and the rollback bookkeeping. */
  serviceVersion?: string;
  status?: Partial<SpicepodSetStatus>;
  events?: RecordedEvent[];
  rollback?: { refusal?: RollbackRefusal };
  requeueAfterSeconds?: number;
  /** Desired replicas that are Ready (any revision), for status. */
  ready: number;
  /** Replicas on the desired revision and Ready. */
  updatedReady: number;
  waiting?: string;
  revision: string;
}

const ofKind = (objects: KubeObject[], kind: string) => objects.filter((o) => o.kind === kind);
const revisionOf = (o: KubeObject | undefined): string | undefined =>
  ((o as { spec?: { template?: { metadata?: { annotations?: Record<string, string> } } } })?.spec?.template?.metadata?.annotations ?? {})[
    ANNOTATION_REVISION
  ];
const podRevision = (pod: KubeObject) => pod.metadata.annotations?.[ANNOTATION_REVISION];

function deploymentWorkload(ctx: SetContext, observed: Observed, replicas: number, template: ReturnType<typeof revisionedTemplate>): Workload {
  const pods = (observed.related.Pod ?? []).filter((p) => p.metadata.labels?.[LABEL_WORKLOAD] === 'deployment');
  const updatedReady = pods.filter((p) => isPodReady(p) && podRevision(p) === template.revision).length;
  const ready = pods.filter(isPodReady).length;
  const keep: ObjectRef[] = [];
  // Switching from StatefulSets: they serve until the Deployment's pods are Ready.
  const statefulSets = ofKind(observed.children, 'StatefulSet');
  if (statefulSets.length && updatedReady < replicas) {
    keep.push(...statefulSets.map(refOf));
    const headless = observed.children.find((o) => o.kind === 'Service' && o.metadata.name === names.headlessService(ctx.set));
    if (headless) keep.push(refOf(headless));
  }
  return {
    apply: [desiredDeployment(ctx, template.template(deploymentSelector(ctx.set)), replicas)],
    keep,
    ready: Math.min(ready, replicas),
    updatedReady,
    revision: template.revision,
    waiting: updatedReady < replicas ? 'waiting for the new pod to become Ready' : undefined,
  };
}

async function statefulSetWorkload(ctx: SetContext, observed: Observed, replicas: number): Promise<Workload> {
  const { set } = ctx;
  const existing = new Map(ofKind(observed.children, 'StatefulSet').map((s) => [s.metadata.name, s]));
  const pods = new Map((observed.related.Pod ?? []).map((p) => [p.metadata.name, p]));
  // A paused set keeps its StatefulSets (and their claims) at zero replicas.
  const ordinals = replicas > 0 ? replicas : [...existing.keys()].filter((n) => /-\d+$/.test(n) && n.startsWith(`${set}-`)).length;
  const { revision, template } = revisionedTemplate(ctx);
  const states: ReplicaState[] = Array.from({ length: ordinals }, (_, ordinal) => {
    const sts = existing.get(names.statefulSet(set, ordinal));
    const pod = pods.get(names.statefulSetPod(names.statefulSet(set, ordinal)));
    return {
      ordinal,
      exists: !!sts,
      updated: revisionOf(sts) === revision,
      ready: !!sts && !!pod && isPodReady(pod) && podRevision(pod) === revisionOf(sts),
    };
  });
  const plan = replicas > 0 ? planRollout(ctx.spec.updateStrategy, states) : { update: new Set(states.map((s) => s.ordinal)) };
  const apply: KubeObject[] = [desiredHeadlessService(ctx)];
  const keep: ObjectRef[] = [];
  for (const state of states) {
    const sts = existing.get(names.statefulSet(set, state.ordinal));
    if (state.updated || plan.update.has(state.ordinal)) {
      apply.push(
        desiredStatefulSet(ctx, {
          ordinal: state.ordinal,
          template: template(statefulSetSelector(set, state.ordinal)),
          replicas: replicas > 0 ? 1 : 0,
          volumeClaimTemplates: (sts as { spec?: { volumeClaimTemplates?: unknown[] } } | undefined)?.spec?.volumeClaimTemplates,
        }),
      );
    } else {
      keep.push(refOf(sts!));
    }
  }
  const readyStates = states.filter((s) => s.ready);
  const updatedReady = states.filter((s) => s.ready && s.updated).length;
  // Switching from a Deployment or from BlueGreen generations: they serve until every replica here is Ready.
  if (readyStates.length < replicas) {
    const deployment = ofKind(observed.children, 'Deployment')[0];
    if (deployment) keep.push(refOf(deployment));
    keep.push(...ofKind(observed.children, 'StatefulSet').filter((s) => s.metadata.labels?.[LABEL_VERSION]).map(refOf));
  }
  return {
    apply,
    keep,
    ready: readyStates.length,
    updatedReady,
    revision,
    waiting: plan.waiting ?? (updatedReady < replicas ? `${replicas - updatedReady} replicas are not Ready yet` : undefined),
  };
}

/** PVCs are resized in place: StatefulSet claim templates are immutable. Shrinking is not possible. */
function volumeResizes(ctx: SetContext, observed: Observed) {
  const wanted = ctx.spec.volume?.storageRequests;
  const patches: NonNullable<Desired['patch']> = [];
  const shrinks: string[] = [];
  if (wanted === undefined) return { patches, shrinks };
  const wantedBytes = parseQuantity(wanted);
  for (const pvc of observed.related.PersistentVolumeClaim ?? []) {
    const current = (pvc as { spec?: { resources?: { requests?: { storage?: string } } } }).spec?.resources?.requests?.storage;
    if (current === undefined) continue;
    const currentBytes = parseQuantity(current);
    if (wantedBytes > currentBytes) {
      patches.push({ target: refOf(pvc), patch: { spec: { resources: { requests: { storage: String(wanted) } } } } });
    } else if (wantedBytes < currentBytes) {
      shrinks.push(`${pvc.metadata.name} (${current})`);
    }
  }
  return { patches, shrinks };
}

function invalidSpec(observed: Observed, problems: { field: string; message: string }[]): Desired {
  const status = (observed.parent.status ?? {}) as SpicepodSetStatus;
  const message = problems.map((p) => `${p.field} ${p.message}`).join('; ');
  const conditions = setConditions(
    status.conditions,
    [
      { type: 'Ready', status: 'False', reason: REASON_INVALID_SPEC, message },
      ...(status.conditions ?? []).filter((c) => c.type !== 'Ready').map((c) => ({ ...c, reason: c.reason ?? '', message: c.message ?? '' })),
    ],
    observed.now,
    observed.parent.metadata.generation,
  );
  const previous = findCondition(status.conditions, 'Ready');
  const events: RecordedEvent[] =
    previous?.reason === REASON_INVALID_SPEC && previous.message === message ? [] : [{ type: 'Warning', reason: REASON_INVALID_SPEC, message }];
  // Nothing is changed or deleted while the spec cannot be acted on.
  return { apply: [], keep: observed.children.map(refOf), status: { ...status, conditions }, events };
}

/** The RolledBack condition: while a rollback holds, or the answer to the last request of this generation. */
function rolledBackCondition(
  previous: SpicepodSetStatus,
  status: Partial<SpicepodSetStatus> | undefined,
  refusal: RollbackRefusal | undefined,
  generation: number | undefined,
): ConditionInput | undefined {
  if (refusal) return { type: CONDITION_ROLLED_BACK, status: 'False', reason: refusal.reason, message: refusal.message };
  if (status?.rolledBackVersion) {
    return {
      type: CONDITION_ROLLED_BACK,
      status: 'True',
      reason: REASON_ROLLED_BACK,
      message: `serving version ${status.activeVersion}, rolled back from ${status.rolledBackVersion}, which is not rolled out again until the spec changes`,
    };
  }
  // A refusal stays visible until the spec changes.
  const before = findCondition(previous.conditions, CONDITION_ROLLED_BACK);
  if (before?.status === 'False' && before.observedGeneration === generation) return { ...before, status: 'False', reason: before.reason ?? '', message: before.message ?? '' };
  return undefined;
}

export async function reconcileSpicepodSet(observed: Observed): Promise<Desired> {
  const parent = observed.parent;
  const normalized = normalizeSpicepodSetSpec(parent.spec);
  if (!normalized.ok) return invalidSpec(observed, normalized.problems);
  const membership = clusterMembershipProblem(parent.metadata, normalized.spec.cluster);
  if (membership) return invalidSpec(observed, [membership]);
  const spec: SpicepodSetSpec = normalized.spec;
  const nameProblems = setNameProblems(parent.metadata.name, spec);
  if (nameProblems.length) return invalidSpec(observed, nameProblems);
  const ctx: SetContext = { set: parent.metadata.name, namespace: parent.metadata.namespace ?? 'default', spec, config: observed.config };
  const previous = (parent.status ?? {}) as SpicepodSetStatus;
  const events: RecordedEvent[] = [];
  const parentPatch: Record<string, null> = {};

  const threshold = observed.config.pauseCrashloopingPodsThreshold;
  const crashloop = crashloopProtection({ parent, replicas: spec.replicas, pods: observed.related.Pod ?? [], threshold, now: observed.now });
  if (crashloop.clearAnnotation) parentPatch[ANNOTATION_RESUME] = null;
  const crashLooping = crashloop.crashLooping;
  const replicas = crashLooping ? 0 : spec.replicas;
  const pauseReason = crashLooping ? PAUSE_CRASHLOOPING : spec.replicas === 0 ? PAUSE_SCALED : undefined;

  // A rollback request is always answered and cleared; only BlueGreen with a standby can honour it.
  const rollbackAnnotation = parent.metadata.annotations?.[ANNOTATION_ROLLBACK];
  const rollbackRequested = rollbackAnnotation === ANNOTATION_VALUE_ROLLBACK;
  if (rollbackAnnotation !== undefined) parentPatch[ANNOTATION_ROLLBACK] = null;

  const mode = workloadMode(spec);
  const blueGreen = mode === 'StatefulSets' && spec.updateStrategy.type === 'BlueGreen';
  const workload: Workload =
    mode === 'Deployment'
      ? deploymentWorkload(ctx, observed, replicas, revisionedTemplate(ctx))
      : blueGreen
        ? await blueGreenWorkload(ctx, observed, replicas, rollbackRequested)
        : await statefulSetWorkload(ctx, observed, replicas);
  const objects: KubeObject[] = [desiredConfigMap(ctx), ...desiredServiceAccountObjects(ctx)];
  if (spec.enableService) objects.push(desiredService(ctx, workload.serviceVersion));
  events.push(...(workload.events ?? []));
  const rollbackRefused =
    workload.rollback?.refusal ??
    (rollbackRequested && !blueGreen ? rollbackRefusal({ spec, nowSeconds: Math.floor(observed.now / 1000) }) : undefined);
  if (rollbackRefused) events.push({ type: 'Warning', reason: EVENT_ROLLBACK_UNAVAILABLE, message: rollbackRefused.message });

  const { patches, shrinks } = volumeResizes(ctx, observed);
  const resizeRefused = refusedResizes(observed.failedWrites);
  const rolling = replicas > 0 && workload.updatedReady < replicas;
  const childRefused = refusedChildrenMessage(observed.failedWrites, CHILD_KINDS);
  const podsRefused = rolling ? refusedPodsMessage(observed, observed.children.filter((c) => c.kind === 'Deployment' || c.kind === 'StatefulSet')) : undefined;
  const conditions: ConditionInput[] = [
    pauseReason
      ? { type: 'Ready', status: 'False', reason: 'Paused', message: crashLooping ? 'paused after repeated pod failures' : 'replicas is 0' }
      : childRefused
        ? { type: 'Ready', status: 'False', reason: REASON_CHILD_REFUSED, message: childRefused }
        : podsRefused
          ? { type: 'Ready', status: 'False', reason: REASON_PODS_REFUSED, message: podsRefused }
          : rolling
            ? { type: 'Ready', status: 'False', reason: 'RolloutInProgress', message: `${workload.updatedReady}/${replicas} replicas updated and Ready` }
            : { type: 'Ready', status: 'True', reason: 'AllReplicasReady', message: `${replicas}/${replicas} replicas Ready` },
    rolling
      ? { type: 'Progressing', status: 'True', reason: 'RollingUpdate', message: `${spec.updateStrategy.type}: ${workload.waiting ?? 'in progress'}` }
      : { type: 'Progressing', status: 'False', reason: 'RolloutComplete', message: `revision ${workload.revision} is rolled out` },
    crashLooping
      ? { type: 'Paused', status: 'True', reason: PAUSE_CRASHLOOPING, message: crashloop.message ?? '' }
      : pauseReason
        ? { type: 'Paused', status: 'True', reason: PAUSE_SCALED, message: 'replicas is 0; supporting objects are kept' }
        : crashloop.resumePending
          ? { type: 'Paused', status: 'False', reason: REASON_RESUMED, message: `resumed by ${ANNOTATION_RESUME}; pod deaths before the resume are not counted` }
          : { type: 'Paused', status: 'False', reason: 'Running', message: 'the workload is running' },
  ];
  if (resizeRefused.length) {
    conditions.push({ type: 'VolumeResized', status: 'False', reason: REASON_RESIZE_REFUSED, message: refusedResizeMessage(resizeRefused, spec.volume?.storageRequests) });
  } else if (shrinks.length) {
    conditions.push({
      type: 'VolumeResized',
      status: 'False',
      reason: 'ShrinkNotSupported',
      message: `volume.storageRequests is below the size of ${shrinks.join(', ')}; volumes cannot shrink, so they keep their size`,
    });
  } else if (patches.length) {
    conditions.push({ type: 'VolumeResized', status: 'True', reason: 'Resizing', message: `resizing ${patches.length} volumes to ${spec.volume?.storageRequests}` });
  }
  const rolledBack = rolledBackCondition(previous, workload.status, rollbackRefused, parent.metadata.generation);
  if (rolledBack) conditions.push(rolledBack);
  const nextConditions = setConditions(previous.conditions, conditions, observed.now, parent.metadata.generation);

  for (const next of nextConditions) {
    const before = findCondition(previous.conditions, next.type);
    const changed = !before || before.status !== next.status || before.reason !== next.reason;
    const reworded = changed || before.message !== next.message;
    if (next.type === 'Ready' && (next.reason === REASON_CHILD_REFUSED || next.reason === REASON_PODS_REFUSED) && reworded) {
      events.push({ type: 'Warning', reason: next.reason, message: next.message ?? '' });
    }
    if (next.type === 'VolumeResized' && next.reason === REASON_RESIZE_REFUSED && reworded) events.push({ type: 'Warning', reason: REASON_RESIZE_REFUSED, message: next.message ?? '' });
    if (!changed) continue;
    if (next.type === 'Paused' && next.status === 'True' && next.reason === PAUSE_CRASHLOOPING) events.push({ type: 'Warning', reason: 'CrashLooping', message: next.message ?? '' });
    if (next.type === 'Paused' && next.status === 'True' && next.reason === PAUSE_SCALED) events.push({ type: 'Normal', reason: 'Paused', message: next.message ?? '' });
    if (next.type === 'Progressing' && next.status === 'True') events.push({ type: 'Normal', reason: 'RollingUpdate', message: `rolling out revision ${workload.revision} (${spec.updateStrategy.type})` });
    if (next.type === 'Ready' && next.status === 'True' && before) events.push({ type: 'Normal', reason: 'Ready', message: next.message ?? '' });
    if (next.type === 'VolumeResized' && next.reason === 'ShrinkNotSupported') events.push({ type: 'Warning', reason: 'ShrinkNotSupported', message: next.message ?? '' });
    if (next.type === 'VolumeResized' && next.reason === 'Resizing') events.push({ type: 'Normal', reason: 'Resizing', message: next.message ?? '' });
  }
  if (crashloop.resumedBy) {
    events.push({
      type: 'Normal',
      reason: REASON_RESUMED,
      message:
        crashloop.resumedBy === 'spec'
          ? 'the spec changed: crashloop protection resumed the set'
          : `${ANNOTATION_RESUME} resumed the set; pod deaths before now are not counted`,
    });
  }

  const status: SpicepodSetStatus = {
    replicas: `${workload.ready}/${spec.replicas}`,
    readyReplicas: workload.ready,
    totalReplicas: spec.replicas,
    role: spec.cluster?.role ?? '<none>',
    pauseReason,
    ...workload.status,
    crashloopBaselines: crashloop.baselines,
    resumeHandled: crashloop.resumeHandled,
    conditions: nextConditions,
  };
  if (Object.keys(parentPatch).length) patches.push({ target: refOf(parent), patch: { metadata: { annotations: parentPatch } } });
  const requeues = [workload.requeueAfterSeconds, rolling || workload.keep.length ? PROGRESS_RECHECK_SECONDS : undefined].filter((n): n is number => n !== undefined);
  return {
    apply: [...objects, ...workload.apply],
    keep: workload.keep,
    patch: patches,
    status: status as Record<string, unknown>,
    events,
    requeueAfterSeconds: requeues.length ? Math.max(1, Math.min(...requeues)) : undefined,
  };
}

export const workloadsHandler: Handler = {
  name: 'workloads',
  parent: { apiVersion: 'spice.ai/v1', kind: 'SpicepodSet' },
  children: CHILDREN,
  related: [
    { apiVersion: 'v1', kind: 'Pod', parentLabel: LABEL_APP },
    { apiVersion: 'v1', kind: 'PersistentVolumeClaim', parentLabel: LABEL_APP },
  ],
  conditionTypes: ['Ready', 'Progressing', 'Paused', 'VolumeResized', CONDITION_ROLLED_BACK],
  // Readiness comes from the Pods (related), never from a Deployment's or StatefulSet's status;
  // nor does anything here read annotations others put on the children. Only a Deployment's
  // conditions are read: ReplicaFailure says why its pods are not created.
  readsChildStatus: false,
  readsChildConditions: true,
  // A StatefulSet says why its pods are not created only in FailedCreate Events about it.
  childEvents: { fieldSelector: `involvedObject.kind=StatefulSet,reason=${EVENT_FAILED_CREATE}` },
  lastUpdatedField: 'lastUpdated',
  reconcile: reconcileSpicepodSet,
};
