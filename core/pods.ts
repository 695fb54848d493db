// Reading Pod state the way kubectl shows it.
import type { KubeObject } from './handler.ts';

interface ContainerStatus {
  name: string;
  ready?: boolean;
  restartCount?: number;
  state?: { waiting?: { reason?: string; message?: string }; terminated?: { reason?: string; message?: string; exitCode?: number } };
  lastState?: { terminated?: { reason?: string; message?: string; exitCode?: number } };
}

export interface PodView extends KubeObject {
  status?: {
    phase?: string;
    podIP?: string;
    startTime?: string;
    conditions?: { type: string; status: string }[];
    containerStatuses?: ContainerStatus[];
  };
}

export function isPodReady(pod: KubeObject): boolean {
  const p = pod as PodView;
  if (p.metadata.deletionTimestamp) return false;
  return p.status?.phase === 'Running' && !!p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
}

/** Restarts plus a failed pod: how many times this pod has died. */
export function podDeaths(pod: KubeObject): number {
  const p = pod as PodView;
  const restarts = (p.status?.containerStatuses ?? []).reduce((n, c) => n + (c.restartCount ?? 0), 0);
  return restarts + (p.status?.phase === 'Failed' ? 1 : 0);
}

/** Why a container is not running (CrashLoopBackOff, ImagePullBackOff, OOMKilled...), if it is not. */
export function podProblem(pod: KubeObject): { reason: string; message?: string } | undefined {
  const p = pod as PodView;
  for (const c of p.status?.containerStatuses ?? []) {
    const waiting = c.state?.waiting;
    if (waiting?.reason && waiting.reason !== 'ContainerCreating' && waiting.reason !== 'PodInitializing') {
      return { reason: waiting.reason, message: waiting.message ?? c.lastState?.terminated?.reason };
    }
    const terminated = c.state?.terminated;
    if (terminated?.reason && terminated.reason !== 'Completed') return { reason: terminated.reason, message: terminated.message };
  }
  if (p.status?.phase === 'Failed') return { reason: 'Failed' };
  return undefined;
}

/**
 * The dead-pod observations of a set's pods, as crashloop protection counts
 * them: deaths of the pods that are not Ready (a pod that recovered and is
 * Ready no longer counts).
 */
export function deadPodObservations(pods: KubeObject[]): number {
  return pods.filter((p) => !isPodReady(p)).reduce((n, p) => n + podDeaths(p), 0);
}
