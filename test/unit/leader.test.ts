// Leader election (shim/leader.ts) on an in-memory Lease, driven by a fake
// clock: renewal every retry period, stepping down at the renew deadline when
// renewals fail, and taking over a Lease only once it has gone unrenewed for
// its duration as seen by the local clock (client-go's leaderelection rules).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { LeaderElector } from '../../shim/leader.ts';
import { jsonLogger } from '../../shim/log.ts';
import type { KObject } from '../../shim/kube/client.ts';
import { FakeClock } from '../kit/fake-clock.ts';
import { FakeKube } from '../kit/fake-kube.ts';

const NS = 'spiceai-operator-system';
const log = jsonLogger({ write: () => {} });
const lease = (kube: FakeKube) =>
  kube.find('coordination.k8s.io/v1', 'Lease', NS, 'leader') as (KObject & { spec: Record<string, any> }) | undefined;

function elector(kube: Pick<FakeKube, 'get' | 'create' | 'update'>, clock: FakeClock, identity: string) {
  const seen: string[] = [];
  const e = new LeaderElector({
    client: kube,
    namespace: NS,
    name: 'leader',
    identity,
    log,
    clock,
    random: () => 0, // no jitter: ticks every 2 s exactly
    onStartedLeading: () => seen.push(`started at ${clock.now() - start}`),
    onStoppedLeading: () => seen.push(`stopped at ${clock.now() - start}`),
  });
  return { e, seen };
}
const start = Date.parse('2026-01-01T00:00:00Z');

test("the leader renews the Lease every 2 s with the clock's time, and stays leader", async () => {
  const clock = new FakeClock(start);
  const kube = new FakeKube();
  const { e, seen } = elector(kube, clock, 'a');
  e.start();
  await clock.advance(0);
  assert.equal(seen, ['started at 0']);
  assert.is(lease(kube)!.spec.holderIdentity, 'a');
  for (const at of [2_000, 4_000, 6_000]) {
    await clock.advance(2_000);
    assert.is(Date.parse(lease(kube)!.spec.renewTime), start + at, `renewed at ${at} ms`);
    assert.ok(e.isLeader());
  }
  assert.equal(kube.said(), ['create Lease/leader', 'update Lease/leader', 'update Lease/leader', 'update Lease/leader']);
  await e.stop();
  assert.is(lease(kube)!.spec.holderIdentity, undefined, 'released on stop');
});

test('renewals that keep failing: leader until the 10 s renew deadline, not a tick longer', async () => {
  const clock = new FakeClock(start);
  const kube = new FakeKube();
  let down = false;
  const flaky = {
    get: kube.get.bind(kube),
    create: kube.create.bind(kube),
    update: async (o: KObject) => {
      if (down) throw new Error('connect ECONNREFUSED');
      return kube.update(o);
    },
  };
  const { e, seen } = elector(flaky, clock, 'a');
  e.start();
  await clock.advance(0);
  down = true;
  await clock.advance(8_000);
  assert.ok(e.isLeader(), 'the last renewal (at 0) is 8 s old');
  assert.equal(seen, ['started at 0']);
  await clock.advance(2_000);
  assert.is(e.isLeader(), false);
  assert.equal(seen, ['started at 0', 'stopped at 10000']);
  down = false;
  await clock.advance(2_000);
  assert.ok(e.isLeader(), 'its own Lease is taken again once the API server answers');
  await e.stop();
});

test('a Lease held by another is taken only after it went unrenewed for its duration (15 s), counted from when it last changed', async () => {
  const clock = new FakeClock(start);
  const kube = new FakeKube();
  const renewedBy = (at: number) =>
    kube.put({
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: 'leader', namespace: NS, ...(lease(kube) ? { resourceVersion: lease(kube)!.metadata.resourceVersion } : {}) },
      spec: {
        holderIdentity: 'a',
        leaseDurationSeconds: 15,
        acquireTime: new Date(start).toISOString(),
        renewTime: new Date(at).toISOString(),
        leaseTransitions: 0,
      },
    } as KObject);
  renewedBy(start);
  const { e, seen } = elector(kube, clock, 'b');
  e.start();
  await clock.advance(10_000);
  renewedBy(clock.now()); // a renews once more, at 10 s (after b's tick then), and stops
  await clock.advance(16_000);
  assert.is(e.isLeader(), false, 'at 26 s: b saw the renewal at its 12 s tick, 14 s ago');
  assert.equal(seen, []);
  await clock.advance(2_000);
  assert.equal(seen, ['started at 28000'], 'the first tick more than 15 s after 12 s');
  assert.is(lease(kube)!.spec.holderIdentity, 'b');
  assert.is(lease(kube)!.spec.leaseTransitions, 1);
  await e.stop();
});

test.run();
