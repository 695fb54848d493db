// bench/write-times.ts, the API server's time over a contender's writes that bench/scale.ts prints,
// read from audit log entries as the API server writes them (timestamps with microseconds).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { describeWriteTimes, writeTimes, type TimedEntry } from '../../bench/write-times.ts';

const at = (ms: number) => new Date(Date.UTC(2026, 11, 3, 3, 0, 0) + ms).toISOString().replace('Z', '123Z');
const entry = (verb: string, resource: string, fromMs: number, toMs: number, o: Partial<TimedEntry> = {}): TimedEntry => ({
  verb,
  stage: 'ResponseComplete',
  objectRef: { resource },
  requestReceivedTimestamp: at(fromMs),
  stageTimestamp: at(toMs),
  ...o,
});

test('by verb and resource: count, mean and 90th percentile; reads and unfinished stages left out', () => {
  const services = Array.from({ length: 10 }, (_, i) => entry('patch', 'services', 1000 * i, 1000 * i + 10 * (i + 1)));
  const times = writeTimes([
    ...services,
    entry('patch', 'configmaps', 0, 4),
    entry('patch', 'configmaps', 0, 6),
    entry('patch', 'spicepodsets', 0, 9, { objectRef: { resource: 'spicepodsets', subresource: 'status' } }),
    entry('get', 'configmaps', 0, 500),
    entry('watch', 'configmaps', 0, 60_000),
    entry('create', 'events', 0, 700, { stage: 'RequestReceived' }),
  ]);
  assert.equal(Object.keys(times).sort(), ['patch configmaps', 'patch services', 'patch spicepodsets/status']);
  assert.equal(times['patch services'], { count: 10, meanMs: 55, p90Ms: 100 });
  assert.equal(times['patch configmaps'], { count: 2, meanMs: 5, p90Ms: 6 });
  assert.equal(times['patch spicepodsets/status'], { count: 1, meanMs: 9, p90Ms: 9 });
});

test('described with the most time in all first', () => {
  const line = describeWriteTimes({
    'create events': { count: 1000, meanMs: 3, p90Ms: 6 },
    'patch services': { count: 1000, meanMs: 43.5, p90Ms: 76.9 },
    'patch configmaps': { count: 4000, meanMs: 4.5, p90Ms: 8.5 },
  });
  assert.is(line, 'patch services 1000 × 43.5 ms (p90 77), patch configmaps 4000 × 4.5 ms (p90 9), create events 1000 × 3.0 ms (p90 6)');
  assert.is(describeWriteTimes({ a: { count: 1, meanMs: 1, p90Ms: 1 }, b: { count: 1, meanMs: 2, p90Ms: 2 } }, 1), 'b 1 × 2.0 ms (p90 2)');
});

test.run();
