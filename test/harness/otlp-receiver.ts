// A real OTLP/HTTP receiver on loopback (test/tools/otlpreceiver): it decodes
// every push with the official opentelemetry-proto Go bindings and reports
// what it got, re-encoded as OTLP/JSON (protojson: int64 as strings, enums by
// name). Built once per machine by test/tools/otlpreceiver/build.sh.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';

/** One request as the receiver saw it; `request` is absent and `error` set when it refused the body. */
export interface ReceivedPush {
  path: string;
  contentType: string;
  contentEncoding?: string;
  headers: Record<string, string>;
  request?: { resourceMetrics: OtlpResourceMetrics[] };
  error?: string;
}

export interface OtlpKeyValue {
  key: string;
  value: { stringValue?: string; intValue?: string; doubleValue?: number; boolValue?: boolean };
}
export interface OtlpNumberPoint {
  attributes?: OtlpKeyValue[];
  startTimeUnixNano?: string;
  timeUnixNano: string;
  asDouble?: number;
  asInt?: string;
}
export interface OtlpHistogramPoint {
  attributes?: OtlpKeyValue[];
  startTimeUnixNano?: string;
  timeUnixNano: string;
  count?: string;
  sum?: number;
  bucketCounts?: string[];
  explicitBounds?: number[];
}
export interface OtlpMetric {
  name: string;
  description?: string;
  sum?: { dataPoints: OtlpNumberPoint[]; aggregationTemporality?: string; isMonotonic?: boolean };
  gauge?: { dataPoints: OtlpNumberPoint[] };
  histogram?: { dataPoints: OtlpHistogramPoint[]; aggregationTemporality?: string };
}
export interface OtlpResourceMetrics {
  resource?: { attributes?: OtlpKeyValue[] };
  scopeMetrics?: { scope?: { name?: string }; metrics?: OtlpMetric[] }[];
}

let binary: string | undefined;

export function otlpReceiverBinary(): string {
  if (!binary) {
    const script = new URL('../tools/otlpreceiver/build.sh', import.meta.url).pathname;
    const built = spawnSync('bash', [script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 15 * 60_000 });
    if (built.status !== 0)
      throw new Error(`building test/tools/otlpreceiver failed (exit ${built.status}${built.error ? `, ${built.error.message}` : ''})`);
    binary = built.stdout.trim().split('\n').pop()!;
  }
  return binary;
}

export interface OtlpReceiver {
  /** http://127.0.0.1:PORT */
  base: string;
  pushes: ReceivedPush[];
  /** The first push (seen or to come) that satisfies `predicate`. */
  waitFor(predicate: (p: ReceivedPush) => boolean, timeoutMs?: number): Promise<ReceivedPush>;
  stop(): Promise<void>;
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const child: ChildProcess = spawn(otlpReceiverBinary(), [], { stdio: ['ignore', 'pipe', 'inherit'] });
  const pushes: ReceivedPush[] = [];
  const waiters: { predicate: (p: ReceivedPush) => boolean; resolve: (p: ReceivedPush) => void }[] = [];
  let buffer = '';
  const listening = new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`otlpreceiver exited (${code}) before listening`)));
    child.stdout!.on('data', (chunk) => {
      buffer += chunk;
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = JSON.parse(buffer.slice(0, nl));
        buffer = buffer.slice(nl + 1);
        if (line.listening) {
          resolve(line.listening);
          continue;
        }
        pushes.push(line);
        for (const w of [...waiters]) {
          if (w.predicate(line)) {
            waiters.splice(waiters.indexOf(w), 1);
            w.resolve(line);
          }
        }
      }
    });
  });
  const address = await listening;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    base: `http://${address}`,
    pushes,
    waitFor(predicate, timeoutMs = 60_000) {
      const found = pushes.find(predicate);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(
              new Error(
                `no such OTLP push within ${timeoutMs} ms; got ${pushes.length}: ${JSON.stringify(pushes.map((p) => p.error ?? p.path))}`,
              ),
            ),
          timeoutMs,
        );
        waiters.push({ predicate, resolve: (p) => (clearTimeout(timer), resolve(p)) });
      });
    },
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

// --- reading a decoded push ---

export const attributesOf = (kvs: OtlpKeyValue[] | undefined): Record<string, string> =>
  Object.fromEntries(
    (kvs ?? []).map((kv) => [kv.key, kv.value.stringValue ?? kv.value.intValue ?? String(kv.value.doubleValue ?? kv.value.boolValue)]),
  );

/** Every metric of a push, by name. */
export function metricsOf(push: ReceivedPush): Map<string, OtlpMetric> {
  const out = new Map<string, OtlpMetric>();
  for (const rm of push.request?.resourceMetrics ?? [])
    for (const sm of rm.scopeMetrics ?? []) for (const m of sm.metrics ?? []) out.set(m.name, m);
  return out;
}

/** The data point of `metric` whose attributes include `labels`. */
export function pointOf<P extends { attributes?: OtlpKeyValue[] }>(points: P[] | undefined, labels: Record<string, string>): P | undefined {
  return points?.find((p) => {
    const a = attributesOf(p.attributes);
    return Object.entries(labels).every(([k, v]) => a[k] === v);
  });
}
