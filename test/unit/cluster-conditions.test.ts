// The cluster handler's Ready chain and the Events of its conditions, as
// tables: which reason wins when several things are wrong, and when a
// change is announced.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { setConditions } from '../../core/conditions.ts';
import type { ChildState } from '../../functions/cluster/children.ts';
import { clusterConditions, clusterEvents, isError, type ClusterOutcome } from '../../functions/cluster/conditions.ts';
import { NOW } from '../kit/fixtures.ts';

const child = (role: 'scheduler' | 'executor', pauseReason?: string): ChildState => ({
  role,
  name: `c-${role}`,
  status: { pauseReason, conditions: [] },
  current: true,
});
function outcome(o: Partial<ClusterOutcome> = {}): ClusterOutcome {
  return {
    allReady: false,
    executorWaits: false,
    refusedChildren: [],
    childProblems: [],
    children: [child('scheduler'), child('executor')],
    schedulers: '1/1',
    executors: '0/2',
    ...o,
  };
}
const refused = [
  {
    target: { apiVersion: 'spice.ai/v1', kind: 'SpicepodSet', name: 'c-executor' },
    verb: 'apply' as const,
    code: 422,
    reason: 'Invalid',
    message: 'bad',
  },
];
const problem = [{ reason: 'PodsRefused', message: 'spec.executorSetSpec: quota' }];
const crashed = [child('scheduler'), child('executor', 'CrashLooping')];

const READY: [string, Partial<ClusterOutcome>, string, boolean][] = [
  ['nodes rolling out', {}, 'NodesNotReady', false],
  ['every node Ready', { allReady: true }, 'AllNodesReady', false],
  ['a crashlooping node set', { children: crashed }, 'Paused', true],
  ["a child's refused pods beat a crashloop", { children: crashed, childProblems: problem }, 'PodsRefused', true],
  ['a refused child set beats its problems', { children: crashed, childProblems: problem, refusedChildren: refused }, 'ChildRefused', true],
  [
    'a node set at replicas 0 is not an error',
    { children: [child('scheduler'), child('executor', 'ScaledToZero')] },
    'NodesNotReady',
    false,
  ],
];
for (const [name, o, reason, error] of READY) {
  test(`cluster Ready: ${name} -> ${reason}${error ? ' (status.error)' : ''}`, () => {
    const [ready] = clusterConditions(outcome(o));
    assert.is(ready!.reason, reason);
    assert.is(isError(ready!, outcome(o)), error);
  });
}

function eventsOf(before: ClusterOutcome | undefined, after: ClusterOutcome): string[] {
  const previous = before ? setConditions(undefined, clusterConditions(before), NOW) : undefined;
  return clusterEvents(previous, clusterConditions(after), after).map((e) => `${e.type} ${e.reason}`);
}
const EVENTS: [string, ClusterOutcome | undefined, ClusterOutcome, string[]][] = [
  ['Ready on the first pass is announced', undefined, outcome({ allReady: true }), ['Normal Ready']],
  ['Ready again', outcome(), outcome({ allReady: true }), ['Normal Ready']],
  ['still Ready: nothing', outcome({ allReady: true }), outcome({ allReady: true }), []],
  ['a refusal', outcome(), outcome({ refusedChildren: refused }), ['Warning ChildRefused']],
  ['the same refusal: nothing new', outcome({ refusedChildren: refused }), outcome({ refusedChildren: refused }), []],
  ['a crashloop pause: a Warning', outcome(), outcome({ children: crashed }), ['Warning Paused']],
  [
    'replicas 0: a Normal pause',
    outcome(),
    outcome({ children: [child('scheduler'), child('executor', 'ScaledToZero')] }),
    ['Normal Paused'],
  ],
];
for (const [name, before, after, want] of EVENTS) test(`cluster Events: ${name}`, () => assert.equal(eventsOf(before, after), want));

test.run();
