// The workloads handler's pure decisions as tables (cert-manager's case
// tables are the model): which replicas a rollout step replaces, and
// whether crashloop protection pauses or resumes a set.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { KubeObject } from '../../core/handler.ts';
import { crashloopProtection } from '../../functions/workloads/crashloop.ts';
import { maxUnavailableCount, planRollout, type ReplicaState } from '../../functions/workloads/rollout.ts';
import type { SpicepodSetSpec } from '../../core/spec/spicepodset.ts';
import { NOW, pod, spicepodSet } from '../kit/fixtures.ts';

// ---- the rollout step ----------------------------------------------------------------------

/**
 * Replicas by ordinal, one letter each: M missing; C on the desired revision and Ready, c on it
 * and not Ready; O outdated and Ready, o outdated and not Ready.
 */
function replicas(letters: string): ReplicaState[] {
  return [...letters].map((l, ordinal) => ({ ordinal, exists: l !== 'M', updated: l === 'C' || l === 'c', ready: l === 'C' || l === 'O' }));
}
type Strategy = SpicepodSetSpec['updateStrategy'];
const ordered: Strategy = { type: 'RollingOrdered' };
const parallelBy = (maxUnavailable?: number | string): Strategy => ({ type: 'RollingParallel', maxUnavailable });

const ROLLOUT_CASES: Record<string, { strategy: Strategy; replicas: string; wantUpdate: number[]; wantWaiting?: string }> = {
  'RollingOrdered, nothing outdated: nothing to do': { strategy: ordered, replicas: 'CCC', wantUpdate: [] },
  'RollingOrdered, an updated replica not Ready and nothing outdated: nothing waits': { strategy: ordered, replicas: 'CCc', wantUpdate: [] },
  'RollingOrdered starts at the lowest ordinal': { strategy: ordered, replicas: 'OOO', wantUpdate: [0], wantWaiting: 'replica 0 is being updated' },
  'RollingOrdered takes the next one once the earlier are updated and Ready': { strategy: ordered, replicas: 'COO', wantUpdate: [1], wantWaiting: 'replica 1 is being updated' },
  'RollingOrdered replaces an outdated replica that is not Ready in its turn': { strategy: ordered, replicas: 'CoO', wantUpdate: [1], wantWaiting: 'replica 1 is being updated' },
  'RollingOrdered waits for an updated replica to become Ready': { strategy: ordered, replicas: 'cOO', wantUpdate: [], wantWaiting: 'waiting for replica 0 to become Ready' },
  'RollingOrdered creates missing replicas at once, then goes on in order': { strategy: ordered, replicas: 'MOO', wantUpdate: [0, 1], wantWaiting: 'replica 1 is being updated' },
  'a missing replica alone is no rollout': { strategy: ordered, replicas: 'CCM', wantUpdate: [2] },
  'RollingParallel: unready outdated replicas first, then healthy ones within maxUnavailable': {
    strategy: parallelBy(2),
    replicas: 'OOOoO',
    wantUpdate: [0, 3],
    wantWaiting: '3 replicas wait for at most 2 to be unavailable at once',
  },
  'RollingParallel: a percentage of the replicas, rounded down': { strategy: parallelBy('50%'), replicas: 'OOOO', wantUpdate: [0, 1], wantWaiting: '2 replicas wait for at most 2 to be unavailable at once' },
  'RollingParallel defaults to one unavailable replica': { strategy: parallelBy(), replicas: 'OOO', wantUpdate: [0], wantWaiting: '2 replicas wait for at most 1 to be unavailable at once' },
  'RollingParallel: a replica already unavailable spends the budget': { strategy: parallelBy(1), replicas: 'cOO', wantUpdate: [], wantWaiting: '2 replicas wait for at most 1 to be unavailable at once' },
  'RollingParallel: a missing replica is unavailable too': { strategy: parallelBy(1), replicas: 'MOO', wantUpdate: [0], wantWaiting: '2 replicas wait for at most 1 to be unavailable at once' },
  'RollingParallel: every outdated replica fits the budget': { strategy: parallelBy(3), replicas: 'OOO', wantUpdate: [0, 1, 2] },
  'RollingParallel: unready outdated replicas go even beyond the budget': { strategy: parallelBy(1), replicas: 'ooO', wantUpdate: [0, 1], wantWaiting: '1 replicas wait for at most 1 to be unavailable at once' },
  'Parallel: every replica at once': { strategy: { type: 'Parallel' }, replicas: 'OoMC', wantUpdate: [0, 1, 2] },
  'BlueGreen generations are replaced whole': { strategy: { type: 'BlueGreen' }, replicas: 'OOc', wantUpdate: [0, 1] },
};

for (const [name, c] of Object.entries(ROLLOUT_CASES)) {
  test(`planRollout: ${name}`, () => {
    const plan = planRollout(c.strategy, replicas(c.replicas));
    assert.equal([...plan.update].sort((a, b) => a - b), c.wantUpdate);
    assert.is(plan.waiting, c.wantWaiting);
  });
}

test('maxUnavailableCount: a number, or a percentage rounded down, never below 1', () => {
  const cases: [number | string | undefined, number, number][] = [
    [undefined, 3, 1],
    [2, 5, 2],
    [0, 5, 1],
    ['50%', 4, 2],
    ['50%', 3, 1],
    ['10%', 3, 1],
    ['100%', 7, 7],
  ];
  for (const [value, total, want] of cases) assert.is(maxUnavailableCount(value, total), want, `${value} of ${total}`);
});

// ---- crashloop protection ------------------------------------------------------------------

interface SetState {
  replicas?: number;
  generation?: number;
  /** The resume annotation's value. */
  resume?: string;
  /** Paused by crashloop protection, at this generation, with this message. */
  pausedAt?: { generation: number; message: string };
  resumeHandled?: string;
}

function setFor(s: SetState): KubeObject {
  const conditions = s.pausedAt ? [{ type: 'Paused', status: 'True', reason: 'CrashLooping', message: s.pausedAt.message, observedGeneration: s.pausedAt.generation }] : [];
  return spicepodSet(
    { replicas: s.replicas ?? 2 },
    { generation: s.generation ?? 1, annotations: s.resume === undefined ? undefined : { 'spice.ai/resume': s.resume }, status: { conditions, resumeHandled: s.resumeHandled } },
  );
}
/** Pods not Ready that restarted this often (since they were last Ready). */
const crashing = (...restarts: number[]) => restarts.map((r, i) => pod({ name: `app-${i}-0`, app: 'app', ready: false, restarts: r, waiting: { reason: 'CrashLoopBackOff' } }));

const CRASHLOOP_CASES: Record<
  string,
  { set: SetState; pods: KubeObject[]; threshold?: number; want: { crashLooping: boolean; resumedBy?: 'annotation' | 'spec'; resumePending: boolean; message?: RegExp } }
> = {
  'deaths up to the threshold: running': { set: {}, pods: crashing(6, 4), want: { crashLooping: false, resumePending: false } },
  'deaths above the threshold: paused, saying how to resume': {
    set: {},
    pods: crashing(6, 5),
    want: { crashLooping: true, resumePending: false, message: /^11 pod deaths since the pods were last Ready exceed the threshold of 10; fix the cause, then resume with: kubectl annotate spicepodset app -n ns spice\.ai\/resume=true/ },
  },
  'a threshold of 0 disables protection': { set: {}, pods: crashing(500), threshold: 0, want: { crashLooping: false, resumePending: false } },
  'a resume with protection disabled is still acted on': { set: { resume: 'true' }, pods: [], threshold: 0, want: { crashLooping: false, resumedBy: 'annotation', resumePending: true } },
  'a set at zero replicas is not paused': { set: { replicas: 0 }, pods: crashing(30), want: { crashLooping: false, resumePending: false } },
  'a pause holds with its message while nothing changes, even with no deaths left': {
    set: { pausedAt: { generation: 1, message: 'before' } },
    pods: [],
    want: { crashLooping: true, resumePending: false, message: /^before$/ },
  },
  'a new spec lifts the pause': { set: { generation: 2, pausedAt: { generation: 1, message: 'before' } }, pods: crashing(30), want: { crashLooping: false, resumedBy: 'spec', resumePending: false } },
  'the resume annotation lifts the pause and counts the deaths so far as seen': {
    set: { resume: 'true', pausedAt: { generation: 1, message: 'before' } },
    pods: crashing(30),
    want: { crashLooping: false, resumedBy: 'annotation', resumePending: true },
  },
  'a resume already acted on does not lift a new pause': {
    set: { resume: 'true', resumeHandled: 'true', pausedAt: { generation: 1, message: 'again' } },
    pods: [],
    want: { crashLooping: true, resumePending: false, message: /^again$/ },
  },
  'a resume on a running set is acknowledged': { set: { resume: 'yes' }, pods: [], want: { crashLooping: false, resumedBy: 'annotation', resumePending: true } },
};

for (const [name, c] of Object.entries(CRASHLOOP_CASES)) {
  test(`crashloop protection: ${name}`, () => {
    const parent = setFor(c.set);
    const d = crashloopProtection({ parent, replicas: c.set.replicas ?? 2, pods: c.pods, threshold: c.threshold ?? 10, now: NOW });
    assert.is(d.crashLooping, c.want.crashLooping, 'crashLooping');
    assert.is(d.resumedBy, c.want.resumedBy, 'resumedBy');
    assert.is(d.resumePending, c.want.resumePending, 'resumePending');
    if (c.want.message) assert.match(d.message ?? '', c.want.message);
    else assert.is(d.message, undefined);
    assert.is(d.clearAnnotation, c.set.resume !== undefined, 'a resume annotation is always removed');
    if (c.want.resumedBy === 'annotation' && (c.threshold ?? 10) > 0) assert.is(d.deaths, 0, 'a resume accounts for every death so far');
  });
}

test.run();
