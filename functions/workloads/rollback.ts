// The rollback request (annotation spice.ai/rollback=true): whether the set
// can honour it, as an ordered list of checks, each with the reason the user
// sees in the RolledBack condition and the RollbackUnavailable Event. The
// annotation is always cleared; a refusal says why and what to do instead.
//
// Only BlueGreen with instant rollback keeps the previous generation running
// to switch back to. The other strategies replace pods in place: rolling back
// would mean re-rendering an older spec the operator does not keep, so they
// refuse and point at the one sound way back, re-applying the previous spec
// (which BlueGreen also recognises as its standby's version).
import type { SpicepodSetSpec } from '../../core/spec/spicepodset.ts';
import { SetReason } from './reasons.ts';

export const ANNOTATION_VALUE_ROLLBACK = 'true';
export const CONDITION_ROLLED_BACK = 'RolledBack';
export const REASON_ROLLED_BACK = SetReason.RolledBack;
/** The Warning Event of a refused request. */
export const EVENT_ROLLBACK_UNAVAILABLE = SetReason.RollbackUnavailable;

export interface RollbackState {
  spec: Pick<SpicepodSetSpec, 'updateStrategy' | 'instantRollback'>;
  /** The standby generation that still exists, if any. */
  standby?: string;
  /** When the standby is (or, with no standby, was) removed, in epoch seconds. */
  standbyExpiresAt?: number;
  nowSeconds: number;
}

export interface RollbackRefusal {
  reason: string;
  message: string;
}

const REAPPLY = 'to go back, re-apply the previous spec';

type Check = (s: RollbackState) => RollbackRefusal | undefined;

const notBlueGreen: Check = ({ spec }) =>
  spec.updateStrategy.type === 'BlueGreen'
    ? undefined
    : {
        reason: SetReason.NotBlueGreen,
        message: `spice.ai/rollback needs updateStrategy.type BlueGreen with instantRollback.enabled: ${spec.updateStrategy.type} replaces pods in place and keeps no previous generation to switch back to; ${REAPPLY}`,
      };

const instantRollbackDisabled: Check = ({ spec }) =>
  spec.instantRollback.enabled
    ? undefined
    : {
        reason: SetReason.InstantRollbackDisabled,
        message: `spice.ai/rollback needs instantRollback.enabled: without it the previous generation is removed once traffic has moved; enable it for the next rollout, or ${REAPPLY}`,
      };

const standbyExpired: Check = ({ standby, standbyExpiresAt, nowSeconds, spec }) =>
  !standby && standbyExpiresAt !== undefined && standbyExpiresAt <= nowSeconds
    ? {
        reason: SetReason.StandbyExpired,
        message: `the standby generation was removed at ${new Date(standbyExpiresAt * 1000).toISOString().replace('.000Z', 'Z')} (instantRollback.retentionPeriodSeconds is ${spec.instantRollback.retentionPeriodSeconds}); ${REAPPLY}`,
      }
    : undefined;

const noStandby: Check = ({ standby }) =>
  standby
    ? undefined
    : {
        reason: SetReason.NoStandby,
        message: `there is no standby generation: one is kept after the Service switches to a new version; ${REAPPLY}`,
      };

const CHECKS: Check[] = [notBlueGreen, instantRollbackDisabled, standbyExpired, noStandby];

/** Why the set cannot roll back now; undefined when it can. */
export function rollbackRefusal(state: RollbackState): RollbackRefusal | undefined {
  for (const check of CHECKS) {
    const refusal = check(state);
    if (refusal) return refusal;
  }
  return undefined;
}
