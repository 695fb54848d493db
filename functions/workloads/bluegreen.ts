// BlueGreen: every version is a full generation of per-replica StatefulSets
// (<set>-<version>-<ordinal>); the Service selector is pinned to the active
// version and switched in one write once the new generation is Ready. The
// previous generation stays as a standby: for retentionPeriodSeconds with
// instant rollback, otherwise briefly, while endpoints move over.
import type { KubeObject, Observed, ObjectRef, RecordedEvent } from '../../core/handler.ts';
import { refOf } from '../../core/handler.ts';
import { names } from '../../core/manifests/names.ts';
import { desiredHeadlessService, desiredStatefulSet, templateRevision, type SetContext } from '../../core/manifests/spicepodset.ts';
import { isPodReady } from '../../core/pods.ts';
import type { SpicepodSetStatus } from '../../core/spec/spicepodset.ts';
import { SetReason } from './reasons.ts';
import { rollbackRefusal, type RollbackRefusal, type RollbackState } from './rollback.ts';
import { claimTemplatesOf } from './workload.ts';
import { LABEL_VERSION } from '../../core/labels.ts';

/** Without instant rollback, the old generation still serves this long after the switch (endpoint propagation). */
export const SWITCH_GRACE_SECONDS = 30;

export interface BlueGreenResult {
  apply: KubeObject[];
  keep: ObjectRef[];
  /** The version the Service selects; unpinned while legacy unversioned StatefulSets still serve. */
  serviceVersion?: string;
  status: Pick<SpicepodSetStatus, 'activeVersion' | 'standbyVersion' | 'standbyExpiresAt' | 'rolledBackVersion'>;
  ready: number;
  /** Ready pods of the version the spec asks for. */
  updatedReady: number;
  revision: string;
  waiting?: string;
  events: RecordedEvent[];
  /** The outcome of a rollback request: done, or refused and why. */
  rollback?: { refusal?: RollbackRefusal };
  requeueAfterSeconds?: number;
}

const versionOf = (o: KubeObject) => o.metadata.labels?.[LABEL_VERSION];

/** Which generations serve, wait and are held: what the status keeps between passes. */
export interface Generations {
  /** The version the Service selects. */
  active?: string;
  /** The previous generation, kept until standbyExpiresAt. */
  standby?: string;
  /** When the standby goes (epoch seconds); kept after it went, so a rollback request can say when. */
  standbyExpiresAt?: number;
  /** The version rolled back from: not rolled out again until the spec changes. */
  rolledBack?: string;
}

/** What a pass sees, for the transitions. */
export interface BlueGreenFacts {
  /** The revision the spec asks for. */
  desired: string;
  replicas: number;
  nowSeconds: number;
  /** How long a replaced generation stays as standby. */
  retention: number;
  /** Ready pods a generation needs before the Service switches to it. */
  cutoverThreshold: number;
  /** Legacy unversioned StatefulSets exist (from before BlueGreen). */
  unversioned: boolean;
  /** Ready pods of a version. */
  readyIn: (version: string) => number;
  rollbackRequested: boolean;
  spec: RollbackState['spec'];
}

/** Where a pass's transitions have got to. */
export interface BlueGreenPass {
  state: Generations;
  /** The version whose generation is rendered from the spec (the desired one, or the active one while a rollback holds). */
  target: string;
  events: RecordedEvent[];
  /** The answer to a rollback request: done, or refused and why. */
  rollback?: { refusal?: RollbackRefusal };
  requeueAfterSeconds?: number;
}

type Transition = (p: BlueGreenPass, f: BlueGreenFacts) => BlueGreenPass;

/** The Service moves to `next`; the generation it leaves becomes the standby for the retention period. */
function switchTo(p: BlueGreenPass, f: BlueGreenFacts, next: string, reason: SetReason): BlueGreenPass {
  const old = p.state.active;
  const state = { ...p.state, active: next, standby: old, standbyExpiresAt: old ? f.nowSeconds + f.retention : undefined };
  const message = `Service switched to version ${next}${old ? ` (standby ${old} kept for ${f.retention}s)` : ''}`;
  return { ...p, state, events: [...p.events, { type: 'Normal', reason, message }] };
}

/** Instant rollback: the annotation swaps the Service back to a live standby at once, or is refused with the reason. */
const answerRollbackRequest: Transition = (p, f) => {
  if (!f.rollbackRequested) return p;
  const { active, standby, standbyExpiresAt, rolledBack } = p.state;
  const live = active && standby && (standbyExpiresAt === undefined || standbyExpiresAt > f.nowSeconds) ? standby : undefined;
  const refusal = rollbackRefusal({ spec: f.spec, standby: live, standbyExpiresAt, nowSeconds: f.nowSeconds });
  // Already rolled back (the standby is the version it rolled back from): a request seen again,
  // before its annotation is gone, is not a second rollback, which would roll forward.
  const done = !!rolledBack && rolledBack === standby;
  const next =
    !refusal && !done && standby && active
      ? switchTo({ ...p, state: { ...p.state, rolledBack: active } }, f, standby, SetReason.RolledBack)
      : p;
  return { ...next, rollback: { refusal } };
};

/** A new spec (a version that was not rolled back from) ends the rollback hold; while it holds, the active generation is the target. */
const holdRollbackUntilNewSpec: Transition = (p, f) => {
  const rolledBack = p.state.rolledBack && f.desired !== p.state.rolledBack ? undefined : p.state.rolledBack;
  return { ...p, state: { ...p.state, rolledBack }, target: rolledBack === f.desired && p.state.active ? p.state.active : f.desired };
};

/** The first generation serves as soon as it exists; legacy unversioned StatefulSets serve until it is Ready. */
const firstGenerationServes: Transition = (p, f) =>
  !p.state.active && (!f.unversioned || f.readyIn(p.target) >= f.replicas) ? { ...p, state: { ...p.state, active: p.target } } : p;

/** The Service switches to the target once enough of its pods are Ready; re-applying the standby's spec switches back to it. */
const cutOverWhenReady: Transition = (p, f) => {
  if (!p.state.active || p.target === p.state.active || f.readyIn(p.target) < f.cutoverThreshold) return p;
  return switchTo(p, f, p.target, p.target === p.state.standby ? SetReason.SwitchedToStandby : SetReason.CutOver);
};

/** A standby goes when its retention ends; until then the pass comes back when it does. */
const expireStandby: Transition = (p, f) => {
  const { standby, standbyExpiresAt } = p.state;
  if (!standby || standbyExpiresAt === undefined) return p;
  if (f.nowSeconds < standbyExpiresAt) return { ...p, requeueAfterSeconds: standbyExpiresAt - f.nowSeconds };
  const event: RecordedEvent = {
    type: 'Normal',
    reason: SetReason.StandbyRemoved,
    message: `standby version ${standby} expired and was removed`,
  };
  return { ...p, state: { ...p.state, standby: undefined }, events: [...p.events, event] };
};

/** Paused: only the target generation remains, at zero replicas. */
const pausedKeepsOnlyTarget: Transition = (p, f) =>
  f.replicas === 0 ? { ...p, state: { ...p.state, active: p.target, standby: undefined, standbyExpiresAt: undefined } } : p;

/** The transitions of a pass, in order. */
export const TRANSITIONS: Transition[] = [
  answerRollbackRequest,
  holdRollbackUntilNewSpec,
  firstGenerationServes,
  cutOverWhenReady,
  expireStandby,
  pausedKeepsOnlyTarget,
];

export function blueGreenTransitions(state: Generations, facts: BlueGreenFacts): BlueGreenPass {
  return TRANSITIONS.reduce((p, t) => t(p, facts), { state, target: facts.desired, events: [] } as BlueGreenPass);
}

/** The generations as the status and the children say: a version the status names whose StatefulSets are gone is forgotten. */
function observedGenerations(previous: SpicepodSetStatus, generations: Map<string, KubeObject[]>): Generations {
  const standby = previous.standbyVersion && generations.has(previous.standbyVersion) ? previous.standbyVersion : undefined;
  return {
    active: previous.activeVersion && generations.has(previous.activeVersion) ? previous.activeVersion : undefined,
    standby,
    // An expired standby leaves its expiry behind, so a later rollback request can say when it went.
    standbyExpiresAt: standby ? previous.standbyExpiresAt : previous.standbyVersion ? undefined : previous.standbyExpiresAt,
    rolledBack: previous.rolledBackVersion,
  };
}

/**
 * What exists: the active generation, the target generation (rendered from the spec; at zero
 * replicas while paused), and the standby. Generations other than the target are left exactly as
 * they run (they were rendered from an older spec); legacy StatefulSets serve until a generation does.
 */
function generationObjects(
  ctx: SetContext,
  seen: { generations: Map<string, KubeObject[]>; unversioned: KubeObject[] },
  state: Generations,
  target: string,
  replicas: number,
) {
  const apply: KubeObject[] = [desiredHeadlessService(ctx)];
  const keep: ObjectRef[] = [];
  for (const version of new Set([state.active, target, state.standby].filter((v): v is string => !!v))) {
    const existing = seen.generations.get(version) ?? [];
    if (version !== target) {
      keep.push(...existing.map(refOf));
      continue;
    }
    const ordinals = replicas > 0 ? replicas : existing.length;
    for (let i = 0; i < ordinals; i++) {
      const sts = existing.find((s) => s.metadata.name === names.statefulSet(ctx.set, i, version));
      apply.push(
        desiredStatefulSet(ctx, {
          ordinal: i,
          version,
          replicas: replicas > 0 ? 1 : 0,
          ephemeralClaims: true,
          volumeClaimTemplates: claimTemplatesOf(sts),
        }),
      );
    }
  }
  if (!state.active) keep.push(...seen.unversioned.map(refOf));
  return { apply, keep };
}

export async function blueGreenWorkload(
  ctx: SetContext,
  observed: Observed,
  replicas: number,
  rollbackRequested = false,
): Promise<BlueGreenResult> {
  const { set, spec } = ctx;
  const generations = new Map<string, KubeObject[]>();
  const unversioned: KubeObject[] = [];
  for (const s of observed.children.filter((c) => c.kind === 'StatefulSet')) {
    const v = versionOf(s);
    if (v) generations.set(v, [...(generations.get(v) ?? []), s]);
    else unversioned.push(s);
  }
  const pods = new Map((observed.related.Pod ?? []).map((p) => [p.metadata.name, p]));
  const readyIn = (version: string) =>
    Array.from({ length: replicas }, (_, i) => pods.get(names.statefulSetPod(names.statefulSet(set, i, version)))).filter(
      (p) => p && isPodReady(p),
    ).length;

  const desired = templateRevision(ctx);
  const { state, target, events, rollback, requeueAfterSeconds } = blueGreenTransitions(
    observedGenerations((observed.parent.status ?? {}) as SpicepodSetStatus, generations),
    {
      desired,
      replicas,
      nowSeconds: Math.floor(observed.now / 1000),
      retention: spec.instantRollback.enabled ? spec.instantRollback.retentionPeriodSeconds : SWITCH_GRACE_SECONDS,
      cutoverThreshold: spec.updateStrategy.minReadyForCutover ? Math.min(spec.updateStrategy.minReadyForCutover, replicas) : replicas,
      unversioned: unversioned.length > 0,
      readyIn,
      rollbackRequested,
      spec,
    },
  );
  const { active } = state;
  return {
    ...generationObjects(ctx, { generations, unversioned }, state, target, replicas),
    serviceVersion: active,
    status: {
      activeVersion: active,
      standbyVersion: state.standby,
      standbyExpiresAt: state.standbyExpiresAt,
      rolledBackVersion: state.rolledBack,
    },
    ready: active ? readyIn(active) : 0,
    updatedReady: target === desired ? readyIn(desired) : replicas,
    revision: desired,
    waiting: active !== target ? `${readyIn(target)}/${replicas} pods of version ${target} Ready before the Service switches` : undefined,
    events,
    rollback,
    requeueAfterSeconds,
  };
}
