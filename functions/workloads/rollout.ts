// Which per-replica StatefulSets move to the new revision now. Each replica
// is one StatefulSet with one pod, so updating a StatefulSet's template
// replaces exactly that replica; the strategy decides how many at a time.
import type { SpicepodSetSpec } from '../../core/spec/spicepodset.ts';

export interface ReplicaState {
  ordinal: number;
  /** The StatefulSet exists. */
  exists: boolean;
  /** Its template is at the desired revision. */
  updated: boolean;
  /** Its pod runs its current template and is Ready. */
  ready: boolean;
}

export interface RolloutPlan {
  /** Ordinals whose StatefulSet gets the desired template in this pass. */
  update: Set<number>;
  /** Human-readable reason for what waits, for the Progressing condition. */
  waiting?: string;
}

/** maxUnavailable as a count: a number, or a percentage of replicas rounded down, never below 1. */
export function maxUnavailableCount(value: number | string | undefined, replicas: number): number {
  if (value === undefined) return 1;
  const count = typeof value === 'number' ? value : Math.floor((Number.parseInt(value, 10) / 100) * replicas);
  return Math.max(1, count);
}

type Strategy = SpicepodSetSpec['updateStrategy'];
/** A strategy's step over the replicas that exist and are outdated (missing ones are already in `update`). */
type Step = (strategy: Strategy, replicas: ReplicaState[], outdated: ReplicaState[], update: Set<number>) => RolloutPlan;

/** Parallel, and BlueGreen (whose generations are replaced whole, the Service switching once): every outdated replica at once. */
const everyReplicaAtOnce: Step = (_strategy, _replicas, outdated, update) => {
  for (const r of outdated) update.add(r.ordinal);
  return { update };
};

/** RollingOrdered: the lowest outdated ordinal, once every replica before it is updated and Ready. */
const oneAtATimeByOrdinal: Step = (_strategy, replicas, _outdated, update) => {
  for (const r of [...replicas].sort((a, b) => a.ordinal - b.ordinal)) {
    if (!r.exists) continue;
    if (!r.updated) {
      update.add(r.ordinal);
      return { update, waiting: `replica ${r.ordinal} is being updated` };
    }
    if (!r.ready) return { update, waiting: `waiting for replica ${r.ordinal} to become Ready` };
  }
  return { update };
};

/** RollingParallel: unready outdated replicas first (they serve nothing), then Ready ones while at most maxUnavailable are unavailable. */
const withinMaxUnavailable: Step = (strategy, replicas, outdated, update) => {
  for (const r of outdated) if (!r.ready) update.add(r.ordinal);
  const budget = maxUnavailableCount(strategy.maxUnavailable, replicas.length);
  const unavailable = replicas.filter((r) => !r.ready || update.has(r.ordinal)).length;
  let room = budget - unavailable;
  for (const r of outdated.filter((r) => r.ready).sort((a, b) => a.ordinal - b.ordinal)) {
    if (room <= 0) break;
    update.add(r.ordinal);
    room--;
  }
  const left = outdated.filter((r) => !update.has(r.ordinal)).length;
  return { update, waiting: left ? `${left} replicas wait for at most ${budget} to be unavailable at once` : undefined };
};

/** Each strategy's step. */
export const STRATEGY_STEPS: Record<Strategy['type'], Step> = {
  Parallel: everyReplicaAtOnce,
  BlueGreen: everyReplicaAtOnce,
  RollingOrdered: oneAtATimeByOrdinal,
  RollingParallel: withinMaxUnavailable,
};

export function planRollout(strategy: Strategy, replicas: ReplicaState[]): RolloutPlan {
  const update = new Set<number>();
  // New replicas have nothing to protect: they start on the desired revision.
  for (const r of replicas) if (!r.exists) update.add(r.ordinal);
  const outdated = replicas.filter((r) => r.exists && !r.updated);
  if (outdated.length === 0) return { update };
  return STRATEGY_STEPS[strategy.type](strategy, replicas, outdated, update);
}
