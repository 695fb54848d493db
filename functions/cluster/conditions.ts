// The cluster handler's conditions (Ready, Progressing, Paused) and the
// Events that mark their changes, from one summary of the pass. Ready is an
// ordered chain of named checks, most telling first: the first that applies
// gives its reason and message.
import { findCondition, type ConditionInput } from '../../core/conditions.ts';
import type { FailedWrite, RecordedEvent } from '../../core/handler.ts';
import type { Condition } from '../../core/spec/spicepodset.ts';
import { crashLooping, pausedCondition, type ChildState } from './children.ts';
import { ClusterReason, ERROR_REASONS } from './reasons.ts';

export interface ClusterOutcome {
  /** Both child sets run the current spec and are Ready. */
  allReady: boolean;
  /** The executor set keeps its old spec until the schedulers have rolled out. */
  executorWaits: boolean;
  /** Child SpicepodSets the API server refused. */
  refusedChildren: FailedWrite[];
  /** Problems of the children passed on (their refused objects or pods, their invalid specs). */
  childProblems: { reason: string; message: string }[];
  children: ChildState[];
  /** `ready/total` of each role. */
  schedulers: string;
  executors: string;
}

type Check = (o: ClusterOutcome) => ConditionInput | undefined;
const ready = (status: 'True' | 'False', reason: string, message: string): ConditionInput => ({ type: 'Ready', status, reason, message });
export const ALL_NODES_READY_MESSAGE = 'schedulers and executors are Ready';

const everyNodeReady: Check = (o) => (o.allReady ? ready('True', ClusterReason.AllNodesReady, ALL_NODES_READY_MESSAGE) : undefined);
const apiServerRefusedAChildSet: Check = (o) =>
  o.refusedChildren.length
    ? ready(
        'False',
        ClusterReason.ChildRefused,
        o.refusedChildren.map((f) => `the API server refused SpicepodSet ${f.target.name}: ${f.message}`).join('; '),
      )
    : undefined;
const aChildSetHasAProblem: Check = (o) =>
  o.childProblems.length ? ready('False', o.childProblems[0]!.reason, o.childProblems.map((p) => p.message).join('; ')) : undefined;
const aNodeSetCrashLoops: Check = (o) => {
  const crashed = o.children.filter(crashLooping);
  return crashed.length
    ? ready(
        'False',
        ClusterReason.Paused,
        crashed.map((c) => `the ${c.role} set ${c.name} is paused after repeated pod failures`).join('; '),
      )
    : undefined;
};
export const READY_CHECKS: Check[] = [everyNodeReady, apiServerRefusedAChildSet, aChildSetHasAProblem, aNodeSetCrashLoops];
const nodesNotReady = (o: ClusterOutcome) =>
  ready('False', ClusterReason.NodesNotReady, `schedulers ${o.schedulers}, executors ${o.executors} Ready`);

function progressing(o: ClusterOutcome): ConditionInput {
  if (o.executorWaits)
    return {
      type: 'Progressing',
      status: 'True',
      reason: ClusterReason.SchedulersFirst,
      message: 'executors wait until the schedulers have rolled out and are Ready',
    };
  if (o.allReady)
    return { type: 'Progressing', status: 'False', reason: ClusterReason.RolloutComplete, message: 'every node runs the current spec' };
  return { type: 'Progressing', status: 'True', reason: ClusterReason.RollingOut, message: 'nodes are rolling out' };
}

/** Ready, Progressing and Paused. Secure (mutual TLS on every node) is the pki handler's: it knows the certificates. */
export function clusterConditions(o: ClusterOutcome): ConditionInput[] {
  const readiness = READY_CHECKS.map((check) => check(o)).find((c) => c) ?? nodesNotReady(o);
  return [readiness, progressing(o), pausedCondition(o.children)];
}

/** Whether Ready says something is wrong that the legacy status.error must carry. */
export const isError = (readyNow: ConditionInput, o: ClusterOutcome) =>
  readyNow.status === 'False' && (ERROR_REASONS.has(readyNow.reason) || o.children.some(crashLooping));

/** The Events of the conditions' changes: an error in new words, a new pause, Ready reached. */
export function clusterEvents(previous: Condition[] | undefined, conditions: ConditionInput[], o: ClusterOutcome): RecordedEvent[] {
  const events: RecordedEvent[] = [];
  const readyNow = conditions.find((c) => c.type === 'Ready')!;
  const readyBefore = findCondition(previous, 'Ready');
  if (
    readyNow.status === 'False' &&
    ERROR_REASONS.has(readyNow.reason) &&
    (readyBefore?.reason !== readyNow.reason || readyBefore?.message !== readyNow.message)
  ) {
    events.push({ type: 'Warning', reason: readyNow.reason, message: readyNow.message });
  }
  const pausedNow = conditions.find((c) => c.type === 'Paused')!;
  const pausedBefore = findCondition(previous, 'Paused');
  if (pausedNow.status === 'True' && (pausedBefore?.status !== 'True' || pausedBefore.reason !== pausedNow.reason)) {
    events.push({ type: o.children.some(crashLooping) ? 'Warning' : 'Normal', reason: ClusterReason.Paused, message: pausedNow.message });
  }
  if (o.allReady && readyBefore?.status !== 'True')
    events.push({ type: 'Normal', reason: ClusterReason.Ready, message: ALL_NODES_READY_MESSAGE });
  return events;
}
