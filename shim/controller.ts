// Runs one handler: watches its parent kind, its children (by handler label)
// and related kinds into caches; a keyed queue of parent keys; for each key,
// calls the handler with what the caches hold and carries out its answer:
// server-side apply (skipped when the cache already matches), pruning of
// children it no longer returns, patches, status, Events, requeues.
import { createHash } from 'node:crypto';
import type { Desired, FailedWrite, Handler, HandlerConfig, KubeObject, Observed, ObjectRef, RelatedKind } from '../core/handler.ts';
import { refKey, refOf } from '../core/handler.ts';
import { sameJson, satisfies } from '../core/diff.ts';
import { realClock, type Clock } from './clock.ts';
import { EventRecorder } from './events.ts';
import type { Informer } from './informer.ts';
import { SharedInformers, type InformerListener, type SharedInformerOptions } from './informers.ts';
import { isApiError, type KObject, type KubeClient } from './kube/client.ts';
import type { Logger } from './log.ts';
import { WorkQueue, type WorkQueueMetrics } from './queue.ts';
import { LABEL_HANDLER, LABEL_MANAGED_BY, OPERATOR_NAME } from '../core/labels.ts';
import { ANNOTATION_APPLIED } from '../core/annotations.ts';

// Plain JSON, not canonical: it is computed for every child on every pass, and handlers build
// their objects in a fixed key order (user maps keep the order the API server sends them in,
// which is sorted), so equal content gives an equal hash.
const appliedHash = (obj: KubeObject) => createHash('sha256').update(JSON.stringify(obj)).digest('hex').slice(0, 16);

export interface ControllerMetrics {
  queue?: WorkQueueMetrics;
  /** One reconcile finished: result is success, error or requeue_after. */
  onReconcile?(handler: string, result: 'success' | 'error' | 'requeue_after', seconds: number): void;
  /** Counts of the objects this controller manages, by kind. */
  onManaged?(handler: string, counts: Record<string, number>): void;
}

export interface ControllerOptions {
  client: KubeClient;
  handler: Handler;
  config: HandlerConfig;
  log: Logger;
  /** Namespaces to watch; all when empty. */
  namespaces?: string[];
  workers?: number;
  /** Replay the parent cache this often, to catch anything missed. Default 10 min. */
  resyncMs?: number;
  /** Writes happen only while this says so (leader election). Default: always. */
  canWrite?: () => boolean;
  metrics?: ControllerMetrics;
  /** Where the caches come from; controllers given the same one share what they both watch. Default: a set of their own. */
  informers?: SharedInformers;
  /** The handlers' `now`, status timestamps, the queue's delays and the Events' times. Default the real clock. */
  clock?: Clock;
}

const parentKey = (namespace: string | undefined, name: string) => `${namespace ?? ''}/${name}`;
type RelatedName = NonNullable<NonNullable<RelatedKind['inOperatorNamespace']>['nameOf']>;

/** Index of child Events by the uid of the object they are about. */
const EVENT_SUBJECT = 'involvedObject.uid';
const involved = (event: KObject) => ((event as { involvedObject?: { kind?: string; namespace?: string; name?: string; uid?: string } }).involvedObject ?? {});

/** Whether a's resourceVersion is older than b's (of one object); false when either is not a number, as the API leaves them opaque. */
function olderThan(a: KObject, b: KObject): boolean {
  const [ra, rb] = [a.metadata.resourceVersion, b.metadata.resourceVersion];
  return !!ra && !!rb && /^\d+$/.test(ra) && /^\d+$/.test(rb) && BigInt(ra) < BigInt(rb);
}

/**
 * Whether a child's update (old to new) changes nothing but its status, its resourceVersion and
 * annotations others added (the controller-manager's revision annotation on a Deployment, say).
 * The generation is not compared: the spec is, and a Deployment's generation also counts
 * annotation changes.
 */
export function onlyStatusOrAddedAnnotations(a: KObject, b: KObject): boolean {
  const { resourceVersion: _a, generation: _ga, annotations: annotationsA = {}, ...metaA } = a.metadata;
  const { resourceVersion: _b, generation: _gb, annotations: annotationsB = {}, ...metaB } = b.metadata;
  if (!sameJson(metaA, metaB)) return false;
  for (const [key, value] of Object.entries(annotationsA)) if (annotationsB[key] !== value) return false;
  for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
    if (key !== 'status' && key !== 'metadata' && !sameJson((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key])) return false;
  }
  return true;
}

interface TypedCondition {
  type: string;
  status?: string;
  reason?: string;
  message?: string;
}

/** Whether two status.conditions lists say the same (type, status, reason, message; not their timestamps). */
export function sameConditions(a: unknown, b: unknown): boolean {
  const said = (list: unknown) => (Array.isArray(list) ? (list as TypedCondition[]) : []).map((c) => [c.type, c.status, c.reason ?? '', c.message ?? '']);
  return sameJson(said(a), said(b));
}

const conditionsOf = (o: KObject) => (o.status as { conditions?: unknown } | undefined)?.conditions;

/** A write's failure as the handler is told of it. */
function failedWrite(target: ObjectRef, verb: FailedWrite['verb'], error: unknown): FailedWrite {
  if (isApiError(error)) return { target, verb, code: error.status, reason: error.reason, message: error.message };
  return { target, verb, code: 0, reason: '', message: error instanceof Error ? error.message : String(error) };
}

/** RFC 3339 to the second, as Kubernetes writes timestamps. */
const timestamp = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');

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
        if (!sameJson(wanted.find((c) => c.type === type), current.find((o) => o.type === type))) return false;
      }
    } else if (!sameJson(value, observed[key])) {
      return false;
    }
  }
  return true;
}

export class Controller {
  readonly fieldManager: string;
  private readonly queue: WorkQueue;
  private readonly parents: Informer[] = [];
  private readonly children = new Map<string, Informer[]>();
  private readonly related = new Map<string, { informer: Informer; index: string; nameOf?: RelatedName }[]>();
  /** Related objects found by name (RelatedKind nameOf): `kind/name` in the operator namespace -> parent key. */
  private readonly relatedNames = new Map<string, string>();
  /** Caches of Events about children (Handler.childEvents), indexed by the child's uid. */
  private readonly childEvents: Informer[] = [];
  /** Per parent key: the writes of its last pass that failed (Observed.failedWrites). */
  private readonly failed = new Map<string, FailedWrite[]>();
  private readonly informers: SharedInformers;
  /** What this controller acquired from `informers`, to release on stop. */
  private readonly held: { informer: Informer; listener: InformerListener }[] = [];
  private workers: Promise<void>[] = [];
  private started = false;
  /** Writes issued, by kind of write (tests and the steady-state benchmark read them). */
  readonly writes = { apply: 0, delete: 0, patch: 0, status: 0, event: 0 };
  /** Events are written in the background, in order; a reconcile only queues them. */
  private readonly events: EventRecorder;

  private readonly clock: Clock;

  constructor(private readonly o: ControllerOptions) {
    this.clock = o.clock ?? realClock;
    this.fieldManager = `${OPERATOR_NAME}-${o.handler.name}`;
    this.events = new EventRecorder({ client: o.client, component: OPERATOR_NAME, log: o.log, onWrite: () => this.writes.event++, clock: this.clock });
    this.queue = new WorkQueue({ metrics: o.metrics?.queue, clock: this.clock });
    this.informers = o.informers ?? new SharedInformers(o.client, this.clock);
  }

  private watch(options: SharedInformerOptions, listener: InformerListener): Informer {
    const informer = this.informers.acquire(options, listener);
    this.held.push({ informer, listener });
    return informer;
  }

  private scopes(): (string | undefined)[] {
    return this.o.namespaces?.length ? this.o.namespaces : [undefined];
  }

  async start(): Promise<void> {
    const { handler, log } = this.o;
    const onError = (error: unknown, during: string) => {
      // A kind the API server does not serve at all is nearly always a CRD that is not installed.
      if (isApiError(error, 404) && during === 'list') {
        log.warn('the API server does not serve a kind this handler watches: install the CRDs (spiceai-operator crd --apply) or leave the handler out (--handlers)', {
          handler: handler.name,
          path: error.path,
        });
      } else {
        log.warn('watch problem', { handler: handler.name, during, error });
      }
    };
    for (const namespace of this.scopes()) {
      this.parents.push(
        this.watch(
          { ...handler.parent, namespace, resyncMs: this.o.resyncMs ?? 600_000 },
          {
            onError,
            onEvent: (type, obj, old) => {
              const key = parentKey(obj.metadata.namespace, obj.metadata.name);
              this.noteRelatedNames(type, obj, key);
              const mine = this.written.get(key);
              if (mine && !olderThan(obj, mine)) this.written.delete(key); // the cache has caught up
              // Our own status writes come back as updates; only spec, labels, annotations or deletion matter.
              if (type === 'update' && old && !this.parentChanged(old, obj)) return;
              this.queue.add(key);
            },
          },
        ),
      );
      for (const kind of handler.children) {
        const informer = this.watch(
          { ...kind, namespace, labelSelector: `${LABEL_HANDLER}=${handler.name}` },
          {
            onError,
            onEvent: (type, obj, old) => {
              if (
                type === 'update' &&
                old &&
                handler.readsChildStatus === false &&
                onlyStatusOrAddedAnnotations(old, obj) &&
                !(handler.readsChildConditions && !sameConditions(conditionsOf(old), conditionsOf(obj)))
              ) {
                return;
              }
              const owner = obj.metadata.ownerReferences?.find((r) => r.controller && r.kind === handler.parent.kind);
              if (owner) this.queue.add(parentKey(obj.metadata.namespace, owner.name));
            },
          },
        );
        this.children.set(kind.kind, [...(this.children.get(kind.kind) ?? []), informer]);
      }
      for (const kind of handler.related ?? []) {
        if (kind.inOperatorNamespace) continue;
        this.addRelated(kind, namespace, onError);
      }
      if (handler.childEvents) this.addChildEvents(handler.childEvents.fieldSelector, namespace, onError);
    }
    for (const kind of handler.related ?? []) {
      if (kind.inOperatorNamespace) this.addRelated(kind, this.o.config.operatorNamespace, onError);
    }
    // Children and related caches first, so the first reconciles see the world as it is.
    await Promise.all([...[...this.children.values()].flat(), ...this.relatedInformers(), ...this.childEvents].map((i) => i.start()));
    await Promise.all(this.parents.map((i) => i.start()));
    this.started = true;
    const workers = this.o.workers ?? 2;
    this.workers = Array.from({ length: workers }, () => this.work());
    log.info('controller started', { handler: handler.name, namespaces: this.o.namespaces?.length ? this.o.namespaces : 'all', workers });
  }

  private addRelated(kind: RelatedKind, namespace: string | undefined, onError: (error: unknown, during: string) => void): void {
    const labelledParent = (obj: KObject) => {
      const name = obj.metadata.labels?.[kind.parentLabel];
      const ns = kind.inOperatorNamespace ? obj.metadata.labels?.[kind.inOperatorNamespace.parentNamespaceLabel] : obj.metadata.namespace;
      return name ? parentKey(ns, name) : undefined;
    };
    const nameOf = kind.inOperatorNamespace?.nameOf;
    const informer = this.watch(
      // Found by name too: every object of the kind in the namespace, whatever its labels.
      { apiVersion: kind.apiVersion, kind: kind.kind, namespace, labelSelector: nameOf ? undefined : kind.parentLabel },
      {
        onError,
        onEvent: (_type, obj) => {
          const key = labelledParent(obj) ?? (nameOf ? this.relatedNames.get(`${kind.kind}/${obj.metadata.name}`) : undefined);
          if (key) this.queue.add(key);
        },
      },
    );
    // Named by how it finds the parent: another handler sharing the cache may find parents differently.
    const index = `parent:${kind.parentLabel}:${kind.inOperatorNamespace?.parentNamespaceLabel ?? ''}`;
    if (!informer.hasIndex(index)) informer.addIndex(index, (obj) => [labelledParent(obj) ?? '']);
    this.related.set(kind.kind, [...(this.related.get(kind.kind) ?? []), { informer, index, nameOf }]);
  }

  /** Keeps the names of related objects found by name pointing at their parents. */
  private noteRelatedNames(type: string, parent: KObject, key: string): void {
    for (const kind of this.o.handler.related ?? []) {
      const nameOf = kind.inOperatorNamespace?.nameOf;
      if (!nameOf) continue;
      const name = `${kind.kind}/${nameOf({ namespace: parent.metadata.namespace ?? '', name: parent.metadata.name })}`;
      if (type === 'delete') this.relatedNames.delete(name);
      else this.relatedNames.set(name, key);
    }
  }

  /**
   * Events naming a child in involvedObject. They carry none of our labels, so they are found
   * through the child: its uid indexes them, and its controller owner is the parent to queue.
   */
  private addChildEvents(fieldSelector: string, namespace: string | undefined, onError: (error: unknown, during: string) => void): void {
    const informer = this.watch(
      { apiVersion: 'v1', kind: 'Event', namespace, fieldSelector },
      {
        onError,
        onEvent: (_type, obj) => {
          const child = this.childOf(obj);
          const owner = child?.metadata.ownerReferences?.find((r) => r.controller && r.kind === this.o.handler.parent.kind);
          if (owner) this.queue.add(parentKey(child!.metadata.namespace, owner.name));
        },
      },
    );
    if (!informer.hasIndex(EVENT_SUBJECT)) informer.addIndex(EVENT_SUBJECT, (obj) => [involved(obj).uid ?? '']);
    this.childEvents.push(informer);
  }

  private childOf(event: KObject): KObject | undefined {
    const about = involved(event);
    if (!about.kind || !about.name) return undefined;
    for (const informer of this.children.get(about.kind) ?? []) {
      const child = informer.get(about.namespace ?? event.metadata.namespace, about.name);
      if (child && (!about.uid || child.metadata.uid === about.uid)) return child;
    }
    return undefined;
  }

  private relatedInformers(): Informer[] {
    return [...this.related.values()].flat().map((r) => r.informer);
  }

  hasSynced(): boolean {
    return this.started && this.caches().every((i) => i.hasSynced());
  }

  /** Finishes in-flight reconciles, then stops watching (a cache another controller still uses keeps running). */
  async stop(): Promise<void> {
    await this.queue.shutDownWithDrain();
    await Promise.all(this.workers);
    await this.events.flush();
    await Promise.all(this.held.splice(0).map(({ informer, listener }) => this.informers.release(informer, listener)));
  }

  /** The caches of this controller (parents, children, related), for read-only use by other parts of the shim. */
  caches(): readonly Informer[] {
    return [...this.parents, ...[...this.children.values()].flat(), ...this.relatedInformers(), ...this.childEvents];
  }

  /** Queue every known parent (e.g. when this process becomes the leader). */
  enqueueAll(): void {
    for (const informer of this.parents) for (const p of informer.list()) this.queue.add(parentKey(p.metadata.namespace, p.metadata.name));
  }

  private parentChanged(old: KObject, obj: KObject): boolean {
    return (
      old.metadata.generation !== obj.metadata.generation ||
      old.metadata.deletionTimestamp !== obj.metadata.deletionTimestamp ||
      !sameJson(old.metadata.labels, obj.metadata.labels) ||
      !sameJson(old.metadata.annotations, obj.metadata.annotations)
    );
  }

  private async work(): Promise<void> {
    for (let key = await this.queue.get(); key !== undefined; key = await this.queue.get()) {
      const started = performance.now();
      let result: 'success' | 'error' | 'requeue_after' = 'success';
      try {
        const requeue = await this.reconcile(key);
        this.queue.forget(key);
        if (requeue !== undefined) {
          result = 'requeue_after';
          this.queue.addAfter(key, requeue * 1000);
        }
      } catch (error) {
        result = 'error';
        this.o.log.error('reconcile failed', { handler: this.o.handler.name, key, error, retries: this.queue.numRequeues(key) });
        this.queue.addRateLimited(key);
      } finally {
        this.queue.done(key);
        this.o.metrics?.onReconcile?.(this.o.handler.name, result, (performance.now() - started) / 1000);
      }
    }
  }

  /**
   * The parent as this controller's last status write returned it, kept while the cache has not yet
   * caught up with that write: a reconcile the children's watch events start meanwhile then sees
   * its own status, and neither writes it again nor records its Events twice.
   */
  private readonly written = new Map<string, KObject>();

  private findParent(key: string): KObject | undefined {
    const [namespace, name] = key.split('/') as [string, string];
    let cached: KObject | undefined;
    for (const informer of this.parents) {
      cached = informer.get(namespace || undefined, name);
      if (cached) break;
    }
    const mine = this.written.get(key);
    if (mine) {
      if (cached && cached.metadata.uid === mine.metadata.uid && olderThan(cached, mine)) return mine;
      this.written.delete(key);
    }
    return cached;
  }

  private observedChildren(parent: KObject): KObject[] {
    const uid = parent.metadata.uid!;
    return [...this.children.values()]
      .flat()
      .flatMap((i) => i.byOwnerUid(uid))
      .filter((c) => c.metadata.ownerReferences?.some((r) => r.uid === uid && r.controller));
  }

  private observedRelated(parent: KObject, children: KObject[]): Record<string, KubeObject[]> {
    const key = parentKey(parent.metadata.namespace, parent.metadata.name);
    const named = (r: { informer: Informer; nameOf?: RelatedName }) =>
      r.nameOf ? r.informer.get(this.o.config.operatorNamespace, r.nameOf({ namespace: parent.metadata.namespace ?? '', name: parent.metadata.name })) : undefined;
    const related: Record<string, KubeObject[]> = Object.fromEntries(
      [...this.related.entries()].map(([kind, caches]) => {
        const found = new Map<string, KObject>();
        for (const r of caches) {
          for (const obj of [...r.informer.byIndex(r.index, key), named(r)]) if (obj) found.set(obj.metadata.uid ?? `${obj.metadata.namespace}/${obj.metadata.name}`, obj);
        }
        return [kind, [...found.values()] as KubeObject[]];
      }),
    );
    if (this.childEvents.length) {
      related.Event = children.flatMap((c) => this.childEvents.flatMap((i) => i.byIndex(EVENT_SUBJECT, c.metadata.uid ?? ''))) as KubeObject[];
    }
    return related;
  }

  /** Returns the requeue delay in seconds, if the handler asked for one. */
  async reconcile(key: string): Promise<number | undefined> {
    const { handler, log } = this.o;
    const parent = this.findParent(key);
    // Deleted parents need nothing: the garbage collector removes owned children.
    if (!parent || parent.metadata.deletionTimestamp) {
      this.failed.delete(key);
      return undefined;
    }
    const children = this.observedChildren(parent);
    const observed: Observed = {
      parent: parent as KubeObject,
      children: children as KubeObject[],
      related: this.observedRelated(parent, children),
      now: this.clock.now(),
      config: this.o.config,
      failedWrites: this.failed.get(key) ?? [],
    };
    const desired = await handler.reconcile(observed);
    if (!(this.o.canWrite?.() ?? true)) return desired.requeueAfterSeconds;
    await this.carryOut(parent, children, desired, log.child({ handler: handler.name, key }));
    if (this.o.metrics?.onManaged) {
      const counts = this.managedCounts();
      const summary = Object.values(counts).join(); // the kinds come in a fixed order
      if (summary !== this.managedSummary) this.o.metrics.onManaged(handler.name, counts);
      this.managedSummary = summary;
    }
    return desired.requeueAfterSeconds;
  }

  /** The managed counts last reported to the metrics (only changes are). */
  private managedSummary = '';

  private managedCounts(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const [kind, informers] of this.children) counts[kind] = informers.reduce((n, i) => n + i.size, 0);
    for (const informer of this.parents) counts[this.o.handler.parent.kind] = (counts[this.o.handler.parent.kind] ?? 0) + informer.size;
    return counts;
  }

  private ownedForm(parent: KObject, obj: KubeObject): KObject {
    return {
      ...obj,
      metadata: {
        ...obj.metadata,
        namespace: obj.metadata.namespace ?? parent.metadata.namespace,
        labels: { ...obj.metadata.labels, [LABEL_HANDLER]: this.o.handler.name, [LABEL_MANAGED_BY]: OPERATOR_NAME },
        annotations: { ...obj.metadata.annotations, [ANNOTATION_APPLIED]: appliedHash(obj) },
        ownerReferences: [
          { apiVersion: parent.apiVersion, kind: parent.kind, name: parent.metadata.name, uid: parent.metadata.uid!, controller: true, blockOwnerDeletion: true },
        ],
      },
    };
  }

  private async carryOut(parent: KObject, children: KObject[], desired: Desired, log: Logger): Promise<void> {
    const { client } = this.o;
    const key = parentKey(parent.metadata.namespace, parent.metadata.name);
    const observedByRef = new Map(children.map((c) => [refKey(refOf(c as KubeObject)), c]));
    const wanted = new Set<string>((desired.keep ?? []).map(refKey));
    const failures: unknown[] = [];
    const failed: FailedWrite[] = [];
    const fail = (target: ObjectRef, verb: FailedWrite['verb'], error: unknown) => {
      failures.push(error);
      failed.push(failedWrite(target, verb, error));
    };
    const applied: string[] = [];
    /** Whether this pass changed a child or a related object (for Handler.lastUpdatedField). */
    let wrote = false;

    // Children are independent of each other (Kubernetes retries what needs another object), so they are applied together.
    await Promise.all(
      desired.apply.map(async (obj) => {
        const owned = this.ownedForm(parent, obj);
        const key = refKey(refOf(owned as KubeObject));
        wanted.add(key);
        if (satisfies(owned, observedByRef.get(key))) return;
        try {
          await client.apply(owned, { fieldManager: this.fieldManager, force: true });
          this.writes.apply++;
          wrote = true;
          applied.push(`${owned.kind}/${owned.metadata.name}`);
        } catch (error) {
          fail(refOf(owned as KubeObject), 'apply', error);
          log.warn('apply failed', { kind: owned.kind, name: owned.metadata.name, error });
        }
      }),
    );
    // One line for what this pass applied.
    if (applied.length) log.info('applied', { objects: applied.sort() });

    for (const child of children) {
      const key = refKey(refOf(child as KubeObject));
      if (wanted.has(key) || child.metadata.deletionTimestamp) continue;
      try {
        await client.delete(child.apiVersion, child.kind, child.metadata.namespace, child.metadata.name, { uid: child.metadata.uid });
        this.writes.delete++;
        wrote = true;
        log.info('deleted', { kind: child.kind, name: child.metadata.name });
      } catch (error) {
        if (!isApiError(error, 409)) fail(refOf(child as KubeObject), 'delete', error); // 409: a different object by that name now; next pass sees it
      }
    }

    // Patches of the parent itself (clearing a request annotation, say) come after its status: the
    // status that records what the request did is written before the request is taken away, so a
    // failure between the two never loses it.
    const isParent = (t: ObjectRef) => t.kind === parent.kind && t.apiVersion === parent.apiVersion && t.name === parent.metadata.name && (t.namespace ?? '') === (parent.metadata.namespace ?? '');
    const patch = async ({ target, patch }: NonNullable<Desired['patch']>[number]) => {
      if (satisfies(patch, isParent(target) ? parent : this.findRelated(target))) return;
      try {
        const updated = await client.mergePatch(target.apiVersion, target.kind, target.namespace, target.name, patch);
        this.writes.patch++;
        if (!isParent(target)) wrote = true;
        else if (updated?.metadata) {
          // Like a status write: until the cache catches up, the next pass sees the parent as patched
          // (a request annotation already cleared is not acted on twice).
          delete updated.metadata.managedFields;
          this.written.set(key, updated);
        }
        log.info('patched', { kind: target.kind, name: target.name });
      } catch (error) {
        if (!isApiError(error, 404)) fail(target, 'patch', error);
        else if (!isParent(target)) log.info('patch target gone', { kind: target.kind, name: target.name });
      }
    };
    for (const p of desired.patch ?? []) if (!isParent(p.target)) await patch(p);

    for (const { object, ifResourceVersion } of desired.write ?? []) {
      const target = { ...object, metadata: { ...object.metadata, labels: { ...object.metadata.labels, [LABEL_MANAGED_BY]: OPERATOR_NAME } } } as KObject;
      try {
        if (ifResourceVersion === undefined) await client.create(target);
        else await client.update({ ...target, metadata: { ...target.metadata, resourceVersion: ifResourceVersion } });
        this.writes.apply++;
        wrote = true;
        log.info(ifResourceVersion === undefined ? 'created' : 'replaced', { kind: object.kind, namespace: object.metadata.namespace, name: object.metadata.name });
      } catch (error) {
        // Someone else created or changed it first: never overwrite; the next pass sees what is there.
        if (isApiError(error, 409)) log.info('left as found', { kind: object.kind, name: object.metadata.name, reason: error.reason });
        else fail(refOf(object), ifResourceVersion === undefined ? 'create' : 'update', error);
        this.queue.addAfter(key, 1000);
      }
    }

    const field = this.o.handler.lastUpdatedField;
    let statusFailed = false;
    if (desired.status || (field && wrote)) {
      const observedStatus = (parent.status ?? {}) as Record<string, unknown>;
      const status: Record<string, unknown> = { ...desired.status, observedGeneration: parent.metadata.generation };
      if (field) {
        // The time of the last change: kept as it is unless this pass changed something.
        status[field] = observedStatus[field];
        if (wrote || !ownStatusCurrent(status, observedStatus, this.o.handler.conditionTypes)) status[field] = timestamp(this.clock.now());
      }
      if (!ownStatusCurrent(status, observedStatus, this.o.handler.conditionTypes)) {
        try {
          const updated = await client.applyStatus(
            { apiVersion: parent.apiVersion, kind: parent.kind, metadata: { name: parent.metadata.name, namespace: parent.metadata.namespace }, status },
            { fieldManager: this.fieldManager, force: true },
          );
          this.writes.status++;
          if (updated?.metadata) {
            delete updated.metadata.managedFields; // as the cache keeps objects
            this.written.set(key, updated);
          }
        } catch (error) {
          statusFailed = true;
          if (!isApiError(error, 404) && !isApiError(error, 409)) failures.push(error);
        }
      }
    }

    const parentPatches = (desired.patch ?? []).filter((p) => isParent(p.target));
    if (statusFailed && parentPatches.length) this.queue.addAfter(key, 1000);
    else for (const p of parentPatches) await patch(p);

    for (const event of desired.events ?? []) {
      this.events.record(parent, event);
      log.info('event', { type: event.type, reason: event.reason, message: event.message });
    }
    if (failed.length) this.failed.set(key, failed);
    else this.failed.delete(key);
    if (failures.length) throw failures[0];
  }

  private findRelated(target: ObjectRef): KObject | undefined {
    for (const { informer } of this.related.get(target.kind) ?? []) {
      const found = informer.get(target.namespace, target.name);
      if (found) return found;
    }
    return undefined;
  }
}
