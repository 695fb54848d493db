// A clock tests move by hand (shim/clock.ts): time stands still until
// `advance`, which runs each timer that falls due, in order, at its own time,
// and lets the work it starts (promises on in-memory fakes) settle before the
// next. No real sleeps: a test of a 5-minute spam filter takes milliseconds.
import type { Clock, Timer } from '../../shim/clock.ts';

interface Pending {
  id: number;
  at: number;
  callback: () => void;
}

class FakeTimer implements Timer {
  constructor(readonly id: number) {}
  unref(): this {
    return this;
  }
}

/** Lets queued promise callbacks (and the ones they queue) run. */
export async function settle(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((resolve) => setImmediate(resolve));
}

/**
 * Waits (in real time, at most `withinMs`) until `condition` holds: for work a
 * fake timer started that also waits on real I/O (Web Crypto runs on a thread
 * pool), which settle() alone does not cover.
 */
export async function settledWhen(condition: () => boolean, withinMs = 10_000): Promise<void> {
  const deadline = performance.now() + withinMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`not settled within ${withinMs} ms`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

export class FakeClock implements Clock {
  private time: number;
  private readonly timers = new Map<number, Pending>();
  private nextId = 1;

  constructor(start: number | Date = Date.parse('2026-01-01T00:00:00Z')) {
    this.time = typeof start === 'number' ? start : start.getTime();
  }

  now(): number {
    return this.time;
  }

  setTimeout(callback: () => void, ms: number): Timer {
    const id = this.nextId++;
    this.timers.set(id, { id, at: this.time + Math.max(0, Number.isFinite(ms) ? ms : 0), callback });
    return new FakeTimer(id);
  }

  clearTimeout(timer: Timer | undefined): void {
    if (timer instanceof FakeTimer) this.timers.delete(timer.id);
  }

  /** Timers waiting, as delays from now (ms), soonest first. */
  pending(): number[] {
    return [...this.timers.values()].map((t) => t.at - this.time).sort((a, b) => a - b);
  }

  /** Moves time forward by `ms`, running every timer due by then at its own time, oldest first. */
  async advance(ms: number): Promise<void> {
    const end = this.time + ms;
    for (;;) {
      await settle();
      let next: Pending | undefined;
      for (const t of this.timers.values()) if (t.at <= end && (!next || t.at < next.at || (t.at === next.at && t.id < next.id))) next = t;
      if (!next) break;
      this.timers.delete(next.id);
      this.time = Math.max(this.time, next.at);
      next.callback();
    }
    this.time = end;
    await settle();
  }

  /** Sets the time (forward only), running what falls due on the way. */
  async advanceTo(at: number | Date): Promise<void> {
    const target = typeof at === 'number' ? at : at.getTime();
    await this.advance(Math.max(0, target - this.time));
  }
}
