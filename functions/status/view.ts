// The pod-status views the status API answers with (README "Status API"):
// a SpicepodSet with its pods, and a SpicepodCluster as its scheduler and
// executor sets. Built from what the shim read plus live probes of spiced.
import type { KubeObject } from '../../core/handler.ts';
import { CONTAINER_NAME } from '../../core/manifests/pod-template.ts';

import { clusterNames } from '../../core/manifests/spicepodcluster.ts';
import { isPodReady, podProblem, podRestarts, type PodView } from '../../core/pods.ts';
import { PAUSE_SCALED } from '../../core/set-reasons.ts';
import { normalizeSpicepodSetSpec } from '../../core/spec/normalize.ts';
import { probeSpiced, type Health, type Readiness } from './probe.ts';
import { LABEL_CLUSTER_ROLE } from '../../core/labels.ts';

export interface PodStatus {
  name: string;
  uid: string;
  /** Kubernetes pod phase: Pending, Running, Succeeded, Failed, Unknown. */
  phase: string;
  ip: string | null;
  /** spiced's HTTP port (the container port named http). */
  port: number | null;
  startTime: string | null;
  /** The Kubernetes Ready condition. */
  podReady: boolean;
  /** Being deleted. */
  terminating: boolean;
  /** Container restarts, summed. */
  restarts: number;
  /** spiced GET /health. */
  health: Health;
  /** spiced GET /v1/ready. */
  readiness: Readiness;
  /** Why health/readiness are not healthy/ready (or why they were not probed). */
  probeMessage?: string;
  /** Why a container is waiting or terminated (CrashLoopBackOff, ImagePullBackOff, OOMKilled...). */
  error?: { reason: string; message?: string };
}

export interface SetStatus {
  kind: 'SpicepodSet';
  namespace: string;
  name: string;
  uid: string;
  role: 'scheduler' | 'executor' | null;
  paused: boolean;
  pauseReason?: string;
  /** Ready replicas (from the set's status) out of the replicas its spec asks for. */
  replicas: { ready: number; total: number };
  pods: PodStatus[];
}

export interface ClusterStatus {
  kind: 'SpicepodCluster';
  namespace: string;
  name: string;
  uid: string;
  /** The child SpicepodSets; null while one does not exist. */
  scheduler: SetStatus | null;
  executor: SetStatus | null;
}

export interface ProbeSettings {
  fetch: typeof fetch;
  timeoutMs: number;
}

interface PodSpecView {
  spec?: { containers?: { name: string; ports?: { name?: string; containerPort?: number }[] }[] };
}

/** spiced's HTTP port: the container port named http of the spiced container (any container as a fallback). */
export function httpPort(pod: KubeObject): number | null {
  const containers = (pod as PodSpecView).spec?.containers ?? [];
  const ordered = [...containers.filter((c) => c.name === CONTAINER_NAME), ...containers.filter((c) => c.name !== CONTAINER_NAME)];
  for (const c of ordered) {
    const port = c.ports?.find((p) => p.name === 'http')?.containerPort;
    if (typeof port === 'number') return port;
  }
  return null;
}

function notProbedBecause(pod: PodView, port: number | null, role: string | null): string | undefined {
  if ((pod.metadata.labels?.[LABEL_CLUSTER_ROLE] ?? role) === 'executor') return 'executors run no HTTP probes; not probed';
  const phase = pod.status?.phase ?? 'Unknown';
  if (phase !== 'Running') return `pod is ${phase}; not probed`;
  if (!pod.status?.podIP) return 'pod has no IP yet; not probed';
  if (port === null) return 'no container port named http; not probed';
  return undefined;
}

export async function podStatus(pod: KubeObject, role: string | null, probes: ProbeSettings): Promise<PodStatus> {
  const p = pod as PodView;
  const port = httpPort(pod);
  const skip = notProbedBecause(p, port, role);
  const spiced = skip
    ? { health: 'not-probed' as const, readiness: 'not-probed' as const, message: skip }
    : await probeSpiced(probes.fetch, p.status!.podIP!, port!, probes.timeoutMs);
  const problem = podProblem(pod);
  const view: PodStatus = {
    name: p.metadata.name,
    uid: p.metadata.uid ?? '',
    phase: p.status?.phase ?? 'Unknown',
    ip: p.status?.podIP ?? null,
    port,
    startTime: p.status?.startTime ?? null,
    podReady: isPodReady(pod),
    terminating: !!p.metadata.deletionTimestamp,
    restarts: podRestarts(pod),
    health: spiced.health,
    readiness: spiced.readiness,
  };
  if (spiced.message) view.probeMessage = spiced.message;
  if (problem) view.error = problem.message ? { reason: problem.reason, message: problem.message } : { reason: problem.reason };
  return view;
}

interface SetObject extends KubeObject {
  spec?: Record<string, unknown>;
  status?: { readyReplicas?: number; pauseReason?: string; observedGeneration?: number; role?: string };
}

/** Desired replicas and cluster role from the spec (legacy spellings included); the raw fields when it does not parse. */
function specFacts(set: SetObject): { replicas: number; role: 'scheduler' | 'executor' | null } {
  const normalized = normalizeSpicepodSetSpec(set.spec ?? {});
  if (normalized.ok) return { replicas: normalized.spec.replicas, role: normalized.spec.cluster?.role ?? null };
  const raw = set.spec ?? {};
  const replicas = typeof raw.replicas === 'number' ? raw.replicas : 1;
  const role = (raw.cluster as { role?: unknown } | undefined)?.role;
  return { replicas, role: role === 'scheduler' || role === 'executor' ? role : null };
}

/**
 * Whether the set is paused and why. The status says so once the operator has
 * seen the current spec; before that (or with no operator running the
 * workloads handler) the spec decides: `replicas: 0` pauses, and a spec change
 * lifts a CrashLooping pause.
 */
export function pauseOf(set: SetObject, desiredReplicas: number): { paused: boolean; pauseReason?: string } {
  const status = set.status;
  const current = status?.observedGeneration !== undefined && status.observedGeneration === set.metadata.generation;
  if (current && status?.pauseReason) return { paused: true, pauseReason: status.pauseReason };
  if (desiredReplicas === 0) return { paused: true, pauseReason: PAUSE_SCALED };
  return { paused: false };
}

export async function setStatus(set: KubeObject, pods: KubeObject[], probes: ProbeSettings): Promise<SetStatus> {
  const s = set as SetObject;
  const { replicas, role } = specFacts(s);
  const byName = [...pods].sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0));
  const view: SetStatus = {
    kind: 'SpicepodSet',
    namespace: s.metadata.namespace ?? '',
    name: s.metadata.name,
    uid: s.metadata.uid ?? '',
    role,
    ...pauseOf(s, replicas),
    replicas: { ready: s.status?.readyReplicas ?? 0, total: replicas },
    pods: await Promise.all(byName.map((p) => podStatus(p, role, probes))),
  };
  return view;
}

/** Names of a cluster's child sets: from its status, else the names the cluster handler gives them. */
export function clusterChildNames(cluster: KubeObject): { scheduler: string; executor: string } {
  const status = (cluster as { status?: { schedulerSpicepodsetName?: string; executorSpicepodsetName?: string } }).status;
  return {
    scheduler: status?.schedulerSpicepodsetName || clusterNames.childSet(cluster.metadata.name, 'scheduler'),
    executor: status?.executorSpicepodsetName || clusterNames.childSet(cluster.metadata.name, 'executor'),
  };
}
