// Benchmarks of the workloads handler on a real control plane (prints figures, asserts nothing):
//  1. convergence: 200 SpicepodSets until every child exists, against two baselines in the same
//     run: "end state", a client that writes everything the operator run ends with (the sets, their
//     children, status and Events) directly, and "children", one that writes only the children;
//     prints operator / baseline for each (target <= 1.2), and the CPU each process used; the three
//     runs alternate, --rounds times, and the median ratios are printed last (the machine is noisy).
//     Every run is timed by the API server's clock, from its audit log: from the first write the
//     run's client sent to the response to its last one (for the operator: the last child created),
//     so no run pays for watching or polling how far it has got;
//     Every run starts from the same cluster, idle: each run's namespace is deleted before the next
//     run (the last round's operator run aside), as the cost of creating a Service grows with their
//     number, and the next run waits until the control plane has stopped writing;
//     With --api-version v2 the operator run creates its sets as spice.ai/v2 (the API server converts
//     each through the operator's conversion webhook to the v1 storage version), and with both, each round
//     has a v1 and a v2 operator run (alternating which goes first) and prints v2 / v1 (target <= 1.05);
//     with v2 in play the operator serves its CRD webhooks (conversion and validation) in every run, v1's too,
//     and each operator run prints the API server's calls to them (count, and time waited, from its metrics);
//  2. memory: the operator's RSS with 1,000 more SpicepodSets and their children cached (target <= 150 MiB);
//  3. steady state: writes the operator issues over 60 s with all those sets unchanged (target 0).
//
//   node --import tsx bench/workloads.ts [--sets 200] [--rounds 5] [--memory-sets 1000] [--steady-seconds 60] [--api-version v1|v2|both]
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { desiredConfigMap, desiredDeployment, desiredService } from '../core/manifests/spicepodset.ts';
import { normalizeSpicepodSetSpec } from '../core/spec/normalize.ts';
import { startOperator } from '../test/harness/operator.ts';
import type { KObject } from '../shim/kube/client.ts';
import { registerResource } from '../shim/kube/resources.ts';
import { auditWrites } from '../test/harness/kube.ts';
import {
  agentOf,
  apiServerWebhookCalls,
  webhookCallsReport,
  controlPlanePids,
  createNamespace,
  dropNamespace as dropNs,
  installCrds,
  startBenchControlPlane,
  median,
  names,
  orderBalancedText,
  pool,
  quiet as quietControlPlane,
  timedByAudit,
  useShippedOperator,
  waitFor,
  writeEndState,
  type Entry,
} from './cluster-bench.ts';
import { roundOrder } from './round-order.ts';

const { values } = parseArgs({
  options: {
    sets: { type: 'string', default: '200' },
    'memory-sets': { type: 'string', default: '1000' },
    'steady-seconds': { type: 'string', default: '60' },
    rounds: { type: 'string', default: '5' },
    'api-version': { type: 'string', default: 'v1' },
  },
});
const SETS = Number(values.sets);
const MEMORY_SETS = Number(values['memory-sets']);
const STEADY_SECONDS = Number(values['steady-seconds']);
const ROUNDS = Number(values.rounds);
const API_VERSIONS = values['api-version'] === 'both' ? (['v1', 'v2'] as const) : ([values['api-version']] as ('v1' | 'v2')[]);
if (API_VERSIONS.some((v) => v !== 'v1' && v !== 'v2')) throw new Error('--api-version is v1, v2 or both');
const WITH_V2 = API_VERSIONS.includes('v2');
/** The namespace of a round's operator run in one API version. */
const operatorNs = (round: number, v: 'v1' | 'v2') => (v === 'v1' ? `operator-${round}` : `operator-v2-${round}`);
const WORKERS = 4; // the operator's default --workers; the baseline gets the same concurrency

// The operator runs as the image ships it (its bundle, the ENTRYPOINT's node flags).
useShippedOperator();

const { cp, client } = await startBenchControlPlane(new URL('../.cache/bench-cluster', import.meta.url).pathname);
const config = {
  operatorNamespace: 'default',
  clusterDomain: 'cluster.local',
  pauseCrashloopingPodsThreshold: 10,
  telemetryProperties: {},
};
const spicepod = { version: 'v1', kind: 'Spicepod', name: 'bench' };

async function count(kind: string, apiVersion: string, namespace: string, labelSelector?: string) {
  return (await client.list({ apiVersion, kind }, { namespace, labelSelector })).items.length;
}
/** A run timed by the API server's audit log (cluster-bench.ts). */
const timed = (
  pids: Record<string, number>,
  run: () => Promise<unknown>,
  mine: (e: Entry) => boolean,
  done: (writes: Entry[]) => boolean,
) => timedByAudit(cp.auditLogPath, pids, run, mine, done);
const quiet = () => quietControlPlane(cp.auditLogPath);
const namespace = (name: string) => createNamespace(client, name);
const dropNamespace = (name: string) => dropNs(client, name);

try {
  // Without v2 the operator does not serve conversion: the CRDs then convert nothing (see installCrds).
  await installCrds(client, { conversion: WITH_V2 ? 'Webhook' : 'None' });
  await namespace('spiceai-operator-system');

  const pids = controlPlanePids(cp.stateDir);
  const CHILD_RESOURCES = ['configmaps', 'services', 'deployments'];
  const isChild = (e: Entry) => e.verb === 'patch' && CHILD_RESOURCES.includes(e.objectRef?.resource ?? '') && !e.objectRef?.subresource;

  const spec = normalizeSpicepodSetSpec({ spicepod, replicas: 0 });
  if (!spec.ok) throw new Error('bad bench spec');
  // The operator watches only its rounds' namespaces and the memory one, never the baselines'.
  const operatorNamespaces = Array.from({ length: ROUNDS }, (_, r) => API_VERSIONS.map((v) => operatorNs(r + 1, v))).flat();
  // v2 objects reach the v1 storage version through the operator's conversion webhook, served as `run` serves it.
  const webhooks = WITH_V2 ? ['--enable-crd-webhooks', '--webhook-url', 'https://127.0.0.1:0/mutate'] : [];
  /**
   * The operator's event-loop delay since the last scrape (prom-client's nodejs_eventloop_lag_* gauges,
   * whose histogram each scrape resets): how long a webhook request could wait behind other work.
   */
  const eventLoopLag = async () => {
    const text = await (await fetch(`http://127.0.0.1:${operator.metricsPort}/metrics`)).text();
    const gauge = (name: string) => (1000 * Number(new RegExp(`^${name} (\\S+)`, 'm').exec(text)?.[1] ?? NaN)).toFixed(1);
    return {
      p50: gauge('nodejs_eventloop_lag_p50_seconds'),
      p99: gauge('nodejs_eventloop_lag_p99_seconds'),
      max: gauge('nodejs_eventloop_lag_max_seconds'),
    };
  };
  const operator = await startOperator([
    '--namespaces',
    [...operatorNamespaces, 'memory'].join(','),
    '--operator-namespace',
    'spiceai-operator-system',
    ...webhooks,
  ]);
  await operator.waitForLog((l) => l.msg === 'became leader', 60_000);
  if (WITH_V2) {
    // The bench's client writes v2 (the operator itself reads the v1 storage version only).
    registerResource('spice.ai/v2', 'SpicepodSet', 'spicepodsets', true);
    await operator.waitForLog((l) => l.msg === 'webhook serving', 120_000);
    // Until the API server converts through it (the CRDs name the webhook once it serves).
    await namespace('v2-probe');
    let refused: unknown;
    await waitFor(
      'conversion through the operator',
      () =>
        client
          .create({
            apiVersion: 'spice.ai/v2',
            kind: 'SpicepodSet',
            metadata: { name: 'probe', namespace: 'v2-probe' },
            spec: { spicepod, replicas: 0 },
          })
          .then(
            () => true,
            (error) => {
              refused = (error as Error).message;
              return false;
            },
          ),
      120_000,
    ).catch((error) => {
      throw new Error(`${(error as Error).message}; last refusal: ${refused}`);
    });
    await dropNamespace('v2-probe');
  }
  pids.operator = operator.child.pid!;
  await quiet();
  const rounds: { children: number; endState: number; operator: number; v1?: number; v2?: number }[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    // 1a. Baseline "children": the same three children per set, applied directly with the operator's
    // concurrency (WORKERS sets at a time, a set's children together).
    const childrenNs = `baseline-${round}`;
    await namespace(childrenNs);
    const childrenRun = await timed(
      pids,
      () =>
        pool(names('set', SETS), WORKERS, async (set) => {
          const ctx = { set, namespace: childrenNs, spec: spec.spec, config };
          await Promise.all(
            [desiredConfigMap(ctx), desiredService(ctx), desiredDeployment(ctx, 0)].map((obj) =>
              client.apply(obj as KObject, { fieldManager: 'bench-baseline' }),
            ),
          );
        }),
      (e) => agentOf(e) === 'bench' && e.objectRef?.namespace === childrenNs,
      (writes) => writes.length >= 3 * SETS,
    );
    await quiet();
    await dropNamespace(childrenNs);
    await quiet();

    // 1b. Baseline "end state": everything the operator run ends with, written directly by one client
    // that runs the workloads handler inline: each set created, then the handler's children applied,
    // its status applied and its Events created. The operator run differs only by going through the
    // API server's watch, the operator's caches and its queue.
    const endStateNs = `baseline-all-${round}`;
    await namespace(endStateNs);
    let endStateWrites = 0;
    const endStateRun = await timed(
      pids,
      () =>
        pool(names('set', SETS), WORKERS, (set) =>
          writeEndState(client, {
            set,
            namespace: endStateNs,
            spec: { spicepod, replicas: 0 },
            config,
            fieldManager: 'bench-baseline',
            planned: (writes) => (endStateWrites += writes),
          }),
        ),
      (e) => agentOf(e) === 'bench' && e.objectRef?.namespace === endStateNs,
      (writes) => writes.length >= endStateWrites,
    );
    await quiet();
    await dropNamespace(endStateNs);
    await quiet();

    // 1c. The operator: create the sets (in each API version asked for, alternating which goes first);
    // done when the operator has created every child.
    const byVersion: Partial<Record<'v1' | 'v2', number>> = {};
    const versions = roundOrder(API_VERSIONS, round);
    for (const [i, apiVersion] of versions.entries()) {
      const ns = operatorNs(round, apiVersion);
      const webhooksBefore = WITH_V2 ? apiServerWebhookCalls() : undefined;
      if (WITH_V2) await eventLoopLag(); // resets the operator's event-loop delay histogram
      await namespace(ns);
      const opWall = Date.now();
      const operatorRun = await timed(
        pids,
        () =>
          pool(names('set', SETS), WORKERS, (set) =>
            client.create({
              apiVersion: `spice.ai/${apiVersion}`,
              kind: 'SpicepodSet',
              metadata: { name: set, namespace: ns },
              spec: { spicepod, replicas: 0 },
            }),
          ),
        (e) =>
          e.objectRef?.namespace === ns &&
          ((agentOf(e) === 'bench' && e.verb === 'create') || (agentOf(e) === 'spiceai-operator' && isChild(e))),
        (writes) => new Set(writes.filter(isChild).map((e) => `${e.objectRef!.resource}/${e.objectRef!.name}`)).size >= 3 * SETS,
      );
      byVersion[apiVersion] = operatorRun.ms;
      const s = (ms: number) => `${(ms / 1000).toFixed(2)}s`;
      console.log(
        `convergence round ${round}${API_VERSIONS.length > 1 || apiVersion !== 'v1' ? ` (spice.ai/${apiVersion})` : ''}: ${SETS} sets until every child exists: operator ${s(operatorRun.ms)}; baseline "end state" ${s(endStateRun.ms)} (ratio ${(operatorRun.ms / endStateRun.ms).toFixed(2)}); baseline "children" ${s(childrenRun.ms)} (ratio ${(operatorRun.ms / childrenRun.ms).toFixed(2)})`,
      );
      if (i === 0) {
        console.log(`  CPU seconds, baseline "children": ${childrenRun.cpu}`);
        console.log(`  CPU seconds, baseline "end state": ${endStateRun.cpu}`);
      }
      console.log(`  CPU seconds, operator (spice.ai/${apiVersion}): ${operatorRun.cpu}`);
      if (webhooksBefore) {
        console.log(`  ${webhookCallsReport(webhooksBefore, apiServerWebhookCalls())}`);
        const lag = await eventLoopLag();
        console.log(
          `  the operator's event-loop delay during the run (nodejs_eventloop_lag_*): p50 ${lag.p50} ms, p99 ${lag.p99} ms, max ${lag.max} ms`,
        );
      }
      await new Promise((r) => setTimeout(r, 3000));
      const byWriter = new Map<string, number>();
      for (const e of auditWrites(
        opWall,
        (e) => Date.parse(e.requestReceivedTimestamp) <= opWall + operatorRun.ms && e.objectRef?.resource !== 'leases',
      )) {
        const key = `${(e.userAgent ?? '').split(' ')[0]!.split('/')[0]} ${e.verb} ${e.objectRef?.resource}${e.objectRef?.subresource ? `/${e.objectRef.subresource}` : ''}`;
        byWriter.set(key, (byWriter.get(key) ?? 0) + 1);
      }
      console.log(
        `  writes during the operator run: ${[...byWriter]
          .sort((a, b) => b[1] - a[1])
          .map(([k, n]) => `${k} ${n}`)
          .join(', ')}`,
      );
      // Like a baseline's, the run's sets go before the next run, which would otherwise meet
      // 200 more Services; the last run's stay for the steady-state measurement.
      if (round < ROUNDS || i < versions.length - 1) {
        await quiet();
        await dropNamespace(ns);
        await quiet();
      }
    }
    if (byVersion.v1 && byVersion.v2)
      console.log(`  spice.ai/v2 / spice.ai/v1: ${(byVersion.v2 / byVersion.v1).toFixed(3)} (target <= 1.05)`);
    const operatorMs = byVersion.v1 ?? byVersion.v2!;
    rounds.push({ children: childrenRun.ms, endState: endStateRun.ms, operator: operatorMs, v1: byVersion.v1, v2: byVersion.v2 });
  }
  console.log(
    `load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')} (2 shared cores: the figures mean little on a busy machine)`,
  );
  const ratios = (base: 'children' | 'endState') => rounds.map((r) => r.operator / r[base]);
  console.log(
    `convergence, median of ${ROUNDS} rounds: operator / baseline "end state" ${median(ratios('endState')).toFixed(2)} (target <= 1.2; rounds ${ratios(
      'endState',
    )
      .map((x) => x.toFixed(2))
      .join(', ')}); ` +
      `operator / baseline "children" ${median(ratios('children')).toFixed(2)} (rounds ${ratios('children')
        .map((x) => x.toFixed(2))
        .join(', ')})` +
      (API_VERSIONS.length > 1 ? ' (operator: its spice.ai/v1 runs)' : API_VERSIONS[0] === 'v2' ? ' (operator: spice.ai/v2 runs)' : ''),
  );
  if (API_VERSIONS.length > 1) {
    const v2v1 = rounds.map((r) => r.v2! / r.v1!);
    console.log(
      `convergence: spice.ai/v2 / spice.ai/v1, ${orderBalancedText(v2v1)} (target <= 1.05); median of ${ROUNDS} rounds ${median(v2v1).toFixed(3)} (rounds ${v2v1.map((x) => x.toFixed(3)).join(', ')}); medians v1 ${(median(rounds.map((r) => r.v1!)) / 1000).toFixed(2)}s, v2 ${(median(rounds.map((r) => r.v2!)) / 1000).toFixed(2)}s`,
    );
  }

  // 2. Memory with many sets and their children cached.
  await namespace('memory');
  await pool(names('m', MEMORY_SETS), 4, (set) =>
    client.create({
      apiVersion: 'spice.ai/v1',
      kind: 'SpicepodSet',
      metadata: { name: set, namespace: 'memory' },
      spec: { spicepod, replicas: 0 },
    }),
  );
  await waitFor('memory children', async () => (await count('Deployment', 'apps/v1', 'memory', 'spice.ai/app')) >= MEMORY_SETS, 1_200_000);
  await new Promise((r) => setTimeout(r, 10_000));
  const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${operator.child.pid}/status`, 'utf8'))![1]) / 1024;
  // The operator's own view (prom-client process metrics): how much of that is live JavaScript heap.
  const metrics = await (await fetch(`http://127.0.0.1:${operator.metricsPort}/metrics`)).text();
  const heapUsed = Number(/^nodejs_heap_size_used_bytes (\S+)/m.exec(metrics)?.[1] ?? NaN) / 2 ** 20;
  console.log(
    `memory: operator RSS ${rss.toFixed(0)} MiB (V8 heap in use ${heapUsed.toFixed(0)} MiB) with ${MEMORY_SETS + SETS} SpicepodSets and their children cached (target <= 150 MiB RSS)`,
  );

  // 3. Steady state: nothing changes, nothing may be written (Lease renewals aside).
  await waitFor('statuses to settle', async () => {
    const sets = (
      await Promise.all(
        [...API_VERSIONS.map((v) => operatorNs(ROUNDS, v)), 'memory'].map(
          async (namespace) => (await client.list({ apiVersion: 'spice.ai/v1', kind: 'SpicepodSet' }, { namespace })).items,
        ),
      )
    ).flat();
    return sets.every((s: any) => s.status?.observedGeneration === s.metadata.generation);
  });
  await new Promise((r) => setTimeout(r, 5000));
  const since = Date.now();
  await new Promise((r) => setTimeout(r, STEADY_SECONDS * 1000));
  const writes = auditWrites(since, (e) => !!e.userAgent?.startsWith('spiceai-operator') && e.objectRef?.resource !== 'leases');
  console.log(`steady state: ${writes.length} writes in ${STEADY_SECONDS}s with ${SETS + MEMORY_SETS} unchanged sets (target 0)`);

  await operator.stop();
} finally {
  client.close();
  await cp.stop();
}
