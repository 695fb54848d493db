// How the operator's cost grows with scale, side by side with the operator a Go team would write
// instead and with the floor (prints figures, asserts nothing). On one control plane, for each N
// of --sizes and each of --rounds, each contender converges N SpicepodSets from empty in a fresh
// namespace:
//  - ours: the operator's bundle with the image's node flags and ENV (as bench/workloads.ts runs it),
//    watching every namespace, as the chart installs it;
//  - peer: bench/peer, a controller-runtime operator (default cache, For/Owns watches, server-side
//    apply, status update), built by bench/peer/build.sh, with as many concurrent reconciles as ours
//    has workers (--workers);
//  - floor: a raw client writing the same end state directly (bench/workloads.ts's "end state"
//    baseline: each set created, the workloads handler's children applied, its status and Events
//    written), in a process of its own so that its CPU is counted like an operator's.
// Each run is timed by the API server's clock, from its audit log: from the first set's create to
// the first successful write of the last object the end state needs (every child and every set's
// status). Per run it prints the contender's CPU seconds (until the control plane is quiet again),
// peak and settled RSS (and the settled RSS's anonymous and file-backed parts, each by mapping:
// malloc's heap and the rest; the executable's file pages and other files', rss-by-mapping.ts), and
// its API requests by verb (the audit log records every request the benchmark's user sends;
// contenders are told apart by user agent; Lease requests aside) and the API server's time over
// its writes by kind (write-times.ts: where a set's reconcile waits), and the CPU seconds of the
// contender, of each control-plane process and of the whole machine from the start until the bench
// saw it converged (at 400 sets and more the 2 cores are busy 95% of that time or more, so
// convergence is about the CPU it all took over 2, and the API server's work for a contender slows
// it as much as the contender's own); then, for the operators, --steady-seconds with nothing
// changing: writes (target 0) and CPU. While an operator runs, the bench calls its probes and
// scrapes its /metrics as a cluster would (the kubelet every 10 s and 5 s, Prometheus every 30 s,
// each once at start), so that what only those paths load is in its memory too. Runs are
// separated as in bench/workloads.ts: the namespace is deleted and the control plane left to go
// quiet; over every two rounds each pair of contenders runs once in each order (round-order.ts).
// Ratios ours/peer and ours/floor per N, the medians of --rounds, end the output, and with 2 rounds
// or more each round's ours/peer ratio and their order-balanced geometric mean (cluster-bench.ts,
// orderBalancedRatio), for convergence and CPU; the figures go to OUT/scale.json and the plot
// (convergence, CPU and RSS against N) to OUT/scale.svg and OUT/scale.png.
//
//   node --import tsx bench/scale.ts [--sizes 100,200,400,800] [--rounds 1] [--steady-seconds 60]
//     [--contenders ours,peer,floor] [--shape paused|minimal|replicas3] [--workers 4]
//     [--out .cache/bench-scale] [--ours-args "--handlers workloads"] [--profile]
//
// --shape: paused (default) is bench/workloads.ts's set (the minimal spec with replicas 0: a
// ConfigMap, a Service and a Deployment, status Paused); minimal is the minimal example (one
// replica: a pod per set, which kwok makes Ready); replicas3 is three replicas (a headless Service
// and three StatefulSets). With pods, the control plane's own work (scheduler, controllers, kwok)
// runs alongside, and convergence still ends at every child and a first status, not at Ready.
// --profile: ours runs with --cpu-prof and a heap snapshot is taken once it has settled (node's
// --heapsnapshot-signal), the peer with a CPU profile and a pprof heap profile at the same point;
// all go to OUT/profiles, summarized by bench/profile-summary.ts.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startOperator, type OperatorProcess } from '../test/harness/operator.ts';
import { KubeClient } from '../shim/kube/client.ts';
import { loadKubeConfig } from '../shim/kube/kubeconfig.ts';
import {
  AuditTail,
  agentOf,
  cpuOf,
  cpuSnapshot,
  controlPlanePids,
  createNamespace,
  dropNamespace,
  installCrds,
  startBenchControlPlane,
  machineBusySeconds,
  median as medianOf,
  orderBalancedRatio,
  orderBalancedText,
  memoryOf,
  useShippedOperator,
  writeEndState,
  names,
  pool,
  quiet,
  sleep,
  succeeded,
  WRITE_VERBS,
  type Entry,
} from './cluster-bench.ts';
import { renderSvg, scaleTitle, svgToPng, type Panel } from './plot.ts';
import { roundOrder } from './round-order.ts';
import { rssByMappingOf, type RssByMapping } from './rss-by-mapping.ts';
import { describeWriteTimes, requestKind, writeTimes, type WriteTime } from './write-times.ts';

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '100,200,400,800' },
    rounds: { type: 'string', default: '1' },
    'steady-seconds': { type: 'string', default: '60' },
    contenders: { type: 'string', default: 'ours,peer,floor' },
    shape: { type: 'string', default: 'paused' },
    workers: { type: 'string', default: '4' },
    out: { type: 'string', default: '.cache/bench-scale' },
    'ours-args': { type: 'string', default: '' },
    profile: { type: 'boolean', default: false },
    // The floor's own process (internal).
    'floor-namespace': { type: 'string' },
    'floor-sets': { type: 'string' },
    kubeconfig: { type: 'string' },
  },
  // bench/run.ts passes every benchmark the same arguments.
  strict: false,
}) as { values: Record<string, string | boolean | undefined> };

const SHAPES = {
  paused: { spec: { replicas: 0 }, children: (set: string) => [`configmaps/${set}-spicepod`, `services/${set}`, `deployments/${set}`] },
  minimal: { spec: {}, children: (set: string) => [`configmaps/${set}-spicepod`, `services/${set}`, `deployments/${set}`] },
  replicas3: {
    spec: { replicas: 3 },
    children: (set: string) => [
      `configmaps/${set}-spicepod`,
      `services/${set}`,
      `services/${set}-headless`,
      ...[0, 1, 2].map((i) => `statefulsets/${set}-${i}`),
    ],
  },
} as const;
type Shape = keyof typeof SHAPES;
const SHAPE = String(values.shape) as Shape;
if (!(SHAPE in SHAPES)) throw new Error(`--shape ${SHAPE}: expected ${Object.keys(SHAPES).join(', ')}`);
const spicepod = { version: 'v1', kind: 'Spicepod', name: 'bench' };
const setSpec = () => ({ spicepod, ...SHAPES[SHAPE].spec });
const WORKERS = Number(values.workers);
const config = {
  operatorNamespace: 'spiceai-operator-system',
  clusterDomain: 'cluster.local',
  pauseCrashloopingPodsThreshold: 10,
  telemetryProperties: {},
};
const AGENTS = { ours: 'spiceai-operator', peer: 'spicepodset-peer', floor: 'bench-floor' } as const;
type Contender = keyof typeof AGENTS;

// ---------------------------------------------------------------- the floor's process

if (values['floor-namespace']) {
  const namespace = String(values['floor-namespace']);
  const client = new KubeClient(loadKubeConfig(String(values.kubeconfig)), { userAgent: AGENTS.floor });
  await new Promise<void>((r) => process.once('message', () => r()));
  await pool(names('set', Number(values['floor-sets'])), WORKERS, (set) =>
    writeEndState(client, { set, namespace, spec: setSpec(), config, fieldManager: AGENTS.floor }),
  );
  client.close();
  // Stays until told, so that its CPU and memory can be read after the run.
  process.once('message', () => process.exit(0));
  process.send!('done');
  await new Promise(() => {});
}

// ---------------------------------------------------------------- the benchmark

const SIZES = String(values.sizes).split(',').map(Number);
const ROUNDS = Number(values.rounds);
const STEADY_SECONDS = Number(values['steady-seconds']);
const CONTENDERS = String(values.contenders).split(',') as Contender[];
for (const c of CONTENDERS) if (!(c in AGENTS)) throw new Error(`--contenders: unknown ${c} (known: ${Object.keys(AGENTS).join(', ')})`);
const OUT = resolve(String(values.out));
const PROFILES = join(OUT, 'profiles');
mkdirSync(PROFILES, { recursive: true });
const root = new URL('..', import.meta.url).pathname;

// Ours as the image runs it (the bundle on the image's Node with the ENTRYPOINT's node flags), as bench/workloads.ts does.
const profileFlags = values.profile ? `--cpu-prof --diagnostic-dir=${PROFILES} --heapsnapshot-signal=SIGUSR2` : '';
process.env.SPICEAI_OPERATOR_NODE_FLAGS = [process.env.SPICEAI_OPERATOR_NODE_FLAGS ?? '', profileFlags].join(' ').trim();
useShippedOperator();
const OURS_ARGS = String(values['ours-args']).split(' ').filter(Boolean);
const peerBin = CONTENDERS.includes('peer')
  ? join(
      execFileSync('bash', [join(root, 'bench/peer/build.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })
        .trim()
        .split('\n')
        .pop()!,
      'spicepodset-peer',
    )
  : '';
console.log(
  `ours: ${process.env.SPICEAI_OPERATOR_NODE} ${process.env.SPICEAI_OPERATOR_NODE_FLAGS} ${process.env.SPICEAI_OPERATOR_BIN} run ${OURS_ARGS.join(' ')} (--workers ${WORKERS})`,
);
if (peerBin) console.log(`peer: ${peerBin} --max-concurrent-reconciles ${WORKERS}`);
console.log(
  `shape ${SHAPE}: ${JSON.stringify(setSpec())}; sizes ${SIZES.join(', ')}; ${ROUNDS} round(s); contenders ${CONTENDERS.join(', ')}`,
);

// Every request the benchmark's user (all contenders and the bench use the admin credentials)
// sends is audited, reads too, so requests can be counted by verb; the rest of the control plane's
// writes as before (the quiet wait reads them).
const auditPolicy = join(OUT, 'audit-policy.yaml');
writeFileSync(
  auditPolicy,
  `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
- level: Metadata
  users: ["admin"]
- level: Metadata
  verbs: ["create", "update", "patch", "delete", "deletecollection"]
- level: None
`,
);
const { cp, client } = await startBenchControlPlane(join(root, '.cache/bench-scale-cluster'), [`--audit-policy-file=${auditPolicy}`]);
if (cp.reused) console.log('  (a control plane was already running in .cache/bench-scale-cluster: reads may not be audited)');

interface Process {
  pid: number;
  /** What a cluster calls: the liveness and readiness probes, and /metrics (none for the floor). */
  endpoints?: { healthz: string; readyz: string; metrics: string };
  stop(): Promise<unknown>;
  /** At the settled point of a --profile run: a heap snapshot or profile to PROFILES. */
  snapshot?(label: string): Promise<void>;
}

async function startOurs(): Promise<Process> {
  const op: OperatorProcess = await startOperator([
    '--operator-namespace',
    config.operatorNamespace,
    '--workers',
    String(WORKERS),
    ...OURS_ARGS,
  ]);
  await op.waitForLog((l) => l.msg === 'became leader', 60_000);
  const probes = `http://127.0.0.1:${op.probePort ?? op.httpPort}`;
  return {
    pid: op.child.pid!,
    endpoints: { healthz: `${probes}/healthz`, readyz: `${probes}/readyz`, metrics: `http://127.0.0.1:${op.metricsPort}/metrics` },
    stop: () => op.stop(),
    async snapshot() {
      op.child.kill('SIGUSR2');
      await sleep(15_000); // V8 writes it synchronously; give it time before anything else is timed
    },
  };
}

/** A loopback port nothing listens on now. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * Calls an operator's probes and scrapes its /metrics as a cluster does while it runs: the kubelet's
 * liveness and readiness probes (the chart's periods, 10 s and 5 s) and Prometheus (the chart's
 * ServiceMonitor interval, 30 s), each once at start. Returns how to stop, which gives the calls made
 * and those not answered 200.
 */
function callLikeACluster(endpoints: NonNullable<Process['endpoints']>): () => { calls: number; failed: number } {
  let calls = 0;
  let failed = 0;
  const get = (url: string) => {
    calls++;
    fetch(url, { signal: AbortSignal.timeout(5_000) }).then(
      async (response) => {
        await response.arrayBuffer();
        if (response.status !== 200) failed++;
      },
      () => failed++,
    );
  };
  const timers = (
    [
      [endpoints.healthz, 10_000],
      [endpoints.readyz, 5_000],
      [endpoints.metrics, 30_000],
    ] as const
  ).map(([url, ms]) => {
    get(url);
    return setInterval(() => get(url), ms);
  });
  return () => {
    for (const timer of timers) clearInterval(timer);
    return { calls, failed };
  };
}

async function startPeer(label: string): Promise<Process> {
  const profiling = values.profile
    ? ['--cpu-profile', join(PROFILES, `peer-${label}.cpu.pprof`), '--pprof-bind-address', '127.0.0.1:0']
    : [];
  const [metricsPort, probePort] = [await freePort(), await freePort()];
  const child = spawn(
    peerBin,
    [
      '--leader-election-namespace',
      config.operatorNamespace,
      '--max-concurrent-reconciles',
      String(WORKERS),
      '--metrics-bind-address',
      `127.0.0.1:${metricsPort}`,
      '--health-probe-bind-address',
      `127.0.0.1:${probePort}`,
      ...profiling,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, KUBECONFIG: cp.kubeconfigPath } },
  );
  let log = '';
  let pprof = '';
  const started = new Promise<void>((resolve, reject) => {
    child.stderr!.on('data', (d: Buffer) => {
      log = (log + d.toString()).slice(-20_000);
      pprof ||= /"msg":"serving pprof","address":"([^"]+)"/.exec(log)?.[1] ?? '';
      if (log.includes('"msg":"Starting workers"')) resolve();
    });
    child.on('exit', (code) => reject(new Error(`peer exited (${code}):\n${log}`)));
    setTimeout(() => reject(new Error(`peer did not start in 60s:\n${log}`)), 60_000);
  });
  await started;
  const exited = new Promise((r) => child.on('exit', r));
  return {
    pid: child.pid!,
    endpoints: {
      healthz: `http://127.0.0.1:${probePort}/healthz`,
      readyz: `http://127.0.0.1:${probePort}/readyz`,
      metrics: `http://127.0.0.1:${metricsPort}/metrics`,
    },
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
    async snapshot() {
      const heap = await fetch(`http://${pprof}/debug/pprof/heap?gc=1`);
      writeFileSync(join(PROFILES, `peer-${label}.heap.pprof`), Buffer.from(await heap.arrayBuffer()));
    },
  };
}

async function startFloor(namespace: string, n: number): Promise<{ process: Process; go: () => Promise<void> }> {
  const child: ChildProcess = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      new URL(import.meta.url).pathname,
      '--floor-namespace',
      namespace,
      '--floor-sets',
      String(n),
      '--kubeconfig',
      cp.kubeconfigPath,
      '--shape',
      SHAPE,
      '--workers',
      String(WORKERS),
    ],
    {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    },
  );
  const exited = new Promise((r) => child.on('exit', r));
  await sleep(3000); // tsx transpiles and the client loads before the clock starts
  return {
    process: {
      pid: child.pid!,
      stop: () => {
        child.send('exit');
        return exited;
      },
    },
    go: async () => {
      const done = new Promise<void>((resolve) => child.once('message', () => resolve()));
      child.send('go');
      await done;
    },
  };
}

interface RunResult {
  contender: Contender;
  n: number;
  round: number;
  convergenceSeconds: number;
  cpuSecondsToConverge: number;
  cpuSeconds: number;
  peakRssMiB: number;
  settledRssMiB: number;
  /** Of the settled RSS: anonymous memory (the process's own) and file-backed (its executable and libraries). */
  settledAnonMiB: number;
  settledFileMiB: number;
  /** The same by mapping: the executable's file pages apart from other files', malloc's heap apart from other anonymous memory. */
  settledByMapping?: RssByMapping;
  requests: Record<string, number>;
  requestsByResource: Record<string, number>;
  /** The API server's time over its writes (write-times.ts), by kind. */
  writeTimes: Record<string, WriteTime>;
  steady?: { seconds: number; writes: number; cpuSeconds: number; writesBy: Record<string, number> };
  /**
   * From the start until the bench saw it converged (a little after the convergence time's end, the
   * window of cpuSecondsToConverge): the CPU seconds of each control-plane process and of the bench,
   * and of the whole machine, which has 2 cores.
   */
  converging: { seconds: number; machineCpuSeconds: number; cpuSeconds: Record<string, number> };
  /** Probes and scrapes made while it ran (callLikeACluster), and how many were not answered 200. */
  clusterCalls?: { calls: number; failed: number };
}

/** Requests of one user agent by verb (a watch counts when it starts), Lease requests aside. */
function countRequests(entries: Entry[], agent: string) {
  const byVerb: Record<string, number> = {};
  const byResource: Record<string, number> = {};
  for (const e of entries) {
    if (agentOf(e) !== agent || e.objectRef?.resource === 'leases') continue;
    if (e.stage !== (e.verb === 'watch' ? 'ResponseStarted' : 'ResponseComplete')) continue;
    byVerb[e.verb] = (byVerb[e.verb] ?? 0) + 1;
    const key = requestKind(e);
    byResource[key] = (byResource[key] ?? 0) + 1;
  }
  return { byVerb, byResource };
}

async function run(contender: Contender, n: number, round: number): Promise<RunResult> {
  const namespace = `${contender}-${n}-r${round}`;
  const label = `${n}-r${round}`;
  const agent = AGENTS[contender];
  await createNamespace(client, namespace);
  // Read from before the contender starts, so that its start-up requests (lists, watches) count too.
  const tail = new AuditTail(cp.auditLogPath, ['ResponseStarted', 'ResponseComplete']);
  let proc: Process;
  let go: () => Promise<unknown>;
  if (contender === 'floor') {
    const floor = await startFloor(namespace, n);
    proc = floor.process;
    go = floor.go;
  } else {
    proc = contender === 'ours' ? await startOurs() : await startPeer(label);
    go = () =>
      pool(names('set', n), WORKERS, (set) =>
        client.create({ apiVersion: 'spice.ai/v1', kind: 'SpicepodSet', metadata: { name: set, namespace }, spec: setSpec() }),
      );
  }
  const stopCalls = proc.endpoints ? callLikeACluster(proc.endpoints) : undefined;
  await quiet(cp.auditLogPath);

  const required = new Set(names('set', n).flatMap((set) => [...SHAPES[SHAPE].children(set), `spicepodsets/status/${set}`]));
  const firstWrite = new Map<string, number>();
  const entries: Entry[] = [];
  let start = Infinity;
  const take = () => {
    for (const e of tail.read()) {
      entries.push(e);
      if (e.stage !== 'ResponseComplete' || e.objectRef?.namespace !== namespace || !succeeded(e) || !WRITE_VERBS.includes(e.verb))
        continue;
      if (e.verb === 'create' && e.objectRef.resource === 'spicepodsets') start = Math.min(start, Date.parse(e.requestReceivedTimestamp));
      if (agentOf(e) !== agent) continue;
      const key = `${e.objectRef.resource}${e.objectRef.subresource ? `/${e.objectRef.subresource}` : ''}/${e.objectRef.name}`;
      if (required.has(key) && !firstWrite.has(key)) firstWrite.set(key, Date.parse(e.stageTimestamp));
    }
  };
  const cpu0 = cpuOf(proc.pid);
  const window0 = { at: Date.now(), machine: machineBusySeconds(), processes: cpuSnapshot(controlPlanePids(cp.stateDir)) };
  await go();
  const deadline = Date.now() + 30 * 60_000;
  for (take(); firstWrite.size < required.size; take()) {
    if (Date.now() > deadline)
      throw new Error(`${contender} ${n}: ${firstWrite.size} of ${required.size} objects written after 30 minutes`);
    await sleep(250);
  }
  const cpuConverged = cpuOf(proc.pid) - cpu0;
  const processes = cpuSnapshot(controlPlanePids(cp.stateDir));
  const converging = {
    seconds: (Date.now() - window0.at) / 1000,
    machineCpuSeconds: machineBusySeconds() - window0.machine,
    cpuSeconds: Object.fromEntries(Object.entries(processes).map(([name, s]) => [name, s - (window0.processes[name] ?? 0)])),
  };
  const convergence = (Math.max(...firstWrite.values()) - start) / 1000;
  await quiet(cp.auditLogPath);
  take();
  const cpu = cpuOf(proc.pid) - cpu0;
  const { byVerb, byResource } = countRequests(entries, agent);
  const apiWriteTimes = writeTimes(entries.filter((e) => agentOf(e) === agent && e.objectRef?.resource !== 'leases'));
  let memory = { rss: NaN, peak: NaN, anon: NaN, file: NaN };
  let byMapping: RssByMapping | undefined;
  let steady: RunResult['steady'];
  let clusterCalls: RunResult['clusterCalls'];
  if (contender === 'floor') {
    memory = memoryOf(proc.pid); // a tsx process: its memory is not an operator's, and is not plotted
    await proc.stop();
  } else {
    await sleep(5000);
    memory = memoryOf(proc.pid);
    byMapping = rssByMappingOf(proc.pid);
    if (values.profile) await proc.snapshot?.(label);
    if (STEADY_SECONDS > 0) {
      const steadyTail = new AuditTail(cp.auditLogPath);
      const c0 = cpuOf(proc.pid);
      await sleep(STEADY_SECONDS * 1000);
      const writes = steadyTail
        .read()
        .filter((e) => agentOf(e) === agent && WRITE_VERBS.includes(e.verb) && e.objectRef?.resource !== 'leases');
      const writesBy: Record<string, number> = {};
      for (const e of writes) writesBy[`${e.verb} ${e.objectRef?.resource}`] = (writesBy[`${e.verb} ${e.objectRef?.resource}`] ?? 0) + 1;
      steady = { seconds: STEADY_SECONDS, writes: writes.length, cpuSeconds: cpuOf(proc.pid) - c0, writesBy };
    }
    clusterCalls = stopCalls?.();
    await proc.stop();
  }
  await quiet(cp.auditLogPath);
  await dropNamespace(client, namespace, 1_200_000);
  await quiet(cp.auditLogPath);
  return {
    contender,
    n,
    round,
    convergenceSeconds: convergence,
    cpuSecondsToConverge: cpuConverged,
    converging,
    cpuSeconds: cpu,
    peakRssMiB: memory.peak,
    settledRssMiB: memory.rss,
    settledAnonMiB: memory.anon,
    settledFileMiB: memory.file,
    ...(byMapping ? { settledByMapping: byMapping } : {}),
    requests: byVerb,
    requestsByResource: byResource,
    writeTimes: apiWriteTimes,
    steady,
    clusterCalls,
  };
}

const cores = availableParallelism();
const fmt = (x: number, digits = 2) => (Number.isFinite(x) ? x.toFixed(digits) : '-');
const median = (xs: number[]) => {
  const finite = xs.filter(Number.isFinite);
  return finite.length ? medianOf(finite) : NaN;
};
const VERBS = ['get', 'list', 'watch', 'create', 'patch', 'update', 'delete'];
/** The settled RSS's parts: anonymous and file-backed, and what each holds when the mappings were read. */
function settledParts(r: RunResult): string {
  const m = r.settledByMapping;
  if (!m) return `anonymous ${fmt(r.settledAnonMiB, 0)}, file-backed ${fmt(r.settledFileMiB, 0)}`;
  return (
    `anonymous ${fmt(r.settledAnonMiB, 0)}: malloc heap ${fmt(m.mallocHeap, 0)}, other ${fmt(m.otherAnonymous, 0)}; ` +
    `file-backed ${fmt(r.settledFileMiB, 0)}: executable ${fmt(m.executable, 0)}, other files ${fmt(m.otherFiles, 0)}`
  );
}
function printRun(r: RunResult) {
  const verbs = VERBS.filter((v) => r.requests[v])
    .map((v) => `${v} ${r.requests[v]}`)
    .join(', ');
  console.log(
    `  ${r.contender.padEnd(5)} N=${String(r.n).padEnd(5)} converged ${fmt(r.convergenceSeconds)}s; CPU ${fmt(r.cpuSecondsToConverge)}s to converge, ${fmt(r.cpuSeconds)}s until quiet; RSS peak ${fmt(r.peakRssMiB, 0)} MiB, settled ${fmt(r.settledRssMiB, 0)} MiB (${settledParts(r)}); requests: ${verbs}` +
      (r.steady
        ? `; steady ${r.steady.seconds}s: ${r.steady.writes} writes${
            r.steady.writes
              ? ` (${Object.entries(r.steady.writesBy)
                  .map(([k, v]) => `${k} ${v}`)
                  .join(', ')})`
              : ''
          }, CPU ${fmt(r.steady.cpuSeconds)}s`
        : '') +
      (r.clusterCalls ? `; probes and scrapes: ${r.clusterCalls.calls} (${r.clusterCalls.failed} not answered 200)` : ''),
  );
  const c = r.converging;
  console.log(
    `        CPU s while converging (${fmt(c.seconds)}s until the bench saw it): ${Object.entries({
      [r.contender]: r.cpuSecondsToConverge,
      ...c.cpuSeconds,
    })
      .sort(([, a], [, b]) => b - a)
      .map(([name, s]) => `${name} ${fmt(s)}`)
      .join(', ')}; the machine ${fmt(c.machineCpuSeconds)} of ${fmt(c.seconds * cores)}`,
  );
  console.log(`        the API server's time over its writes, the most in all first: ${describeWriteTimes(r.writeTimes)}`);
}

const results: RunResult[] = [];
const loadBefore = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const started = Date.now();
try {
  // Nobody here serves CRD conversion: with the shipped Webhook strategy, deleting a namespace would wait on it.
  await installCrds(client, { conversion: 'None' });
  await createNamespace(client, config.operatorNamespace);
  for (const n of SIZES) {
    for (let round = 1; round <= ROUNDS; round++) {
      // Over every two rounds each pair of contenders runs once in each order (round-order.ts).
      const order = roundOrder(CONTENDERS, round);
      for (const contender of order) {
        const r = await run(contender, n, round);
        results.push(r);
        printRun(r);
        writeFileSync(
          join(OUT, 'scale.json'),
          JSON.stringify({ shape: SHAPE, spec: setSpec(), workers: WORKERS, oursArgs: OURS_ARGS, rounds: ROUNDS, results }, null, 2),
        );
      }
    }
  }
} finally {
  client.close();
  await cp.stop();
}

// ---------------------------------------------------------------- summary, JSON and the plot

type Measure = 'convergenceSeconds' | 'cpuSeconds' | 'peakRssMiB' | 'settledRssMiB';
const med = (contender: Contender, n: number, measure: Measure) =>
  median(results.filter((r) => r.contender === contender && r.n === n).map((r) => r[measure]));
const summary = SIZES.map((n) => ({
  n,
  ...Object.fromEntries(
    CONTENDERS.map((c) => [
      c,
      {
        convergenceSeconds: med(c, n, 'convergenceSeconds'),
        cpuSeconds: med(c, n, 'cpuSeconds'),
        cpuMsPerSet: (med(c, n, 'cpuSeconds') / n) * 1000,
        peakRssMiB: med(c, n, 'peakRssMiB'),
        settledRssMiB: med(c, n, 'settledRssMiB'),
        steadyWrites: median(results.filter((r) => r.contender === c && r.n === n && r.steady).map((r) => r.steady!.writes)),
        steadyCpuSeconds: median(results.filter((r) => r.contender === c && r.n === n && r.steady).map((r) => r.steady!.cpuSeconds)),
      },
    ]),
  ),
})) as ({ n: number } & Partial<Record<Contender, Record<string, number>>>)[];
const ratio = (a: number | undefined, b: number | undefined) => (a !== undefined && b !== undefined && b > 0 ? a / b : NaN);

console.log(
  `\nscale: shape ${SHAPE}, median of ${ROUNDS} round(s); ${Math.round((Date.now() - started) / 60_000)} min; load average ${loadBefore} before / ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')} after (2 shared cores: indicative figures)`,
);
console.log('     N | contender | converge s | CPU s | CPU ms/set | peak RSS MiB | settled RSS MiB | steady writes | steady CPU s');
for (const row of summary) {
  for (const c of CONTENDERS) {
    const s = row[c]!;
    console.log(
      `${String(row.n).padStart(6)} | ${c.padEnd(9)} | ${fmt(s.convergenceSeconds).padStart(10)} | ${fmt(s.cpuSeconds).padStart(5)} | ${fmt(s.cpuMsPerSet, 1).padStart(10)} | ${fmt(s.peakRssMiB, 0).padStart(12)} | ${fmt(s.settledRssMiB, 0).padStart(15)} | ${fmt(s.steadyWrites, 0).padStart(13)} | ${fmt(s.steadyCpuSeconds).padStart(12)}`,
    );
  }
}
const ratios = summary.map((row) => ({
  n: row.n,
  oursOverPeer: {
    convergence: ratio(row.ours?.convergenceSeconds, row.peer?.convergenceSeconds),
    cpu: ratio(row.ours?.cpuSeconds, row.peer?.cpuSeconds),
    peakRss: ratio(row.ours?.peakRssMiB, row.peer?.peakRssMiB),
    settledRss: ratio(row.ours?.settledRssMiB, row.peer?.settledRssMiB),
  },
  oursOverFloor: {
    convergence: ratio(row.ours?.convergenceSeconds, row.floor?.convergenceSeconds),
    cpu: ratio(row.ours?.cpuSeconds, row.floor?.cpuSeconds),
  },
}));
console.log('ratios        N | ours/peer: converge  CPU  peak RSS  settled RSS | ours/floor: converge  CPU');
for (const r of ratios) {
  console.log(
    `       ${String(r.n).padStart(6)} |            ${fmt(r.oursOverPeer.convergence).padStart(8)} ${fmt(r.oursOverPeer.cpu).padStart(4)} ${fmt(r.oursOverPeer.peakRss).padStart(9)} ${fmt(r.oursOverPeer.settledRss).padStart(12)} |             ${fmt(r.oursOverFloor.convergence).padStart(8)} ${fmt(r.oursOverFloor.cpu).padStart(4)}`,
  );
}
// With 2 rounds or more: each round's ours/peer ratio, and their geometric mean over as many rounds
// with ours first as with the peer first (the run's place in its round moves its time as much as
// the contenders differ).
const perRound = (n: number, measure: Measure) =>
  Array.from({ length: ROUNDS }, (_, i) => {
    const of = (c: Contender) => results.find((r) => r.contender === c && r.n === n && r.round === i + 1)?.[measure];
    return ratio(of('ours'), of('peer'));
  });
const roundRatios =
  ROUNDS > 1 && CONTENDERS.includes('ours') && CONTENDERS.includes('peer')
    ? summary.map(({ n }) => {
        const convergence = perRound(n, 'convergenceSeconds');
        const cpu = perRound(n, 'cpuSeconds');
        console.log(
          `ours/peer at N=${n}, converge: by round ${convergence.map((r) => fmt(r)).join(', ')}; ${orderBalancedText(convergence)}`,
        );
        console.log(`ours/peer at N=${n}, CPU: by round ${cpu.map((r) => fmt(r)).join(', ')}; ${orderBalancedText(cpu)}`);
        return {
          n,
          convergence,
          cpu,
          orderBalanced: { convergence: orderBalancedRatio(convergence), cpu: orderBalancedRatio(cpu) },
        };
      })
    : undefined;
const first = summary[0]?.ours?.cpuMsPerSet;
const last = summary.at(-1)?.ours?.cpuMsPerSet;
if (summary.length > 1 && first && last)
  console.log(`ours: CPU per set at N=${summary.at(-1)!.n} is ${fmt(last / first)}x that at N=${summary[0]!.n}`);

const json = join(OUT, 'scale.json');
writeFileSync(
  json,
  JSON.stringify(
    {
      shape: SHAPE,
      spec: setSpec(),
      workers: WORKERS,
      oursArgs: OURS_ARGS,
      rounds: ROUNDS,
      loadBefore,
      summary,
      ratios,
      roundRatios,
      results,
    },
    null,
    2,
  ),
);
const points = (measure: Measure, contenders: Contender[]) =>
  summary.flatMap((row) => contenders.filter((c) => row[c]).map((c) => ({ contender: c, n: row.n, value: row[c]![measure]! })));
const operators = CONTENDERS.filter((c) => c !== 'floor');
const panels: Panel[] = [
  { title: 'Convergence (API server clock)', unit: 'seconds', points: points('convergenceSeconds', CONTENDERS) },
  { title: 'CPU of the contender, until quiet', unit: 'CPU seconds', points: points('cpuSeconds', CONTENDERS) },
  { title: 'Peak RSS', unit: 'MiB', points: points('peakRssMiB', operators) },
  { title: 'Settled RSS', unit: 'MiB', points: points('settledRssMiB', operators) },
];
const svg = await renderSvg(scaleTitle(SIZES.length > 1 ? undefined : SIZES[0], SHAPE), panels, CONTENDERS);
writeFileSync(join(OUT, 'scale.svg'), svg);
writeFileSync(join(OUT, 'scale.png'), await svgToPng(svg));
console.log(`figures: ${json}; plot: ${join(OUT, 'scale.svg')}, ${join(OUT, 'scale.png')}`);
