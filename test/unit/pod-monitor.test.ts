// The pod-monitor handler (functions/pod-monitor): one PodMonitor per SpicepodCluster.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { reconcilePodMonitor, podMonitorHandler } from '../../functions/pod-monitor/index.ts';
import { OPTIONAL_CHILDREN } from '../../shim/handlers.ts';

test('a PodMonitor named after the cluster selects its nodes by label and scrapes their metrics port, with cluster and role labels', async () => {
  const desired = await reconcilePodMonitor({
    parent: { apiVersion: 'spice.ai/v1alpha1', kind: 'SpicepodCluster', metadata: { name: 'dq', namespace: 'team', uid: 'u' }, spec: {} },
    children: [],
    related: {},
    now: 0,
    config: {} as never,
  } as never);
  assert.equal(desired.apply, [
    {
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'PodMonitor',
      metadata: { name: 'dq-nodes', namespace: 'team', labels: { 'spice.ai/cluster': 'dq' } },
      spec: {
        selector: { matchLabels: { 'spice.ai/cluster': 'dq' }, matchExpressions: [{ key: 'spice.ai/cluster-role', operator: 'Exists' }] },
        podMetricsEndpoints: [
          {
            port: 'metrics',
            path: '/metrics',
            relabelings: [
              { sourceLabels: ['__meta_kubernetes_pod_label_spice_ai_cluster'], targetLabel: 'cluster' },
              { sourceLabels: ['__meta_kubernetes_pod_label_spice_ai_cluster_role'], targetLabel: 'role' },
            ],
          },
        ],
      },
    },
  ]);
});

test('the handler is started only where PodMonitors are served', () => {
  assert.equal(podMonitorHandler.children, [{ apiVersion: 'monitoring.coreos.com/v1', kind: 'PodMonitor' }]);
  assert.is(OPTIONAL_CHILDREN['pod-monitor']?.kind, 'PodMonitor');
});

test.run();
