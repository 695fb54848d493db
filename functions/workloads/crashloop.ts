// Crashloop protection: when the set's pods have died more often since they
// were last Ready than --pause-crashlooping-pods-threshold allows, the set is
// paused (its workloads at zero replicas; the spec is not rewritten). The
// pause holds until the user resumes it, with the annotation spice.ai/resume
// or any change to the spec.
//
// The annotation is a request acted on once: the status records the value
// acted on (resumeHandled) before the operator removes the annotation (the
// shim writes the status before patching the parent), so a failure in
// between neither loses the resume nor repeats it, and a set that pauses
// again while a stale annotation lingers is not resumed by it. Once the
// annotation is gone, resumeHandled is cleared and the same command works
// again. A resume also accounts for every death so far, so the dead pods
// that caused the pause do not pause the set again at once.
import { findCondition } from '../../core/conditions.ts';
import type { KubeObject } from '../../core/handler.ts';

import { deadPodObservations, nextBaselines, type DeathBaseline } from '../../core/pods.ts';
import type { SpicepodSetStatus } from '../../core/spec/spicepodset.ts';
import { ANNOTATION_RESUME } from '../../core/annotations.ts';
import { PAUSE_CRASHLOOPING } from '../../core/set-reasons.ts';

export interface CrashloopInput {
  parent: KubeObject;
  replicas: number;
  pods: KubeObject[];
  threshold: number;
  now: number;
}

export interface CrashloopDecision {
  crashLooping: boolean;
  /** The message of a pause that starts or holds. */
  message?: string;
  /** Whether this pass resumed the set, and how. */
  resumedBy?: 'annotation' | 'spec';
  /** A resume acted on and its annotation not yet gone: Paused reads Resumed. */
  resumePending: boolean;
  deaths: number;
  baselines?: DeathBaseline[];
  resumeHandled?: string;
  /** The resume annotation is present: remove it (after the status is written). */
  clearAnnotation: boolean;
}

/** The one command that resumes a paused set, whatever changed or did not. */
export const resumeCommand = (parent: KubeObject) =>
  `kubectl annotate spicepodset ${parent.metadata.name}${parent.metadata.namespace ? ` -n ${parent.metadata.namespace}` : ''} ${ANNOTATION_RESUME}=true`;

interface PauseFacts {
  parent: KubeObject;
  replicas: number;
  threshold: number;
  /** The resume annotation (not yet acted on) or a new spec. */
  resuming: boolean;
  /** Paused by crashloop protection, with this message. */
  pausedBefore?: { message: string };
  /** Pod deaths since the pods were last Ready (or the last resume). */
  deaths: number;
}
type Verdict = { crashLooping: boolean; message?: string };
type PauseCheck = (f: PauseFacts) => Verdict | undefined;
const RUNNING: Verdict = { crashLooping: false };

/** A resume (the annotation, or a new spec) lifts the pause, and starts no new one in the same pass. */
const resumeLiftsThePause: PauseCheck = (f) => (f.resuming ? RUNNING : undefined);
/** A set at zero replicas has no pods to protect. */
const nothingRuns: PauseCheck = (f) => (f.replicas > 0 ? undefined : RUNNING);
/** A pause holds, with its message, until the set is resumed. */
const pauseHolds: PauseCheck = (f) => (f.pausedBefore ? { crashLooping: true, message: f.pausedBefore.message } : undefined);
/** More deaths than the threshold since the pods were last Ready pause the set. */
const tooManyDeaths: PauseCheck = (f) =>
  f.deaths > f.threshold
    ? {
        crashLooping: true,
        message: `${f.deaths} pod deaths since the pods were last Ready exceed the threshold of ${f.threshold}; fix the cause, then resume with: ${resumeCommand(f.parent)} (any change to the spec also resumes)`,
      }
    : undefined;
/** In order: the first that applies decides. */
export const PAUSE_CHECKS: PauseCheck[] = [resumeLiftsThePause, nothingRuns, pauseHolds, tooManyDeaths];

export function crashloopProtection({ parent, replicas, pods, threshold, now }: CrashloopInput): CrashloopDecision {
  const previous = (parent.status ?? {}) as SpicepodSetStatus;
  const annotation = parent.metadata.annotations?.[ANNOTATION_RESUME];
  const requested = annotation !== undefined && annotation !== previous.resumeHandled;
  const pausedBefore = findCondition(previous.conditions, 'Paused');
  const wasPaused = pausedBefore?.status === 'True' && pausedBefore.reason === PAUSE_CRASHLOOPING;
  const specChanged = wasPaused && pausedBefore.observedGeneration !== parent.metadata.generation;
  const resuming = requested || specChanged;
  const resumeHandled = annotation === undefined ? undefined : requested ? annotation : previous.resumeHandled;
  const clearAnnotation = annotation !== undefined;
  // Protection off (threshold 0): nothing pauses, but a resume is still acknowledged and cleared.
  if (threshold <= 0) {
    return {
      crashLooping: false,
      resumePending: annotation !== undefined,
      deaths: 0,
      resumeHandled,
      clearAnnotation,
      resumedBy: requested ? 'annotation' : undefined,
    };
  }
  const baselines = nextBaselines(pods, previous.crashloopBaselines, resuming);
  const deaths = deadPodObservations(pods, baselines, now);
  const facts: PauseFacts = {
    parent,
    replicas,
    threshold,
    resuming,
    pausedBefore: wasPaused ? { message: pausedBefore.message ?? '' } : undefined,
    deaths,
  };
  const verdict = PAUSE_CHECKS.map((check) => check(facts)).find((v) => v) ?? RUNNING;
  return {
    ...verdict,
    resumedBy: requested ? 'annotation' : specChanged ? 'spec' : undefined,
    resumePending: !verdict.crashLooping && annotation !== undefined,
    deaths,
    baselines: baselines.length ? baselines : undefined,
    resumeHandled,
    clearAnnotation,
  };
}
