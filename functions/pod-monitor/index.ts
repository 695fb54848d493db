// The pod-monitor handler: one Prometheus Operator PodMonitor per
// SpicepodCluster, owned by it, that scrapes spiced's /metrics on every node of
// the cluster (schedulers and executors: the pods labelled
// spice.ai/cluster=<name>, through their container port named `metrics`), with
// the node's role as a `role` label. The product creates PodMonitors for
// cluster nodes (facts §10.4); the shim starts this handler only when the API
// server serves PodMonitors, so without the Prometheus Operator nothing is
// created and nothing fails.
import type { Desired, Handler, KubeObject, Observed } from '../../core/handler.ts';
import { LABEL_CLUSTER, LABEL_CLUSTER_ROLE } from '../../core/labels.ts';

export const POD_MONITOR = { apiVersion: 'monitoring.coreos.com/v1', kind: 'PodMonitor' } as const;

/** The PodMonitor label the Prometheus Operator's relabelling sees a pod label as. */
const metaLabel = (label: string) => `__meta_kubernetes_pod_label_${label.replace(/[^a-zA-Z0-9_]/g, '_')}`;

export function desiredPodMonitor(cluster: { name: string; namespace: string }): KubeObject {
  return {
    apiVersion: POD_MONITOR.apiVersion,
    kind: POD_MONITOR.kind,
    metadata: { name: `${cluster.name}-nodes`, namespace: cluster.namespace, labels: { [LABEL_CLUSTER]: cluster.name } },
    spec: {
      selector: { matchLabels: { [LABEL_CLUSTER]: cluster.name }, matchExpressions: [{ key: LABEL_CLUSTER_ROLE, operator: 'Exists' }] },
      podMetricsEndpoints: [
        {
          port: 'metrics',
          path: '/metrics',
          relabelings: [
            { sourceLabels: [metaLabel(LABEL_CLUSTER)], targetLabel: 'cluster' },
            { sourceLabels: [metaLabel(LABEL_CLUSTER_ROLE)], targetLabel: 'role' },
          ],
        },
      ],
    },
  };
}

export async function reconcilePodMonitor(observed: Observed): Promise<Desired> {
  const { parent } = observed;
  return { apply: [desiredPodMonitor({ name: parent.metadata.name, namespace: parent.metadata.namespace ?? 'default' })] };
}

export const podMonitorHandler: Handler = {
  name: 'pod-monitor',
  parent: { apiVersion: 'spice.ai/v1alpha1', kind: 'SpicepodCluster' },
  children: [POD_MONITOR],
  conditionTypes: [],
  readsChildStatus: false,
  reconcile: reconcilePodMonitor,
};
