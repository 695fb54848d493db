// The cluster handler: a SpicepodCluster becomes two child SpicepodSets,
// <cluster>-scheduler (with the Spicepod) and <cluster>-executor, which the
// workloads handler then runs. Upgrades roll schedulers first: the executor
// set keeps its spec until the scheduler set has rolled out and is Ready.
// Where each rule lives:
//   reconcile.ts   one pass: spec, child sets (schedulers first), status
//   children.ts    child specs checked under the cluster's fields; child problems and pauses passed on
//   rollback.ts    spice.ai/rollback: refused on clusters, and why
//   conditions.ts  Ready (ordered checks), Progressing, Paused and their Events
//   reasons.ts     every reason a user can see
import type { Handler } from '../../core/handler.ts';
import { reconcileSpicepodCluster } from './reconcile.ts';
import { CONDITION_ROLLED_BACK } from './rollback.ts';

export { reconcileSpicepodCluster } from './reconcile.ts';
export { ClusterReason } from './reasons.ts';
export { CONDITION_ROLLED_BACK } from './rollback.ts';

export const clusterHandler: Handler = {
  name: 'cluster',
  parent: { apiVersion: 'spice.ai/v1alpha1', kind: 'SpicepodCluster' },
  children: [{ apiVersion: 'spice.ai/v1', kind: 'SpicepodSet' }],
  conditionTypes: ['Ready', 'Progressing', 'Paused', CONDITION_ROLLED_BACK],
  lastUpdatedField: 'lastUpdated',
  reconcile: reconcileSpicepodCluster,
};
