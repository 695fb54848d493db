// The workloads handler's pure decisions as tables (cert-manager's case
// tables are the model): which replicas a rollout step replaces, how
// BlueGreen generations move (cutover, standby, rollback), and whether
// crashloop protection pauses or resumes a set.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { KubeObject } from '../../core/handler.ts';
import { blueGreenTransitions, type BlueGreenFacts, type Generations } from '../../functions/workloads/bluegreen.ts';
import { conditionEvents, setConditionsOf, type SetOutcome } from '../../functions/workloads/conditions.ts';
import { crashloopProtection } from '../../functions/workloads/crashloop.ts';
import { setConditions } from '../../core/conditions.ts';
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
  'RollingOrdered, an updated replica not Ready and nothing outdated: nothing waits': {
    strategy: ordered,
    replicas: 'CCc',
    wantUpdate: [],
  },
  'RollingOrdered starts at the lowest ordinal': {
    strategy: ordered,
    replicas: 'OOO',
    wantUpdate: [0],
    wantWaiting: 'replica 0 is being updated',
  },
  'RollingOrdered takes the next one once the earlier are updated and Ready': {
    strategy: ordered,
    replicas: 'COO',
    wantUpdate: [1],
    wantWaiting: 'replica 1 is being updated',
  },
  'RollingOrdered replaces an outdated replica that is not Ready in its turn': {
    strategy: ordered,
    replicas: 'CoO',
    wantUpdate: [1],
    wantWaiting: 'replica 1 is being updated',
  },
  'RollingOrdered waits for an updated replica to become Ready': {
    strategy: ordered,
    replicas: 'cOO',
    wantUpdate: [],
    wantWaiting: 'waiting for replica 0 to become Ready',
  },
  'RollingOrdered creates missing replicas at once, then goes on in order': {
    strategy: ordered,
    replicas: 'MOO',
    wantUpdate: [0, 1],
    wantWaiting: 'replica 1 is being updated',
  },
  'a missing replica alone is no rollout': { strategy: ordered, replicas: 'CCM', wantUpdate: [2] },
  'RollingParallel: unready outdated replicas first, then healthy ones within maxUnavailable': {
    strategy: parallelBy(2),
    replicas: 'OOOoO',
    wantUpdate: [0, 3],
    wantWaiting: '3 replicas wait for at most 2 to be unavailable at once',
  },
  'RollingParallel: a percentage of the replicas, rounded down': {
    strategy: parallelBy('50%'),
    replicas: 'OOOO',
    wantUpdate: [0, 1],
    wantWaiting: '2 replicas wait for at most 2 to be unavailable at once',
  },
  'RollingParallel defaults to one unavailable replica': {
    strategy: parallelBy(),
    replicas: 'OOO',
    wantUpdate: [0],
    wantWaiting: '2 replicas wait for at most 1 to be unavailable at once',
  },
  'RollingParallel: a replica already unavailable spends the budget': {
    strategy: parallelBy(1),
    replicas: 'cOO',
    wantUpdate: [],
    wantWaiting: '2 replicas wait for at most 1 to be unavailable at once',
  },
  'RollingParallel: a missing replica is unavailable too': {
    strategy: parallelBy(1),
    replicas: 'MOO',
    wantUpdate: [0],
    wantWaiting: '2 replicas wait for at most 1 to be unavailable at once',
  },
  'RollingParallel: every outdated replica fits the budget': { strategy: parallelBy(3), replicas: 'OOO', wantUpdate: [0, 1, 2] },
  'RollingParallel: unready outdated replicas go even beyond the budget': {
    strategy: parallelBy(1),
    replicas: 'ooO',
    wantUpdate: [0, 1],
    wantWaiting: '1 replicas wait for at most 1 to be unavailable at once',
  },
  'Parallel: every replica at once': { strategy: { type: 'Parallel' }, replicas: 'OoMC', wantUpdate: [0, 1, 2] },
  'BlueGreen generations are replaced whole': { strategy: { type: 'BlueGreen' }, replicas: 'OOc', wantUpdate: [0, 1] },
};

for (const [name, c] of Object.entries(ROLLOUT_CASES)) {
  test(`planRollout: ${name}`, () => {
    const plan = planRollout(c.strategy, replicas(c.replicas));
    assert.equal(
      [...plan.update].sort((a, b) => a - b),
      c.wantUpdate,
    );
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

// ---- BlueGreen transitions ----------------------------------------------------------------

const T = 1_000_000; // now, in epoch seconds
interface BlueGreenCase {
  state: Generations;
  /** The spec's version, and Ready pods per version. */
  desired: string;
  ready?: Record<string, number>;
  replicas?: number;
  minReadyForCutover?: number;
  instantRollback?: boolean;
  unversioned?: boolean;
  rollback?: boolean;
  want: { state: Generations; target?: string; events?: string[]; refusal?: string; requeueAfterSeconds?: number };
}
function facts(c: BlueGreenCase): BlueGreenFacts {
  const replicas = c.replicas ?? 2;
  const instant = c.instantRollback ?? true;
  return {
    desired: c.desired,
    replicas,
    nowSeconds: T,
    retention: instant ? 600 : 30,
    cutoverThreshold: c.minReadyForCutover ? Math.min(c.minReadyForCutover, replicas) : replicas,
    unversioned: c.unversioned ?? false,
    readyIn: (v) => c.ready?.[v] ?? 0,
    rollbackRequested: c.rollback ?? false,
    spec: {
      updateStrategy: { type: 'BlueGreen' },
      instantRollback: { enabled: instant, retentionPeriodSeconds: 600 },
    } as BlueGreenFacts['spec'],
  };
}

const BLUE_GREEN_CASES: Record<string, BlueGreenCase> = {
  'the first generation serves as soon as it exists': { state: {}, desired: 'v1', want: { state: { active: 'v1' } } },
  'legacy unversioned StatefulSets serve until the first generation is Ready': {
    state: {},
    desired: 'v1',
    unversioned: true,
    ready: { v1: 1 },
    want: { state: {} },
  },
  'the first generation takes over from legacy StatefulSets once Ready, with no standby': {
    state: {},
    desired: 'v1',
    unversioned: true,
    ready: { v1: 2 },
    want: { state: { active: 'v1' } },
  },
  'a new version waits until every pod is Ready': {
    state: { active: 'v1' },
    desired: 'v2',
    ready: { v1: 2, v2: 1 },
    want: { state: { active: 'v1' } },
  },
  'a new version cuts over when Ready; the old one is the standby for the retention period': {
    state: { active: 'v1' },
    desired: 'v2',
    ready: { v2: 2 },
    want: { state: { active: 'v2', standby: 'v1', standbyExpiresAt: T + 600 }, events: ['CutOver'], requeueAfterSeconds: 600 },
  },
  'minReadyForCutover switches with fewer pods Ready': {
    state: { active: 'v1' },
    desired: 'v2',
    ready: { v2: 1 },
    minReadyForCutover: 1,
    want: { state: { active: 'v2', standby: 'v1', standbyExpiresAt: T + 600 }, events: ['CutOver'], requeueAfterSeconds: 600 },
  },
  'without instant rollback the old generation stays only for the switch grace': {
    state: { active: 'v1' },
    desired: 'v2',
    ready: { v2: 2 },
    instantRollback: false,
    want: { state: { active: 'v2', standby: 'v1', standbyExpiresAt: T + 30 }, events: ['CutOver'], requeueAfterSeconds: 30 },
  },
  "re-applying the standby's spec switches back to it": {
    state: { active: 'v2', standby: 'v1', standbyExpiresAt: T + 100 },
    desired: 'v1',
    ready: { v1: 2, v2: 2 },
    want: { state: { active: 'v1', standby: 'v2', standbyExpiresAt: T + 600 }, events: ['SwitchedToStandby'], requeueAfterSeconds: 600 },
  },
  'a rollback request swaps to a live standby at once and holds the version it left': {
    state: { active: 'v2', standby: 'v1', standbyExpiresAt: T + 100 },
    desired: 'v2',
    rollback: true,
    want: {
      state: { active: 'v1', standby: 'v2', standbyExpiresAt: T + 600, rolledBack: 'v2' },
      target: 'v1',
      events: ['RolledBack'],
      requeueAfterSeconds: 600,
    },
  },
  'a rollback request seen again before its annotation goes is not a second rollback': {
    state: { active: 'v1', standby: 'v2', standbyExpiresAt: T + 500, rolledBack: 'v2' },
    desired: 'v2',
    rollback: true,
    ready: { v1: 2, v2: 2 },
    want: { state: { active: 'v1', standby: 'v2', standbyExpiresAt: T + 500, rolledBack: 'v2' }, target: 'v1', requeueAfterSeconds: 500 },
  },
  'while a rollback holds, the version rolled back from is not rolled out again': {
    state: { active: 'v1', standby: 'v2', standbyExpiresAt: T + 500, rolledBack: 'v2' },
    desired: 'v2',
    ready: { v1: 2, v2: 2 },
    want: { state: { active: 'v1', standby: 'v2', standbyExpiresAt: T + 500, rolledBack: 'v2' }, target: 'v1', requeueAfterSeconds: 500 },
  },
  'a new spec ends the rollback hold': {
    state: { active: 'v1', standby: 'v2', standbyExpiresAt: T + 500, rolledBack: 'v2' },
    desired: 'v3',
    want: { state: { active: 'v1', standby: 'v2', standbyExpiresAt: T + 500 }, target: 'v3', requeueAfterSeconds: 500 },
  },
  'a rollback request with no standby is refused: NoStandby': {
    state: { active: 'v1' },
    desired: 'v1',
    rollback: true,
    want: { state: { active: 'v1' }, refusal: 'NoStandby' },
  },
  'a rollback request after the standby went is refused: StandbyExpired': {
    state: { active: 'v2', standbyExpiresAt: T - 10 },
    desired: 'v2',
    rollback: true,
    want: { state: { active: 'v2', standbyExpiresAt: T - 10 }, refusal: 'StandbyExpired' },
  },
  'a rollback request without instant rollback is refused: InstantRollbackDisabled': {
    state: { active: 'v2', standby: 'v1', standbyExpiresAt: T + 20 },
    desired: 'v2',
    rollback: true,
    instantRollback: false,
    want: { state: { active: 'v2', standby: 'v1', standbyExpiresAt: T + 20 }, refusal: 'InstantRollbackDisabled', requeueAfterSeconds: 20 },
  },
  'the standby goes when its retention ends': {
    state: { active: 'v2', standby: 'v1', standbyExpiresAt: T },
    desired: 'v2',
    want: { state: { active: 'v2', standbyExpiresAt: T }, events: ['StandbyRemoved'] },
  },
  'paused: only the target generation remains': {
    state: { active: 'v1', standby: 'v0', standbyExpiresAt: T + 100 },
    desired: 'v1',
    replicas: 0,
    want: { state: { active: 'v1' }, requeueAfterSeconds: 100 },
  },
  'paused with a new spec: no pod to wait for, so the Service moves to it, and only it remains': {
    state: { active: 'v1', standby: 'v0', standbyExpiresAt: T + 100 },
    desired: 'v2',
    replicas: 0,
    want: { state: { active: 'v2' }, events: ['CutOver'], requeueAfterSeconds: 600 },
  },
};

const defined = (o: object) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
for (const [name, c] of Object.entries(BLUE_GREEN_CASES)) {
  test(`BlueGreen: ${name}`, () => {
    const p = blueGreenTransitions(c.state, facts(c));
    assert.equal(defined(p.state), c.want.state, 'generations');
    assert.is(p.target, c.want.target ?? c.desired, 'target');
    assert.equal(
      p.events.map((e) => e.reason),
      c.want.events ?? [],
      'events',
    );
    assert.is(p.rollback?.refusal?.reason, c.want.refusal, 'rollback refusal');
    if (c.rollback && !c.want.refusal) assert.ok(p.rollback, 'a request is always answered');
    assert.is(p.requeueAfterSeconds, c.want.requeueAfterSeconds, 'requeue');
  });
}

// ---- conditions and their Events ---------------------------------------------------------

function outcome(o: Partial<SetOutcome> = {}): SetOutcome {
  return {
    spec: { updateStrategy: { type: 'RollingOrdered' }, volume: { storageRequests: '2Gi' } } as SpicepodSetSpec,
    replicas: 2,
    crashloop: { crashLooping: false, resumePending: false, deaths: 0, clearAnnotation: false },
    rolling: false,
    updatedReady: 2,
    revision: 'r1',
    resizeRefused: [],
    shrinks: [],
    shrinkFields: ['volume.storageRequests'],
    sizes: '2Gi',
    resizing: 0,
    ...o,
  };
}
const reasonOf = (o: SetOutcome, type: string) => setConditionsOf(o).find((c) => c.type === type)?.reason;

const READY_CASES: [string, Partial<SetOutcome>, string][] = [
  ['every replica updated and Ready', {}, 'AllReplicasReady'],
  ['rolling', { rolling: true, updatedReady: 1 }, 'RolloutInProgress'],
  ['pods refused beat rolling', { rolling: true, podsRefused: 'quota' }, 'PodsRefused'],
  ['a refused child beats refused pods', { rolling: true, podsRefused: 'quota', childRefused: 'invalid' }, 'ChildRefused'],
  ['a pause beats everything', { pauseReason: 'ScaledToZero', replicas: 0, childRefused: 'invalid' }, 'Paused'],
];
for (const [name, o, want] of READY_CASES) test(`Ready: ${name} -> ${want}`, () => assert.is(reasonOf(outcome(o), 'Ready'), want));

const VOLUME_CASES: [string, Partial<SetOutcome>, string | undefined][] = [
  ['no claim to change: no condition', {}, undefined],
  ['growing', { resizing: 2 }, 'Resizing'],
  ['a shrink beats growing', { resizing: 1, shrinks: ['data-app-0-0 (5Gi)'] }, 'ShrinkNotSupported'],
  [
    'a refused resize beats a shrink',
    {
      shrinks: ['x'],
      resizeRefused: [
        {
          target: { apiVersion: 'v1', kind: 'PersistentVolumeClaim', name: 'x' },
          verb: 'patch',
          code: 403,
          reason: 'Forbidden',
          message: 'no',
        },
      ],
    },
    'ResizeRefused',
  ],
];
for (const [name, o, want] of VOLUME_CASES)
  test(`VolumeResized: ${name} -> ${want}`, () => assert.is(reasonOf(outcome(o), 'VolumeResized'), want));

/** The Events of a pass from `before` to `after`. */
function eventsOf(before: SetOutcome | undefined, after: SetOutcome): string[] {
  const previous = before ? setConditions(undefined, setConditionsOf(before), NOW) : undefined;
  const next = setConditions(previous, setConditionsOf(after), NOW);
  return conditionEvents(previous, next, after).map((e) => `${e.type} ${e.reason}`);
}
const EVENT_CASES: [string, SetOutcome | undefined, SetOutcome, string[]][] = [
  ['a set Ready on its first pass says nothing', undefined, outcome(), []],
  ['a rollout starts', outcome(), outcome({ rolling: true, updatedReady: 0 }), ['Normal RollingUpdate']],
  ['Ready again after a rollout', outcome({ rolling: true, updatedReady: 1 }), outcome(), ['Normal Ready']],
  [
    'the same refusal again: no second Warning',
    outcome({ rolling: true, childRefused: 'a' }),
    outcome({ rolling: true, childRefused: 'a' }),
    [],
  ],
  [
    'a refusal in new words: a new Warning',
    outcome({ rolling: true, childRefused: 'a' }),
    outcome({ rolling: true, childRefused: 'b' }),
    ['Warning ChildRefused'],
  ],
  [
    'a crashloop pause',
    outcome(),
    outcome({
      replicas: 0,
      pauseReason: 'CrashLooping',
      crashloop: { crashLooping: true, message: 'm', resumePending: false, deaths: 11, clearAnnotation: false },
    }),
    ['Warning CrashLooping'],
  ],
  ['replicas: 0', outcome(), outcome({ replicas: 0, pauseReason: 'ScaledToZero' }), ['Normal Paused']],
  ['a resize starts, once', outcome(), outcome({ resizing: 1 }), ['Normal Resizing']],
];
for (const [name, before, after, want] of EVENT_CASES) test(`Events: ${name}`, () => assert.equal(eventsOf(before, after), want));

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
  const conditions = s.pausedAt
    ? [{ type: 'Paused', status: 'True', reason: 'CrashLooping', message: s.pausedAt.message, observedGeneration: s.pausedAt.generation }]
    : [];
  return spicepodSet(
    { replicas: s.replicas ?? 2 },
    {
      generation: s.generation ?? 1,
      annotations: s.resume === undefined ? undefined : { 'spice.ai/resume': s.resume },
      status: { conditions, resumeHandled: s.resumeHandled },
    },
  );
}
/** Pods not Ready that restarted this often (since they were last Ready). */
const crashing = (...restarts: number[]) =>
  restarts.map((r, i) => pod({ name: `app-${i}-0`, app: 'app', ready: false, restarts: r, waiting: { reason: 'CrashLoopBackOff' } }));

const CRASHLOOP_CASES: Record<
  string,
  {
    set: SetState;
    pods: KubeObject[];
    threshold?: number;
    want: { crashLooping: boolean; resumedBy?: 'annotation' | 'spec'; resumePending: boolean; message?: RegExp };
  }
> = {
  'deaths up to the threshold: running': { set: {}, pods: crashing(6, 4), want: { crashLooping: false, resumePending: false } },
  'deaths above the threshold: paused, saying how to resume': {
    set: {},
    pods: crashing(6, 5),
    want: {
      crashLooping: true,
      resumePending: false,
      message:
        /^11 pod deaths since the pods were last Ready exceed the threshold of 10; fix the cause, then resume with: kubectl annotate spicepodset app -n ns spice\.ai\/resume=true/,
    },
  },
  'a threshold of 0 disables protection': {
    set: {},
    pods: crashing(500),
    threshold: 0,
    want: { crashLooping: false, resumePending: false },
  },
  'a resume with protection disabled is still acted on': {
    set: { resume: 'true' },
    pods: [],
    threshold: 0,
    want: { crashLooping: false, resumedBy: 'annotation', resumePending: true },
  },
  'a set at zero replicas is not paused': { set: { replicas: 0 }, pods: crashing(30), want: { crashLooping: false, resumePending: false } },
  'a pause holds with its message while nothing changes, even with no deaths left': {
    set: { pausedAt: { generation: 1, message: 'before' } },
    pods: [],
    want: { crashLooping: true, resumePending: false, message: /^before$/ },
  },
  'a new spec lifts the pause': {
    set: { generation: 2, pausedAt: { generation: 1, message: 'before' } },
    pods: crashing(30),
    want: { crashLooping: false, resumedBy: 'spec', resumePending: false },
  },
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
  'a resume on a running set is acknowledged': {
    set: { resume: 'yes' },
    pods: [],
    want: { crashLooping: false, resumedBy: 'annotation', resumePending: true },
  },
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
