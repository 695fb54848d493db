// The workloads handler: a SpicepodSet and what it observes in, the objects
// that should exist, its status and events out. Pure: no I/O, no clock.
// Where each rule lives:
//   reconcile.ts     one pass: spec checks, requests, workload, conditions, status
//   deployment.ts    one simple replica: a Deployment
//   statefulsets.ts  per-replica StatefulSets, moved by the rollout plan
//   rollout.ts       which replicas a rollout step replaces (planRollout)
//   bluegreen.ts     BlueGreen generations, cutover, standby and instant rollback
//   crashloop.ts     crashloop protection: pause, resume
//   rollback.ts      whether a spice.ai/rollback request can be honoured
//   refusals.ts      what the cluster refused, in its own words
//   volumes.ts       growing claims in place, refusing to shrink them
//   conditions.ts    Ready, Progressing, Paused, VolumeResized, RolledBack and their Events
//   reasons.ts       every reason a user can see
import type { Handler } from '../../core/handler.ts';
import { LABEL_APP } from '../../core/labels.ts';
import { EVENT_FAILED_CREATE } from './refusals.ts';
import { CHILDREN, reconcileSpicepodSet } from './reconcile.ts';
import { CONDITION_ROLLED_BACK } from './rollback.ts';

export { reconcileSpicepodSet } from './reconcile.ts';
export { SetReason } from './reasons.ts';
export { PAUSE_CRASHLOOPING, PAUSE_SCALED, REASON_INVALID_SPEC } from '../../core/set-reasons.ts';

export const workloadsHandler: Handler = {
  name: 'workloads',
  parent: { apiVersion: 'spice.ai/v1', kind: 'SpicepodSet' },
  children: CHILDREN,
  related: [
    { apiVersion: 'v1', kind: 'Pod', parentLabel: LABEL_APP },
    { apiVersion: 'v1', kind: 'PersistentVolumeClaim', parentLabel: LABEL_APP },
  ],
  conditionTypes: ['Ready', 'Progressing', 'Paused', 'VolumeResized', CONDITION_ROLLED_BACK],
  // Readiness comes from the Pods (related), never from a Deployment's or StatefulSet's status;
  // nor does anything here read annotations others put on the children. Only a Deployment's
  // conditions are read: ReplicaFailure says why its pods are not created.
  readsChildStatus: false,
  readsChildConditions: true,
  // A StatefulSet says why its pods are not created only in FailedCreate Events about it.
  childEvents: { fieldSelector: `involvedObject.kind=StatefulSet,reason=${EVENT_FAILED_CREATE}` },
  lastUpdatedField: 'lastUpdated',
  reconcile: reconcileSpicepodSet,
};
