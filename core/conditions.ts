// Kubernetes conditions that only move lastTransitionTime when the status
// really changes, so an unchanged reconcile writes an identical status.
import type { Condition } from './spec/spicepodset.ts';

export interface ConditionInput {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
}

export function setConditions(previous: Condition[] | undefined, next: ConditionInput[], now: number, generation?: number): Condition[] {
  const stamp = new Date(Math.floor(now / 1000) * 1000).toISOString().replace('.000Z', 'Z');
  return next.map((c) => {
    const old = previous?.find((p) => p.type === c.type);
    return {
      ...c,
      lastTransitionTime: old && old.status === c.status && old.lastTransitionTime ? old.lastTransitionTime : stamp,
      observedGeneration: generation,
    };
  });
}

export const findCondition = (conditions: Condition[] | undefined, type: string) => conditions?.find((c) => c.type === type);
