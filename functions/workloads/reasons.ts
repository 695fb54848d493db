// Every reason the workloads handler puts in a condition or an Event, with
// what it means. Decisions compare these constants, never free text. The
// reasons other handlers read from a set's status live in core/set-reasons.ts.
import {
  PAUSE_CRASHLOOPING,
  PAUSE_SCALED,
  REASON_CHILD_REFUSED,
  REASON_INVALID_SPEC,
  REASON_PODS_REFUSED,
} from '../../core/set-reasons.ts';

export const SetReason = {
  // --- Ready ---
  /** Ready=False: the spec cannot be acted on (the message names each field); Warning Event. */
  InvalidSpec: REASON_INVALID_SPEC,
  /** Ready=False: the set is paused (crashloop protection or replicas: 0). */
  Paused: 'Paused',
  /** Ready=False: the API server refused a child object; Warning Event with its words. */
  ChildRefused: REASON_CHILD_REFUSED,
  /** Ready=False: the cluster refuses to create pods; Warning Event with the controllers' words. */
  PodsRefused: REASON_PODS_REFUSED,
  /** Ready=False: replicas are not yet on the desired revision and Ready. */
  RolloutInProgress: 'RolloutInProgress',
  /** Ready=True: every replica is on the desired revision and Ready. */
  AllReplicasReady: 'AllReplicasReady',
  /** Event: the set became Ready again. */
  Ready: 'Ready',

  // --- Progressing ---
  /** Progressing=True, and its Event: a rollout of a new revision is under way. */
  RollingUpdate: 'RollingUpdate',
  /** Progressing=False: the desired revision is rolled out. */
  RolloutComplete: 'RolloutComplete',

  // --- Paused ---
  /** Paused=True, status.pauseReason and a Warning Event: crashloop protection scaled the set to zero. */
  CrashLooping: PAUSE_CRASHLOOPING,
  /** Paused=True and status.pauseReason: replicas is 0 (its Event reads Paused). */
  ScaledToZero: PAUSE_SCALED,
  /** Paused=False after a resume, until the resume annotation is gone; and the Event of a resume. */
  Resumed: 'Resumed',
  /** Paused=False: the workload runs. */
  Running: 'Running',

  // --- VolumeResized ---
  /** VolumeResized=True and Event: claims are being grown to volume.storageRequests. */
  Resizing: 'Resizing',
  /** VolumeResized=False and Warning: volume.storageRequests is below a claim's size; volumes cannot shrink. */
  ShrinkNotSupported: 'ShrinkNotSupported',
  /** VolumeResized=False and Warning: the API server refused to grow a claim. */
  ResizeRefused: 'ResizeRefused',

  // --- RolledBack and BlueGreen switches ---
  /** RolledBack=True, and the Event of the switch: the Service serves the standby again. */
  RolledBack: 'RolledBack',
  /** RolledBack=False: rollback needs the BlueGreen strategy. */
  NotBlueGreen: 'NotBlueGreen',
  /** RolledBack=False: rollback needs instantRollback.enabled. */
  InstantRollbackDisabled: 'InstantRollbackDisabled',
  /** RolledBack=False: the standby generation was already removed. */
  StandbyExpired: 'StandbyExpired',
  /** RolledBack=False: there is no standby generation yet. */
  NoStandby: 'NoStandby',
  /** Warning Event: a spice.ai/rollback request was refused (the message says why and what to do). */
  RollbackUnavailable: 'RollbackUnavailable',
  /** Event: the Service switched to a new generation once enough of its pods were Ready. */
  CutOver: 'CutOver',
  /** Event: re-applying the standby's spec switched the Service back to it. */
  SwitchedToStandby: 'SwitchedToStandby',
  /** Event: the standby generation's retention ended and it was removed. */
  StandbyRemoved: 'StandbyRemoved',
} as const;
export type SetReason = (typeof SetReason)[keyof typeof SetReason];
