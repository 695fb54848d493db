// BlueGreen: every version is a full generation of per-replica StatefulSets
// (<set>-<version>-<ordinal>); the Service selector is pinned to the active
// version and switched in one write once the new generation is Ready. The
// previous generation stays as a standby: for retentionPeriodSeconds with
// instant rollback, otherwise briefly, while endpoints move over.
import type { KubeObject, Observed, ObjectRef, RecordedEvent } from '../../core/handler.ts';
import { refOf } from '../../core/handler.ts';
import { names } from '../../core/manifests/names.ts';
import { desiredHeadlessService, desiredStatefulSet, revisionedTemplate, statefulSetSelector, type SetContext } from '../../core/manifests/spicepodset.ts';
import { isPodReady } from '../../core/pods.ts';
import type { SpicepodSetStatus } from '../../core/spec/spicepodset.ts';
import { rollbackRefusal, type RollbackRefusal } from './rollback.ts';
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

export async function blueGreenWorkload(ctx: SetContext, observed: Observed, replicas: number, rollbackRequested = false): Promise<BlueGreenResult> {
  const { set, spec } = ctx;
  const nowSeconds = Math.floor(observed.now / 1000);
  const previous = (observed.parent.status ?? {}) as SpicepodSetStatus;
  const events: RecordedEvent[] = [];
  const statefulSets = observed.children.filter((c) => c.kind === 'StatefulSet');
  const generations = new Map<string, KubeObject[]>();
  const unversioned: KubeObject[] = [];
  for (const s of statefulSets) {
    const v = versionOf(s);
    if (v) generations.set(v, [...(generations.get(v) ?? []), s]);
    else unversioned.push(s);
  }
  const pods = new Map((observed.related.Pod ?? []).map((p) => [p.metadata.name, p]));
  const readyIn = (version: string, count: number) =>
    Array.from({ length: count }, (_, i) => pods.get(names.statefulSetPod(names.statefulSet(set, i, version)))).filter((p) => p && isPodReady(p)).length;

  const rendered = revisionedTemplate(ctx);
  const desired = rendered.revision;
  let active = previous.activeVersion && generations.has(previous.activeVersion) ? previous.activeVersion : undefined;
  let standby = previous.standbyVersion && generations.has(previous.standbyVersion) ? previous.standbyVersion : undefined;
  // An expired standby leaves its expiry behind, so a later rollback request can say when it went.
  let standbyExpiresAt = standby ? previous.standbyExpiresAt : previous.standbyVersion ? undefined : previous.standbyExpiresAt;
  let rolledBack = previous.rolledBackVersion;
  let rollback: BlueGreenResult['rollback'];
  const retention = spec.instantRollback.enabled ? spec.instantRollback.retentionPeriodSeconds : SWITCH_GRACE_SECONDS;

  const switchTo = (next: string, reason: string) => {
    const old = active;
    active = next;
    if (old) {
      standby = old;
      standbyExpiresAt = nowSeconds + retention;
    } else {
      standby = undefined;
      standbyExpiresAt = undefined;
    }
    events.push({ type: 'Normal', reason, message: `Service switched to version ${next}${old ? ` (standby ${old} kept for ${retention}s)` : ''}` });
  };

  // Instant rollback: the annotation swaps the Service back to the standby at once.
  if (rollbackRequested) {
    const live = active && standby && (standbyExpiresAt === undefined || standbyExpiresAt > nowSeconds) ? standby : undefined;
    const refusal = rollbackRefusal({ spec, standby: live, standbyExpiresAt, nowSeconds });
    // Already rolled back (the standby is the version it rolled back from): a request seen again,
    // before its annotation is gone, is not a second rollback, which would roll forward.
    const done = !!rolledBack && rolledBack === standby;
    if (!refusal && !done && standby && active) {
      rolledBack = active;
      switchTo(standby, 'RolledBack');
    }
    rollback = { refusal };
  }
  // A new spec (a version that was not rolled back from) clears the rollback hold.
  if (rolledBack && desired !== rolledBack) rolledBack = undefined;
  const target = rolledBack === desired && active ? active : desired;

  if (!active) {
    // First generation: it serves as soon as it exists; legacy unversioned StatefulSets serve until it is Ready.
    if (unversioned.length === 0 || readyIn(target, replicas) >= replicas) active = target;
  } else if (target !== active) {
    const threshold = spec.updateStrategy.minReadyForCutover ? Math.min(spec.updateStrategy.minReadyForCutover, replicas) : replicas;
    // Re-applying the standby's spec is a rollback too: its pods are already there.
    if (target === standby && readyIn(target, replicas) >= threshold) switchTo(target, 'SwitchedToStandby');
    else if (readyIn(target, replicas) >= threshold) switchTo(target, 'CutOver');
  }

  // Standby expiry.
  let requeueAfterSeconds: number | undefined;
  if (standby && standbyExpiresAt !== undefined) {
    if (nowSeconds >= standbyExpiresAt) {
      events.push({ type: 'Normal', reason: 'StandbyRemoved', message: `standby version ${standby} expired and was removed` });
      standby = undefined;
    } else {
      requeueAfterSeconds = standbyExpiresAt - nowSeconds;
    }
  }

  // Paused: only the target generation remains, at zero replicas.
  if (replicas === 0) {
    active = target;
    standby = undefined;
    standbyExpiresAt = undefined;
  }
  // What exists: the active generation, the target generation, and the standby.
  const wanted = new Set([active, target, standby].filter((v): v is string => !!v));
  const apply: KubeObject[] = [desiredHeadlessService(ctx)];
  const keep: ObjectRef[] = [];
  for (const version of wanted) {
    if (version === target) {
      const ordinals = replicas > 0 ? replicas : (generations.get(version)?.length ?? 0);
      for (let i = 0; i < ordinals; i++) {
        const template = rendered.template(statefulSetSelector(set, i, version));
        const existing = generations.get(version)?.find((s) => s.metadata.name === names.statefulSet(set, i, version));
        apply.push(
          desiredStatefulSet(ctx, {
            ordinal: i,
            version,
            template,
            replicas: replicas > 0 ? 1 : 0,
            ephemeralClaims: true,
            volumeClaimTemplates: (existing as { spec?: { volumeClaimTemplates?: unknown[] } } | undefined)?.spec?.volumeClaimTemplates,
          }),
        );
      }
    } else {
      // Generations other than the target are left exactly as they run (they were rendered from an older spec).
      keep.push(...(generations.get(version) ?? []).map(refOf));
    }
  }
  if (!active) keep.push(...unversioned.map(refOf));

  const serviceVersion = active;
  return {
    apply,
    keep,
    serviceVersion,
    status: { activeVersion: active, standbyVersion: standby, standbyExpiresAt, rolledBackVersion: rolledBack },
    ready: serviceVersion ? readyIn(serviceVersion, replicas) : 0,
    updatedReady: target === desired ? readyIn(desired, replicas) : replicas,
    revision: desired,
    waiting: active !== target ? `${readyIn(target, replicas)}/${replicas} pods of version ${target} Ready before the Service switches` : undefined,
    events,
    rollback,
    requeueAfterSeconds,
  };
}
