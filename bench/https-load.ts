// What the HTTPS server benchmarks share (bench/injection.ts, bench/crd-webhooks.ts): each server in
// its own Node process on loopback, timing itself (parsed headers to response written) and reporting
// those times over IPC; a bare node:https server answering constant bytes; an open-loop load
// generator at a fixed rate that measures from the scheduled send time (no coordinated omission);
// a closed-loop saturation run; percentiles and the machine's load average.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent, createServer, request, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { PerformanceObserver, constants } from 'node:perf_hooks';
import { hostArch, nodeRuntime } from '../scripts/image/node-runtime.ts';
import { ENV, NODE_FLAGS } from '../scripts/image/spec.ts';

export interface Tls {
  certPem: string;
  keyPem: string;
}

/** One request the load generator sends: a path and body, with extra headers (the bare server's pick of its answer). */
export interface LoadRequest {
  path: string;
  body: Buffer;
  headers?: Record<string, string>;
}

// ---------------------------------------------------------------- server side (in the server's process)

/** The TLS material a server process was started with (`--cert`, `--key`, base64 on its command line). */
export const tlsFromArgs = (values: Record<string, string | undefined>): Tls => ({
  certPem: Buffer.from(values.cert!, 'base64').toString(),
  keyPem: Buffer.from(values.key!, 'base64').toString(),
});

/**
 * node:https reading the body and answering `answer(req)`: bytes fixed before the run. With `read`,
 * the body is kept and handed to it before answering (a server that parses what it is sent and
 * does nothing else); without, it is dropped unread.
 */
export async function bareServer(
  tls: Tls,
  answer: (req: IncomingMessage) => Buffer,
  read?: (body: Buffer) => void,
): Promise<{ server: Server; port: number }> {
  const server = createServer({ cert: tls.certPem, key: tls.keyPem, minVersion: 'TLSv1.2' }, (req, res) => {
    const bytes = answer(req);
    // Kept only for a reader: bare allocates nothing for the body.
    const chunks: Buffer[] | undefined = read && [];
    req.on('data', chunks ? (c: Buffer) => chunks.push(c) : () => {});
    req.on('end', () => {
      if (chunks) read!(Buffer.concat(chunks));
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': bytes.length });
      res.end(bytes);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

/**
 * Runs a server process until killed: times each request in the server two ways (parsed headers to
 * response written, which includes waiting for the body's bytes and for the event loop to flush the
 * answer; and the handler's own time, last body byte read to answer handed to the socket, which is
 * what the route itself costs), resets and
 * reports those times on the load generator's IPC messages, prints `{"port":N}` and exits cleanly on
 * SIGTERM (so that --cpu-prof, given in BENCH_SERVER_NODE_FLAGS, is written).
 */
export async function serveUntilKilled(server: Server, port: number): Promise<never> {
  let inServer: number[] = [];
  let handler: number[] = [];
  let cpu = process.cpuUsage();
  // V8's pauses: a young-generation collection (scavenge) each time the young generation fills.
  let gc = { ms: 0, scavenges: 0 };
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      gc.ms += e.duration;
      // Node's gc entries say which collection in detail.kind (lib.dom's PerformanceEntry type has no detail).
      const { detail } = e as unknown as { detail?: { kind?: number } };
      if (detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR) gc.scavenges++;
    }
  }).observe({ entryTypes: ['gc'] });
  server.prependListener('request', (req, res) => {
    const t = performance.now();
    let bodyRead = t;
    req.once('end', () => {
      bodyRead = performance.now();
    });
    const end = res.end;
    res.end = function (this: typeof res, ...args: Parameters<typeof res.end>) {
      handler.push(performance.now() - bodyRead);
      return end.apply(this, args);
    } as typeof res.end;
    res.on('finish', () => inServer.push(performance.now() - t));
  });
  process.on('message', (m) => {
    if (m === 'reset') {
      inServer = [];
      handler = [];
      cpu = process.cpuUsage();
      gc = { ms: 0, scavenges: 0 };
    }
    if (m === 'report') {
      const used = process.cpuUsage(cpu);
      process.send!({ times: inServer, handlerTimes: handler, cpuMs: (used.user + used.system) / 1000, gc } satisfies ServerReport);
    }
  });
  process.stdout.write(`${JSON.stringify({ port })}\n`);
  process.once('SIGTERM', () => process.exit(0));
  return new Promise<never>(() => {});
}

// ---------------------------------------------------------------- load generator side

/**
 * Starts `script --serve KIND --cert .. --key ..` in a new Node process (with the image's node flags,
 * then BENCH_SERVER_NODE_FLAGS, e.g. --cpu-prof) and waits for the port it prints. The process runs on
 * the image's Node (scripts/image/runtime.json, fetched from npm once and cached) with the flags its
 * ENTRYPOINT gives node and its ENV, as `run` would serve the route; BENCH_SERVER_NODE names another (`node`: PATH's).
 */
export function startServerProcess(
  script: string,
  kind: string,
  tls: Tls,
  extraArgs: string[] = [],
): Promise<{ port: number; child: ChildProcess }> {
  const child = spawn(
    process.env.BENCH_SERVER_NODE || nodeRuntime(hostArch()).node,
    [
      ...NODE_FLAGS,
      ...(process.env.BENCH_SERVER_NODE_FLAGS?.split(' ').filter(Boolean) ?? []),
      '--import',
      'tsx',
      script,
      '--serve',
      kind,
      '--cert',
      Buffer.from(tls.certPem).toString('base64'),
      '--key',
      Buffer.from(tls.keyPem).toString('base64'),
      ...extraArgs,
    ],
    // The image's ENV too (its malloc settings), as the container runs node; a variable set in this
    // process's environment wins (to compare another setting).
    { stdio: ['ignore', 'pipe', 'inherit', 'ipc'], env: { ...ENV, ...process.env } },
  );
  return waitForPort(child, kind);
}

/** Waits for the `{"port":N}` line a server process prints on stdout. */
export function waitForPort(child: ChildProcess, what: string): Promise<{ port: number; child: ChildProcess }> {
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl >= 0) resolve({ port: JSON.parse(out.slice(0, nl)).port, child });
    });
    child.on('exit', (code) => reject(new Error(`${what} server exited (${code})`)));
  });
}

/** What a server process measured of itself since the last reset. */
export interface ServerReport {
  /** Each request's time in the server, parsed headers to response written, ms. */
  times: number[];
  /** Each request's time in its handler, last body byte read to answer handed to the socket, ms. */
  handlerTimes: number[];
  /** The CPU time the whole process used (user + system), ms: the load-robust figure on a busy machine. */
  cpuMs: number;
  /** V8's garbage collections: their pauses in all (ms), and how many were young-generation ones (scavenges). */
  gc: { ms: number; scavenges: number };
}

/** Forgets what a server process has measured so far. */
export const resetInServer = (child: ChildProcess) => child.send?.('reset');

/** What a server process measured since the last reset; nothing for one that does not time itself. */
export async function serverReport(child: ChildProcess): Promise<ServerReport> {
  if (!child.send) return { times: [], handlerTimes: [], cpuMs: NaN, gc: { ms: NaN, scavenges: NaN } };
  const reported = new Promise<ServerReport>((resolve) => child.once('message', (m) => resolve(m as ServerReport)));
  child.send('report');
  return reported;
}

/**
 * A pool of kept-alive TLS connections, like the API server's webhook client; `plain`: of plain HTTP
 * connections (a server that cannot be timed fairly over TLS, see bench/injection-deno.ts).
 */
export const keepAliveAgent = (ca: string, maxSockets = 16, plain = false): Agent | HttpAgent =>
  plain ? new HttpAgent({ keepAlive: true, maxSockets }) : new Agent({ keepAlive: true, maxSockets, ca });

/** One POST (over TLS or not, as the agent connects); resolves when a 200 answer with a body has been read. */
export function send(agent: Agent | HttpAgent, port: number, r: LoadRequest): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = (agent instanceof Agent ? request : httpRequest)(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: r.path,
        agent,
        headers: { 'content-type': 'application/json', 'content-length': r.body.length, ...r.headers },
      },
      (res) => {
        let n = 0;
        res.on('data', (d: Buffer) => (n += d.length));
        res.on('end', () => (res.statusCode === 200 && n > 0 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`))));
      },
    );
    req.on('error', reject);
    req.end(r.body);
  });
}

export const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
export const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
export const ms = (x: number) => (Number.isFinite(x) ? `${x.toFixed(2)}ms` : '-');
/** The 1, 5 and 15 minute load averages: the figures mean little on a busy machine. */
export const loadAverage = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

export interface FixedRateResult {
  /** From the scheduled send time (no coordinated omission), ms. */
  latencies: number[];
  /** From the actual send: without the load generator's own timer lag, ms. */
  service: number[];
  throughput: number;
  errors: number;
}

/** Open loop at `rate`/s for `seconds`: request i is `next(i)`, latencies measured from its scheduled send time. */
export async function fixedRate(
  agent: Agent | HttpAgent,
  port: number,
  rate: number,
  seconds: number,
  next: (i: number) => LoadRequest,
): Promise<FixedRateResult> {
  const total = Math.round(rate * seconds);
  const latencies: number[] = [];
  const service: number[] = [];
  let errors = 0;
  const inflight: Promise<void>[] = [];
  const start = performance.now();
  let sent = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * rate) + 1);
      for (; sent < due; sent++) {
        const scheduled = start + (sent / rate) * 1000;
        const sentAt = performance.now();
        inflight.push(
          send(agent, port, next(sent)).then(
            () => {
              const now = performance.now();
              latencies.push(now - scheduled);
              service.push(now - sentAt);
            },
            () => {
              errors++;
            },
          ),
        );
      }
      if (sent < total) setTimeout(tick, 1);
      else resolve();
    };
    tick();
  });
  await Promise.all(inflight);
  const elapsed = (performance.now() - start) / 1000;
  return { latencies, service, throughput: latencies.length / elapsed, errors };
}

/** Closed loop with `concurrency` in flight for `seconds`: requests per second sustained. */
export async function saturation(
  ca: string,
  port: number,
  concurrency: number,
  seconds: number,
  next: (i: number) => LoadRequest,
  plain = false,
): Promise<number> {
  const agent = keepAliveAgent(ca, concurrency, plain);
  let done = 0;
  const end = performance.now() + seconds * 1000;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, w) => {
      for (let i = w; performance.now() < end; i += concurrency) {
        await send(agent, port, next(i));
        done++;
      }
    }),
  );
  agent.destroy();
  return done / ((performance.now() - start) / 1000);
}

/**
 * The flags of the loopback load benches (bench/injection.ts, bench/crd-webhooks.ts): the load's rate,
 * length, rounds and concurrency, and --serve/--cert/--key for a server process; `extra` adds a bench's own.
 */
export function loadBenchArgs(
  defaults: { rate: string },
  extra: Record<string, { type: 'string'; default?: string }> = {},
): Record<string, string | undefined> {
  return parseArgs({
    options: {
      rate: { type: 'string', default: defaults.rate },
      seconds: { type: 'string', default: '10' },
      rounds: { type: 'string', default: '2' },
      concurrency: { type: 'string', default: '16' },
      serve: { type: 'string' },
      cert: { type: 'string' },
      key: { type: 'string' },
      ...extra,
    },
    // bench/run.ts passes every benchmark the same arguments: ignore the others' flags.
    strict: false,
    allowPositionals: true,
  }).values as Record<string, string | undefined>;
}
