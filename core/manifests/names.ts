// Names and labels of everything a SpicepodSet owns (DESIGN.md §6).
import type { SpicepodSetSpec } from '../spec/spicepodset.ts';
import { LABEL_APP } from '../labels.ts';
import { LABEL_CLUSTER } from '../labels.ts';
import { LABEL_CLUSTER_ROLE } from '../labels.ts';
import { RESERVED_KEYS } from '../labels.ts';

export const SPICEPOD_KEY = 'spicepod.yaml';
export const DATA_VOLUME = 'data';
/** The pod volumes the operator adds itself: the Spicepod's ConfigMap, a cluster node's certificate. */
export const SPICEPOD_VOLUME = 'spicepod';
export const NODE_TLS_VOLUME = 'node-tls';
export const TLS_MOUNT = '/etc/spice/tls';

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
