// One pass of the cluster handler: answer a rollback request, check the spec
// (its child sets' specs named under the cluster's fields), apply the child
// sets (schedulers first), then the conditions, Events and status.
import { findCondition, setConditions } from '../../core/conditions.ts';
import type { Desired, KubeObject, Observed, ObjectRef } from '../../core/handler.ts';
import { refOf } from '../../core/handler.ts';
import { asInput, invalidSpecAnswer } from '../../core/invalid-spec.ts';
import { clusterNames, desiredChildSet } from '../../core/manifests/spicepodcluster.ts';
import { normalizeSpicepodClusterSpec, type SpecProblem } from '../../core/spec/normalize.ts';
import type { SpicepodClusterSpec, SpicepodClusterStatus } from '../../core/spec/spicepodcluster.ts';
import type { SpicepodSetStatus } from '../../core/spec/spicepodset.ts';
import { satisfies } from '../../core/diff.ts';
import { isRefusal } from '../../core/failed-writes.ts';
import { childProblem, childSpecProblems, type ChildState, type Role } from './children.ts';
import { clusterConditions, clusterEvents, isError, type ClusterOutcome } from './conditions.ts';
import { rollbackAnswer, type RollbackAnswer } from './rollback.ts';
import { LABEL_APP } from '../../core/labels.ts';

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
  return { object, status, settled: !!object && status.observedGeneration === object.metadata.generation && ready?.status === 'True' };
}

const childState = (role: Role, name: string, v: ChildView): ChildState => ({
  role,
  name,
  status: v.object ? v.status : undefined,
  current: !!v.object && v.status.observedGeneration === v.object.metadata.generation,
});

/** The two child sets the spec asks for, or the problems of the spec (the children's named under the cluster's fields). */
function desiredChildren(
  parent: KubeObject,
  clusterDomain: string,
): { spec: SpicepodClusterSpec; scheduler: KubeObject; executor: KubeObject } | { problems: SpecProblem[] } {
  const cluster = parent.metadata.name;
  const namespace = parent.metadata.namespace ?? 'default';
  const normalized = normalizeSpicepodClusterSpec(parent.spec, cluster);
  if (!normalized.ok) return { problems: normalized.problems };
  const scheduler = desiredChildSet(cluster, namespace, normalized.spec, 'scheduler', clusterDomain);
  const executor = desiredChildSet(cluster, namespace, normalized.spec, 'executor', clusterDomain);
  const problems = [...childSpecProblems('scheduler', scheduler), ...childSpecProblems('executor', executor)];
  return problems.length ? { problems } : { spec: normalized.spec, scheduler, executor };
}

/** Nothing is changed while the spec cannot be acted on; Progressing and Paused stay as they were. */
function invalidSpec(observed: Observed, problems: SpecProblem[], rollback: RollbackAnswer): Desired {
  const previous = (observed.parent.status ?? {}) as SpicepodClusterStatus;
  const carried = (previous.conditions ?? []).filter((c) => c.type === 'Progressing' || c.type === 'Paused').map(asInput);
  const { message, conditions, events } = invalidSpecAnswer(
    previous.conditions,
    problems,
    [...carried, ...rollback.conditions],
    observed.now,
    observed.parent.metadata.generation,
  );
  return {
    apply: [],
    keep: observed.children.map(refOf),
    patch: rollback.patch,
    status: { error: message, conditions },
    events: [...events, ...rollback.events],
  };
}

/** Schedulers first: an existing executor set changes only once the schedulers run the new spec and are Ready. */
const executorWaits = (scheduler: ChildView, schedulerCurrent: boolean, executor: ChildView, desiredExecutor: KubeObject) =>
  !!executor.object && !sameSpec(desiredExecutor.spec, executor.object.spec) && !(schedulerCurrent && scheduler.settled);

export async function reconcileSpicepodCluster(observed: Observed): Promise<Desired> {
  const parent = observed.parent;
  const cluster = parent.metadata.name;
  const previous = (parent.status ?? {}) as SpicepodClusterStatus;
  const generation = parent.metadata.generation;
  const rollback = rollbackAnswer(parent);
  const desired = desiredChildren(parent, observed.config.clusterDomain);
  if ('problems' in desired) return invalidSpec(observed, desired.problems, rollback);
  const { spec } = desired;

  const schedulerName = clusterNames.childSet(cluster, 'scheduler');
  const executorName = clusterNames.childSet(cluster, 'executor');
  const find = (name: string) => observed.children.find((c) => c.kind === 'SpicepodSet' && c.metadata.name === name);
  const scheduler = view(find(schedulerName));
  const executor = view(find(executorName));
  const schedulerCurrent = !!scheduler.object && sameSpec(desired.scheduler.spec, scheduler.object.spec);
  const waits = executorWaits(scheduler, schedulerCurrent, executor, desired.executor);
  const apply: KubeObject[] = [desired.scheduler, ...(waits ? [] : [desired.executor])];
  const keep: ObjectRef[] = waits ? [refOf(executor.object!)] : [];

  const count = (v: ChildView, total: number) => `${v.status.readyReplicas ?? 0}/${total}`;
  const children = [childState('scheduler', schedulerName, scheduler), childState('executor', executorName, executor)];
  const outcome: ClusterOutcome = {
    allReady: scheduler.settled && executor.settled && schedulerCurrent && !waits && sameSpec(desired.executor.spec, executor.object?.spec),
    executorWaits: waits,
    refusedChildren: (observed.failedWrites ?? []).filter((f) => isRefusal(f) && f.target.kind === 'SpicepodSet'),
    childProblems: children.map(childProblem).filter((p): p is NonNullable<typeof p> => !!p),
    children,
    schedulers: count(scheduler, spec.schedulerSetSpec.replicas),
    executors: count(executor, spec.executorSetSpec.replicas),
  };
  const conditions = [...clusterConditions(outcome), ...rollback.conditions];
  const readyNow = conditions[0]!;

  const status: SpicepodClusterStatus = {
    schedulerSpicepodsetName: schedulerName,
    executorSpicepodsetName: executorName,
    schedulerReadyReplicas: scheduler.status.readyReplicas ?? 0,
    executorReadyReplicas: executor.status.readyReplicas ?? 0,
    // The scale subresource scales the executors: its labelSelectorPath.
    executorSelector: `${LABEL_APP}=${executorName}`,
    schedulers: outcome.schedulers,
    executors: outcome.executors,
    // The legacy field says what the conditions say when something is wrong, and goes when it is not.
    error: isError(readyNow, outcome) ? readyNow.message : undefined,
    conditions: setConditions(previous.conditions, conditions, observed.now, generation),
  };
  return {
    apply,
    keep,
    patch: rollback.patch,
    status: status as Record<string, unknown>,
    events: [...rollback.events, ...clusterEvents(previous.conditions, conditions, outcome)],
    requeueAfterSeconds: outcome.allReady ? undefined : 30,
  };
}
