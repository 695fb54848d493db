// Records Kubernetes Events the way client-go's EventRecorder does, so that a reconcile never
// waits on one and a repeated Event does not pile up:
// - `record` only queues; one sink writes the queue in order, in the background;
// - the same Event again (same object, type, reason and message) raises the count and
//   lastTimestamp of the one already written (`kubectl describe` shows "x3 over 5m") instead of
//   creating another; an Event the API server has since expired is created anew;
// - a spam filter: each distinct Event may be written 25 times at once, then once per 5 minutes;
// - what cannot be written (a full queue, a refused write) is logged, never thrown: Events are
//   best effort and must not fail the reconcile that recorded them.
// Timestamps, the spam filter and retries read the injected clock (shim/clock.ts).
import { hostname } from 'node:os';
import { realClock, sleep, type Clock, type Timer } from './clock.ts';
import { isApiError, type KObject, type KubeClient } from './kube/client.ts';
import type { Logger } from './log.ts';

export interface EventInfo {
  type: string;
  reason: string;
  message: string;
}

export interface EventRecorderOptions {
  client: Pick<KubeClient, 'create' | 'mergePatch'>;
  /** `source.component` and `reportingComponent`. */
  component: string;
  log: Logger;
  /** Called for each Event written (`create`) or counted again (`patch`). */
  onWrite?: (how: 'create' | 'patch') => void;
  /** Writes of one distinct Event allowed at once (client-go: 25) ... */
  burst?: number;
  /** ... and then one more per this many ms (client-go: 5 minutes). */
  refillMs?: number;
  /** Events waiting to be written; more are dropped (client-go: 1000). */
  maxQueued?: number;
  /** Distinct Events remembered for counting and the spam filter (client-go: 4096). */
  maxRemembered?: number;
  /** Tries per write when the API server cannot be reached or answers 5xx/429, 1 s apart. */
  tries?: number;
  /** Default the real clock. */
  clock?: Clock;
  /** Random source in [0, 1) for Event names. Default Math.random. */
  random?: () => number;
}

interface Pending {
  key: string;
  event: KObject;
}

interface Remembered {
  /** The Event written for this key, and its count; absent until the first write succeeds. */
  name?: string;
  count: number;
  /** Spam filter: tokens left, as of `refilledAt`. */
  tokens: number;
  refilledAt: number;
}

export class EventRecorder {
  private readonly queue: Pending[] = [];
  /** Insertion order is recency: a hit is moved to the end, the oldest is dropped first. */
  private readonly remembered = new Map<string, Remembered>();
  /** The sink while it runs: it runs while the queue is not empty. */
  private sink: Promise<void> | undefined;
  private readonly instance = hostname();
  private droppedFull = 0;
  private readonly burst: number;
  private readonly refillMs: number;
  private readonly clock: Clock;
  private readonly random: () => number;

  constructor(private readonly o: EventRecorderOptions) {
    this.clock = o.clock ?? realClock;
    this.random = o.random ?? Math.random;
    this.burst = o.burst ?? 25;
    this.refillMs = o.refillMs ?? 300_000;
  }

  /** Queues an Event about `involved`; returns at once. */
  record(involved: KObject, info: EventInfo): void {
    const message = info.message.slice(0, 1024);
    const { uid, namespace, name } = involved.metadata;
    const key = [involved.apiVersion, involved.kind, namespace ?? '', name, uid ?? '', info.type, info.reason, message].join('\0');
    const seen = this.remember(key);
    const now = this.clock.now();
    seen.tokens = Math.min(this.burst, seen.tokens + (now - seen.refilledAt) / this.refillMs);
    seen.refilledAt = now;
    if (seen.tokens < 1) {
      this.o.log.debug('event dropped by the spam filter', { kind: involved.kind, name, reason: info.reason });
      return;
    }
    if (this.queue.length >= (this.o.maxQueued ?? 1000)) {
      if (this.droppedFull++ % 100 === 0)
        this.o.log.warn('event dropped: too many waiting to be written', { reason: info.reason, dropped: this.droppedFull });
      return;
    }
    seen.tokens -= 1;
    const at = new Date(now).toISOString();
    this.queue.push({
      key,
      event: {
        apiVersion: 'v1',
        kind: 'Event',
        // As client-go names them: the object's name and the time in hex.
        metadata: {
          name: `${name}.${(BigInt(now) * 1_000_000n + BigInt(Math.floor(this.random() * 1e6))).toString(16)}`,
          namespace: namespace ?? 'default',
        },
        involvedObject: {
          apiVersion: involved.apiVersion,
          kind: involved.kind,
          name,
          namespace,
          uid,
          resourceVersion: involved.metadata.resourceVersion,
        },
        type: info.type,
        reason: info.reason,
        message,
        source: { component: this.o.component },
        reportingComponent: this.o.component,
        reportingInstance: this.instance,
        firstTimestamp: at,
        lastTimestamp: at,
        count: 1,
      },
    });
    this.sink ??= this.drain();
  }

  /** Resolves once every queued Event is written (or given up on), or after `timeoutMs`. */
  async flush(timeoutMs = 5000): Promise<void> {
    let timer: Timer | undefined;
    const expired = new Promise<'expired'>((resolve) => (timer = this.clock.setTimeout(() => resolve('expired'), timeoutMs)));
    try {
      while (this.sink) {
        if ((await Promise.race([this.sink, expired])) === 'expired') {
          this.o.log.warn('events not written before stopping', { waiting: this.queue.length });
          return;
        }
      }
    } finally {
      this.clock.clearTimeout(timer);
    }
  }

  private remember(key: string): Remembered {
    let seen = this.remembered.get(key);
    if (seen) this.remembered.delete(key);
    else seen = { count: 0, tokens: this.burst, refilledAt: this.clock.now() };
    this.remembered.set(key, seen);
    if (this.remembered.size > (this.o.maxRemembered ?? 4096)) this.remembered.delete(this.remembered.keys().next().value!);
    return seen;
  }

  private async drain(): Promise<void> {
    try {
      for (let next = this.queue.shift(); next; next = this.queue.shift()) {
        try {
          await this.write(next);
        } catch (error) {
          this.o.log.warn('could not record an event', { reason: next.event.reason, error });
        }
      }
    } finally {
      // In the same turn as the last shift found the queue empty, so a `record` after it starts a new sink.
      this.sink = undefined;
    }
  }

  private async write({ key, event }: Pending): Promise<void> {
    const seen = this.remembered.get(key);
    if (seen?.name) {
      const count = seen.count + 1;
      try {
        await this.retrying(() =>
          this.o.client.mergePatch('v1', 'Event', event.metadata.namespace, seen.name!, { count, lastTimestamp: event.lastTimestamp }),
        );
        seen.count = count;
        this.o.onWrite?.('patch');
        return;
      } catch (error) {
        if (!isApiError(error, 404)) throw error;
        // Expired (the API server keeps Events for an hour by default): write it anew.
      }
    }
    await this.retrying(() => this.o.client.create(event));
    const now = this.remembered.get(key);
    if (now) Object.assign(now, { name: event.metadata.name, count: 1 });
    this.o.onWrite?.('create');
  }

  private async retrying<T>(write: () => Promise<T>): Promise<T> {
    const tries = this.o.tries ?? 3;
    for (let attempt = 1; ; attempt++) {
      try {
        return await write();
      } catch (error) {
        const transient = !isApiError(error) || error.status >= 500 || error.status === 429;
        if (!transient || attempt >= tries) throw error;
        await sleep(this.clock, 1000);
      }
    }
  }
}
