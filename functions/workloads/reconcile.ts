// One pass of the workloads handler, in phases: check the spec (ordered
// checks, the first failing one answers InvalidSpec and nothing is written),
// decide crashloop pause and rollback requests, build the workload (a
// Deployment, per-replica StatefulSets or BlueGreen generations), then the
// conditions and Events (conditions.ts) and the status.
import { setConditions } from '../../core/conditions.ts';
import type { Desired, KubeObject, Observed, RecordedEvent } from '../../core/handler.ts';
import { refOf } from '../../core/handler.ts';
import { asInput, invalidSpecAnswer } from '../../core/invalid-spec.ts';
import { setNameProblems } from '../../core/manifests/name-limits.ts';
import { volumeMountProblems } from '../../core/manifests/volumes.ts';
import {
  desiredConfigMap,
  desiredService,
  desiredServiceAccountObjects,
  workloadMode,
  type SetContext,
} from '../../core/manifests/spicepodset.ts';
import { clusterMembershipProblem } from '../../core/spec/cluster-node.ts';
import { normalizeSpicepodSetSpec, type SpecProblem } from '../../core/spec/normalize.ts';
import type { SpicepodSetSpec, SpicepodSetStatus } from '../../core/spec/spicepodset.ts';
import { ANNOTATION_RESUME, ANNOTATION_ROLLBACK } from '../../core/annotations.ts';
import { PAUSE_CRASHLOOPING, PAUSE_SCALED } from '../../core/set-reasons.ts';
import { LABEL_APP } from '../../core/labels.ts';
import { blueGreenWorkload } from './bluegreen.ts';
import { conditionEvents, resumedEvent, rolledBackCondition, setConditionsOf, type SetOutcome } from './conditions.ts';
import { crashloopProtection } from './crashloop.ts';
import { deploymentWorkload } from './deployment.ts';
import { refusedChildrenMessage, refusedPodsMessage, refusedResizes } from './refusals.ts';
import { ANNOTATION_VALUE_ROLLBACK, EVENT_ROLLBACK_UNAVAILABLE, rollbackRefusal } from './rollback.ts';
import { statefulSetWorkload } from './statefulsets.ts';
import { volumeResizes } from './volumes.ts';
import { isRolling, type Workload } from './workload.ts';

export const CHILDREN = [
  { apiVersion: 'v1', kind: 'ConfigMap' },
  { apiVersion: 'v1', kind: 'Service' },
  { apiVersion: 'v1', kind: 'ServiceAccount' },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role' },
  { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding' },
  { apiVersion: 'apps/v1', kind: 'Deployment' },
  { apiVersion: 'apps/v1', kind: 'StatefulSet' },
];
const CHILD_KINDS = new Set(CHILDREN.map((c) => c.kind));
/** Re-check a rollout in progress even if no event arrives. */
const PROGRESS_RECHECK_SECONDS = 30;

// ---- the spec: normalized, then each check in order ----
type SpecCheck = (parent: KubeObject, spec: SpicepodSetSpec) => SpecProblem[];
/** A cluster role only on a set its SpicepodCluster owns. */
const clusterRoleNeedsItsCluster: SpecCheck = (parent, spec) => {
  const problem = clusterMembershipProblem(parent.metadata, spec.cluster);
  return problem ? [problem] : [];
};
/** Every name derived from the set's name fits Kubernetes' limits. */
const derivedNamesFit: SpecCheck = (parent, spec) => setNameProblems(parent.metadata.name, spec);
/** Every volumeMounts entry names a volume, every template but data is mounted, no two mounts share a path. */
const mountsFitVolumes: SpecCheck = (_parent, spec) => volumeMountProblems(spec);
const SPEC_CHECKS: SpecCheck[] = [clusterRoleNeedsItsCluster, derivedNamesFit, mountsFitVolumes];

function checkedSpec(parent: KubeObject): { spec: SpicepodSetSpec } | { problems: SpecProblem[] } {
  const normalized = normalizeSpicepodSetSpec(parent.spec);
  if (!normalized.ok) return { problems: normalized.problems };
  for (const check of SPEC_CHECKS) {
    const problems = check(parent, normalized.spec);
    if (problems.length) return { problems };
  }
  return { spec: normalized.spec };
}

/** Nothing is changed or deleted while the spec cannot be acted on; the other conditions stay as they were. */
function invalidSpec(observed: Observed, problems: SpecProblem[]): Desired {
  const status = (observed.parent.status ?? {}) as SpicepodSetStatus;
  const carried = (status.conditions ?? []).filter((c) => c.type !== 'Ready').map(asInput);
  const { conditions, events } = invalidSpecAnswer(status.conditions, problems, carried, observed.now, observed.parent.metadata.generation);
  return { apply: [], keep: observed.children.map(refOf), status: { ...status, conditions }, events };
}

/** The workload the spec asks for: a Deployment, per-replica StatefulSets, or BlueGreen generations. */
async function buildWorkload(
  ctx: SetContext,
  observed: Observed,
  replicas: number,
  rollbackRequested: boolean,
): Promise<{ workload: Workload; blueGreen: boolean }> {
  if (workloadMode(ctx.spec) === 'Deployment') return { workload: deploymentWorkload(ctx, observed, replicas), blueGreen: false };
  if (ctx.spec.updateStrategy.type === 'BlueGreen')
    return { workload: await blueGreenWorkload(ctx, observed, replicas, rollbackRequested), blueGreen: true };
  return { workload: statefulSetWorkload(ctx, observed, replicas), blueGreen: false };
}

/** The user's requests a pass answers: crashloop protection with its resume annotation, and a rollback annotation. Both annotations are cleared after the status is written. */
function requests(observed: Observed, spec: SpicepodSetSpec) {
  const parent = observed.parent;
  const crashloop = crashloopProtection({
    parent,
    replicas: spec.replicas,
    pods: observed.related.Pod ?? [],
    threshold: observed.config.pauseCrashloopingPodsThreshold,
    now: observed.now,
  });
  const rollbackAnnotation = parent.metadata.annotations?.[ANNOTATION_ROLLBACK];
  const clear: Record<string, null> = {
    ...(crashloop.clearAnnotation ? { [ANNOTATION_RESUME]: null } : {}),
    ...(rollbackAnnotation !== undefined ? { [ANNOTATION_ROLLBACK]: null } : {}),
  };
  return {
    crashloop,
    /** Replicas that run: none while crashloop protection holds the set. */
    replicas: crashloop.crashLooping ? 0 : spec.replicas,
    pauseReason: crashloop.crashLooping ? PAUSE_CRASHLOOPING : spec.replicas === 0 ? PAUSE_SCALED : undefined,
    rollbackRequested: rollbackAnnotation === ANNOTATION_VALUE_ROLLBACK,
    parentPatch: Object.keys(clear).length ? [{ target: refOf(parent), patch: { metadata: { annotations: clear } } }] : [],
  };
}

type BuiltWorkload = Awaited<ReturnType<typeof buildWorkload>>['workload'];

/** The set's conditions, and this pass's Events: the workload's, a refused rollback, condition changes, a resume. */
function conditionsAndEvents(
  observed: Observed,
  previous: SpicepodSetStatus,
  outcome: SetOutcome,
  workload: BuiltWorkload,
  rollbackRefused: Parameters<typeof rolledBackCondition>[2],
) {
  const generation = observed.parent.metadata.generation;
  const rolledBack = rolledBackCondition(previous, workload.status, rollbackRefused, generation);
  const conditions = setConditions(
    previous.conditions,
    [...setConditionsOf(outcome), ...(rolledBack ? [rolledBack] : [])],
    observed.now,
    generation,
  );
  const resumed = resumedEvent(outcome.crashloop.resumedBy);
  const events: RecordedEvent[] = [
    ...(workload.events ?? []),
    ...(rollbackRefused ? [{ type: 'Warning' as const, reason: EVENT_ROLLBACK_UNAVAILABLE, message: rollbackRefused.message }] : []),
    ...conditionEvents(previous.conditions, conditions, outcome),
    ...(resumed ? [resumed] : []),
  ];
  return { conditions, events };
}

/** The set's status: counts, the scale subresource's selector, what the workload reports, the crashloop bookkeeping. */
function setStatus(
  name: string,
  outcome: SetOutcome,
  workload: Awaited<ReturnType<typeof buildWorkload>>['workload'],
  conditions: SpicepodSetStatus['conditions'],
): SpicepodSetStatus {
  const { spec, crashloop, pauseReason } = outcome;
  return {
    replicas: `${workload.ready}/${spec.replicas}`,
    readyReplicas: workload.ready,
    totalReplicas: spec.replicas,
    // The scale subresource's labelSelectorPath: the pods a HorizontalPodAutoscaler measures.
    selector: `${LABEL_APP}=${name}`,
    role: spec.cluster?.role ?? '<none>',
    pauseReason,
    ...workload.status,
    crashloopBaselines: crashloop.baselines,
    resumeHandled: crashloop.resumeHandled,
    conditions,
  };
}

export async function reconcileSpicepodSet(observed: Observed): Promise<Desired> {
  const parent = observed.parent;
  const checked = checkedSpec(parent);
  if ('problems' in checked) return invalidSpec(observed, checked.problems);
  const { spec } = checked;
  const ctx: SetContext = { set: parent.metadata.name, namespace: parent.metadata.namespace ?? 'default', spec, config: observed.config };
  const previous = (parent.status ?? {}) as SpicepodSetStatus;
  const { crashloop, replicas, pauseReason, rollbackRequested, parentPatch } = requests(observed, spec);

  const { workload, blueGreen } = await buildWorkload(ctx, observed, replicas, rollbackRequested);
  const objects: KubeObject[] = [desiredConfigMap(ctx), ...desiredServiceAccountObjects(ctx)];
  if (spec.enableService) objects.push(desiredService(ctx, workload.serviceVersion));
  // A rollback request is always answered; only BlueGreen with a standby can honour it.
  const rollbackRefused =
    workload.rollback?.refusal ??
    (rollbackRequested && !blueGreen ? rollbackRefusal({ spec, nowSeconds: Math.floor(observed.now / 1000) }) : undefined);

  const { patches, shrinks, shrinkFields, sizes } = volumeResizes(ctx, observed);
  const rolling = isRolling(replicas, workload.updatedReady);
  const outcome: SetOutcome = {
    spec,
    replicas,
    crashloop,
    pauseReason,
    rolling,
    updatedReady: workload.updatedReady,
    revision: workload.revision,
    waiting: workload.waiting,
    childRefused: refusedChildrenMessage(observed.failedWrites, CHILD_KINDS),
    podsRefused: rolling
      ? refusedPodsMessage(
          observed,
          observed.children.filter((c) => c.kind === 'Deployment' || c.kind === 'StatefulSet'),
        )
      : undefined,
    resizeRefused: refusedResizes(observed.failedWrites),
    shrinks,
    shrinkFields,
    sizes,
    resizing: patches.length,
  };
  const { conditions, events } = conditionsAndEvents(observed, previous, outcome, workload, rollbackRefused);

  const status = setStatus(parent.metadata.name, outcome, workload, conditions);
  const requeues = [workload.requeueAfterSeconds, rolling || workload.keep.length ? PROGRESS_RECHECK_SECONDS : undefined].filter(
    (n): n is number => n !== undefined,
  );
  return {
    apply: [...objects, ...workload.apply],
    keep: workload.keep,
    patch: [...patches, ...parentPatch],
    status: status as Record<string, unknown>,
    events,
    requeueAfterSeconds: requeues.length ? Math.max(1, Math.min(...requeues)) : undefined,
  };
}
