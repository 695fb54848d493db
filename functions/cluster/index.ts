// The cluster handler: a SpicepodCluster becomes two child SpicepodSets,
// <cluster>-scheduler (with the Spicepod) and <cluster>-executor, which the
// workloads handler then runs. Upgrades roll schedulers first: the executor
// set keeps its spec until the scheduler set has rolled out and is Ready.
import { findCondition, setConditions, type ConditionInput } from '../../core/conditions.ts';
import type { Desired, Handler, KubeObject, Observed, ObjectRef, RecordedEvent } from '../../core/handler.ts';
import { refOf } from '../../core/handler.ts';
import { clusterNames, desiredChildSet } from '../../core/manifests/spicepodcluster.ts';
import { normalizeSpicepodClusterSpec } from '../../core/spec/normalize.ts';
import type { SpicepodClusterStatus } from '../../core/spec/spicepodcluster.ts';
import type { SpicepodSetStatus } from '../../core/spec/spicepodset.ts';
import { satisfies } from '../../core/diff.ts';

import { childProblem, childSpecProblems, crashLooping, pausedCondition, REASON_PAUSED, type ChildState } from './children.ts';
import { ANNOTATION_ROLLBACK } from '../../core/annotations.ts';

export const REASON_INVALID_SPEC = 'InvalidSpec';
export const REASON_CHILD_REFUSED = 'ChildRefused';
export const REASON_NODES_NOT_READY = 'NodesNotReady';
/** Ready reasons that are errors: status.error carries their message (v1alpha1 clients read it). */
const ERROR_REASONS = new Set([REASON_INVALID_SPEC, REASON_CHILD_REFUSED, 'PodsRefused']);
export const CONDITION_ROLLED_BACK = 'RolledBack';
/** Cluster nodes roll in place (BlueGreen is refused on them), so there is no standby to roll back to. */
export const REASON_ROLLBACK_NOT_SUPPORTED = 'NotSupportedOnClusters';
const ROLLBACK_REFUSED =
  'spice.ai/rollback is not supported on a SpicepodCluster: its nodes roll in place (BlueGreen is refused on cluster nodes) and no previous generation is kept; to go back, re-apply the previous spec';

/** An API server answer that means the write will not succeed as it is. */
const isRefusal = (code: number) => code >= 400 && code < 500 && code !== 409 && code !== 429;

/** Whether the child's stored spec (with server defaults) already says what we want. */
const sameSpec = (desired: unknown, observed: unknown) => observed !== undefined && satisfies(desired, observed);

interface ChildView {
  object?: KubeObject;
  status: SpicepodSetStatus;
  /** The child has acted on its current spec and all its replicas are Ready. */
  settled: boolean;
}

function view(object: KubeObject | undefined): ChildView {
  const status = (object?.status ?? {}) as SpicepodSetStatus;
  const ready = findCondition(status.conditions, 'Ready');
  return {
    object,
    status,
    settled: !!object && status.observedGeneration === object.metadata.generation && ready?.status === 'True',
  };
}

export async function reconcileSpicepodCluster(observed: Observed): Promise<Desired> {
  const parent = observed.parent;
  const cluster = parent.metadata.name;
  const namespace = parent.metadata.namespace ?? 'default';
  const previous = (parent.status ?? {}) as SpicepodClusterStatus;
  const generation = parent.metadata.generation;

  // A rollback request is answered and cleared (after the status is written).
  const rollbackRequested = parent.metadata.annotations?.[ANNOTATION_ROLLBACK] !== undefined;
  const rollbackPatch = rollbackRequested ? [{ target: refOf(parent), patch: { metadata: { annotations: { [ANNOTATION_ROLLBACK]: null } } } }] : [];
  const rollbackEvents: RecordedEvent[] = rollbackRequested ? [{ type: 'Warning', reason: 'RollbackUnavailable', message: ROLLBACK_REFUSED }] : [];
  const rollbackConditions: ConditionInput[] =
    rollbackRequested || findCondition(previous.conditions, CONDITION_ROLLED_BACK)?.observedGeneration === generation
      ? [{ type: CONDITION_ROLLED_BACK, status: 'False', reason: REASON_ROLLBACK_NOT_SUPPORTED, message: ROLLBACK_REFUSED }]
      : [];

  const normalized = normalizeSpicepodClusterSpec(parent.spec, cluster);
  const domain = observed.config.clusterDomain;
  const desired = normalized.ok
    ? { scheduler: desiredChildSet(cluster, namespace, normalized.spec, 'scheduler', domain), executor: desiredChildSet(cluster, namespace, normalized.spec, 'executor', domain) }
    : undefined;
  // The child sets' specs are checked here too, so the field is named where the user wrote it.
  const problems = normalized.ok ? [...childSpecProblems('scheduler', desired!.scheduler), ...childSpecProblems('executor', desired!.executor)] : normalized.problems;
  if (!normalized.ok || problems.length) {
    const message = problems.map((p) => `${p.field} ${p.message}`).join('; ');
    const before = findCondition(previous.conditions, 'Ready');
    return {
      apply: [],
      keep: observed.children.map(refOf),
      patch: rollbackPatch,
      status: {
        error: message,
        conditions: setConditions(
          previous.conditions,
          [
            { type: 'Ready', status: 'False', reason: REASON_INVALID_SPEC, message },
            ...(previous.conditions ?? [])
              .filter((c) => c.type !== 'Ready' && c.type !== CONDITION_ROLLED_BACK && ['Progressing', 'Paused'].includes(c.type))
              .map((c) => ({ ...c, reason: c.reason ?? '', message: c.message ?? '' })),
            ...rollbackConditions,
          ],
          observed.now,
          generation,
        ),
      },
      events: [...(before?.reason === REASON_INVALID_SPEC && before.message === message ? [] : [{ type: 'Warning' as const, reason: REASON_INVALID_SPEC, message }]), ...rollbackEvents],
    };
  }
  const spec = normalized.spec;
  const schedulerName = clusterNames.childSet(cluster, 'scheduler');
  const executorName = clusterNames.childSet(cluster, 'executor');
  const find = (name: string) => observed.children.find((c) => c.kind === 'SpicepodSet' && c.metadata.name === name);
  const scheduler = view(find(schedulerName));
  const executor = view(find(executorName));

  const desiredScheduler = desired!.scheduler;
  const desiredExecutor = desired!.executor;
  const apply: KubeObject[] = [desiredScheduler];
  const keep: ObjectRef[] = [];
  const schedulerCurrent = !!scheduler.object && sameSpec(desiredScheduler.spec, scheduler.object.spec);
  // Schedulers first: an existing executor set changes only once the schedulers run the new spec and are Ready.
  const executorWaits =
    !!executor.object && !sameSpec(desiredExecutor.spec, executor.object.spec) && !(schedulerCurrent && scheduler.settled);
  if (executorWaits) keep.push(refOf(executor.object!));
  else apply.push(desiredExecutor);

  const events: RecordedEvent[] = [...rollbackEvents];
  const count = (v: ChildView, total: number) => `${v.status.readyReplicas ?? 0}/${total}`;
  const allReady = scheduler.settled && executor.settled && schedulerCurrent && !executorWaits && sameSpec(desiredExecutor.spec, executor.object?.spec);
  const states: ChildState[] = [
    { role: 'scheduler', name: schedulerName, status: scheduler.object ? scheduler.status : undefined, current: !!scheduler.object && scheduler.status.observedGeneration === scheduler.object.metadata.generation },
    { role: 'executor', name: executorName, status: executor.object ? executor.status : undefined, current: !!executor.object && executor.status.observedGeneration === executor.object.metadata.generation },
  ];
  // What keeps the cluster from being Ready, most telling first: a child set the API server
  // refused, a child whose own objects or pods are refused, a node set paused after crashes.
  const refusedChildren = (observed.failedWrites ?? []).filter((f) => isRefusal(f.code) && f.target.kind === 'SpicepodSet');
  const childProblems = states.map(childProblem).filter((p): p is NonNullable<typeof p> => !!p);
  const crashed = states.filter(crashLooping);
  const notReady: ConditionInput = refusedChildren.length
    ? {
        type: 'Ready',
        status: 'False',
        reason: REASON_CHILD_REFUSED,
        message: refusedChildren.map((f) => `the API server refused SpicepodSet ${f.target.name}: ${f.message}`).join('; '),
      }
    : childProblems.length
      ? { type: 'Ready', status: 'False', reason: childProblems[0]!.reason, message: childProblems.map((p) => p.message).join('; ') }
      : crashed.length
        ? { type: 'Ready', status: 'False', reason: REASON_PAUSED, message: crashed.map((c) => `the ${c.role} set ${c.name} is paused after repeated pod failures`).join('; ') }
        : { type: 'Ready', status: 'False', reason: REASON_NODES_NOT_READY, message: `schedulers ${count(scheduler, spec.schedulerSetSpec.replicas)}, executors ${count(executor, spec.executorSetSpec.replicas)} Ready` };
  const conditions: ConditionInput[] = [
    allReady ? { type: 'Ready', status: 'True', reason: 'AllNodesReady', message: 'schedulers and executors are Ready' } : notReady,
    executorWaits
      ? { type: 'Progressing', status: 'True', reason: 'SchedulersFirst', message: 'executors wait until the schedulers have rolled out and are Ready' }
      : allReady
        ? { type: 'Progressing', status: 'False', reason: 'RolloutComplete', message: 'every node runs the current spec' }
        : { type: 'Progressing', status: 'True', reason: 'RollingOut', message: 'nodes are rolling out' },
  ];
  // Secure (mutual TLS in place on every node) is the pki handler's: it knows the certificates.
  conditions.push(pausedCondition(states), ...rollbackConditions);
  const nextConditions = setConditions(previous.conditions, conditions, observed.now, generation);
  const readyNow = conditions[0]!;
  const readyBeforeThis = findCondition(previous.conditions, 'Ready');
  if (readyNow.status === 'False' && ERROR_REASONS.has(readyNow.reason) && (readyBeforeThis?.reason !== readyNow.reason || readyBeforeThis?.message !== readyNow.message)) {
    events.push({ type: 'Warning', reason: readyNow.reason, message: readyNow.message });
  }
  const pausedNow = conditions.find((c) => c.type === 'Paused')!;
  const pausedBefore = findCondition(previous.conditions, 'Paused');
  if (pausedNow.status === 'True' && (pausedBefore?.status !== 'True' || pausedBefore.reason !== pausedNow.reason)) {
    events.push({ type: crashed.length ? 'Warning' : 'Normal', reason: 'Paused', message: pausedNow.message });
  }
  const readyBefore = findCondition(previous.conditions, 'Ready');
  if (allReady && readyBefore?.status !== 'True') events.push({ type: 'Normal', reason: 'Ready', message: 'schedulers and executors are Ready' });

  const status: SpicepodClusterStatus = {
    schedulerSpicepodsetName: schedulerName,
    executorSpicepodsetName: executorName,
    schedulerReadyReplicas: scheduler.status.readyReplicas ?? 0,
    executorReadyReplicas: executor.status.readyReplicas ?? 0,
    schedulers: count(scheduler, spec.schedulerSetSpec.replicas),
    executors: count(executor, spec.executorSetSpec.replicas),
    // The legacy field says what the conditions say when something is wrong, and goes when it is not.
    error: readyNow.status === 'False' && (ERROR_REASONS.has(readyNow.reason) || crashed.length) ? readyNow.message : undefined,
    conditions: nextConditions,
  };
  return {
    apply,
    keep,
    patch: rollbackPatch,
    status: status as Record<string, unknown>,
    events,
    requeueAfterSeconds: allReady ? undefined : 30,
  };
}

export const clusterHandler: Handler = {
  name: 'cluster',
  parent: { apiVersion: 'spice.ai/v1alpha1', kind: 'SpicepodCluster' },
  children: [{ apiVersion: 'spice.ai/v1', kind: 'SpicepodSet' }],
  conditionTypes: ['Ready', 'Progressing', 'Paused', CONDITION_ROLLED_BACK],
  lastUpdatedField: 'lastUpdated',
  reconcile: reconcileSpicepodCluster,
};
