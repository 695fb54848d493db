// The handlers `serve` can serve, by name: each one's fetch module
// (functions/<handler>/worker.ts), loaded only when served.
import type { FetchModule } from '../core/hook-protocol/reconcile-worker.ts';
import type { HandlerName } from './handler-names.ts';

export const HOOK_WORKERS: Record<HandlerName, () => Promise<{ default: FetchModule }>> = {
  workloads: () => import('../functions/workloads/worker.ts'),
  'network-policy': () => import('../functions/network-policy/worker.ts'),
  cluster: () => import('../functions/cluster/worker.ts'),
  pki: () => import('../functions/pki/worker.ts'),
  'pod-monitor': () => import('../functions/pod-monitor/worker.ts'),
};
