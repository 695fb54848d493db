// What the benchmarks on a real control plane share (bench/workloads.ts, bench/scale.ts):
// bounded concurrency, polling, CPU and memory of processes, the API server's audit log read
// as it grows (its clock times every run), waiting for a quiet control plane, namespaces.
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { parse } from 'yaml';
import type { HandlerConfig, KubeObject } from '../core/handler.ts';
import { workloadsHandler } from '../functions/workloads/index.ts';
import { KubeClient, type KObject } from '../shim/kube/client.ts';
import { loadKubeConfig } from '../shim/kube/kubeconfig.ts';
import { ENV, envAssignments, NODE_FLAGS } from '../scripts/image/spec.ts';
import { hostArch, nodeRuntime } from '../scripts/image/node-runtime.ts';
import { startControlPlane } from '../test/controlplane/cluster.ts';
import { kubectlOk, type AuditEntry } from '../test/harness/kube.ts';
import { WRITE_VERBS } from './write-times.ts';

export async function pool<T>(items: T[], n: number, fn: (item: T) => Promise<unknown>) {
  const queue = [...items];
  await Promise.all(
    Array.from({ length: n }, async () => {
      for (let item = queue.shift(); item !== undefined; item = queue.shift()) await fn(item);
    }),
  );
}

export const names = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function waitFor(what: string, probe: () => Promise<boolean>, timeoutMs = 600_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

// CPU seconds a process used (this machine has 2 cores shared by all of them): where the time goes.
const CLK_TCK = 100;
export function cpuOf(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8')
      .replace(/^.*\) /, '')
      .split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  } catch {
    return NaN;
  }
}
/** The CPU seconds the whole machine has been busy (all cores; /proc/stat: everything but idle and iowait). */
export function machineBusySeconds(): number {
  const [, ...ticks] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/);
  const t = ticks.map(Number);
  return (t.reduce((a, b) => a + b, 0) - t[3]! - t[4]!) / CLK_TCK;
}
export function cpuSnapshot(pids: Record<string, number>): Record<string, number> {
  const self = process.cpuUsage();
  return { ...Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, cpuOf(pid)])), bench: (self.user + self.system) / 1e6 };
}
export function cpuReport(before: Record<string, number>, after: Record<string, number>): string {
  return Object.keys(after)
    .map((k) => `${k} ${(after[k]! - (before[k] ?? 0)).toFixed(2)}`)
    .join(', ');
}

/**
 * A process's resident memory in MiB: all of it, its peak, and the two parts of it (/proc/PID/status):
 * anonymous (heaps, stacks: the process's own) and file-backed (its executable and libraries mapped
 * from disk, which the kernel can drop and read again, and share between processes).
 */
export function memoryOf(pid: number): { rss: number; peak: number; anon: number; file: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN);
  return { rss: kib('VmRSS') / 1024, peak: kib('VmHWM') / 1024, anon: kib('RssAnon') / 1024, file: kib('RssFile') / 1024 };
}

export type Entry = AuditEntry & { stage: string; stageTimestamp: string; responseStatus?: { code?: number } };

/** The audit log's entries, read as the file grows (only what was added since the last read is parsed). */
export class AuditTail {
  private offset: number;
  private partial = '';
  constructor(
    private readonly path: string,
    private readonly stages: string[] = ['ResponseComplete'],
  ) {
    this.offset = statSync(path).size;
  }
  read(): Entry[] {
    const size = statSync(this.path).size;
    if (size <= this.offset) return [];
    const buffer = Buffer.alloc(size - this.offset);
    const fd = openSync(this.path, 'r');
    try {
      readSync(fd, buffer, 0, buffer.length, this.offset);
    } finally {
      closeSync(fd);
    }
    this.offset = size;
    const lines = (this.partial + buffer.toString('utf8')).split('\n');
    this.partial = lines.pop()!;
    return lines.map((l) => JSON.parse(l) as Entry).filter((e) => this.stages.includes(e.stage));
  }
}

export const agentOf = (e: Entry) => (e.userAgent ?? '').split(' ')[0]!.split('/')[0]!;
export const succeeded = (e: Entry) => (e.responseStatus?.code ?? 0) < 300;
export { WRITE_VERBS };

/**
 * Waits until the control plane has written nothing for 3 s (Lease renewals aside). Each of the
 * controller-manager's controllers sends at most 20 writes a second, so its work for a run (and for
 * deleting the run's namespace: an Endpoints delete per Service, and more) goes on for many seconds
 * after the run; without this wait it would land in the next run, and be timed with it.
 */
export async function quiet(auditLogPath: string, timeoutMs = 300_000) {
  const tail = new AuditTail(auditLogPath);
  const deadline = Date.now() + timeoutMs;
  let last = Date.now();
  while (Date.now() - last < 3000) {
    if (Date.now() > deadline) {
      console.log(`  (the control plane was still writing after ${timeoutMs / 1000}s; going on)`);
      return;
    }
    await sleep(500);
    if (tail.read().some((e) => WRITE_VERBS.includes(e.verb) && e.objectRef?.resource !== 'leases')) last = Date.now();
  }
}

export async function createNamespace(client: KubeClient, name: string) {
  await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
}

/**
 * Deletes a run's namespace and waits until it is gone, so that every run meets the same cluster:
 * creating a Service costs the API server more the more Services exist (its ClusterIP allocator
 * counts them), so a run after one that left its Services behind would pay for them.
 */
export async function dropNamespace(client: KubeClient, name: string, timeoutMs = 600_000) {
  await client.delete('v1', 'Namespace', undefined, name);
  await waitFor(
    `namespace ${name} to be deleted`,
    async () => (await client.get('v1', 'Namespace', undefined, name)) === undefined,
    timeoutMs,
  );
}

/**
 * The operator as the image ships it: its bundled build (tsx's transpiler would inflate its memory),
 * unless SPICEAI_OPERATOR_BIN names another build, with the node flags of the image's ENTRYPOINT
 * (["node", ...flags, script]) and its ENV; test/harness/operator.ts reads them when it starts an operator.
 */
export function useShippedOperator(): void {
  if (!process.env.SPICEAI_OPERATOR_BIN) {
    execFileSync(process.execPath, [new URL('../scripts/bundle.mjs', import.meta.url).pathname], {
      cwd: new URL('..', import.meta.url).pathname,
      stdio: 'ignore',
    });
    process.env.SPICEAI_OPERATOR_BIN = new URL('../dist/spiceai-operator.mjs', import.meta.url).pathname;
  }
  // The image's node flags and ENV (scripts/image/spec.ts; test/unit/image-spec.test.ts holds the Dockerfile to them).
  process.env.SPICEAI_OPERATOR_NODE_FLAGS = [...NODE_FLAGS, process.env.SPICEAI_OPERATOR_NODE_FLAGS ?? ''].join(' ').trim();
  // The image's ENV (the malloc settings), unless the caller set SPICEAI_OPERATOR_ENV (empty: none).
  process.env.SPICEAI_OPERATOR_ENV ??= envAssignments(ENV).join(' ');
  // The image's Node (scripts/image/runtime.json, fetched from npm once and cached), not this one:
  // Node 24 uses less CPU and more memory than Node 20 here. SPICEAI_OPERATOR_NODE=node runs PATH's.
  process.env.SPICEAI_OPERATOR_NODE ||= nodeRuntime(hostArch()).node;
  console.log(
    `operator: ${process.env.SPICEAI_OPERATOR_ENV} ${process.env.SPICEAI_OPERATOR_NODE} ${process.env.SPICEAI_OPERATOR_NODE_FLAGS} ${process.env.SPICEAI_OPERATOR_BIN}`,
  );
}

/**
 * Installs both CRDs as crds/ ships them, and gives the API server time to serve them. With `conversion`
 * 'None' their conversion strategy is None: a bench that creates v1 objects only and runs no operator
 * serving the conversion webhook needs it, as the namespace controller lists every served version
 * (v2 too) to delete a namespace, which fails while nothing answers the shipped Webhook conversion.
 */
export async function installCrds(client: KubeClient, o: { conversion: 'Webhook' | 'None' } = { conversion: 'Webhook' }): Promise<void> {
  for (const crd of ['spicepodsets.spice.ai.yaml', 'spicepodclusters.spice.ai.yaml']) {
    const object = parse(readFileSync(new URL(`../crds/${crd}`, import.meta.url), 'utf8')) as KObject & { spec: { conversion?: unknown } };
    if (o.conversion === 'None') object.spec.conversion = { strategy: 'None' };
    await client.apply(object, { fieldManager: 'bench' });
  }
  await sleep(2000);
}

/** The pids of the control plane's processes, by name, from its state file. */
export const controlPlanePids = (stateDir: string): Record<string, number> =>
  Object.fromEntries(
    (JSON.parse(readFileSync(`${stateDir}/state.json`, 'utf8')).processes as { name: string; pid: number }[]).map((p) => [p.name, p.pid]),
  );

/**
 * Runs a client, then reads the audit log until `done` says the run's writes are all in; the run's
 * time is the API server's, from receiving its first write to completing its last one, and the CPU
 * each of `pids` used meanwhile.
 */
export async function timedByAudit(
  auditLogPath: string,
  pids: Record<string, number>,
  run: () => Promise<unknown>,
  mine: (e: Entry) => boolean,
  done: (writes: Entry[]) => boolean,
): Promise<{ ms: number; cpu: string; cpuSeconds: Record<string, number> }> {
  const tail = new AuditTail(auditLogPath);
  const cpu = cpuSnapshot(pids);
  await run();
  const writes: Entry[] = [];
  const deadline = Date.now() + 600_000;
  for (;;) {
    writes.push(...tail.read().filter((e) => mine(e) && succeeded(e)));
    if (done(writes)) break;
    if (Date.now() > deadline) throw new Error(`timed out: ${writes.length} writes seen`);
    // The times come from the log, so reading it seldom costs no accuracy, and less CPU in the run it times.
    await sleep(250);
  }
  const cpuAfter = cpuSnapshot(pids);
  const first = Math.min(...writes.map((e) => Date.parse(e.requestReceivedTimestamp)));
  const last = Math.max(...writes.map((e) => Date.parse(e.stageTimestamp)));
  return {
    ms: last - first,
    cpu: cpuReport(cpu, cpuAfter),
    cpuSeconds: Object.fromEntries(Object.keys(cpuAfter).map((k) => [k, cpuAfter[k]! - (cpu[k] ?? 0)])),
  };
}

/** The median (the mean of the middle two for an even count). */
export function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * The ratio of two contenders that alternate which runs first each round (round 1: A first), with
 * the order's effect cancelled: the geometric mean of the per-round ratios A/B over the largest even
 * number of rounds, as many with each first. On this machine the first operator run of a round is
 * 1.4 to 1.8 times slower than the second, whichever contender it is (bench/hooks.ts and
 * bench/workloads.ts, December 2026), so a median over an odd number of rounds leans toward the
 * contender that went first more often.
 */
export function orderBalancedRatio(ratios: number[]): number {
  const even = ratios.slice(0, ratios.length - (ratios.length % 2));
  return even.length ? Math.exp(even.reduce((sum, r) => sum + Math.log(r), 0) / even.length) : NaN;
}

/** orderBalancedRatio as the benches print it: "order-balanced (geometric mean of rounds 1-N) R", or why there is none. */
export function orderBalancedText(ratios: number[]): string {
  const even = ratios.length - (ratios.length % 2);
  return even
    ? `order-balanced (geometric mean of rounds 1-${even}) ${orderBalancedRatio(ratios).toFixed(3)}`
    : 'no order-balanced ratio (it needs 2 rounds or more)';
}

/**
 * The benches' control plane (kept in `stateDir`, attached to this process), the test harness pointed
 * at it (operators started through it, audit-log reads), and a client whose requests the audit log
 * names `bench`.
 */
export async function startBenchControlPlane(stateDir: string, extraApiServerFlags: string[] = []) {
  const cp = await startControlPlane({ stateDir, attached: true, log: () => {}, extraApiServerFlags });
  process.env.SPICEAI_TEST_KUBECONFIG = cp.kubeconfigPath;
  process.env.SPICEAI_TEST_AUDIT_LOG = cp.auditLogPath;
  return { cp, client: new KubeClient(loadKubeConfig(cp.kubeconfigPath), { userAgent: 'bench' }) };
}

/** The API server's own count and total seconds of its calls to webhooks, from its /metrics: CRD conversion and admission. */
export interface WebhookCalls {
  conversion: { calls: number; seconds: number };
  admission: { calls: number; seconds: number };
}

/**
 * apiserver_crd_conversion_webhook_duration_seconds and apiserver_admission_webhook_admission_duration_seconds,
 * summed over their labels: how many webhook calls the API server made and how long it waited for them.
 */
export function apiServerWebhookCalls(): WebhookCalls {
  const text = kubectlOk(['get', '--raw', '/metrics']);
  const total = (metric: string) => {
    let calls = 0;
    let seconds = 0;
    for (const line of text.split('\n')) {
      if (line.startsWith(`${metric}_count`)) calls += Number(line.split(' ').pop());
      else if (line.startsWith(`${metric}_sum`)) seconds += Number(line.split(' ').pop());
    }
    return { calls, seconds };
  };
  return {
    conversion: total('apiserver_crd_conversion_webhook_duration_seconds'),
    admission: total('apiserver_admission_webhook_admission_duration_seconds'),
  };
}

/** What the API server spent on webhook calls between two snapshots, as a line. */
export function webhookCallsReport(before: WebhookCalls, after: WebhookCalls): string {
  const part = (name: keyof WebhookCalls) => {
    const calls = after[name].calls - before[name].calls;
    const seconds = after[name].seconds - before[name].seconds;
    return `${name} ${calls} calls, ${seconds.toFixed(2)} s waited${calls ? ` (mean ${((1000 * seconds) / calls).toFixed(2)} ms)` : ''}`;
  };
  return `API server's webhook calls: ${part('conversion')}; ${part('admission')}`;
}

/**
 * The floor the benches measure the operator against: one set's end state written directly, with the
 * workloads handler run inline. The set is created, then the handler's children applied (owned by the
 * set), its status applied and its Events created: what the operator ends with, without the watch,
 * caches and queue between. `planned` is told how many writes the set takes (the create included)
 * before the children are written, so a run's end can be known by counting them.
 */
export async function writeEndState(
  client: KubeClient,
  o: {
    set: string;
    namespace: string;
    spec: Record<string, unknown>;
    config: HandlerConfig;
    fieldManager: string;
    planned?: (writes: number) => void;
  },
): Promise<void> {
  const { set, namespace, fieldManager } = o;
  const parent = await client.create({ apiVersion: 'spice.ai/v1', kind: 'SpicepodSet', metadata: { name: set, namespace }, spec: o.spec });
  const desired = await workloadsHandler.reconcile({
    parent: parent as KubeObject,
    children: [],
    related: {},
    now: Date.now(),
    config: o.config,
  });
  const owner = {
    apiVersion: 'spice.ai/v1',
    kind: 'SpicepodSet',
    name: set,
    uid: parent.metadata.uid!,
    controller: true,
    blockOwnerDeletion: true,
  };
  const events = desired.events ?? [];
  o.planned?.(2 + desired.apply.length + events.length);
  await Promise.all(
    desired.apply.map((obj) =>
      client.apply({ ...obj, metadata: { ...obj.metadata, namespace, ownerReferences: [owner] } } as KObject, { fieldManager }),
    ),
  );
  await client.applyStatus(
    {
      apiVersion: 'spice.ai/v1',
      kind: 'SpicepodSet',
      metadata: { name: set, namespace },
      status: { ...desired.status, observedGeneration: 1 },
    },
    { fieldManager },
  );
  for (const [i, event] of events.entries()) {
    const now = new Date().toISOString();
    await client.create({
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: `${set}.${i}`, namespace },
      involvedObject: { apiVersion: 'spice.ai/v1', kind: 'SpicepodSet', name: set, namespace, uid: parent.metadata.uid },
      ...event,
      source: { component: fieldManager },
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    } as KObject);
  }
}
