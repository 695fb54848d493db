// The operator's probes: /healthz and /readyz (the kubebuilder names, on
// --health-probe-bind-address), and /health and /ready (the product's). Readiness
// is an ordered list of named checks; the answer lists each, as the Kubernetes
// API server's own /readyz?verbose does ("[+]name ok", "[-]name failed: why").
import type { PlainAnswer } from './http.ts';
import type { Informer } from './informer.ts';
import type { InformerHealth } from './metrics.ts';

/** How long a cache may go without a successful list or a working watch before the operator is not ready. */
export const STALE_CACHE_MS = 5 * 60_000;

/** Why the operator is not ready (the names of the failed checks). */
export const CHECK_STARTED = 'started';
export const CHECK_CACHES_SYNCED = 'informer-sync';
export const CHECK_CACHES_FRESH = 'informer-fresh';

export interface CacheHealth extends InformerHealth {
  synced: boolean;
  /** A watch is open now. */
  watching: boolean;
}

export function informerHealth(informers: readonly Informer[]): CacheHealth[] {
  return informers.map((i) => ({
    kind: i.ref.kind,
    namespace: i.scope.namespace ?? '',
    lastListMs: i.lastListOk,
    lastWatchMs: i.lastWatchOk,
    synced: i.hasSynced(),
    watching: i.watchConnected,
  }));
}

export interface ReadinessInput {
  /** startOperator has finished starting (controllers, webhook). */
  started: boolean;
  /** Every controller's caches hold their first list. */
  synced: boolean;
  caches: CacheHealth[];
  now: number;
}

export interface CheckResult {
  name: string;
  /** Empty when the check passed. */
  failure: string;
}

const where = (c: CacheHealth) => `${c.kind} (${c.namespace ? `namespace ${c.namespace}` : 'all namespaces'})`;

/** A cache that neither watches now nor listed or watched successfully within STALE_CACHE_MS. */
export function staleCaches(caches: CacheHealth[], now: number): CacheHealth[] {
  return caches.filter((c) => c.synced && !c.watching && now - Math.max(c.lastListMs, c.lastWatchMs) > STALE_CACHE_MS);
}

const CHECKS: { name: string; check(input: ReadinessInput): string }[] = [
  { name: CHECK_STARTED, check: (i) => (i.started ? '' : 'the operator is still starting') },
  {
    name: CHECK_CACHES_SYNCED,
    check: (i) => {
      const waiting = i.caches.filter((c) => !c.synced);
      return i.synced && !waiting.length ? '' : `waiting for the first list of ${waiting.map(where).join(', ') || 'the caches'}`;
    },
  },
  {
    name: CHECK_CACHES_FRESH,
    check: (i) =>
      staleCaches(i.caches, i.now)
        .map(
          (c) =>
            `${where(c)} has had no successful list or watch for ${Math.round((i.now - Math.max(c.lastListMs, c.lastWatchMs)) / 1000)} s`,
        )
        .join('; '),
  },
];

export function readinessOf(input: ReadinessInput): { ready: boolean; checks: CheckResult[] } {
  const checks = CHECKS.map(({ name, check }) => ({ name, failure: check(input) }));
  return { ready: checks.every((c) => !c.failure), checks };
}

/** A text/plain answer. */
const text = (status: number, body: string, headers: Record<string, string> = {}): PlainAnswer => ({
  status,
  headers: { 'content-type': 'text/plain', ...headers },
  body,
});

/**
 * Answers the probe paths, or undefined for any other request (to be passed on), without building a
 * Request (shim/http.ts, PlainRoute). /healthz: the process serves; /readyz: every readiness check passes.
 */
export function probeHandler(
  readiness: () => { ready: boolean; checks: CheckResult[] },
): (method: string, path: string) => PlainAnswer | undefined {
  return (method, path) => {
    if (path !== '/healthz' && path !== '/readyz') return undefined;
    if (method !== 'GET' && method !== 'HEAD') return text(405, 'method not allowed\n', { allow: 'GET, HEAD' });
    if (path === '/healthz') return text(200, '[+]ping ok\nhealthz check passed\n');
    const { ready, checks } = readiness();
    const lines = checks.map((c) => (c.failure ? `[-]${c.name} failed: ${c.failure}` : `[+]${c.name} ok`));
    lines.push(ready ? 'readyz check passed' : 'readyz check failed');
    return text(ready ? 200 : 503, `${lines.join('\n')}\n`);
  };
}
