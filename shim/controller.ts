// Runs one handler: watches its parent kind, its children (by handler label)
// and related kinds into caches; a keyed queue of parent keys; for each key,
// calls the handler with what the caches hold and carries out its answer:
// server-side apply (skipped when the cache already matches), pruning of
// children it no longer returns, patches, status, Events, requeues.
import { randomUUID } from 'node:crypto';
import type { FailedWrite, Handler, HandlerConfig, KubeObject, Observed, ObjectRef, RelatedKind } from '../core/handler.ts';
import { sameJson } from '../core/diff.ts';
import { carryOut, parentKey, type CarryOutContext } from './carry-out.ts';
import { realClock, type Clock } from './clock.ts';
import { EventRecorder } from './events.ts';
import type { Informer } from './informer.ts';
import { SharedInformers, type InformerListener, type SharedInformerOptions } from './informers.ts';
import { isApiError, type KObject, type KubeClient } from './kube/client.ts';
import type { Logger } from './log.ts';
import { WorkQueue, type WorkQueueMetrics } from './queue.ts';
import { LABEL_HANDLER, OPERATOR_NAME } from '../core/labels.ts';

export { ownStatusCurrent } from './carry-out.ts';

export interface ControllerMetrics {
  queue?: WorkQueueMetrics;
  /** One reconcile finished: result is success, error or requeue_after. */
  onReconcile?(handler: string, result: 'success' | 'error' | 'requeue_after', seconds: number): void;
  /** The controller's queue, read at scrape time (unfinished work, longest-running key). */
  onQueue?(queue: { unfinishedWorkSeconds(): number; longestRunningSeconds(): number }): void;
  /** The number of workers (controller-runtime's max_concurrent_reconciles). */
  onWorkers?(max: number): void;
  /** Workers reconciling right now. */
  onActiveWorkers?(n: number): void;
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

type RelatedName = NonNullable<NonNullable<RelatedKind['inOperatorNamespace']>['nameOf']>;

/** Index of child Events by the uid of the object they are about. */
const EVENT_SUBJECT = 'involvedObject.uid';
const involved = (event: KObject) =>
  (event as { involvedObject?: { kind?: string; namespace?: string; name?: string; uid?: string } }).involvedObject ?? {};

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
    if (key !== 'status' && key !== 'metadata' && !sameJson((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]))
      return false;
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
  const said = (list: unknown) =>
    (Array.isArray(list) ? (list as TypedCondition[]) : []).map((c) => [c.type, c.status, c.reason ?? '', c.message ?? '']);
  return sameJson(said(a), said(b));
}

const conditionsOf = (o: KObject) => (o.status as { conditions?: unknown } | undefined)?.conditions;

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
  /** What carrying out a handler's answer uses of this controller (shim/carry-out.ts). */
  private readonly carrying: CarryOutContext;

  constructor(private readonly o: ControllerOptions) {
    this.clock = o.clock ?? realClock;
    this.fieldManager = `${OPERATOR_NAME}-${o.handler.name}`;
    this.events = new EventRecorder({
      client: o.client,
      component: OPERATOR_NAME,
      log: o.log,
      onWrite: () => this.writes.event++,
      clock: this.clock,
    });
    this.queue = new WorkQueue({ metrics: o.metrics?.queue, clock: this.clock });
    o.metrics?.onQueue?.(this.queue);
    this.informers = o.informers ?? new SharedInformers(o.client, this.clock);
    this.carrying = {
      client: o.client,
      handler: o.handler,
      fieldManager: this.fieldManager,
      clock: this.clock,
      writes: this.writes,
      written: this.written,
      findRelated: (target) => this.findRelated(target),
      requeueAfter: (key, ms) => this.queue.addAfter(key, ms),
      recordEvent: (parent, event) => this.events.record(parent, event),
    };
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
        log.warn(
          'the API server does not serve a kind this handler watches: install the CRDs (spiceai-operator crd --apply) or leave the handler out (--handlers)',
          {
            handler: handler.name,
            path: error.path,
          },
        );
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
    this.o.metrics?.onWorkers?.(workers);
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

  /** Workers reconciling right now. */
  private active = 0;

  /**
   * The logger of one reconcile: every line carries controller, namespace, name and a
   * reconcileID, as controller-runtime's reconcile logs do (pkg/internal/controller/controller.go).
   */
  private reconcileLog(key: string): Logger {
    const slash = key.indexOf('/');
    return this.o.log.child({
      controller: this.o.handler.name,
      namespace: key.slice(0, slash),
      name: key.slice(slash + 1),
      reconcileID: randomUUID(),
    });
  }

  private async work(): Promise<void> {
    for (let key = await this.queue.get(); key !== undefined; key = await this.queue.get()) {
      const started = performance.now();
      const log = this.reconcileLog(key);
      this.o.metrics?.onActiveWorkers?.(++this.active);
      let result: 'success' | 'error' | 'requeue_after' = 'success';
      try {
        const requeue = await this.reconcile(key, log);
        this.queue.forget(key);
        if (requeue !== undefined) {
          result = 'requeue_after';
          this.queue.addAfter(key, requeue * 1000);
        }
      } catch (error) {
        result = 'error';
        log.error('reconcile failed', { error, retries: this.queue.numRequeues(key) });
        this.queue.addRateLimited(key);
      } finally {
        this.queue.done(key);
        this.o.metrics?.onActiveWorkers?.(--this.active);
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
      r.nameOf
        ? r.informer.get(
            this.o.config.operatorNamespace,
            r.nameOf({ namespace: parent.metadata.namespace ?? '', name: parent.metadata.name }),
          )
        : undefined;
    const related: Record<string, KubeObject[]> = Object.fromEntries(
      [...this.related.entries()].map(([kind, caches]) => {
        const found = new Map<string, KObject>();
        for (const r of caches) {
          for (const obj of [...r.informer.byIndex(r.index, key), named(r)])
            if (obj) found.set(obj.metadata.uid ?? `${obj.metadata.namespace}/${obj.metadata.name}`, obj);
        }
        return [kind, [...found.values()] as KubeObject[]];
      }),
    );
    if (this.childEvents.length) {
      related.Event = children.flatMap((c) =>
        this.childEvents.flatMap((i) => i.byIndex(EVENT_SUBJECT, c.metadata.uid ?? '')),
      ) as KubeObject[];
    }
    return related;
  }

  /** Returns the requeue delay in seconds, if the handler asked for one. */
  async reconcile(key: string, log: Logger = this.reconcileLog(key)): Promise<number | undefined> {
    const { handler } = this.o;
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
    const { failed, error } = await carryOut(this.carrying, parent, children, desired, log);
    if (failed.length) this.failed.set(key, failed);
    else this.failed.delete(key);
    if (error) throw error;
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

  private findRelated(target: ObjectRef): KObject | undefined {
    for (const { informer } of this.related.get(target.kind) ?? []) {
      const found = informer.get(target.namespace, target.name);
      if (found) return found;
    }
    return undefined;
  }
}
