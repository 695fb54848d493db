// How long the API server took over each kind of write a contender sent, from its audit log: for an
// entry at stage ResponseComplete, from requestReceivedTimestamp to stageTimestamp. On this machine
// both operators converge at the API server's pace, so where a set's reconcile waits is read here:
// e.g. a Service's first apply allocates its ClusterIP and takes several times a ConfigMap's.

/** The verbs that write (the benches count and time them; the test harness reads writes from the audit log by them). */
export const WRITE_VERBS = ['create', 'update', 'patch', 'delete', 'deletecollection'];
const WRITES = new Set(WRITE_VERBS);

export interface TimedEntry {
  verb: string;
  stage: string;
  objectRef?: { resource?: string; subresource?: string };
  requestReceivedTimestamp: string;
  stageTimestamp: string;
}

export interface WriteTime {
  count: number;
  meanMs: number;
  p90Ms: number;
}

/** A request's kind as the bench counts requests and times writes: "verb resource[/subresource]". */
export const requestKind = (e: Pick<TimedEntry, 'verb' | 'objectRef'>): string =>
  `${e.verb} ${e.objectRef?.resource ?? '(non-resource)'}${e.objectRef?.subresource ? `/${e.objectRef.subresource}` : ''}`;

/** By requestKind: how many, and their mean and 90th percentile. */
export function writeTimes(entries: TimedEntry[]): Record<string, WriteTime> {
  const byKind = new Map<string, number[]>();
  for (const e of entries) {
    if (e.stage !== 'ResponseComplete' || !WRITES.has(e.verb)) continue;
    const key = requestKind(e);
    // The audit log's timestamps have microseconds; Date.parse keeps milliseconds.
    const ms = Date.parse(e.stageTimestamp) - Date.parse(e.requestReceivedTimestamp);
    const list = byKind.get(key);
    if (list) list.push(ms);
    else byKind.set(key, [ms]);
  }
  const out: Record<string, WriteTime> = {};
  for (const [key, times] of byKind) {
    times.sort((a, b) => a - b);
    out[key] = {
      count: times.length,
      meanMs: times.reduce((a, b) => a + b, 0) / times.length,
      p90Ms: times[Math.min(times.length - 1, Math.floor(times.length * 0.9))]!,
    };
  }
  return out;
}

/** The kinds that took the API server the most time in all (count × mean), most first, as one line. */
export function describeWriteTimes(times: Record<string, WriteTime>, top = 5): string {
  return Object.entries(times)
    .sort((a, b) => b[1].count * b[1].meanMs - a[1].count * a[1].meanMs)
    .slice(0, top)
    .map(([kind, t]) => `${kind} ${t.count} × ${t.meanMs.toFixed(1)} ms (p90 ${t.p90Ms.toFixed(0)})`)
    .join(', ');
}
