// The handlers `run` can start, by name (`--handlers`).
import type { Handler } from '../core/handler.ts';
import { clusterHandler } from '../functions/cluster/index.ts';
import { networkPolicyHandler } from '../functions/network-policy/index.ts';
import { pkiHandler } from '../functions/pki/index.ts';
import { podMonitorHandler } from '../functions/pod-monitor/index.ts';
import { workloadsHandler } from '../functions/workloads/index.ts';
import type { HandlerName } from './handler-names.ts';

export const HANDLERS = {
  workloads: workloadsHandler,
  'network-policy': networkPolicyHandler,
  cluster: clusterHandler,
  pki: pkiHandler,
  'pod-monitor': podMonitorHandler,
} satisfies Record<HandlerName, Handler>;

/**
 * Handlers whose children are kinds of an optional CRD: started only when the API server serves
 * them (PodMonitors: the Prometheus Operator's), so a cluster without it gets none and no error.
 */
export const OPTIONAL_CHILDREN: Partial<Record<HandlerName, { apiVersion: string; kind: string; needs: string }>> = {
  'pod-monitor': { ...HANDLERS['pod-monitor'].children[0]!, needs: "the Prometheus Operator's CRDs" },
};
