// Names and labels of everything a SpicepodSet owns (DESIGN.md §6).
import type { SpicepodSetSpec } from '../spec/spicepodset.ts';

export const LABEL_APP = 'spice.ai/app';
export const LABEL_CLUSTER = 'spice.ai/cluster';
export const LABEL_CLUSTER_ROLE = 'spice.ai/cluster-role';
export const LABEL_VERSION = 'spice.ai/version';
export const LABEL_REPLICA = 'spice.ai/replica';
export const LABEL_WORKLOAD = 'spice.ai/workload';
export const ANNOTATION_REVISION = 'spice.ai/revision';
export const ANNOTATION_SPICEPOD_CHECKSUM = 'spice.ai/spicepod-checksum';
export const ANNOTATION_ROLLBACK = 'spice.ai/rollback';
/** Resumes a set paused by crashloop protection; the operator removes it once acted on. */
export const ANNOTATION_RESUME = 'spice.ai/resume';

/** Keys users may not set through spec.labels / spec.annotations (reference §1.10). */
export const RESERVED_KEYS = new Set([
  'spice.ai/app',
  'spice.ai/spicepod',
  'spice.ai/version',
  'spice.ai/cluster',
  'spice.ai/cluster-role',
  'spice.ai/cluster-mtls',
  'spice.ai/component',
  'spice.ai/observed-generation',
  'spice.ai/rollback',
  'spice.ai/resume',
  'spice.ai/sidecar-injected',
  'spice.ai/validation-level',
  'spice.ai/revision',
  'spice.ai/replica',
  'spice.ai/workload',
  'spice.ai/handler',
  'spice.ai/spicepod-checksum',
]);

export const SPICEPOD_KEY = 'spicepod.yaml';
export const DATA_VOLUME = 'data';

export const names = {
  service: (set: string) => set,
  headlessService: (set: string) => `${set}-headless`,
  configMap: (set: string) => `${set}-spicepod`,
  serviceAccount: (set: string, spec: SpicepodSetSpec) => spec.serviceAccount.name ?? set,
  role: (set: string) => `${set}-spicepod`,
  deployment: (set: string) => set,
  /** Per-replica StatefulSet; a BlueGreen generation adds its version. */
  statefulSet: (set: string, ordinal: number, version?: string) => (version ? `${set}-${version}-${ordinal}` : `${set}-${ordinal}`),
  /** The pod of a per-replica StatefulSet (always ordinal 0 within it). */
  statefulSetPod: (statefulSet: string) => `${statefulSet}-0`,
  pvc: (statefulSet: string) => `${DATA_VOLUME}-${statefulSet}-0`,
  /** The node certificate Secret of a cluster node's StatefulSet (ca.crt, tls.crt, tls.key). */
  nodeTlsSecret: (statefulSet: string) => `${statefulSet}-tls`,
};

export function withoutReserved(map: Record<string, string> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(map ?? {}).filter(([k]) => !RESERVED_KEYS.has(k)));
}

/** Labels on every object of a set (selectors use a subset of them). */
export function commonLabels(set: string, spec: SpicepodSetSpec): Record<string, string> {
  const labels: Record<string, string> = {
    ...withoutReserved(spec.labels),
    'app.kubernetes.io/name': 'spiceai',
    'app.kubernetes.io/instance': set,
    'app.kubernetes.io/component': spec.cluster?.role ?? 'spicepod',
    [LABEL_APP]: set,
  };
  if (spec.cluster?.clusterName) labels[LABEL_CLUSTER] = spec.cluster.clusterName;
  if (spec.cluster) labels[LABEL_CLUSTER_ROLE] = spec.cluster.role;
  return labels;
}
