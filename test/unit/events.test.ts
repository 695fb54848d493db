// The EventRecorder's time-driven rules (shim/events.ts) with a fake clock and
// an in-memory API: the spam filter's burst of 25 and one more per 5 minutes
// (client-go's EventSourceObjectSpamFilter), the timestamps written, and a
// transient failure retried 1 s later. test/integration/events.test.ts covers
// the same recorder against a real API server.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { EventRecorder } from '../../shim/events.ts';
import type { KObject } from '../../shim/kube/client.ts';
import { jsonLogger } from '../../shim/log.ts';
import { FakeClock } from '../kit/fake-clock.ts';
import { FakeKube } from '../kit/fake-kube.ts';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const MINUTE = 60_000;
const involved: KObject = { apiVersion: 'spice.ai/v1', kind: 'SpicepodSet', metadata: { name: 'demo', namespace: 'apps', uid: 'u1' } };
const crash = { type: 'Warning', reason: 'CrashLooping', message: 'pods keep failing' };

function recorder() {
  const clock = new FakeClock(T0);
  const kube = new FakeKube();
  const lines: any[] = [];
  const r = new EventRecorder({
    client: kube,
    component: 'test',
    log: jsonLogger({ verbose: true, write: (l) => void lines.push(JSON.parse(l)) }),
    clock,
    random: () => 0.5,
  });
  const event = () => [...kube.objects.values()].find((o) => o.kind === 'Event') as any;
  return { clock, kube, r, lines, event };
}

test('spam filter: 25 of the same Event at once, then one more per 5 minutes; another Event is not held back', async () => {
  const { clock, kube, r, lines, event } = recorder();
  for (let i = 0; i < 30; i++) r.record(involved, crash);
  await r.flush();
  assert.is(event().count, 25);
  assert.equal(kube.said().filter((w) => w.startsWith('create')).length, 1, 'one Event, counted up');
  assert.is(lines.filter((l) => l.msg === 'event dropped by the spam filter').length, 5);

  await clock.advance(5 * MINUTE - 1);
  r.record(involved, crash);
  await r.flush();
  assert.is(event().count, 25, 'no token yet a millisecond before 5 minutes');

  await clock.advance(1);
  r.record(involved, crash);
  r.record(involved, crash);
  await r.flush();
  assert.is(event().count, 26, 'one token at 5 minutes: one written, one dropped');
  assert.is(event().lastTimestamp, new Date(T0 + 5 * MINUTE).toISOString(), "lastTimestamp is the clock's time");
  assert.is(event().firstTimestamp, new Date(T0).toISOString());

  r.record(involved, { ...crash, message: 'another message' });
  await r.flush();
  assert.equal(kube.said().filter((w) => w.startsWith('create')).length, 2, 'a different Event has its own budget');
});

test('a 5xx is retried 1 s later by the clock, and the Event is written once', async () => {
  const { clock, kube, r, event } = recorder();
  kube.refuse({ verb: 'create', kind: 'Event', status: 503, reason: 'ServiceUnavailable' });
  r.record(involved, crash);
  await clock.advance(999);
  assert.equal(kube.said(), [], 'not before 1 s');
  await clock.advance(1);
  await r.flush();
  assert.equal(kube.said(), [`create Event/${event().metadata.name}`]);
  assert.is(event().count, 1);
});

test.run();
