// spice.ai/rollback on a SpicepodCluster: always refused (cluster nodes roll
// in place; BlueGreen is refused on them, so no previous generation is kept),
// answered with a Warning and a RolledBack condition that stays until the spec
// changes, and the annotation cleared after the status is written.
import { findCondition, type ConditionInput } from '../../core/conditions.ts';
import type { Desired, KubeObject, RecordedEvent } from '../../core/handler.ts';
import { refOf } from '../../core/handler.ts';
import type { SpicepodClusterStatus } from '../../core/spec/spicepodcluster.ts';
import { ANNOTATION_ROLLBACK } from '../../core/annotations.ts';
import { ClusterReason } from './reasons.ts';

export const CONDITION_ROLLED_BACK = 'RolledBack';
const ROLLBACK_REFUSED =
  'spice.ai/rollback is not supported on a SpicepodCluster: its nodes roll in place (BlueGreen is refused on cluster nodes) and no previous generation is kept; to go back, re-apply the previous spec';

export interface RollbackAnswer {
  patch: NonNullable<Desired['patch']>;
  events: RecordedEvent[];
  conditions: ConditionInput[];
}

export function rollbackAnswer(parent: KubeObject): RollbackAnswer {
  const requested = parent.metadata.annotations?.[ANNOTATION_ROLLBACK] !== undefined;
  const previous = (parent.status ?? {}) as SpicepodClusterStatus;
  const answered =
    requested || findCondition(previous.conditions, CONDITION_ROLLED_BACK)?.observedGeneration === parent.metadata.generation;
  return {
    patch: requested ? [{ target: refOf(parent), patch: { metadata: { annotations: { [ANNOTATION_ROLLBACK]: null } } } }] : [],
    events: requested ? [{ type: 'Warning', reason: ClusterReason.RollbackUnavailable, message: ROLLBACK_REFUSED }] : [],
    conditions: answered
      ? [{ type: CONDITION_ROLLED_BACK, status: 'False', reason: ClusterReason.NotSupportedOnClusters, message: ROLLBACK_REFUSED }]
      : [],
  };
}
