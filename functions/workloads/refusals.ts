// What the cluster refused, told to the user with the cluster's own words:
// - a child the API server refused to write (validation, an admission
//   webhook, RBAC), which the shim carries back in Observed.failedWrites;
// - a PVC resize the API server refused (the StorageClass does not allow
//   expansion, the claim is not bound);
// - pods the controllers cannot create (Pod Security, a ResourceQuota, a
//   webhook): a Deployment says so in its ReplicaFailure condition, a
//   StatefulSet only in FailedCreate Events about it.
// Without these the set would say RolloutInProgress for ever.
import type { FailedWrite, KubeObject, Observed } from '../../core/handler.ts';
import { names } from '../../core/manifests/names.ts';
import { isRefusal } from '../../core/failed-writes.ts';

/** Events of the StatefulSet controller when it cannot create a pod or its claim. */
export const EVENT_FAILED_CREATE = 'FailedCreate';

/** Room for the API server's words in a condition message (conditions allow 32768). */
const MESSAGE_MAX = 4096;
const SHOWN = 3;

function summary(items: string[]): string {
  const shown = items.slice(0, SHOWN).join('; ');
  const text = items.length > SHOWN ? `${shown}; and ${items.length - SHOWN} more` : shown;
  return text.length > MESSAGE_MAX ? `${text.slice(0, MESSAGE_MAX - 3)}...` : text;
}

/** Children (of these kinds) the API server refused to write, as one message; undefined if none. */
export function refusedChildrenMessage(failedWrites: FailedWrite[] | undefined, childKinds: Set<string>): string | undefined {
  const refused = (failedWrites ?? []).filter((f) => isRefusal(f) && f.verb !== 'patch' && childKinds.has(f.target.kind));
  if (!refused.length) return undefined;
  return `the API server refused ${summary(refused.map((f) => `${f.verb === 'delete' ? 'to delete ' : ''}${f.target.kind} ${f.target.name}: ${f.message}`))}`;
}

/** PVC resizes the API server refused. */
export function refusedResizes(failedWrites: FailedWrite[] | undefined): FailedWrite[] {
  return (failedWrites ?? []).filter((f) => isRefusal(f) && f.verb === 'patch' && f.target.kind === 'PersistentVolumeClaim');
}

export function refusedResizeMessage(refused: FailedWrite[], wanted: string | number | undefined): string {
  return `the API server refused to resize ${summary(refused.map((f) => `${f.target.name} to ${wanted}: ${f.message}`))}; the claims keep their size (the StorageClass must set allowVolumeExpansion: true, and a claim must be bound)`;
}

interface EventView extends KubeObject {
  reason?: string;
  message?: string;
  involvedObject?: { uid?: string };
  lastTimestamp?: string;
  eventTime?: string;
  series?: { lastObservedTime?: string };
}

const eventTime = (e: EventView) =>
  Date.parse(e.series?.lastObservedTime ?? e.lastTimestamp ?? e.eventTime ?? e.metadata.creationTimestamp ?? '') || 0;

/**
 * Why pods of the set's workloads are not being created, in the controllers' words; undefined
 * when nothing says so. A StatefulSet's FailedCreate Event counts only while its pod is missing:
 * Events outlive the problem (an hour by default), the missing pod does not.
 */
export function refusedPodsMessage(observed: Observed, workloads: KubeObject[]): string | undefined {
  const pods = new Set((observed.related.Pod ?? []).map((p) => p.metadata.name));
  const events = (observed.related.Event ?? []) as EventView[];
  const found: string[] = [];
  for (const w of workloads) {
    const status = w.status as { conditions?: { type: string; status: string; message?: string }[] } | undefined;
    if (w.kind === 'Deployment') {
      const failure = status?.conditions?.find((c) => c.type === 'ReplicaFailure' && c.status === 'True');
      if (failure?.message) found.push(`Deployment ${w.metadata.name}: ${failure.message}`);
    } else if (w.kind === 'StatefulSet') {
      const replicas = (w.spec as { replicas?: number } | undefined)?.replicas ?? 0;
      if (replicas === 0 || pods.has(names.statefulSetPod(w.metadata.name))) continue;
      const newest = events
        .filter((e) => e.reason === EVENT_FAILED_CREATE && e.involvedObject?.uid === w.metadata.uid)
        .sort((a, b) => eventTime(b) - eventTime(a))[0];
      if (newest?.message) found.push(newest.message);
    }
  }
  return found.length ? `the cluster refuses to create pods: ${summary(found)}` : undefined;
}
