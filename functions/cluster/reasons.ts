// Every reason the cluster handler puts in a condition or an Event, with
// what it means. Decisions compare these constants, never free text. The
// child sets' reasons it passes on are the workloads handler's
// (core/set-reasons.ts).
import {
  PAUSE_CRASHLOOPING,
  PAUSE_SCALED,
  REASON_CHILD_REFUSED,
  REASON_INVALID_SPEC,
  REASON_PODS_REFUSED,
} from '../../core/set-reasons.ts';

export const ClusterReason = {
  // --- Ready ---
  /** Ready=False and Warning: the spec (or a child set's spec, named under the cluster's) cannot be acted on. */
  InvalidSpec: REASON_INVALID_SPEC,
  /** Ready=False and Warning: the API server refused a child SpicepodSet, or a child's own objects. */
  ChildRefused: REASON_CHILD_REFUSED,
  /** Ready=False and Warning: the cluster refuses to create a child set's pods. */
  PodsRefused: REASON_PODS_REFUSED,
  /** Ready=False and status.error: a node set is paused after repeated pod failures. Paused=True when the two sets are paused for different reasons; the Event of a pause. */
  Paused: 'Paused',
  /** Ready=False: the node sets are rolling out or their pods are not Ready yet. */
  NodesNotReady: 'NodesNotReady',
  /** Ready=True: schedulers and executors run the current spec and are Ready. */
  AllNodesReady: 'AllNodesReady',
  /** Event: the cluster became Ready. */
  Ready: 'Ready',

  // --- Progressing ---
  /** Progressing=True: executors keep their spec until the schedulers have rolled out and are Ready. */
  SchedulersFirst: 'SchedulersFirst',
  /** Progressing=True: nodes are rolling out. */
  RollingOut: 'RollingOut',
  /** Progressing=False: every node runs the current spec. */
  RolloutComplete: 'RolloutComplete',

  // --- Paused (a child's pause reason passes through when both agree) ---
  /** Paused=True: a node set is paused by crashloop protection. */
  CrashLooping: PAUSE_CRASHLOOPING,
  /** Paused=True: a node set's replicas is 0. */
  ScaledToZero: PAUSE_SCALED,
  /** Paused=False: no node set is paused. */
  Running: 'Running',

  // --- RolledBack ---
  /** RolledBack=False: spice.ai/rollback does not apply to clusters (their nodes roll in place). */
  NotSupportedOnClusters: 'NotSupportedOnClusters',
  /** Warning Event: a spice.ai/rollback request was refused. */
  RollbackUnavailable: 'RollbackUnavailable',
} as const;
export type ClusterReason = (typeof ClusterReason)[keyof typeof ClusterReason];

/** Ready reasons that are errors: status.error carries their message (v1alpha1 clients read it), and they raise a Warning. */
export const ERROR_REASONS: ReadonlySet<string> = new Set([
  ClusterReason.InvalidSpec,
  ClusterReason.ChildRefused,
  ClusterReason.PodsRefused,
]);
