// A keyed work queue with client-go workqueue semantics
// (k8s.io/client-go/util/workqueue: queue.go, delaying_queue.go,
// default_rate_limiters.go):
// - FIFO, and "stingy": a key added again while it waits is queued once;
// - a key handed out by get() is in `processing` until done(key); adding it
//   meanwhile only marks it dirty, and done() queues it once more, so a key
//   is never processed by two workers at once and no event is lost;
// - addAfter(key, ms) schedules an add (an earlier schedule wins);
// - addRateLimited(key) = addAfter with a per-key exponential backoff
//   (base·2^failures, capped, jittered) and a global token bucket that only
//   retries draw from; forget(key) resets the key's failures.
// One deliberate difference from client-go: after shutDown()/shutDownWithDrain()
// get() hands out nothing more (client-go keeps handing out already-queued
// keys). The operator is level-triggered, so keys not processed now are
// recomputed from a fresh list on the next start.
//
// Delays and the retry bucket read the injected clock (shim/clock.ts), so a
// test drives backoff and delayed adds with a fake one; the latency and work
// time reported to metrics are measured with performance.now.
//
// Hand-off is synchronous: a key is moved to `processing` at the moment get()
// resolves with it, so there is no window in which an add() can queue it twice.
import { realClock, type Clock, type Timer } from './clock.ts';

export interface WorkQueueMetrics {
  /** A key became pending (was not already queued/dirty). */
  onAdd?(): void;
  /** addRateLimited was called. */
  onRetry?(): void;
  /** The number of queued keys changed. */
  onDepth?(depth: number): void;
  /** Time a key waited in the queue before get() handed it out. */
  onQueueLatency?(seconds: number): void;
  /** Time between get() handing a key out and done(key). */
  onWorkDuration?(seconds: number): void;
}

export interface WorkQueueOptions {
  /** Per-key backoff base. Default 5 ms. */
  baseDelayMs?: number;
  /** Per-key backoff cap. Default 1000 s. */
  maxDelayMs?: number;
  /** Fraction by which a backoff delay is randomly shortened, 0..1. Default 0.1. */
  jitter?: number;
  /** Global bucket for retries (client-go: 10 qps, burst 100); false to disable. */
  retryBucket?: { qps: number; burst: number } | false;
  /** Random source in [0, 1), for tests. */
  random?: () => number;
  /** Time of the retry bucket and timers of delayed adds. Default the real clock. */
  clock?: Clock;
  metrics?: WorkQueueMetrics;
}

/** Per-key exponential failure backoff combined with a global token bucket; the larger delay wins. */
export class RetryRateLimiter {
  private readonly failures = new Map<string, number>();
  private readonly base: number;
  private readonly max: number;
  private readonly jitter: number;
  private readonly random: () => number;
  private readonly bucket?: { qps: number; burst: number };
  private readonly clock: Clock;
  private tokens: number;
  private refilledAt: number;

  constructor(options: Pick<WorkQueueOptions, 'baseDelayMs' | 'maxDelayMs' | 'jitter' | 'retryBucket' | 'random' | 'clock'> = {}) {
    this.base = options.baseDelayMs ?? 5;
    this.max = options.maxDelayMs ?? 1_000_000;
    this.jitter = Math.min(1, Math.max(0, options.jitter ?? 0.1));
    this.random = options.random ?? Math.random;
    this.bucket = options.retryBucket === false ? undefined : (options.retryBucket ?? { qps: 10, burst: 100 });
    this.tokens = this.bucket?.burst ?? 0;
    this.clock = options.clock ?? realClock;
    this.refilledAt = this.clock.now();
  }

  /** The delay before the next retry of key, counting this as one more failure. */
  when(key: string): number {
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    const exp = Math.min(this.base * 2 ** n, this.max); // 2**n overflows to Infinity, min() still caps
    const perKey = exp * (1 - this.jitter * this.random());
    return Math.max(perKey, this.reserve());
  }

  forget(key: string): void {
    this.failures.delete(key);
  }

  numRequeues(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  /** Takes a token, possibly in the future (like rate.Limiter.Reserve); returns the wait in ms. */
  private reserve(): number {
    if (!this.bucket) return 0;
    const now = this.clock.now();
    this.tokens = Math.min(this.bucket.burst, this.tokens + ((now - this.refilledAt) / 1000) * this.bucket.qps);
    this.refilledAt = now;
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : (-this.tokens / this.bucket.qps) * 1000;
  }
}

export interface WorkQueueSnapshot {
  queued: string[];
  processing: string[];
  dirty: string[];
  /** Keys waiting for an addAfter/addRateLimited timer. */
  waiting: string[];
}

export class WorkQueue {
  private queue: string[] = [];
  private head = 0;
  private readonly dirty = new Set<string>();
  private readonly processing = new Map<string, number>(); // key -> started (performance.now)
  private readonly addedAt = new Map<string, number>();
  private readonly waiting = new Map<string, { readyAt: number; timer: Timer }>();
  private readonly getters: ((key: string | undefined) => void)[] = [];
  private readonly drainers: (() => void)[] = [];
  private readonly limiter: RetryRateLimiter;
  private readonly metrics: WorkQueueMetrics;
  private readonly clock: Clock;
  private shuttingDown = false;

  constructor(options: WorkQueueOptions = {}) {
    this.limiter = new RetryRateLimiter(options);
    this.metrics = options.metrics ?? {};
    this.clock = options.clock ?? realClock;
  }

  /** Queues key unless it is already pending; a key being processed is re-queued by done(). */
  add(key: string): void {
    if (this.shuttingDown) return;
    if (this.dirty.has(key)) return;
    this.dirty.add(key);
    this.addedAt.set(key, performance.now());
    this.hook(() => this.metrics.onAdd?.());
    if (this.processing.has(key)) return;
    this.push(key);
  }

  /** Adds key after ms; if key is already waiting, the earlier time wins. Not a failure. */
  addAfter(key: string, ms: number): void {
    if (this.shuttingDown) return;
    if (!(ms > 0)) {
      this.add(key);
      return;
    }
    const readyAt = this.clock.now() + ms;
    const existing = this.waiting.get(key);
    if (existing && existing.readyAt <= readyAt) return;
    if (existing) this.clock.clearTimeout(existing.timer);
    const timer = this.clock.setTimeout(() => {
      this.waiting.delete(key);
      this.add(key);
    }, ms);
    this.waiting.set(key, { readyAt, timer });
  }

  /** Adds key after its backoff delay, counting one more failure for it. */
  addRateLimited(key: string): void {
    if (this.shuttingDown) return;
    this.hook(() => this.metrics.onRetry?.());
    this.addAfter(key, this.limiter.when(key));
  }

  /** Clears key's failure count (call after it was processed successfully). */
  forget(key: string): void {
    this.limiter.forget(key);
  }

  numRequeues(key: string): number {
    return this.limiter.numRequeues(key);
  }

  /** The next key (now marked processing), waiting if none is queued; undefined once shut down. */
  get(): Promise<string | undefined> {
    if (this.shuttingDown) return Promise.resolve(undefined);
    if (this.head < this.queue.length) return Promise.resolve(this.take());
    return new Promise((resolve) => this.getters.push(resolve));
  }

  /** Marks key as no longer processing; re-queues it if it was added meanwhile. */
  done(key: string): void {
    const started = this.processing.get(key);
    if (started === undefined) return;
    this.processing.delete(key);
    this.hook(() => this.metrics.onWorkDuration?.((performance.now() - started) / 1000));
    if (this.dirty.has(key) && !this.shuttingDown) this.push(key);
    if (this.processing.size === 0 && this.drainers.length) for (const drained of this.drainers.splice(0)) drained();
  }

  /** Number of queued keys (not counting those processing or waiting for a timer). */
  len(): number {
    return this.queue.length - this.head;
  }

  isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  /** Stops accepting keys and handing them out; pending get() calls resolve with undefined. */
  shutDown(): void {
    if (!this.shuttingDown) {
      this.shuttingDown = true;
      for (const { timer } of this.waiting.values()) this.clock.clearTimeout(timer);
      this.waiting.clear();
      for (const resolve of this.getters.splice(0)) resolve(undefined);
    }
  }

  /** shutDown(), then resolves once every key handed out has been done(). */
  shutDownWithDrain(): Promise<void> {
    this.shutDown();
    if (this.processing.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.drainers.push(resolve));
  }

  /** A copy of the internal sets, for tests and diagnostics. */
  snapshot(): WorkQueueSnapshot {
    return {
      queued: this.queue.slice(this.head),
      processing: [...this.processing.keys()],
      dirty: [...this.dirty],
      waiting: [...this.waiting.keys()],
    };
  }

  /** Seconds of processing not yet done(), summed over the keys in progress: client-go's unfinished_work_seconds. */
  unfinishedWorkSeconds(): number {
    const now = performance.now();
    let total = 0;
    for (const started of this.processing.values()) total += now - started;
    return total / 1000;
  }

  /** Seconds the longest-running key has been processing (0 if none): client-go's longest_running_processor. */
  longestRunningSeconds(): number {
    let oldest = Infinity;
    for (const started of this.processing.values()) oldest = Math.min(oldest, started);
    return oldest === Infinity ? 0 : (performance.now() - oldest) / 1000;
  }

  private push(key: string): void {
    this.queue.push(key);
    this.hook(() => this.metrics.onDepth?.(this.len()));
    while (this.getters.length && this.head < this.queue.length) this.getters.shift()!(this.take());
  }

  private take(): string {
    const key = this.queue[this.head]!;
    this.head += 1;
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    this.processing.set(key, performance.now());
    this.dirty.delete(key);
    const added = this.addedAt.get(key);
    this.addedAt.delete(key);
    this.hook(() => this.metrics.onDepth?.(this.len()));
    if (added !== undefined) this.hook(() => this.metrics.onQueueLatency?.((performance.now() - added) / 1000));
    return key;
  }

  private hook(fn: () => void): void {
    try {
      fn();
    } catch {
      // metrics must never break the queue
    }
  }
}
