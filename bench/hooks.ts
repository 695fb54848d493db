// Benchmark of a handler served as a hook (prints figures, asserts nothing), on a real control plane:
// convergence of --sets SpicepodSets (default 200) until every child exists, by two operators in the
// same run, each as the image ships it (the bundle, the ENTRYPOINT's node flags):
//  - in-process: `run` with every handler in its process (the default);
//  - hooked: `run --handler-url workloads=https://127.0.0.1:PORT` with --handler-ca and a client
//    certificate, the workloads handler answered by `spiceai-operator serve workloads` on loopback over
//    mutual TLS (as test/integration/hooks.test.ts starts it), every other handler in process.
// Both run throughout, on their own Leases and namespaces; each round has one run of each, alternating
// which goes first, from the same idle cluster (the previous run's namespace deleted, the control plane
// quiet). Every run is timed by the API server's clock, from its audit log: from the first set created
// to the last child the operator created. Prints hooked / in-process per round, their order-balanced
// mean (cluster-bench.ts's orderBalancedRatio: the first run of a round is the slower; target <= 1.15)
// and median, the CPU seconds each process used, and the hook's per-call p50/p99 during the hooked runs,
// from the operator's spiceai_operator_hook_request_duration_seconds histogram (interpolated within
// its buckets, as PromQL's histogram_quantile does: the buckets are 1, 2.5, 5, 10, 25, 50 ms...) and
// its mean (_sum / _count).
//
//   node --import tsx bench/hooks.ts [--sets 200] [--rounds 4]   (an even number: each order as often)
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { startOperator, type OperatorProcess } from '../test/harness/operator.ts';
import { startNodeHook } from '../test/hooks/servers.ts';
import { hookClientArgs, hookTlsFiles } from '../test/hooks/tls-files.ts';
import type { KObject } from '../shim/kube/client.ts';
import {
  agentOf,
  controlPlanePids,
  createNamespace,
  dropNamespace,
  installCrds,
  startBenchControlPlane,
  median,
  names,
  orderBalancedText,
  pool,
  quiet,
  timedByAudit,
  useShippedOperator,
  type Entry,
} from './cluster-bench.ts';
import { roundOrder } from './round-order.ts';

const { values } = parseArgs({
  options: { sets: { type: 'string', default: '200' }, rounds: { type: 'string', default: '4' } },
  strict: false,
});
const SETS = Number(values.sets);
const ROUNDS = Number(values.rounds);
const WORKERS = 4; // the operator's default --workers: the sets are created with the same concurrency
const OPERATOR_NS = 'spiceai-operator-system';
const HISTOGRAM = 'spiceai_operator_hook_request_duration_seconds';

useShippedOperator();
const { cp, client } = await startBenchControlPlane(new URL('../.cache/bench-cluster', import.meta.url).pathname);
const spicepod = { version: 'v1', kind: 'Spicepod', name: 'bench' };
const load = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

/** The hook histogram's cumulative bucket counts (le -> count; NaN -> _sum) for the workloads handler's 200 answers. */
async function hookBuckets(op: OperatorProcess): Promise<Map<number, number>> {
  const text = await (await fetch(`http://127.0.0.1:${op.metricsPort}/metrics`)).text();
  const buckets = new Map<number, number>();
  for (const line of text.split('\n')) {
    if (!line.includes('handler="workloads"') || !line.includes('code="200"')) continue;
    if (line.startsWith(`${HISTOGRAM}_sum{`)) buckets.set(NaN, Number(line.split(' ').pop()));
    if (!line.startsWith(`${HISTOGRAM}_bucket{`)) continue;
    const le = /le="([^"]+)"/.exec(line)![1]!;
    buckets.set(le === '+Inf' ? Infinity : Number(le), Number(line.split(' ').pop()));
  }
  return buckets;
}
/** The q-quantile of the calls between two snapshots, interpolated within a bucket (histogram_quantile's rule). */
function quantile(before: Map<number, number>, after: Map<number, number>, q: number): { seconds: number; calls: number } {
  const bounds = [...after.keys()].filter((k) => !Number.isNaN(k)).sort((a, b) => a - b);
  const counts = bounds.map((le) => after.get(le)! - (before.get(le) ?? 0));
  const calls = counts.at(-1) ?? 0;
  const rank = q * calls;
  for (let i = 0; i < bounds.length; i++) {
    if (counts[i]! >= rank) {
      if (bounds[i] === Infinity) return { seconds: bounds[i - 1] ?? NaN, calls };
      const lower = i === 0 ? 0 : bounds[i - 1]!;
      const below = i === 0 ? 0 : counts[i - 1]!;
      return { seconds: lower + (bounds[i]! - lower) * ((rank - below) / Math.max(1, counts[i]! - below)), calls };
    }
  }
  return { seconds: NaN, calls };
}

const tls = await hookTlsFiles();
const hook = await startNodeHook('workloads', ['--tls-cert', tls.serverCert, '--tls-key', tls.serverKey, '--client-ca', tls.caCert]);
const running: OperatorProcess[] = [];
try {
  // v1 objects only, and no operator serving conversion (the namespace controller's v2 reads would fail).
  await installCrds(client, { conversion: 'None' });
  await createNamespace(client, OPERATOR_NS);
  const namespaces = (mode: string) => Array.from({ length: ROUNDS }, (_, r) => `${mode}-${r + 1}`).join(',');
  const common = ['--operator-namespace', OPERATOR_NS];
  const hookArgs = ['--handler-url', `workloads=${hook.url}`, ...hookClientArgs(tls)];
  const operators = {
    'in-process': await startOperator(['--namespaces', namespaces('in-process'), '--lease-name', 'bench-in-process', ...common]),
    hooked: await startOperator(['--namespaces', namespaces('hooked'), '--lease-name', 'bench-hooked', ...common, ...hookArgs]),
  };
  running.push(...Object.values(operators));
  for (const op of running) await op.waitForLog((l) => l.msg === 'became leader', 120_000);
  const pids = {
    ...controlPlanePids(cp.stateDir),
    'in-process': operators['in-process'].child.pid!,
    hooked: operators.hooked.child.pid!,
    hook: hook.child.pid!,
  };
  await quiet(cp.auditLogPath);
  const loadBefore = load();

  const CHILD_RESOURCES = ['configmaps', 'services', 'deployments'];
  const isChild = (e: Entry) => e.verb === 'patch' && CHILD_RESOURCES.includes(e.objectRef?.resource ?? '') && !e.objectRef?.subresource;
  const times: Record<keyof typeof operators, number[]> = { 'in-process': [], hooked: [] };
  let hookBefore = new Map<number, number>();
  let hookAfter = new Map<number, number>();
  for (let round = 1; round <= ROUNDS; round++) {
    const order = roundOrder<keyof typeof operators>(['in-process', 'hooked'], round);
    const line: string[] = [];
    for (const mode of order) {
      const ns = `${mode}-${round}`;
      await createNamespace(client, ns);
      if (mode === 'hooked' && round === 1) hookBefore = await hookBuckets(operators.hooked);
      const run = await timedByAudit(
        cp.auditLogPath,
        pids,
        () =>
          pool(names('set', SETS), WORKERS, (set) =>
            client.create({
              apiVersion: 'spice.ai/v1',
              kind: 'SpicepodSet',
              metadata: { name: set, namespace: ns },
              spec: { spicepod, replicas: 0 },
            } as KObject),
          ),
        (e) =>
          e.objectRef?.namespace === ns &&
          ((agentOf(e) === 'bench' && e.verb === 'create') || (agentOf(e) === 'spiceai-operator' && isChild(e))),
        (writes) => new Set(writes.filter(isChild).map((e) => `${e.objectRef!.resource}/${e.objectRef!.name}`)).size >= 3 * SETS,
      );
      times[mode].push(run.ms);
      if (mode === 'hooked') {
        hookAfter = await hookBuckets(operators.hooked);
      }
      line.push(`${mode} ${(run.ms / 1000).toFixed(2)}s`);
      console.log(`  round ${round} ${mode}: CPU seconds ${run.cpu}`);
      await quiet(cp.auditLogPath);
      await dropNamespace(client, ns);
      await quiet(cp.auditLogPath);
    }
    console.log(
      `hooks round ${round}: ${SETS} sets until every child exists: ${line.join(', ')}; hooked / in-process ${(times.hooked.at(-1)! / times['in-process'].at(-1)!).toFixed(3)}`,
    );
  }
  const ratios = times.hooked.map((h, i) => h / times['in-process'][i]!);
  console.log(
    `hooks, ${SETS} SpicepodSets, load average ${loadBefore} before / ${load()} after (2 shared cores: the figures mean little on a busy machine)`,
  );
  console.log(
    `  hooked / in-process, ${orderBalancedText(ratios)} (target <= 1.15); median of ${ROUNDS} rounds ${median(ratios).toFixed(3)} (rounds ${ratios.map((r) => r.toFixed(3)).join(', ')}); ` +
      `medians in-process ${(median(times['in-process']) / 1000).toFixed(2)}s, hooked ${(median(times.hooked) / 1000).toFixed(2)}s`,
  );
  const p50 = quantile(hookBefore, hookAfter, 0.5);
  const p99 = quantile(hookBefore, hookAfter, 0.99);
  console.log(
    `  workloads hook calls during the hooked runs: ${p50.calls}; per call, as the operator times it (${HISTOGRAM}, HTTP 200): p50 ${(p50.seconds * 1000).toFixed(1)}ms, p99 ${(p99.seconds * 1000).toFixed(1)}ms, mean ${((1000 * ((hookAfter.get(NaN) ?? NaN) - (hookBefore.get(NaN) ?? 0))) / p50.calls).toFixed(1)}ms`,
  );
} finally {
  for (const op of running) await op.stop();
  await hook.stop();
  client.close();
  await cp.stop();
}
