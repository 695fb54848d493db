// What a SpicepodCluster says about its two child SpicepodSets: a child spec
// the workloads handler would refuse (checked here first, so the field is
// named where the user wrote it, under spec.schedulerSetSpec or
// spec.executorSetSpec), a child whose objects or pods the cluster refuses,
// and a child that is paused.
import type { ConditionInput } from '../../core/conditions.ts';
import { findCondition } from '../../core/conditions.ts';
import type { KubeObject } from '../../core/handler.ts';
import { setNameProblems } from '../../core/manifests/name-limits.ts';
import { volumeMountProblems } from '../../core/manifests/volumes.ts';
import { normalizeSpicepodSetSpec, type SpecProblem } from '../../core/spec/normalize.ts';
import type { SpicepodSetStatus } from '../../core/spec/spicepodset.ts';
import { PAUSE_CRASHLOOPING, REASON_CHILD_REFUSED, REASON_INVALID_SPEC, REASON_PODS_REFUSED } from '../../core/set-reasons.ts';
import { ClusterReason } from './reasons.ts';

export type Role = 'scheduler' | 'executor';
export const ROLES: Role[] = ['scheduler', 'executor'];
const specField = (role: Role) => `spec.${role}SetSpec`;

/** The reasons of a child set's Ready condition the cluster passes on (the workloads handler's). */
export const CHILD_PROBLEM_REASONS: ReadonlySet<string> = new Set([REASON_INVALID_SPEC, REASON_CHILD_REFUSED, REASON_PODS_REFUSED]);

/**
 * Problems of a desired child set's spec and name, with the fields under the cluster's spec: the
 * child's `spec.env.0.name` is the cluster's `spec.executorSetSpec.env.0.name`.
 */
export function childSpecProblems(role: Role, child: KubeObject): SpecProblem[] {
  const normalized = normalizeSpicepodSetSpec(child.spec);
  const underCluster = (p: SpecProblem) => ({ field: p.field.replace(/^spec(?=\.|\[|$)/, specField(role)), message: p.message });
  if (!normalized.ok) return normalized.problems.map(underCluster);
  const volumes = volumeMountProblems(normalized.spec);
  if (volumes.length) return volumes.map(underCluster);
  return setNameProblems(child.metadata.name, normalized.spec).map((p) => ({
    field: 'metadata.name',
    message: `makes the ${role} set name ${JSON.stringify(child.metadata.name)} (the cluster name and "-${role}"), which ${p.message}`,
  }));
}

export interface ChildState {
  role: Role;
  name: string;
  status?: SpicepodSetStatus;
  /** The child's status is about its current spec. */
  current: boolean;
}

/** A child's refused objects or pods, passed on: reason and message for the cluster's Ready condition. */
export function childProblem(child: ChildState): { reason: string; message: string } | undefined {
  if (!child.current) return undefined;
  const ready = findCondition(child.status?.conditions, 'Ready');
  if (ready?.status !== 'False' || !ready.reason || !CHILD_PROBLEM_REASONS.has(ready.reason)) return undefined;
  return { reason: ready.reason, message: `${specField(child.role)}: the ${child.role} set ${child.name}: ${ready.message ?? ''}` };
}

/** Paused=True when either child set is paused, with each one's reason and how to resume it. */
export function pausedCondition(children: ChildState[]): ConditionInput {
  const paused = children.filter((c) => c.status?.pauseReason);
  if (!paused.length) return { type: 'Paused', status: 'False', reason: ClusterReason.Running, message: 'no node set is paused' };
  const reasons = [...new Set(paused.map((c) => c.status!.pauseReason!))];
  const message = paused
    .map((c) => {
      const detail = findCondition(c.status?.conditions, 'Paused')?.message;
      const resume = c.status!.pauseReason === PAUSE_CRASHLOOPING ? '' : ` (set ${specField(c.role)}.replicas above 0 to resume)`;
      return `the ${c.role} set ${c.name} is paused (${c.status!.pauseReason})${detail ? `: ${detail}` : ''}${resume}`;
    })
    .join('; ');
  return { type: 'Paused', status: 'True', reason: reasons.length === 1 ? reasons[0]! : ClusterReason.Paused, message };
}

/** Whether a child is paused by crashloop protection (an error, unlike replicas: 0). */
export const crashLooping = (child: ChildState) => child.status?.pauseReason === PAUSE_CRASHLOOPING;
