// Fixture builders for unit tests (cert-manager's gen.* is the model): the
// objects a handler reads, with only what a test says spelled out and the
// rest as the API server or the kubelet would have it.
import type { HandlerConfig, KubeObject, OwnerReference } from '../../core/handler.ts';

/** The moment every test world starts at. */
export const NOW = Date.parse('2026-01-01T00:00:00Z');

/** The smallest Spicepod spiced accepts. */
export const SPICEPOD = { version: 'v1', kind: 'Spicepod', name: 'app' };
/** A scheduler's Spicepod names where the cluster keeps its state: spiced refuses to start a scheduler without it. */
export const SCHEDULER_SPICEPOD = {
  version: 'v1',
  kind: 'Spicepod',
  name: 's',
  runtime: { scheduler: { state_location: 'file:///tmp/spice-cluster' } },
};

/** The `run` flags' defaults as handlers see them, with overrides. */
export function handlerConfig(overrides: Partial<HandlerConfig> = {}): HandlerConfig {
  return {
    operatorNamespace: 'spiceai-operator-system',
    clusterDomain: 'cluster.local',
    pauseCrashloopingPodsThreshold: 10,
    telemetryProperties: {},
    ...overrides,
  };
}

export interface ObjectFixture {
  name?: string;
  namespace?: string;
  uid?: string;
  generation?: number;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  status?: Record<string, unknown>;
}

function object(apiVersion: string, kind: string, name: string, spec: unknown, o: ObjectFixture): KubeObject {
  return {
    apiVersion,
    kind,
    metadata: {
      name,
      namespace: o.namespace ?? 'ns',
      uid: o.uid ?? `uid-${name}`,
      generation: o.generation ?? 1,
      ...(o.annotations ? { annotations: o.annotations } : {}),
      ...(o.ownerReferences ? { ownerReferences: o.ownerReferences } : {}),
    },
    spec,
    ...(o.status ? { status: o.status } : {}),
  };
}

/** The owner reference the shim puts on the child sets of a SpicepodCluster. */
export const clusterOwner = (name: string, uid = `uid-${name}`): OwnerReference => ({
  apiVersion: 'spice.ai/v1alpha1',
  kind: 'SpicepodCluster',
  name,
  uid,
  controller: true,
});

/**
 * A SpicepodSet (named `app` unless said) with SPICEPOD unless the spec has one. A set with a
 * cluster role is owned by its SpicepodCluster, as the cluster handler makes it.
 */
export function spicepodSet(spec: Record<string, unknown> = {}, o: ObjectFixture = {}): KubeObject {
  const clusterName = (spec.cluster as { clusterName?: string } | undefined)?.clusterName;
  const ownerReferences = o.ownerReferences ?? (clusterName ? [clusterOwner(clusterName)] : undefined);
  return object('spice.ai/v1', 'SpicepodSet', o.name ?? 'app', { spicepod: SPICEPOD, ...spec }, { ...o, ownerReferences });
}

/** A SpicepodCluster (named `c` unless said). */
export function spicepodCluster(spec: Record<string, unknown>, o: ObjectFixture = {}): KubeObject {
  return object('spice.ai/v1alpha1', 'SpicepodCluster', o.name ?? 'c', spec, o);
}

/** A cluster with one scheduler and two executors. */
export const CLUSTER_SPEC = { schedulerSetSpec: { replicas: 1, spicepod: SCHEDULER_SPICEPOD }, executorSetSpec: { replicas: 2 } };

export interface ChildSetState {
  /** The set's generation its status is about (default: its current one). */
  observedGeneration?: number;
  ready?: boolean;
  readyReplicas?: number;
  pauseReason?: string;
  conditions?: { type: string; status: string; reason: string; message: string }[];
}

/**
 * A child SpicepodSet as the API server stores it once the workloads handler has written its
 * status: Ready (or not) for its current spec unless said otherwise.
 */
export function withSetStatus(set: KubeObject, s: ChildSetState = {}): KubeObject {
  const generation = set.metadata.generation ?? 1;
  const replicas = (set.spec as { replicas?: number } | undefined)?.replicas ?? 1;
  const ready = s.ready ?? true;
  return {
    ...set,
    metadata: { ...set.metadata, generation },
    status: {
      observedGeneration: s.observedGeneration ?? generation,
      readyReplicas: s.readyReplicas ?? (ready ? replicas : 0),
      ...(s.pauseReason ? { pauseReason: s.pauseReason } : {}),
      conditions: s.conditions ?? [{ type: 'Ready', status: ready ? 'True' : 'False', reason: 'x', message: 'x' }],
    },
  };
}

export interface PodState {
  /** Pending, Running (default), Succeeded, Failed. */
  phase?: string;
  /** The Ready condition (default: true when Running). */
  ready?: boolean;
  /** Container restarts. */
  restarts?: number;
  waiting?: { reason: string; message?: string };
  terminated?: { reason: string; message?: string; exitCode?: number; finishedAt?: string };
  /** When the Ready condition last changed (a dead pod's time of death). */
  readySince?: string;
  /** The pod's IP; null: none yet. Default 127.0.0.1 on a Running pod. */
  ip?: string | null;
  /** The name of the container reported (default spiced). */
  containerName?: string;
}

/** A pod's status as the kubelet reports it. */
export function podStatus(s: PodState = {}): Record<string, unknown> {
  const phase = s.phase ?? 'Running';
  const ready = s.ready ?? phase === 'Running';
  const state = s.waiting
    ? { waiting: s.waiting }
    : s.terminated
      ? { terminated: s.terminated }
      : phase === 'Running'
        ? { running: {} }
        : {};
  const ip = s.ip === null ? undefined : (s.ip ?? (phase === 'Running' ? '127.0.0.1' : undefined));
  return {
    phase,
    ...(ip ? { podIP: ip } : {}),
    startTime: '2025-01-02T03:04:05Z',
    conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', ...(s.readySince ? { lastTransitionTime: s.readySince } : {}) }],
    containerStatuses: [{ name: s.containerName ?? 'spiced', ready, restartCount: s.restarts ?? 0, state }],
  };
}

export interface PodFixture extends PodState {
  name: string;
  namespace?: string;
  uid?: string;
  /** The set it belongs to (label spice.ai/app). */
  app?: string;
  role?: 'scheduler' | 'executor';
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** spiced's HTTP port (container port named http); none when undefined. */
  port?: number;
}

/** A pod of a set, with the given readiness, restarts and container state. */
export function pod(p: PodFixture): KubeObject {
  const labels: Record<string, string> = {
    ...(p.app ? { 'spice.ai/app': p.app } : {}),
    ...(p.role ? { 'spice.ai/cluster-role': p.role } : {}),
    ...p.labels,
  };
  const containerName = p.containerName ?? 'spiced';
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: p.name,
      namespace: p.namespace ?? 'ns',
      uid: p.uid ?? `uid-${p.name}`,
      labels,
      ...(p.annotations ? { annotations: p.annotations } : {}),
    },
    spec: {
      containers: [
        {
          name: containerName,
          ports:
            p.port === undefined
              ? []
              : [
                  { name: 'flight', containerPort: 50051 },
                  { name: 'http', containerPort: p.port },
                ],
        },
      ],
    },
    status: podStatus({ ...p, containerName: 'spiced' }),
  };
}
