// Several replicas, a volume or a cluster role: one StatefulSet per replica
// (<set>-<ordinal>, one pod each), so the rollout plan (rollout.ts) decides
// exactly which replicas move to the new revision in this pass. A paused set
// keeps its StatefulSets (and their claims) at zero replicas.
import type { KubeObject, Observed, ObjectRef } from '../../core/handler.ts';
import { refOf } from '../../core/handler.ts';
import { names } from '../../core/manifests/names.ts';
import { desiredHeadlessService, desiredStatefulSet, templateRevision, type SetContext } from '../../core/manifests/spicepodset.ts';
import { isPodReady } from '../../core/pods.ts';
import { LABEL_VERSION } from '../../core/labels.ts';
import { planRollout, type ReplicaState } from './rollout.ts';
import { claimTemplatesOf, isRolling, ofKind, podRevision, revisionOf, type Workload } from './workload.ts';

/** Each replica's StatefulSet and pod, against the desired revision. */
function replicaStates(
  set: string,
  existing: Map<string, KubeObject>,
  pods: Map<string, KubeObject>,
  ordinals: number,
  revision: string,
): ReplicaState[] {
  return Array.from({ length: ordinals }, (_, ordinal) => {
    const sts = existing.get(names.statefulSet(set, ordinal));
    const pod = pods.get(names.statefulSetPod(names.statefulSet(set, ordinal)));
    return {
      ordinal,
      exists: !!sts,
      updated: revisionOf(sts) === revision,
      ready: !!sts && !!pod && isPodReady(pod) && podRevision(pod) === revisionOf(sts),
    };
  });
}

export function statefulSetWorkload(ctx: SetContext, observed: Observed, replicas: number): Workload {
  const { set } = ctx;
  const existing = new Map(ofKind(observed.children, 'StatefulSet').map((s) => [s.metadata.name, s]));
  const pods = new Map((observed.related.Pod ?? []).map((p) => [p.metadata.name, p]));
  const ordinals = replicas > 0 ? replicas : [...existing.keys()].filter((n) => /-\d+$/.test(n) && n.startsWith(`${set}-`)).length;
  const revision = templateRevision(ctx);
  const states = replicaStates(set, existing, pods, ordinals, revision);
  const plan = replicas > 0 ? planRollout(ctx.spec.updateStrategy, states) : { update: new Set(states.map((s) => s.ordinal)) };
  const apply: KubeObject[] = [desiredHeadlessService(ctx)];
  const keep: ObjectRef[] = [];
  for (const state of states) {
    const sts = existing.get(names.statefulSet(set, state.ordinal));
    if (state.updated || plan.update.has(state.ordinal)) {
      apply.push(
        desiredStatefulSet(ctx, {
          ordinal: state.ordinal,
          replicas: replicas > 0 ? 1 : 0,
          volumeClaimTemplates: claimTemplatesOf(sts),
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
    keep.push(
      ...ofKind(observed.children, 'StatefulSet')
        .filter((s) => s.metadata.labels?.[LABEL_VERSION])
        .map(refOf),
    );
  }
  return {
    apply,
    keep,
    ready: readyStates.length,
    updatedReady,
    revision,
    waiting: plan.waiting ?? (isRolling(replicas, updatedReady) ? `${replicas - updatedReady} replicas are not Ready yet` : undefined),
  };
}
