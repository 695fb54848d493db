// The work queue against client-go's workqueue rules: dedup while queued, one
// worker per key, re-run once after an add during processing, capped backoff,
// delayed adds, drain on shutdown.
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RetryRateLimiter, WorkQueue } from '../../shim/queue.ts';
import { FakeClock } from '../kit/fake-clock.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const tick = () => new Promise((resolve) => setImmediate(resolve));

/** get() that fails the test instead of hanging forever. */
async function getWithin(q: WorkQueue, ms = 10_000): Promise<string | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`get() did not return within ${ms}ms`)), ms);
  });
  try {
    return await Promise.race([q.get(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

test('a key added several times while queued is handed out once, in FIFO order', async () => {
  const q = new WorkQueue();
  for (const key of ['a', 'b', 'a', 'c', 'b', 'a']) q.add(key);
  assert.is(q.len(), 3);
  assert.equal([await q.get(), await q.get(), await q.get()], ['a', 'b', 'c']);
  assert.is(q.len(), 0);
  q.shutDown();
});

test('get() waits for an add, and concurrent getters each receive a different key', async () => {
  const q = new WorkQueue();
  const first = q.get();
  const second = q.get();
  q.add('x');
  q.add('x');
  q.add('y');
  assert.equal([await first, await second], ['x', 'y']);
  q.shutDown();
});

test('a key is never processed by two workers at once, even when re-added constantly', async () => {
  const q = new WorkQueue();
  const active = new Map<string, number>();
  const maxActive = new Map<string, number>();
  const processed = new Map<string, number>();
  const keys = ['k1', 'k2', 'k3'];
  const worker = async () => {
    for (;;) {
      const key = await q.get();
      if (key === undefined) return;
      const now = (active.get(key) ?? 0) + 1;
      active.set(key, now);
      maxActive.set(key, Math.max(maxActive.get(key) ?? 0, now));
      // Yield several times so other workers run while this key is "processing"
      // and re-adds of it land in the middle of the work.
      for (let i = 0; i < 3; i++) {
        q.add(key);
        await tick();
      }
      active.set(key, active.get(key)! - 1);
      processed.set(key, (processed.get(key) ?? 0) + 1);
      q.done(key);
    }
  };
  const workers = Array.from({ length: 8 }, worker);
  for (let round = 0; round < 50; round++) {
    for (const key of keys) q.add(key);
    await tick();
  }
  await sleep(20);
  await q.shutDownWithDrain();
  await Promise.all(workers);
  for (const key of keys) {
    assert.is(maxActive.get(key), 1, `max concurrency of ${key}`);
    assert.ok((processed.get(key) ?? 0) > 1, `${key} processed repeatedly`);
  }
});

test('an add during processing re-runs the key exactly once after done()', async () => {
  const q = new WorkQueue();
  q.add('a');
  const key = await q.get();
  assert.is(key, 'a');
  q.add('a');
  q.add('a');
  q.add('a');
  assert.is(q.len(), 0, 'not queued while processing');
  assert.equal(q.snapshot().dirty, ['a']);
  q.done('a');
  assert.is(q.len(), 1, 'queued once after done');
  assert.is(await q.get(), 'a');
  q.done('a');
  assert.is(q.len(), 0, 'not queued again');
  q.shutDown();
});

test('done() without an add during processing does not re-queue', async () => {
  const q = new WorkQueue();
  q.add('a');
  await q.get();
  q.done('a');
  assert.is(q.len(), 0);
  assert.equal(q.snapshot(), { queued: [], processing: [], dirty: [], waiting: [] });
  q.shutDown();
});

test('backoff doubles per failure from the base, is capped, and forget() resets it', () => {
  const limiter = new RetryRateLimiter({ baseDelayMs: 5, maxDelayMs: 1000, jitter: 0, retryBucket: false });
  const delays = Array.from({ length: 12 }, () => limiter.when('k'));
  assert.equal(delays, [5, 10, 20, 40, 80, 160, 320, 640, 1000, 1000, 1000, 1000]);
  assert.is(limiter.numRequeues('k'), 12);
  assert.is(limiter.when('other'), 5, 'failures are per key');
  limiter.forget('k');
  assert.is(limiter.numRequeues('k'), 0);
  assert.is(limiter.when('k'), 5);
});

test('the defaults are 5 ms base and 1000 s cap, jitter only shortens the delay', () => {
  const limiter = new RetryRateLimiter({ retryBucket: false, jitter: 0.5, random: () => 0.999 });
  const low = new RetryRateLimiter({ retryBucket: false, jitter: 0.5, random: () => 0 });
  for (let n = 0; n < 40; n++) {
    const exp = Math.min(5 * 2 ** n, 1_000_000);
    const jittered = limiter.when('k');
    assert.ok(jittered <= exp && jittered >= exp * 0.5, `failure ${n}: ${jittered} within [${exp * 0.5}, ${exp}]`);
    assert.is(low.when('k'), exp);
  }
  assert.is(new RetryRateLimiter({ retryBucket: false, jitter: 0 }).when('k'), 5);
});

test('many failures never overflow the cap', () => {
  const limiter = new RetryRateLimiter({ retryBucket: false, jitter: 0, maxDelayMs: 30_000 });
  let last = 0;
  for (let n = 0; n < 2000; n++) last = limiter.when('k');
  assert.is(last, 30_000);
});

test('the global retry bucket delays retries once its burst is spent, and refills over time', async () => {
  const clock = new FakeClock(1_000);
  const limiter = new RetryRateLimiter({ baseDelayMs: 0, jitter: 0, retryBucket: { qps: 10, burst: 3 }, clock });
  const delays = ['a', 'b', 'c', 'd', 'e'].map((k) => limiter.when(k));
  assert.equal(delays, [0, 0, 0, 100, 200], 'burst is free, then one token per 100 ms');
  await clock.advance(1_000); // 10 tokens accrue, the 2 borrowed ones are repaid, burst caps the rest
  assert.equal(
    ['f', 'g', 'h', 'i'].map((k) => limiter.when(k)),
    [0, 0, 0, 100],
  );
  const perKey = new RetryRateLimiter({ baseDelayMs: 50, jitter: 0, retryBucket: { qps: 10, burst: 1 }, clock });
  assert.is(perKey.when('k'), 50, 'the per-key delay wins when larger');
  assert.is(perKey.when('k'), 100);
});

test('addRateLimited re-adds after the backoff and counts requeues; forget resets', async () => {
  const q = new WorkQueue({ baseDelayMs: 5, jitter: 0 });
  q.add('a');
  for (let attempt = 1; attempt <= 3; attempt++) {
    assert.is(await getWithin(q), 'a');
    q.addRateLimited('a');
    assert.is(q.numRequeues('a'), attempt);
    assert.equal(q.snapshot().waiting, ['a'], 'waits for its timer');
    q.done('a');
  }
  assert.is(await getWithin(q), 'a');
  q.forget('a');
  assert.is(q.numRequeues('a'), 0);
  q.done('a');
  q.shutDown();
});

test('fake clock: a failed key comes back exactly after its backoff (5, 10, 20 ms), not a millisecond before', async () => {
  const clock = new FakeClock();
  const q = new WorkQueue({ baseDelayMs: 5, jitter: 0, retryBucket: false, clock });
  q.add('a');
  for (const backoff of [5, 10, 20]) {
    assert.is(await getWithin(q), 'a');
    q.addRateLimited('a');
    q.done('a');
    await clock.advance(backoff - 1);
    assert.is(q.len(), 0, `still waiting at ${backoff - 1} ms`);
    assert.equal(q.snapshot().waiting, ['a']);
    await clock.advance(1);
    assert.equal(q.snapshot().queued, ['a'], `queued at ${backoff} ms`);
  }
  q.forget('a');
  assert.is(await getWithin(q), 'a');
  q.addRateLimited('a');
  q.done('a');
  assert.equal(clock.pending(), [5], 'forget() started the backoff over');
  q.shutDown();
  assert.equal(clock.pending(), [], 'shutDown cancels the timer');
});

test('fake clock: delayed adds fall due in order of their time; an earlier schedule replaces a later one; none counts a failure', async () => {
  const clock = new FakeClock();
  const q = new WorkQueue({ clock });
  q.addAfter('late', 120_000);
  q.addAfter('early', 20_000);
  q.addAfter('middle', 70_000);
  q.addAfter('early', 90_000); // later than its schedule: ignored
  q.addAfter('late', 100_000); // earlier than its schedule: replaces it
  assert.equal(clock.pending(), [20_000, 70_000, 100_000]);
  const seen: string[] = [];
  for (const step of [20_000, 50_000, 30_000]) {
    await clock.advance(step);
    seen.push(...q.snapshot().queued.filter((k) => !seen.includes(k)));
  }
  assert.equal(seen, ['early', 'middle', 'late']);
  assert.is(q.numRequeues('late'), 0);
  await clock.advance(60_000);
  assert.is(q.len(), 3, 'the replaced 120 s schedule adds nothing more');
  q.shutDown();
});

test('addAfter hands keys out in order of their delays, and does not count a failure', async () => {
  const q = new WorkQueue();
  q.addAfter('late', 120);
  q.addAfter('early', 20);
  q.addAfter('middle', 70);
  q.addAfter('now', 0);
  const order = [await getWithin(q), await getWithin(q), await getWithin(q), await getWithin(q)];
  assert.equal(order, ['now', 'early', 'middle', 'late']);
  assert.is(q.numRequeues('late'), 0);
  q.shutDown();
});

test('addAfter: a later, shorter delay wins; a longer one does not postpone', async () => {
  const q = new WorkQueue();
  q.addAfter('a', 60_000);
  q.addAfter('a', 10);
  assert.is(await getWithin(q, 5_000), 'a', 'the 10 ms schedule replaced the 60 s one');
  q.done('a');
  assert.equal(q.snapshot().waiting, [], 'only one timer was kept');
  q.addAfter('b', 10);
  q.addAfter('b', 60_000);
  assert.is(await getWithin(q, 5_000), 'b', 'the 60 s schedule did not postpone the 10 ms one');
  q.shutDown();
});

test('a delayed add of a key that is already queued does not queue it twice', async () => {
  const q = new WorkQueue();
  q.add('a');
  q.addAfter('a', 5);
  await sleep(30);
  assert.is(q.len(), 1);
  q.shutDown();
});

test('shutDownWithDrain waits for in-flight keys, hands out nothing more, then get() is undefined', async () => {
  const q = new WorkQueue();
  q.add('a');
  q.add('b');
  const a = await q.get();
  assert.is(a, 'a');
  let drained = false;
  const drain = q.shutDownWithDrain().then(() => (drained = true));
  assert.is(await q.get(), undefined, 'no new key once draining');
  q.add('c');
  assert.is(q.len(), 1, 'adds are ignored after shutdown (b stays, c not added)');
  await sleep(20);
  assert.is(drained, false, 'still waiting for a');
  q.add('a');
  q.done('a');
  await drain;
  assert.is(drained, true);
  assert.is(await q.get(), undefined);
  assert.equal(q.snapshot().processing, []);
});

test('shutDown releases waiting getters and cancels delayed adds', async () => {
  const q = new WorkQueue();
  const waiting = q.get();
  q.addAfter('x', 10);
  q.shutDown();
  assert.is(await waiting, undefined);
  await sleep(30);
  assert.is(q.len(), 0);
  assert.is(await q.get(), undefined);
  await q.shutDownWithDrain(); // nothing in flight: resolves at once
});

test('metrics hooks see adds, retries, depth, latency and work time; a throwing hook is ignored', async () => {
  const seen = { adds: 0, retries: 0, depths: [] as number[], latencies: 0, work: 0 };
  const q = new WorkQueue({
    baseDelayMs: 1,
    metrics: {
      onAdd: () => {
        seen.adds++;
        throw new Error('broken metrics');
      },
      onRetry: () => seen.retries++,
      onDepth: (n) => seen.depths.push(n),
      onQueueLatency: (s) => {
        assert.ok(s >= 0);
        seen.latencies++;
      },
      onWorkDuration: (s) => {
        assert.ok(s >= 0);
        seen.work++;
      },
    },
  });
  q.add('a');
  q.add('a');
  q.add('b');
  assert.is(seen.adds, 2, 'a deduplicated add is not counted');
  assert.equal(seen.depths, [1, 2]);
  await q.get();
  q.addRateLimited('a');
  q.done('a');
  assert.is(await getWithin(q), 'b');
  q.done('b');
  assert.is(await getWithin(q), 'a');
  q.done('a');
  assert.is(seen.retries, 1);
  assert.is(seen.latencies, 3);
  assert.is(seen.work, 3);
  assert.is(seen.depths.at(-1), 0);
  q.shutDown();
});

type Op = { op: 'add'; key: string } | { op: 'get' } | { op: 'done'; pick: number } | { op: 'addAfter0'; key: string };

test('property: random add/get/done sequences keep the invariants, and every add is processed afterwards', async () => {
  const keyArb = fc.constantFrom('a', 'b', 'c', 'd', 'e');
  const opArb: fc.Arbitrary<Op> = fc.oneof(
    fc.record({ op: fc.constant('add' as const), key: keyArb }),
    fc.record({ op: fc.constant('addAfter0' as const), key: keyArb }),
    fc.record({ op: fc.constant('get' as const) }),
    fc.record({ op: fc.constant('done' as const), pick: fc.nat() }),
  );
  await fc.assert(
    fc.asyncProperty(fc.array(opArb, { maxLength: 80 }), async (ops) => {
      const q = new WorkQueue();
      const held: string[] = []; // keys the model's workers are holding
      // Per key: the step of the last add, and the step of the last hand-out.
      const lastAdd = new Map<string, number>();
      const lastGet = new Map<string, number>();
      let step = 0;
      const check = () => {
        const s = q.snapshot();
        assert.is(new Set(s.queued).size, s.queued.length, `a key is queued twice: ${s.queued}`);
        assert.is(new Set(held).size, held.length, `a key is held by two workers: ${held}`);
        for (const key of s.queued) assert.not.ok(s.processing.includes(key), `${key} is queued and processing`);
        assert.equal([...s.processing].sort(), [...held].sort(), 'processing == keys handed out and not done');
        assert.is(q.len(), s.queued.length);
      };
      const get = async () => {
        const key = await getWithin(q, 1_000);
        assert.type(key, 'string');
        assert.not.ok(held.includes(key!), `${key} handed out while already processing`);
        held.push(key!);
        lastGet.set(key!, step);
      };
      for (const o of ops) {
        step++;
        if (o.op === 'add' || o.op === 'addAfter0') {
          if (o.op === 'add') q.add(o.key);
          else q.addAfter(o.key, 0);
          lastAdd.set(o.key, step);
        } else if (o.op === 'get') {
          if (q.len() > 0) await get();
        } else if (held.length) {
          const [key] = held.splice(o.pick % held.length, 1);
          q.done(key!);
        }
        check();
      }
      // Drain: workers finish what they hold and keep taking until nothing is left.
      while (held.length || q.len()) {
        step++;
        if (q.len()) await get();
        else q.done(held.shift()!);
        check();
      }
      for (const [key, added] of lastAdd) {
        assert.ok((lastGet.get(key) ?? -1) > added, `${key} added at step ${added} but not processed afterwards`);
      }
      q.shutDown();
    }),
    { numRuns: 300 },
  );
});

test.run();
