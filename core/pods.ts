// Reading Pod state the way kubectl shows it.
import type { KubeObject } from './handler.ts';

interface ContainerStatus {
  name: string;
  ready?: boolean;
  restartCount?: number;
  state?: {
    waiting?: { reason?: string; message?: string };
    terminated?: { reason?: string; message?: string; exitCode?: number; finishedAt?: string };
  };
  lastState?: { terminated?: { reason?: string; message?: string; exitCode?: number } };
}

export interface PodView extends KubeObject {
  status?: {
    phase?: string;
    podIP?: string;
    startTime?: string;
    conditions?: { type: string; status: string; lastTransitionTime?: string }[];
    containerStatuses?: ContainerStatus[];
  };
}

export function isPodReady(pod: KubeObject): boolean {
  const p = pod as PodView;
  if (p.metadata.deletionTimestamp) return false;
  return p.status?.phase === 'Running' && !!p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
}

/** The restarts of all of a pod's containers, as kubectl's RESTARTS column sums them. */
export const podRestarts = (pod: KubeObject): number =>
  ((pod as PodView).status?.containerStatuses ?? []).reduce((n, c) => n + (c.restartCount ?? 0), 0);

/** Restarts plus a dead pod (phase Failed or Succeeded): how many times this pod has died. */
export function podDeaths(pod: KubeObject): number {
  return podRestarts(pod) + (isDeadPod(pod) ? 1 : 0);
}

const isDeadPod = (pod: KubeObject) => {
  const phase = (pod as PodView).status?.phase;
  return phase === 'Failed' || phase === 'Succeeded';
};

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
 * Crashloop protection counts recent deaths only. A pod's restart count is
 * for its lifetime, so each pod's deaths are measured from a baseline: the
 * deaths it had when it was last seen Ready (or when the set was resumed),
 * which the workloads handler keeps in the set's status. A dead pod (Failed,
 * Succeeded; an evicted pod of a Deployment may linger for days) counts only
 * while its death is within DEAD_POD_WINDOW_SECONDS.
 *
 * The newest docs name the signals as dead pods plus the failure Events
 * BackOff, Evicted, OOMKilling and Failed. The same facts are in the Pod
 * status the handler already caches, so no Event watch is added: BackOff
 * (restarting a failed container) is a restart; an OOM kill is a restart
 * whose lastState says OOMKilled (the kernel's OOMKilling Event is about the
 * Node, not the Pod); Evicted is a pod in phase Failed. Events would cost a
 * watch of every Pod warning in every watched namespace (they carry none of
 * our labels, so no selector narrows them to our pods), and their counts are
 * the kubelet's retries, not deaths. Failed Events for image pulls and
 * container configuration are not deaths: nothing ran, nothing was killed,
 * and pausing would not help; they show in the pods' state instead.
 */
export const DEAD_POD_WINDOW_SECONDS = 600;

/** Deaths of a pod already accounted for, by pod uid (status.crashloopBaselines). */
export interface DeathBaseline {
  pod: string;
  uid: string;
  deaths: number;
}

/** When a dead pod died: its newest container termination or condition change. */
function deathTime(pod: KubeObject): number | undefined {
  const p = pod as PodView;
  const stamps = [
    ...(p.status?.containerStatuses ?? []).map((c) => c.state?.terminated?.finishedAt),
    ...(p.status?.conditions ?? []).map((c) => c.lastTransitionTime),
  ]
    .filter((t): t is string => !!t)
    .map((t) => Date.parse(t))
    .filter((t) => !Number.isNaN(t));
  return stamps.length ? Math.max(...stamps) : undefined;
}

/** A pod's deaths beyond its baseline that crashloop protection counts now. */
export function recentDeaths(pod: KubeObject, baseline: number, now: number): number {
  if (isPodReady(pod)) return 0;
  if (isDeadPod(pod)) {
    const died = deathTime(pod);
    if (died !== undefined && now - died > DEAD_POD_WINDOW_SECONDS * 1000) return 0;
  }
  return Math.max(0, podDeaths(pod) - baseline);
}

/**
 * The baselines after seeing these pods: a Ready pod's deaths are all accounted for (it
 * recovered); other pods keep theirs; with `acknowledgeAll` (a resume) every death so far is.
 * Pods with no deaths to remember are left out, so a healthy set keeps an empty list.
 */
export function nextBaselines(pods: KubeObject[], previous: DeathBaseline[] | undefined, acknowledgeAll: boolean): DeathBaseline[] {
  const before = new Map((previous ?? []).map((b) => [b.uid, b.deaths]));
  const next: DeathBaseline[] = [];
  for (const pod of pods) {
    const uid = pod.metadata.uid;
    if (!uid) continue;
    const deaths = acknowledgeAll || isPodReady(pod) ? podDeaths(pod) : Math.min(before.get(uid) ?? 0, podDeaths(pod));
    if (deaths > 0) next.push({ pod: pod.metadata.name, uid, deaths });
  }
  return next.sort((a, b) => (a.pod < b.pod ? -1 : a.pod > b.pod ? 1 : a.uid < b.uid ? -1 : 1));
}

/**
 * The dead-pod observations of a set's pods, as crashloop protection counts them and the
 * spiceai_operator_dead_pod_observations gauge shows them: deaths since each pod was last Ready
 * (restarts, plus a pod that died within the window), summed over the pods that are not Ready.
 */
export function deadPodObservations(pods: KubeObject[], baselines: DeathBaseline[] | undefined, now: number): number {
  const byUid = new Map((baselines ?? []).map((b) => [b.uid, b.deaths]));
  return pods.reduce((n, p) => n + recentDeaths(p, byUid.get(p.metadata.uid ?? '') ?? 0, now), 0);
}
