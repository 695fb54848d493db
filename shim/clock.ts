// The one source of time for the shim's decisions: what time it is (ms since
// the epoch) and timers. The queue, the informers, leader election, the event
// recorder, the webhook's certificate timer and the controllers read it
// instead of Date.now/setTimeout, so tests can drive them with a fake clock
// (test/kit/fake-clock.ts) and no real sleeps (cert-manager injects
// k8s.io/utils/clock the same way).
//
// Durations reported to metrics (queue latency, work time, request time) are
// measurements, not decisions: they keep performance.now, which is monotonic
// and finer than a millisecond.

/** A pending timer; unref() lets the process exit while it waits. */
export interface Timer {
  unref(): unknown;
}

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Calls `callback` once, `ms` from now. */
  setTimeout(callback: () => void, ms: number): Timer;
  /** Cancels a timer (undefined, or one already run or cancelled: nothing happens). */
  clearTimeout(timer: Timer | undefined): void;
}

/** The machine's clock: Date.now and Node's timers. */
export const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (timer) => clearTimeout(timer as ReturnType<typeof setTimeout> | undefined),
};

/** Resolves after `ms` on `clock`; at once when `signal` aborts. Never rejects. */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clock.clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = clock.setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
