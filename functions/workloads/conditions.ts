// The workloads handler's conditions (Ready, Progressing, Paused,
// VolumeResized, RolledBack) and the Events that mark their changes, from one
// summary of the pass (SetOutcome). Each condition is an ordered chain of
// named checks: the first that applies gives its reason and message, and the
// order is the rule's priority. Which Event a condition's change raises is
// one table (EVENTS), so a reason, its message and its Event come from here.
import { findCondition, type ConditionInput } from '../../core/conditions.ts';
import type { FailedWrite, RecordedEvent } from '../../core/handler.ts';
import type { Condition, SpicepodSetSpec, SpicepodSetStatus } from '../../core/spec/spicepodset.ts';
import { ANNOTATION_RESUME } from '../../core/annotations.ts';
import type { CrashloopDecision } from './crashloop.ts';
import { refusedResizeMessage } from './refusals.ts';
import { SetReason } from './reasons.ts';
import { CONDITION_ROLLED_BACK, type RollbackRefusal } from './rollback.ts';

/** What a pass found and decided, as far as conditions and Events tell it. */
export interface SetOutcome {
  spec: SpicepodSetSpec;
  /** Replicas that run now (0 while paused). */
  replicas: number;
  crashloop: CrashloopDecision;
  /** Paused by crashloop protection or by replicas: 0. */
  pauseReason?: string;
  rolling: boolean;
  updatedReady: number;
  revision: string;
  waiting?: string;
  childRefused?: string;
  podsRefused?: string;
  resizeRefused: FailedWrite[];
  shrinks: string[];
  /** The size fields below a claim's size. */
  shrinkFields: string[];
  /** The storage sizes the spec asks for, as the messages name them. */
  sizes: string;
  resizing: number;
}

type Check = (o: SetOutcome) => ConditionInput | undefined;
const ready = (status: 'True' | 'False', reason: string, message: string): ConditionInput => ({ type: 'Ready', status, reason, message });
const paused = (status: 'True' | 'False', reason: string, message: string): ConditionInput => ({ type: 'Paused', status, reason, message });
const volumeResized = (status: 'True' | 'False', reason: string, message: string): ConditionInput => ({
  type: 'VolumeResized',
  status,
  reason,
  message,
});

/** The first check that applies; `otherwise` when none does. */
function firstOf(checks: Check[], o: SetOutcome, otherwise?: ConditionInput): ConditionInput | undefined {
  for (const check of checks) {
    const c = check(o);
    if (c) return c;
  }
  return otherwise;
}

// ---- Ready ----
const setIsPaused: Check = (o) =>
  o.pauseReason
    ? ready('False', SetReason.Paused, o.crashloop.crashLooping ? 'paused after repeated pod failures' : 'replicas is 0')
    : undefined;
const apiServerRefusedAChild: Check = (o) => (o.childRefused ? ready('False', SetReason.ChildRefused, o.childRefused) : undefined);
const clusterRefusesPods: Check = (o) => (o.podsRefused ? ready('False', SetReason.PodsRefused, o.podsRefused) : undefined);
const rolloutInProgress: Check = (o) =>
  o.rolling ? ready('False', SetReason.RolloutInProgress, `${o.updatedReady}/${o.replicas} replicas updated and Ready`) : undefined;
export const READY_CHECKS: Check[] = [setIsPaused, apiServerRefusedAChild, clusterRefusesPods, rolloutInProgress];
const allReplicasReady = (o: SetOutcome) => ready('True', SetReason.AllReplicasReady, `${o.replicas}/${o.replicas} replicas Ready`);

// ---- Progressing ----
const progressing = (o: SetOutcome): ConditionInput =>
  o.rolling
    ? {
        type: 'Progressing',
        status: 'True',
        reason: SetReason.RollingUpdate,
        message: `${o.spec.updateStrategy.type}: ${o.waiting ?? 'in progress'}`,
      }
    : { type: 'Progressing', status: 'False', reason: SetReason.RolloutComplete, message: `revision ${o.revision} is rolled out` };

// ---- Paused ----
const crashLooping: Check = (o) =>
  o.crashloop.crashLooping ? paused('True', SetReason.CrashLooping, o.crashloop.message ?? '') : undefined;
const scaledToZero: Check = (o) =>
  o.pauseReason ? paused('True', SetReason.ScaledToZero, 'replicas is 0; supporting objects are kept') : undefined;
const resumedByAnnotation: Check = (o) =>
  o.crashloop.resumePending
    ? paused('False', SetReason.Resumed, `resumed by ${ANNOTATION_RESUME}; pod deaths before the resume are not counted`)
    : undefined;
export const PAUSED_CHECKS: Check[] = [crashLooping, scaledToZero, resumedByAnnotation];
const running = paused('False', SetReason.Running, 'the workload is running');

// ---- VolumeResized (absent when no claim needs a change) ----
const resizeRefused: Check = (o) =>
  o.resizeRefused.length ? volumeResized('False', SetReason.ResizeRefused, refusedResizeMessage(o.resizeRefused, o.sizes)) : undefined;
const shrinkNotSupported: Check = (o) =>
  o.shrinks.length
    ? volumeResized(
        'False',
        SetReason.ShrinkNotSupported,
        `${o.shrinkFields.join(' and ')} is below the size of ${o.shrinks.join(', ')}; volumes cannot shrink, so they keep their size`,
      )
    : undefined;
const resizing: Check = (o) =>
  o.resizing ? volumeResized('True', SetReason.Resizing, `resizing ${o.resizing} volumes to ${o.sizes}`) : undefined;
export const VOLUME_CHECKS: Check[] = [resizeRefused, shrinkNotSupported, resizing];

/** Ready, Progressing, Paused and (when a claim changes) VolumeResized, in that order. */
export function setConditionsOf(o: SetOutcome): ConditionInput[] {
  const volume = firstOf(VOLUME_CHECKS, o);
  return [firstOf(READY_CHECKS, o, allReplicasReady(o))!, progressing(o), firstOf(PAUSED_CHECKS, o, running)!, ...(volume ? [volume] : [])];
}

/** The RolledBack condition: while a rollback holds, or the answer to the last request of this generation. */
export function rolledBackCondition(
  previous: SpicepodSetStatus,
  status: Partial<SpicepodSetStatus> | undefined,
  refusal: RollbackRefusal | undefined,
  generation: number | undefined,
): ConditionInput | undefined {
  if (refusal) return { type: CONDITION_ROLLED_BACK, status: 'False', reason: refusal.reason, message: refusal.message };
  if (status?.rolledBackVersion) {
    return {
      type: CONDITION_ROLLED_BACK,
      status: 'True',
      reason: SetReason.RolledBack,
      message: `serving version ${status.activeVersion}, rolled back from ${status.rolledBackVersion}, which is not rolled out again until the spec changes`,
    };
  }
  // A refusal stays visible until the spec changes.
  const before = findCondition(previous.conditions, CONDITION_ROLLED_BACK);
  if (before?.status === 'False' && before.observedGeneration === generation)
    return { ...before, status: 'False', reason: before.reason ?? '', message: before.message ?? '' };
  return undefined;
}

// ---- Events ----

/**
 * When a condition's change raises an Event: `change`, when its status or reason changes (or it
 * appears); `rewording`, also when only its message changes (a new refusal); `return`, when it
 * changes from an earlier state (not on the first pass).
 */
type Trigger = 'change' | 'rewording' | 'return';
interface EventRule {
  condition: string;
  status: 'True' | 'False';
  reason: SetReason;
  on: Trigger;
  event: { type: 'Normal' | 'Warning'; reason: SetReason; message?: (o: SetOutcome) => string };
}

export const EVENTS: EventRule[] = [
  {
    condition: 'Ready',
    status: 'False',
    reason: SetReason.ChildRefused,
    on: 'rewording',
    event: { type: 'Warning', reason: SetReason.ChildRefused },
  },
  {
    condition: 'Ready',
    status: 'False',
    reason: SetReason.PodsRefused,
    on: 'rewording',
    event: { type: 'Warning', reason: SetReason.PodsRefused },
  },
  {
    condition: 'Ready',
    status: 'True',
    reason: SetReason.AllReplicasReady,
    on: 'return',
    event: { type: 'Normal', reason: SetReason.Ready },
  },
  {
    condition: 'Progressing',
    status: 'True',
    reason: SetReason.RollingUpdate,
    on: 'change',
    event: {
      type: 'Normal',
      reason: SetReason.RollingUpdate,
      message: (o) => `rolling out revision ${o.revision} (${o.spec.updateStrategy.type})`,
    },
  },
  {
    condition: 'Paused',
    status: 'True',
    reason: SetReason.CrashLooping,
    on: 'change',
    event: { type: 'Warning', reason: SetReason.CrashLooping },
  },
  {
    condition: 'Paused',
    status: 'True',
    reason: SetReason.ScaledToZero,
    on: 'change',
    event: { type: 'Normal', reason: SetReason.Paused },
  },
  {
    condition: 'VolumeResized',
    status: 'False',
    reason: SetReason.ResizeRefused,
    on: 'rewording',
    event: { type: 'Warning', reason: SetReason.ResizeRefused },
  },
  {
    condition: 'VolumeResized',
    status: 'False',
    reason: SetReason.ShrinkNotSupported,
    on: 'change',
    event: { type: 'Warning', reason: SetReason.ShrinkNotSupported },
  },
  {
    condition: 'VolumeResized',
    status: 'True',
    reason: SetReason.Resizing,
    on: 'change',
    event: { type: 'Normal', reason: SetReason.Resizing },
  },
];

function fires(on: Trigger, before: Condition | undefined, next: Condition): boolean {
  const changed = !before || before.status !== next.status || before.reason !== next.reason;
  if (on === 'rewording') return changed || before.message !== next.message;
  if (on === 'return') return changed && !!before;
  return changed;
}

/** The Events the conditions' changes raise, in the order of the conditions. */
export function conditionEvents(previous: Condition[] | undefined, next: Condition[], o: SetOutcome): RecordedEvent[] {
  const events: RecordedEvent[] = [];
  for (const c of next) {
    const rule = EVENTS.find((r) => r.condition === c.type && r.status === c.status && r.reason === c.reason);
    if (rule && fires(rule.on, findCondition(previous, c.type), c)) {
      events.push({
        type: rule.event.type,
        reason: rule.event.reason,
        message: rule.event.message ? rule.event.message(o) : (c.message ?? ''),
      });
    }
  }
  return events;
}

/** The Event of a resume this pass acted on. */
export function resumedEvent(resumedBy: CrashloopDecision['resumedBy']): RecordedEvent | undefined {
  if (!resumedBy) return undefined;
  return {
    type: 'Normal',
    reason: SetReason.Resumed,
    message:
      resumedBy === 'spec'
        ? 'the spec changed: crashloop protection resumed the set'
        : `${ANNOTATION_RESUME} resumed the set; pod deaths before now are not counted`,
  };
}
