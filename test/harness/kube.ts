// Helpers for integration tests: kubectl against the test cluster, and
// polling. The cluster comes from the test runner (SPICEAI_TEST_KUBECONFIG).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { stringify } from 'yaml';
import { WRITE_VERBS } from '../../bench/write-times.ts';
import { kubectlPath } from './tools.ts';

export function testKubeconfig(): string {
  const path = process.env.SPICEAI_TEST_KUBECONFIG;
  if (!path) throw new Error('SPICEAI_TEST_KUBECONFIG is not set: run integration tests through npm test');
  return path;
}

export interface Run {
  code: number | null;
  out: string;
  err: string;
}

/**
 * spice.ai/v2 is the group's preferred version, so a bare `spicepodset` makes
 * kubectl ask for v2, which the API server converts through the operator's
 * conversion webhook. Tests written against v1/v1alpha1 read those (the
 * storage versions, served without the webhook); the v2 tests name the
 * version (`spicepodsets.v2.spice.ai`) and run an operator serving conversion.
 */
const PINNED: Record<string, string> = {
  spicepodset: 'spicepodsets.v1.spice.ai',
  spicepodsets: 'spicepodsets.v1.spice.ai',
  sps: 'spicepodsets.v1.spice.ai',
  spicepodcluster: 'spicepodclusters.v1alpha1.spice.ai',
  spicepodclusters: 'spicepodclusters.v1alpha1.spice.ai',
  spc: 'spicepodclusters.v1alpha1.spice.ai',
  spice: 'spicepodsets.v1.spice.ai,spicepodclusters.v1alpha1.spice.ai',
};
export function pinStorageVersions(args: string[]): string[] {
  return args.map((arg) => {
    // A list of resources (`deployments,spicepodsets`): each pinned.
    if (arg.includes(',') && !arg.includes('/') && !arg.startsWith('-'))
      return arg
        .split(',')
        .map((r) => PINNED[r] ?? r)
        .join(',');
    const [resource, name] = arg.split('/', 2) as [string, string | undefined];
    const pinned = PINNED[resource];
    if (!pinned) return arg;
    return name === undefined ? pinned : `${pinned}/${name}`;
  });
}

export function kubectl(args: string[], input?: string): Run {
  const r = spawnSync(kubectlPath(), ['--kubeconfig', testKubeconfig(), ...pinStorageVersions(args)], {
    input,
    encoding: 'utf8',
    timeout: 120_000,
    maxBuffer: 64 * 2 ** 20,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** kubectl that must succeed; returns stdout. */
export function kubectlOk(args: string[], input?: string): string {
  const r = kubectl(args, input);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.err}`);
  return r.out;
}

/**
 * Applies both CRDs as crds/ ships them (server-side), so that a test file run first or alone has them;
 * with forceConflicts, taking over fields an earlier file's operator set.
 */
export function applyShippedCrds(o: { forceConflicts?: boolean } = {}): void {
  for (const crd of ['spicepodsets.spice.ai.yaml', 'spicepodclusters.spice.ai.yaml'])
    kubectlOk(
      ['apply', '--server-side', ...(o.forceConflicts ? ['--force-conflicts'] : []), '-f', '-'],
      readFileSync(new URL(`../../crds/${crd}`, import.meta.url), 'utf8'),
    );
}

/** Watches the API server is serving now, of a resource (plural) in one namespace (`apiserver_longrunning_requests`). */
export function namespacedWatches(resource: string): number {
  const line = kubectlOk(['get', '--raw', '/metrics'])
    .split('\n')
    .find(
      (l) =>
        l.startsWith('apiserver_longrunning_requests{') &&
        l.includes(`resource="${resource}"`) &&
        l.includes('scope="namespace"') &&
        l.includes('verb="WATCH"'),
    );
  return line ? Number(line.split(' ').pop()) : 0;
}

export function kubectlJson<T = any>(args: string[]): T {
  return JSON.parse(kubectlOk([...args, '-o', 'json'])) as T;
}

export async function eventually<T>(
  what: string,
  probe: () => T | Promise<T>,
  timeoutMs = 60_000,
  intervalMs = 250,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value as NonNullable<T>;
      last = value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeoutMs}ms waiting for ${what}; last: ${last instanceof Error ? last.message : JSON.stringify(last)}`,
      );
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/**
 * Applies the minimal SpicepodSet `app` (spice.ai/v1) in NAMESPACE and waits for the Deployment the
 * workloads handler makes of it. The Spicepod stays a literal: unit/conformance-spicepod-schema.test.ts
 * checks every fixture by spiced's schema.
 */
export async function applyMinimalSetAndWait(namespace: string): Promise<void> {
  kubectlOk(
    ['apply', '--server-side', '-n', namespace, '-f', '-'],
    stringify({
      apiVersion: 'spice.ai/v1',
      kind: 'SpicepodSet',
      metadata: { name: 'app' },
      spec: { spicepod: { version: 'v1', kind: 'Spicepod', name: 'app' } },
    }),
  );
  await eventually('the Deployment app', () => kubectl(['get', 'deployment', 'app', '-n', namespace]).code === 0 || undefined);
}

/** A fresh namespace for one test file. */
export function freshNamespace(prefix: string): string {
  const name = `${prefix}-${Math.random().toString(36).slice(2, 7)}`;
  kubectlOk(['create', 'namespace', name]);
  return name;
}

/**
 * What a failed wait needs to be diagnosed from CI output alone: each pod's
 * phase and why it is not scheduled or not ready, each claim's phase (of
 * those `selector` picks, e.g. one set's), and the namespace's last Warning
 * events.
 */
export function namespaceState(namespace: string, selector?: string): string {
  const lines: string[] = [];
  const reasonOf = (o: any, type: string) => {
    const c = o.status?.conditions?.find((x: any) => x.type === type);
    return c && c.status !== 'True' ? ` ${type}=${c.status} ${c.reason ?? ''} ${c.message ?? ''}`.trimEnd() : '';
  };
  try {
    for (const p of kubectlJson(['get', 'pods', '-n', namespace, ...(selector ? ['-l', selector] : [])]).items)
      lines.push(`pod ${p.metadata.name}: ${p.status?.phase}${reasonOf(p, 'PodScheduled')}${reasonOf(p, 'Ready')}`);
    for (const c of kubectlJson(['get', 'pvc', '-n', namespace, ...(selector ? ['-l', selector] : [])]).items)
      lines.push(`pvc ${c.metadata.name}: ${c.status?.phase} volume=${c.spec.volumeName ?? '-'}`);
    const warnings = kubectlJson(['get', 'events', '-n', namespace, '--field-selector', 'type=Warning']).items.slice(-8);
    for (const e of warnings) lines.push(`event ${e.involvedObject?.name} ${e.reason}: ${e.message}`);
  } catch (error) {
    lines.push(`(reading the namespace failed: ${(error as Error).message})`);
  }
  return lines.join(' | ');
}

export interface AuditEntry {
  verb: string;
  userAgent?: string;
  objectRef?: { resource?: string; namespace?: string; name?: string; subresource?: string };
  requestReceivedTimestamp: string;
}

/** Write requests (create, update, patch, delete) in the API server's audit log since `sinceMs`. */
export function auditWrites(sinceMs: number, filter: (e: AuditEntry) => boolean = () => true): AuditEntry[] {
  const path = process.env.SPICEAI_TEST_AUDIT_LOG;
  if (!path) throw new Error('SPICEAI_TEST_AUDIT_LOG is not set: run integration tests through npm test');
  const out: AuditEntry[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (!line) continue;
    const e = JSON.parse(line) as AuditEntry & { stage?: string };
    if (e.stage !== 'ResponseComplete' || Date.parse(e.requestReceivedTimestamp) < sinceMs) continue;
    if (WRITE_VERBS.includes(e.verb) && filter(e)) out.push(e);
  }
  return out;
}
