// Carrying out a handler's answer (core/handler.ts Desired) for one parent,
// in steps whose order is the contract's:
//
//   1. applyChildren: server-side apply of each child (skipped when the cache
//      already holds it), all at once: Kubernetes retries what needs another object;
//   2. pruneChildren: delete the children it no longer returns;
//   3. patchOthers: merge patches of related objects;
//   4. writeObjects: create-only / resourceVersion-guarded writes;
//   5. writeStatus: the parent's status, with the last-updated time;
//   6. patchParent: patches of the parent itself come after its status: the
//      status that records what a request did is written before the request
//      is taken away, so a failure between the two never loses it;
//   7. recordEvents.
//
// A failed write does not stop the pass: it is told to the handler on its
// next pass (Observed.failedWrites), and the first error is returned so the
// queue retries with backoff.
import { createHash } from 'node:crypto';
import type { Desired, FailedWrite, Handler, KubeObject, ObjectRef } from '../core/handler.ts';
import { refKey, refOf } from '../core/handler.ts';
import { sameJson, satisfies } from '../core/diff.ts';
import { ANNOTATION_APPLIED } from '../core/annotations.ts';
import { LABEL_HANDLER, LABEL_MANAGED_BY, OPERATOR_NAME } from '../core/labels.ts';
import type { Clock } from './clock.ts';
import type { EventInfo } from './events.ts';
import { isApiError, type KObject, type KubeClient } from './kube/client.ts';
import { withoutManagedFields } from './kube/managed-fields.ts';
import type { Logger } from './log.ts';

/** After a guarded write lost a race, or a parent patch waits for its status: look again this soon. */
const RETRY_SOON_MS = 1000;

// Plain JSON, not canonical: it is computed for every child on every pass, and handlers build
// their objects in a fixed key order (user maps keep the order the API server sends them in,
// which is sorted), so equal content gives an equal hash.
const appliedHash = (obj: KubeObject) => createHash('sha256').update(JSON.stringify(obj)).digest('hex').slice(0, 16);

/** RFC 3339 to the second, as Kubernetes writes timestamps. */
const timestamp = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');

export const parentKey = (namespace: string | undefined, name: string) => `${namespace ?? ''}/${name}`;

interface TypedCondition {
  type: string;
  status?: string;
  reason?: string;
  message?: string;
}

/**
 * Whether the parent's status already holds this handler's status: its keys (a key set to
 * undefined must be absent) and its condition types. Other handlers' fields are not compared.
 */
export function ownStatusCurrent(desired: Record<string, unknown>, observed: Record<string, unknown>, conditionTypes: string[]): boolean {
  for (const [key, value] of Object.entries(desired)) {
    if (key === 'conditions') {
      const current = (observed.conditions ?? []) as TypedCondition[];
      const wanted = (value ?? []) as TypedCondition[];
      for (const type of new Set([...conditionTypes, ...wanted.map((c) => c.type)])) {
        if (
          !sameJson(
            wanted.find((c) => c.type === type),
            current.find((o) => o.type === type),
          )
        )
          return false;
      }
    } else if (!sameJson(value, observed[key])) {
      return false;
    }
  }
  return true;
}

/** A write's failure as the handler is told of it. */
function failedWrite(target: ObjectRef, verb: FailedWrite['verb'], error: unknown): FailedWrite {
  if (isApiError(error)) return { target, verb, code: error.status, reason: error.reason, message: error.message };
  return { target, verb, code: 0, reason: '', message: error instanceof Error ? error.message : String(error) };
}

/** A count of each kind of write issued. */
export interface WriteCounts {
  apply: number;
  delete: number;
  patch: number;
  status: number;
  event: number;
}

/** What carrying out needs from the controller around it. */
export interface CarryOutContext {
  client: Pick<KubeClient, 'apply' | 'applyUnread' | 'delete' | 'mergePatch' | 'create' | 'update' | 'applyStatus'>;
  handler: Pick<Handler, 'name' | 'lastUpdatedField' | 'conditionTypes'>;
  fieldManager: string;
  clock: Clock;
  /** Counted up as writes are issued. */
  writes: WriteCounts;
  /** The parent as this controller's last write of it returned it, by parent key (set here, read by the controller until its cache catches up). */
  written: Map<string, KObject>;
  /** A related object as the caches hold it (to skip a patch it already satisfies). */
  findRelated(target: ObjectRef): KObject | undefined;
  /** Looks at the parent again after this delay. */
  requeueAfter(key: string, ms: number): void;
  /** Records an Event about the parent (written in the background). */
  recordEvent(parent: KObject, event: EventInfo): void;
}

/** What a pass left: the writes that failed (for the handler's next pass) and the first error (for the queue's retry). */
export interface CarryOutResult {
  failed: FailedWrite[];
  error?: unknown;
}

/** One pass: the parent, what it asked for, and what has happened so far. */
interface Pass {
  parent: KObject;
  key: string;
  desired: Desired;
  log: Logger;
  /** Children to keep: those returned by apply and desired.keep. */
  wanted: Set<string>;
  failures: unknown[];
  failed: FailedWrite[];
  /** Whether this pass changed a child or a related object (for Handler.lastUpdatedField). */
  wrote: boolean;
}

function fail(pass: Pass, target: ObjectRef, verb: FailedWrite['verb'], error: unknown): void {
  pass.failures.push(error);
  pass.failed.push(failedWrite(target, verb, error));
}

const isParentOf = (parent: KObject) => (t: ObjectRef) =>
  t.kind === parent.kind &&
  t.apiVersion === parent.apiVersion &&
  t.name === parent.metadata.name &&
  (t.namespace ?? '') === (parent.metadata.namespace ?? '');

/** A child as the operator applies it: in the parent's namespace, labelled, owned by the parent, with the hash of what was asked. */
export function ownedForm(handlerName: string, parent: KObject, obj: KubeObject): KObject {
  return {
    ...obj,
    metadata: {
      ...obj.metadata,
      namespace: obj.metadata.namespace ?? parent.metadata.namespace,
      labels: { ...obj.metadata.labels, [LABEL_HANDLER]: handlerName, [LABEL_MANAGED_BY]: OPERATOR_NAME },
      annotations: { ...obj.metadata.annotations, [ANNOTATION_APPLIED]: appliedHash(obj) },
      ownerReferences: [
        {
          apiVersion: parent.apiVersion,
          kind: parent.kind,
          name: parent.metadata.name,
          uid: parent.metadata.uid!,
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
  };
}

async function applyChildren(ctx: CarryOutContext, pass: Pass, children: KObject[]): Promise<void> {
  const observedByRef = new Map(children.map((c) => [refKey(refOf(c as KubeObject)), c]));
  const applied: string[] = [];
  await Promise.all(
    pass.desired.apply.map(async (obj) => {
      const owned = ownedForm(ctx.handler.name, pass.parent, obj);
      const key = refKey(refOf(owned as KubeObject));
      pass.wanted.add(key);
      if (satisfies(owned, observedByRef.get(key))) return;
      try {
        await ctx.client.applyUnread(owned, { fieldManager: ctx.fieldManager, force: true });
        ctx.writes.apply++;
        pass.wrote = true;
        applied.push(`${owned.kind}/${owned.metadata.name}`);
      } catch (error) {
        fail(pass, refOf(owned as KubeObject), 'apply', error);
        pass.log.warn('apply failed', { kind: owned.kind, object: owned.metadata.name, error });
      }
    }),
  );
  // One line for what this pass applied.
  if (applied.length) pass.log.info('applied', { objects: applied.sort() });
}

async function pruneChildren(ctx: CarryOutContext, pass: Pass, children: KObject[]): Promise<void> {
  for (const child of children) {
    if (pass.wanted.has(refKey(refOf(child as KubeObject))) || child.metadata.deletionTimestamp) continue;
    try {
      await ctx.client.delete(child.apiVersion, child.kind, child.metadata.namespace, child.metadata.name, { uid: child.metadata.uid });
      ctx.writes.delete++;
      pass.wrote = true;
      pass.log.info('deleted', { kind: child.kind, object: child.metadata.name });
    } catch (error) {
      if (!isApiError(error, 409)) fail(pass, refOf(child as KubeObject), 'delete', error); // 409: a different object by that name now; next pass sees it
    }
  }
}

type Patch = NonNullable<Desired['patch']>[number];

async function patchObject(ctx: CarryOutContext, pass: Pass, { target, patch }: Patch): Promise<void> {
  const isParent = isParentOf(pass.parent)(target);
  if (satisfies(patch, isParent ? pass.parent : ctx.findRelated(target))) return;
  try {
    const updated = await ctx.client.mergePatch(target.apiVersion, target.kind, target.namespace, target.name, patch);
    ctx.writes.patch++;
    if (!isParent) pass.wrote = true;
    else if (updated?.metadata) {
      // Like a status write: until the cache catches up, the next pass sees the parent as patched
      // (a request annotation already cleared is not acted on twice).
      ctx.written.set(pass.key, withoutManagedFields(updated));
    }
    pass.log.info('patched', { kind: target.kind, object: target.name });
  } catch (error) {
    if (!isApiError(error, 404)) fail(pass, target, 'patch', error);
    else if (!isParent) pass.log.info('patch target gone', { kind: target.kind, object: target.name });
  }
}

async function patchOthers(ctx: CarryOutContext, pass: Pass): Promise<void> {
  const isParent = isParentOf(pass.parent);
  for (const p of pass.desired.patch ?? []) if (!isParent(p.target)) await patchObject(ctx, pass, p);
}

async function writeObjects(ctx: CarryOutContext, pass: Pass): Promise<void> {
  for (const { object, ifResourceVersion } of pass.desired.write ?? []) {
    const target = {
      ...object,
      metadata: { ...object.metadata, labels: { ...object.metadata.labels, [LABEL_MANAGED_BY]: OPERATOR_NAME } },
    } as KObject;
    try {
      if (ifResourceVersion === undefined) await ctx.client.create(target);
      else await ctx.client.update({ ...target, metadata: { ...target.metadata, resourceVersion: ifResourceVersion } });
      ctx.writes.apply++;
      pass.wrote = true;
      pass.log.info(ifResourceVersion === undefined ? 'created' : 'replaced', {
        kind: object.kind,
        objectNamespace: object.metadata.namespace,
        object: object.metadata.name,
      });
    } catch (error) {
      // Someone else created or changed it first: never overwrite; the next pass sees what is there.
      if (isApiError(error, 409)) pass.log.info('left as found', { kind: object.kind, object: object.metadata.name, reason: error.reason });
      else fail(pass, refOf(object), ifResourceVersion === undefined ? 'create' : 'update', error);
      ctx.requeueAfter(pass.key, RETRY_SOON_MS);
    }
  }
}

/** The status this pass writes: the handler's, the observed generation, and the last-updated time when the handler keeps one. */
function statusToWrite(ctx: CarryOutContext, pass: Pass): Record<string, unknown> | undefined {
  const field = ctx.handler.lastUpdatedField;
  if (!pass.desired.status && !(field && pass.wrote)) return undefined;
  const observed = (pass.parent.status ?? {}) as Record<string, unknown>;
  const status: Record<string, unknown> = { ...pass.desired.status, observedGeneration: pass.parent.metadata.generation };
  if (field) {
    // The time of the last change: kept as it is unless this pass changed something.
    status[field] = observed[field];
    if (pass.wrote || !ownStatusCurrent(status, observed, ctx.handler.conditionTypes)) status[field] = timestamp(ctx.clock.now());
  }
  return ownStatusCurrent(status, observed, ctx.handler.conditionTypes) ? undefined : status;
}

/** Writes the parent's status when it differs; false when that write failed. */
async function writeStatus(ctx: CarryOutContext, pass: Pass): Promise<boolean> {
  const status = statusToWrite(ctx, pass);
  if (!status) return true;
  const { parent } = pass;
  try {
    const updated = await ctx.client.applyStatus(
      {
        apiVersion: parent.apiVersion,
        kind: parent.kind,
        metadata: { name: parent.metadata.name, namespace: parent.metadata.namespace },
        status,
      },
      { fieldManager: ctx.fieldManager, force: true },
    );
    ctx.writes.status++;
    if (updated?.metadata) {
      ctx.written.set(pass.key, withoutManagedFields(updated)); // as the cache keeps objects
    }
    return true;
  } catch (error) {
    if (!isApiError(error, 404) && !isApiError(error, 409)) pass.failures.push(error);
    return false;
  }
}

/** The parent's own patches, after its status; when the status failed, they wait for the next pass. */
async function patchParent(ctx: CarryOutContext, pass: Pass, statusWritten: boolean): Promise<void> {
  const isParent = isParentOf(pass.parent);
  const patches = (pass.desired.patch ?? []).filter((p) => isParent(p.target));
  if (!patches.length) return;
  if (!statusWritten) return ctx.requeueAfter(pass.key, RETRY_SOON_MS);
  for (const p of patches) await patchObject(ctx, pass, p);
}

function recordEvents(ctx: CarryOutContext, pass: Pass): void {
  for (const event of pass.desired.events ?? []) {
    ctx.recordEvent(pass.parent, event);
    // At debug, as controller-runtime's recorder logs events (V(1)): the Event itself is the record.
    pass.log.debug('event', { type: event.type, reason: event.reason, message: event.message });
  }
}

/** Carries out one handler answer for `parent`, whose children the caches hold as `children`. */
export async function carryOut(
  ctx: CarryOutContext,
  parent: KObject,
  children: KObject[],
  desired: Desired,
  log: Logger,
): Promise<CarryOutResult> {
  const pass: Pass = {
    parent,
    key: parentKey(parent.metadata.namespace, parent.metadata.name),
    desired,
    log,
    wanted: new Set((desired.keep ?? []).map(refKey)),
    failures: [],
    failed: [],
    wrote: false,
  };
  await applyChildren(ctx, pass, children);
  await pruneChildren(ctx, pass, children);
  await patchOthers(ctx, pass);
  await writeObjects(ctx, pass);
  const statusWritten = await writeStatus(ctx, pass);
  await patchParent(ctx, pass, statusWritten);
  recordEvents(ctx, pass);
  return { failed: pass.failed, ...(pass.failures.length ? { error: pass.failures[0] } : {}) };
}
