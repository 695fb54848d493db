// A list-watch cache of one resource type, after client-go's reflector
// (tools/cache/reflector.go):
// - the first list uses resourceVersion "0" (served from the API server's
//   watch cache), paginated;
// - then a watch from the list's resourceVersion, with bookmarks and a random
//   timeoutSeconds in [300, 600] so reconnects spread out; a watch that ends
//   normally is resumed from the last resourceVersion seen (bookmarks count);
// - on 410 Gone it relists at the last resourceVersion, and if that is gone
//   too, with resourceVersion "" (a consistent read), and reports the
//   difference to the cache as add/update/delete, so nothing is missed or
//   reported twice;
// - other failures (transport, 429, 5xx, ...) back off 800 ms·2^n with
//   jitter, capped at 30 s, reset after 2 min without failures; a 429's
//   Retry-After is honoured;
// - resourceVersions are opaque: compared only for equality.
// Events are delivered synchronously in the order the server sent them; the
// objects are the cache's own (treat them as read-only), without
// metadata.managedFields, and with their repeated string values shared
// (shim/intern.ts). Backoff, resync and watch-liveness times read the
// injected clock (shim/clock.ts).
import { realClock, type Clock, type Timer } from './clock.ts';
import { StringInterner } from './intern.ts';
import { isApiError, type KObject, type KubeClient, type WatchEvent } from './kube/client.ts';
import { withoutManagedFields } from './kube/managed-fields.ts';
import { resourceFor, type ResourceRef } from './kube/resources.ts';

export type InformerEventType = 'add' | 'update' | 'delete' | 'resync';

export interface InformerOptions {
  apiVersion: string;
  kind: string;
  /** Watch one namespace; all namespaces when absent. */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Replay the cache as 'resync' events this often. Off unless set. */
  resyncMs?: number;
  /**
   * Called for every change: 'add' and 'update' with the new object (and the
   * previous one for 'update'), 'delete' with the last state known, 'resync'
   * with the cached object (old === obj). Exceptions are reported to onError
   * and otherwise ignored.
   */
  onEvent: (type: InformerEventType, obj: KObject, old?: KObject) => void;
  /** Range for the watch's timeoutSeconds. Default [300, 600]. */
  watchTimeoutSeconds?: [number, number];
  backoff?: { initialMs?: number; maxMs?: number; resetAfterMs?: number };
  /** Page size for full lists. Default 500. */
  pageSize?: number;
  /** Failures of list/watch (retried) and of onEvent. Default: one line on stderr. */
  onError?: (error: unknown, during: 'list' | 'watch' | 'handler') => void;
  /**
   * Test seam: called before each watch with the resourceVersion it will start
   * from; returning a string replaces the informer's last resourceVersion.
   */
  beforeWatch?: (resourceVersion: string) => string | void | Promise<string | void>;
  /** Time of backoffs, resyncs and watch liveness. Default the real clock. */
  clock?: Clock;
  /** Random source in [0, 1) for the watch timeout and backoff jitter. Default Math.random. */
  random?: () => number;
}

export interface InformerCounters {
  /** Successful lists (the initial one included). */
  lists: number;
  /** Watches the server accepted. */
  watches: number;
  /** Relists caused by 410 Gone / too-large resourceVersion. */
  goneRelists: number;
  /** Failed lists and watches (each followed by a backoff). */
  failures: number;
}

/** Cache key: "namespace/name", or "name" for cluster-scoped objects. */
export function cacheKey(namespace: string | undefined, name: string): string {
  return namespace ? `${namespace}/${name}` : name;
}

interface Index {
  fn: (obj: KObject) => string[];
  map: Map<string, Set<string>>;
}

const OWNER_UID = 'ownerUid';
const VERY_SHORT_WATCH_MS = 1_000;

export class Informer {
  readonly ref: ResourceRef;
  readonly counters: InformerCounters = { lists: 0, watches: 0, goneRelists: 0, failures: 0 };
  private readonly client: KubeClient;
  private readonly options: InformerOptions;
  private readonly cache = new Map<string, KObject>();
  private readonly indexes = new Map<string, Index>();
  private lastRV = '';
  private synced = false;
  private stopped = false;
  private loop?: Promise<void>;
  private syncedDeferred?: { promise: Promise<void>; resolve: () => void; reject: (e: Error) => void };
  private watchAbort?: AbortController;
  private readonly stopAbort = new AbortController();
  private wake?: () => void;
  private needRelist = false;
  private relistWaiters: { resolve: () => void; reject: (e: Error) => void }[] = [];
  private resyncTimer?: Timer;
  private failuresInRow = 0;
  private lastFailureAt = 0;
  private connected = false;
  private lastOk = 0;
  private readonly clock: Clock;
  private readonly random: () => number;
  private lastListAt = 0;

  constructor(client: KubeClient, options: InformerOptions) {
    this.client = client;
    this.options = options;
    this.clock = options.clock ?? realClock;
    this.random = options.random ?? Math.random;
    this.ref = resourceFor(options.apiVersion, options.kind);
    this.addIndex(OWNER_UID, (obj) => (obj.metadata.ownerReferences ?? []).map((o) => o.uid));
  }

  /** Starts list-watch; resolves once the initial list is in the cache. Rejects if stopped first. */
  start(): Promise<void> {
    if (!this.syncedDeferred) {
      let resolve!: () => void;
      let reject!: (e: Error) => void;
      const promise = new Promise<void>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      this.syncedDeferred = { promise, resolve, reject };
      if (this.stopped) reject(new Error(`${this.describe()}: informer was stopped`));
      else this.loop = this.run();
    }
    return this.syncedDeferred.promise;
  }

  /** Stops watching; no event is delivered after this resolves (none after it is called, in fact). */
  async stop(): Promise<void> {
    if (!this.stopped) {
      this.stopped = true;
      this.clock.clearTimeout(this.resyncTimer);
      this.watchAbort?.abort();
      this.stopAbort.abort();
      this.wake?.();
      if (!this.synced) this.syncedDeferred?.reject(new Error(`${this.describe()}: informer stopped before its first list completed`));
      for (const w of this.relistWaiters.splice(0)) w.reject(new Error(`${this.describe()}: informer stopped`));
    }
    await this.loop;
  }

  hasSynced(): boolean {
    return this.synced;
  }

  /** What this cache holds: objects of its kind in its namespace (all when undefined) matching its selectors. */
  get scope(): { namespace?: string; labelSelector?: string; fieldSelector?: string } {
    return { namespace: this.options.namespace, labelSelector: this.options.labelSelector, fieldSelector: this.options.fieldSelector };
  }

  /**
   * Lists again now (interrupting the watch) and reports the differences from
   * the cache as add/update/delete events; then watching resumes from the new
   * list. The same path a 410 Gone takes.
   */
  relist(): Promise<void> {
    if (!this.loop || this.stopped) return Promise.reject(new Error(`${this.describe()}: informer is not running`));
    return new Promise((resolve, reject) => {
      this.relistWaiters.push({ resolve, reject });
      if (this.synced) {
        this.watchAbort?.abort();
        this.wake?.();
      }
    });
  }

  get(namespace: string | undefined, name: string): KObject | undefined {
    return this.cache.get(cacheKey(this.ref.namespaced ? namespace : undefined, name));
  }

  list(): KObject[] {
    return [...this.cache.values()];
  }

  /** How many objects the cache holds. */
  get size(): number {
    return this.cache.size;
  }

  listBy(predicate: (obj: KObject) => boolean): KObject[] {
    return this.list().filter(predicate);
  }

  /** Adds a secondary index: fn gives the values an object is found under. */
  addIndex(name: string, fn: (obj: KObject) => string[]): void {
    if (this.indexes.has(name)) throw new Error(`${this.describe()}: index ${name} already exists`);
    const index: Index = { fn, map: new Map() };
    this.indexes.set(name, index);
    for (const [key, obj] of this.cache) this.indexAdd(index, key, obj);
  }

  hasIndex(name: string): boolean {
    return this.indexes.has(name);
  }

  byIndex(name: string, value: string): KObject[] {
    const index = this.indexes.get(name);
    if (!index) throw new Error(`${this.describe()}: no index named ${name}`);
    return [...(index.map.get(value) ?? [])].map((key) => this.cache.get(key)!).filter(Boolean);
  }

  /** Objects with an ownerReference to uid. */
  byOwnerUid(uid: string): KObject[] {
    return this.byIndex(OWNER_UID, uid);
  }

  /** Wall-clock ms of the last sign of a working watch (accepted, event, bookmark, normal end); 0 before any. */
  get lastWatchOk(): number {
    return this.lastOk;
  }

  /** Wall-clock ms of the last successful list; 0 before any. */
  get lastListOk(): number {
    return this.lastListAt;
  }

  /** True while a watch is open. */
  get watchConnected(): boolean {
    return this.connected;
  }

  /** The resourceVersion the next watch starts from. */
  get resourceVersion(): string {
    return this.lastRV;
  }

  // --- the list-watch loop ---

  private async run(): Promise<void> {
    while (!this.stopped && !this.synced) {
      try {
        await this.listAndReplace();
        this.synced = true;
        this.syncedDeferred!.resolve();
        for (const w of this.relistWaiters.splice(0)) w.resolve();
      } catch (error) {
        await this.failed(error, 'list');
      }
    }
    if (this.stopped) return;
    this.scheduleResync();
    while (!this.stopped) {
      if (this.needRelist || this.relistWaiters.length) {
        const waiters = this.relistWaiters.splice(0);
        try {
          await this.listAndReplace();
          this.needRelist = false;
          for (const w of waiters) w.resolve();
        } catch (error) {
          this.needRelist = true;
          for (const w of waiters) w.reject(error as Error);
          await this.failed(error, 'list');
        }
        continue;
      }
      try {
        await this.watchOnce();
      } catch (error) {
        if (this.stopped) break;
        if (isGone(error)) {
          // Not a failure: the server forgot our resourceVersion. Relist at once.
          this.counters.goneRelists++;
          this.needRelist = true;
          continue;
        }
        await this.failed(error, 'watch');
      }
    }
  }

  /** One watch from lastRV until the server ends it; throws on failures. */
  private async watchOnce(): Promise<void> {
    const replaced = await this.options.beforeWatch?.(this.lastRV);
    if (typeof replaced === 'string') this.lastRV = replaced;
    if (this.stopped || this.relistWaiters.length) return;
    const [lo, hi] = this.options.watchTimeoutSeconds ?? [300, 600];
    const timeoutSeconds = lo + Math.floor(this.random() * (hi - lo + 1));
    const abort = new AbortController();
    this.watchAbort = abort;
    const started = this.clock.now();
    let events = 0;
    try {
      await this.client.watch(
        this.ref,
        {
          namespace: this.options.namespace,
          labelSelector: this.options.labelSelector,
          fieldSelector: this.options.fieldSelector,
          resourceVersion: this.lastRV,
          timeoutSeconds,
          allowWatchBookmarks: true,
          onConnected: () => {
            this.connected = true;
            this.lastOk = this.clock.now();
            this.counters.watches++;
          },
        },
        (event) => {
          events++;
          this.handle(event);
        },
        abort.signal,
      );
    } finally {
      this.connected = false;
      if (this.watchAbort === abort) this.watchAbort = undefined;
    }
    if (abort.signal.aborted || this.stopped) return;
    const lasted = this.clock.now() - started;
    if (events === 0 && lasted < VERY_SHORT_WATCH_MS) {
      throw new Error(`${this.describe()}: very short watch (ended after ${lasted} ms with no events)`);
    }
    this.lastOk = this.clock.now();
  }

  private handle(event: WatchEvent): void {
    if (this.stopped) return;
    if (event.type === 'ERROR') return; // the watch rejects with it
    this.lastOk = this.clock.now();
    const rv = event.object?.metadata?.resourceVersion;
    if (event.type === 'BOOKMARK') {
      if (typeof rv === 'string' && rv) this.lastRV = rv;
      return;
    }
    const obj = strip(event.object as KObject);
    const key = this.keyOf(obj);
    const old = this.cache.get(key);
    if (event.type === 'DELETED') {
      if (old) this.remove(key, old);
      if (rv) this.lastRV = rv;
      this.emit('delete', obj);
      return;
    }
    this.put(key, obj, old);
    if (rv) this.lastRV = rv;
    if (old) this.emit('update', obj, old);
    else this.emit('add', obj);
  }

  /**
   * Lists (at "0" the first time, at the last resourceVersion later, falling
   * back to "" when that is gone) and makes the cache equal to the result,
   * emitting the differences.
   */
  private async listAndReplace(): Promise<void> {
    const base = {
      namespace: this.options.namespace,
      labelSelector: this.options.labelSelector,
      fieldSelector: this.options.fieldSelector,
      signal: this.stopAbort.signal,
    };
    const pageSize = this.options.pageSize ?? 500;
    let result: { items: KObject[]; resourceVersion: string } | undefined;
    if (!this.lastRV) {
      result = await this.client.list(this.ref, { ...base, resourceVersion: '0', limit: pageSize });
    } else {
      // Without a limit, a list at a resourceVersion means "not older than" and
      // is served from the watch cache (client-go turns pagination off here too).
      try {
        result = await this.client.list(this.ref, { ...base, resourceVersion: this.lastRV });
      } catch (error) {
        if (!isGone(error)) throw error;
      }
      result ??= await this.client.list(this.ref, { ...base, limit: pageSize });
    }
    this.counters.lists++;
    this.lastListAt = this.clock.now();
    if (this.stopped) return;
    this.replace(result.items, result.resourceVersion);
  }

  private replace(items: KObject[], resourceVersion: string): void {
    const seen = new Set<string>();
    const changes: [InformerEventType, KObject, KObject?][] = [];
    for (const item of items) {
      const obj = strip(item);
      const key = this.keyOf(obj);
      seen.add(key);
      const old = this.cache.get(key);
      if (old && old.metadata.resourceVersion === obj.metadata.resourceVersion && old.metadata.uid === obj.metadata.uid) continue;
      this.put(key, obj, old);
      changes.push(old ? ['update', obj, old] : ['add', obj]);
    }
    for (const [key, old] of [...this.cache]) {
      if (seen.has(key)) continue;
      this.remove(key, old);
      changes.push(['delete', old]);
    }
    this.lastRV = resourceVersion;
    for (const [type, obj, old] of changes) this.emit(type, obj, old);
  }

  /** Replays the cache every resyncMs (when set), until stopped. */
  private scheduleResync(): void {
    const every = this.options.resyncMs;
    if (!every || every <= 0 || this.stopped) return;
    this.resyncTimer = this.clock.setTimeout(() => {
      this.resync();
      this.scheduleResync();
    }, every);
  }

  private resync(): void {
    if (this.stopped || !this.synced) return;
    for (const obj of [...this.cache.values()]) this.emit('resync', obj, obj);
  }

  private put(key: string, obj: KObject, old: KObject | undefined): void {
    if (old) for (const index of this.indexes.values()) this.indexRemove(index, key, old);
    this.cache.set(key, obj);
    for (const index of this.indexes.values()) this.indexAdd(index, key, obj);
  }

  private remove(key: string, old: KObject): void {
    for (const index of this.indexes.values()) this.indexRemove(index, key, old);
    this.cache.delete(key);
  }

  private indexAdd(index: Index, key: string, obj: KObject): void {
    for (const value of index.fn(obj)) {
      let keys = index.map.get(value);
      if (!keys) index.map.set(value, (keys = new Set()));
      keys.add(key);
    }
  }

  private indexRemove(index: Index, key: string, obj: KObject): void {
    for (const value of index.fn(obj)) {
      const keys = index.map.get(value);
      if (!keys) continue;
      keys.delete(key);
      if (!keys.size) index.map.delete(value);
    }
  }

  private emit(type: InformerEventType, obj: KObject, old?: KObject): void {
    if (this.stopped) return;
    try {
      this.options.onEvent(type, obj, old);
    } catch (error) {
      this.report(error, 'handler');
    }
  }

  /** Reports a list/watch failure and sleeps for the backoff (woken early by stop/relist). */
  private async failed(error: unknown, during: 'list' | 'watch'): Promise<void> {
    if (this.stopped) return;
    this.counters.failures++;
    this.report(error, during);
    const { initialMs = 800, maxMs = 30_000, resetAfterMs = 120_000 } = this.options.backoff ?? {};
    const now = this.clock.now();
    if (now - this.lastFailureAt > resetAfterMs) this.failuresInRow = 0;
    this.lastFailureAt = now;
    const exp = Math.min(initialMs * 2 ** this.failuresInRow, maxMs);
    this.failuresInRow++;
    let delay = exp * (0.75 + 0.25 * this.random());
    if (isApiError(error, 429) && error.retryAfterSeconds) delay = Math.max(delay, Math.min(error.retryAfterSeconds * 1000, maxMs));
    await new Promise<void>((resolve) => {
      const timer = this.clock.setTimeout(() => {
        this.wake = undefined;
        resolve();
      }, delay);
      this.wake = () => {
        this.clock.clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
    });
  }

  private report(error: unknown, during: 'list' | 'watch' | 'handler'): void {
    if (this.options.onError) {
      try {
        this.options.onError(error, during);
      } catch {
        // a broken reporter must not stop the informer
      }
      return;
    }
    const message = error instanceof Error ? error.message : String(error);
    console.warn(`informer ${this.describe()}: ${during} failed: ${message.split('\n')[0]}`);
  }

  private keyOf(obj: KObject): string {
    return cacheKey(this.ref.namespaced ? obj.metadata.namespace : undefined, obj.metadata.name);
  }

  private describe(): string {
    const scope = this.options.namespace ? ` in ${this.options.namespace}` : '';
    const selector = this.options.labelSelector ? ` (${this.options.labelSelector})` : '';
    return `${this.ref.kind}${scope}${selector}`;
  }
}

/** Shared by every informer in the process: the same values recur across kinds (namespaces, owner references). */
const cacheStrings = new StringInterner();

/** The object as the cache keeps it: without managedFields, its repeated strings shared (shim/intern.ts). */
function strip(obj: KObject): KObject {
  return cacheStrings.internValues(withoutManagedFields(obj));
}

/** 410 Gone/Expired, or a resourceVersion the server has not reached (504 "Too large resource version"). */
function isGone(error: unknown): boolean {
  if (isApiError(error, 410)) return true;
  return isApiError(error, 504) && /too large resource version/i.test(error.message);
}
