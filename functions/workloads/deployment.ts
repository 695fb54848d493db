// One replica without a volume or a cluster role: a Deployment. Switching
// from per-replica StatefulSets, they serve until the Deployment's pods are
// Ready.
import type { Observed, ObjectRef } from '../../core/handler.ts';
import { refOf } from '../../core/handler.ts';
import { names } from '../../core/manifests/names.ts';
import { desiredDeployment, templateRevision, type SetContext } from '../../core/manifests/spicepodset.ts';
import { isPodReady } from '../../core/pods.ts';
import { LABEL_WORKLOAD } from '../../core/labels.ts';
import { isRolling, ofKind, podRevision, type Workload } from './workload.ts';

export function deploymentWorkload(ctx: SetContext, observed: Observed, replicas: number): Workload {
  const revision = templateRevision(ctx);
  const pods = (observed.related.Pod ?? []).filter((p) => p.metadata.labels?.[LABEL_WORKLOAD] === 'deployment');
  const updatedReady = pods.filter((p) => isPodReady(p) && podRevision(p) === revision).length;
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
    apply: [desiredDeployment(ctx, replicas)],
    keep,
    ready: Math.min(ready, replicas),
    updatedReady,
    revision,
    waiting: isRolling(replicas, updatedReady) ? 'waiting for the new pod to become Ready' : undefined,
  };
}
