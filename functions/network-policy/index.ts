// The network-policy handler: one NetworkPolicy per SpicepodSet, owned by it.
// What the policy says and why: reconcile.ts and core/manifests/network-policy.ts.
import type { Handler } from '../../core/handler.ts';
import { reconcileNetworkPolicy } from './reconcile.ts';

export { reconcileNetworkPolicy } from './reconcile.ts';

export const networkPolicyHandler: Handler = {
  name: 'network-policy',
  parent: { apiVersion: 'spice.ai/v1', kind: 'SpicepodSet' },
  children: [{ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy' }],
  conditionTypes: [],
  reconcile: reconcileNetworkPolicy,
};
