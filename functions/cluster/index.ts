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

  const normalized = normalizeSpicepodClusterSpec(parent.spec, cluster);
  if (!normalized.ok) {
    const message = normalized.problems.map((p) => `${p.field} ${p.message}`).join('; ');
    const before = findCondition(previous.conditions, 'Ready');
    return {
      apply: [],
      keep: observed.children.map(refOf),
      status: {
        conditions: setConditions(previous.conditions, [{ type: 'Ready', status: 'False', reason: 'InvalidSpec', message }], observed.now, generation),
      },
      events: before?.reason === 'InvalidSpec' && before.message === message ? [] : [{ type: 'Warning', reason: 'InvalidSpec', message }],
    };
  }
  const spec = normalized.spec;
  const domain = observed.config.clusterDomain;
  const schedulerName = clusterNames.childSet(cluster, 'scheduler');
  const executorName = clusterNames.childSet(cluster, 'executor');
  const find = (name: string) => observed.children.find((c) => c.kind === 'SpicepodSet' && c.metadata.name === name);
  const scheduler = view(find(schedulerName));
  const executor = view(find(executorName));

  const desiredScheduler = desiredChildSet(cluster, namespace, spec, 'scheduler', domain);
  const desiredExecutor = desiredChildSet(cluster, namespace, spec, 'executor', domain);
  const apply: KubeObject[] = [desiredScheduler];
  const keep: ObjectRef[] = [];
  const schedulerCurrent = !!scheduler.object && sameSpec(desiredScheduler.spec, scheduler.object.spec);
  // Schedulers first: an existing executor set changes only once the schedulers run the new spec and are Ready.
  const executorWaits =
    !!executor.object && !sameSpec(desiredExecutor.spec, executor.object.spec) && !(schedulerCurrent && scheduler.settled);
  if (executorWaits) keep.push(refOf(executor.object!));
  else apply.push(desiredExecutor);

  const events: RecordedEvent[] = [];
  const count = (v: ChildView, total: number) => `${v.status.readyReplicas ?? 0}/${total}`;
  const allReady = scheduler.settled && executor.settled && schedulerCurrent && !executorWaits && sameSpec(desiredExecutor.spec, executor.object?.spec);
  const conditions: ConditionInput[] = [
    allReady
      ? { type: 'Ready', status: 'True', reason: 'AllNodesReady', message: 'schedulers and executors are Ready' }
      : { type: 'Ready', status: 'False', reason: 'NodesNotReady', message: `schedulers ${count(scheduler, spec.schedulerSetSpec.replicas)}, executors ${count(executor, spec.executorSetSpec.replicas)} Ready` },
    executorWaits
      ? { type: 'Progressing', status: 'True', reason: 'SchedulersFirst', message: 'executors wait until the schedulers have rolled out and are Ready' }
      : allReady
        ? { type: 'Progressing', status: 'False', reason: 'RolloutComplete', message: 'every node runs the current spec' }
        : { type: 'Progressing', status: 'True', reason: 'RollingOut', message: 'nodes are rolling out' },
  ];
  // Secure (mutual TLS in place on every node) is the pki handler's: it knows the certificates.
  const nextConditions = setConditions(previous.conditions, conditions, observed.now, generation);
  const readyBefore = findCondition(previous.conditions, 'Ready');
  if (allReady && readyBefore?.status !== 'True') events.push({ type: 'Normal', reason: 'Ready', message: 'schedulers and executors are Ready' });

  const status: SpicepodClusterStatus = {
    schedulerSpicepodsetName: schedulerName,
    executorSpicepodsetName: executorName,
    schedulerReadyReplicas: scheduler.status.readyReplicas ?? 0,
    executorReadyReplicas: executor.status.readyReplicas ?? 0,
    schedulers: count(scheduler, spec.schedulerSetSpec.replicas),
    executors: count(executor, spec.executorSetSpec.replicas),
    conditions: nextConditions,
  };
  return {
    apply,
    keep,
    status: status as Record<string, unknown>,
    events,
    requeueAfterSeconds: allReady ? undefined : 30,
  };
}

export const clusterHandler: Handler = {
  name: 'cluster',
  parent: { apiVersion: 'spice.ai/v1alpha1', kind: 'SpicepodCluster' },
  children: [{ apiVersion: 'spice.ai/v1', kind: 'SpicepodSet' }],
  conditionTypes: ['Ready', 'Progressing'],
  reconcile: reconcileSpicepodCluster,
};
