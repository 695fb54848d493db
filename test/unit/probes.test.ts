// /healthz and /readyz (shim/probes.ts), and informer health as a metric.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { OperatorMetrics } from '../../shim/metrics.ts';
import {
  CHECK_CACHES_FRESH,
  CHECK_CACHES_SYNCED,
  CHECK_STARTED,
  probeHandler,
  readinessOf,
  STALE_CACHE_MS,
  type CacheHealth,
} from '../../shim/probes.ts';
import { checkMetrics, sampleValue } from '../harness/prometheus.ts';

const NOW = 1_800_000_000_000;
const cache = (over: Partial<CacheHealth> = {}): CacheHealth => ({
  kind: 'Pod',
  namespace: '',
  lastListMs: NOW - 1000,
  lastWatchMs: NOW - 1000,
  synced: true,
  watching: true,
  ...over,
});

const failed = (r: ReturnType<typeof readinessOf>) => r.checks.filter((c) => c.failure).map((c) => c.name);

test('ready once started, synced, and every cache watches or listed recently', () => {
  assert.equal(readinessOf({ started: true, synced: true, caches: [cache()], now: NOW }), {
    ready: true,
    checks: [
      { name: CHECK_STARTED, failure: '' },
      { name: CHECK_CACHES_SYNCED, failure: '' },
      { name: CHECK_CACHES_FRESH, failure: '' },
    ],
  });
  assert.equal(failed(readinessOf({ started: false, synced: true, caches: [cache()], now: NOW })), [CHECK_STARTED]);
  const unsynced = readinessOf({
    started: true,
    synced: false,
    caches: [cache({ synced: false, kind: 'Secret', namespace: 'a' })],
    now: NOW,
  });
  assert.equal(failed(unsynced), [CHECK_CACHES_SYNCED]);
  assert.match(unsynced.checks[1]!.failure, 'Secret (namespace a)');
});

test('a cache without a watch and without success for longer than STALE_CACHE_MS makes the operator not ready, naming it', () => {
  const old = NOW - STALE_CACHE_MS - 10_000;
  // Watching now: fine however old the last event (a quiet kind sends none).
  assert.ok(readinessOf({ started: true, synced: true, caches: [cache({ lastListMs: old, lastWatchMs: old })], now: NOW }).ready);
  // Not watching, but failing only since recently (a backoff in progress): still ready.
  assert.ok(
    readinessOf({ started: true, synced: true, caches: [cache({ watching: false, lastListMs: old, lastWatchMs: NOW - 60_000 })], now: NOW })
      .ready,
  );
  const stale = readinessOf({
    started: true,
    synced: true,
    caches: [cache(), cache({ kind: 'SpicepodSet', namespace: 'team', watching: false, lastListMs: old, lastWatchMs: old })],
    now: NOW,
  });
  assert.not.ok(stale.ready);
  assert.equal(failed(stale), [CHECK_CACHES_FRESH]);
  assert.is(
    stale.checks[2]!.failure,
    `SpicepodSet (namespace team) has had no successful list or watch for ${Math.round((STALE_CACHE_MS + 10_000) / 1000)} s`,
  );
});

test("/healthz and /readyz answer in the API server's verbose format, without a Request; other paths are passed on", () => {
  let ready = readinessOf({ started: true, synced: true, caches: [cache()], now: NOW });
  const probes = probeHandler(() => ready);
  const get = (path: string, method = 'GET') => probes(method, path);
  assert.equal(get('/healthz'), { status: 200, headers: { 'content-type': 'text/plain' }, body: '[+]ping ok\nhealthz check passed\n' });
  assert.equal(get('/readyz'), {
    status: 200,
    headers: { 'content-type': 'text/plain' },
    body: '[+]started ok\n[+]informer-sync ok\n[+]informer-fresh ok\nreadyz check passed\n',
  });
  assert.is(get('/readyz', 'HEAD')!.status, 200);
  ready = readinessOf({ started: false, synced: true, caches: [cache()], now: NOW });
  const readyz = get('/readyz')!;
  assert.is(readyz.status, 503);
  assert.match(readyz.body, /^\[-\]started failed: the operator is still starting\n[\s\S]*readyz check failed\n$/);
  assert.equal(get('/readyz', 'POST'), {
    status: 405,
    headers: { 'content-type': 'text/plain', allow: 'GET, HEAD' },
    body: 'method not allowed\n',
  });
  assert.is(get('/default/app'), undefined);
  assert.is(get('/ready'), undefined, 'the status API answers /ready itself');
});

test('informer health: the stalest cache of each kind and namespace, per operation, in seconds', async () => {
  const metrics = new OperatorMetrics();
  let caches = [
    cache({ kind: 'Pod', namespace: '', lastListMs: 5_000, lastWatchMs: 9_000 }),
    cache({ kind: 'Pod', namespace: '', lastListMs: 7_000, lastWatchMs: 8_000 }),
    cache({ kind: 'Secret', namespace: 'ops', lastListMs: 1_000, lastWatchMs: 0 }),
  ];
  metrics.provideInformerHealth(() => caches);
  let f = checkMetrics(await metrics.registry.metrics()).families;
  const name = 'spiceai_operator_informer_last_sync_timestamp_seconds';
  assert.is(f.get(name)!.type, 'GAUGE');
  assert.is(sampleValue(f, name, { kind: 'Pod', namespace: '', operation: 'list' }), 5);
  assert.is(sampleValue(f, name, { kind: 'Pod', namespace: '', operation: 'watch' }), 8);
  assert.is(sampleValue(f, name, { kind: 'Secret', namespace: 'ops', operation: 'watch' }), 0, 'never watched: 0, so time() - it is huge');
  caches = caches.slice(0, 2);
  f = checkMetrics(await metrics.registry.metrics()).families;
  assert.is(sampleValue(f, name, { kind: 'Secret' }), undefined, 'a cache that is gone is no longer exported');
});

test.run();
