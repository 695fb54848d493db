// Asking a spiced pod how it is: GET /health and GET /v1/ready on its HTTP
// port (reference §4.4), each bounded by a timeout. Anything but an answer
// from spiced (refused, reset, DNS, timeout) is 'unreachable', never healthy.

export type Health = 'healthy' | 'unhealthy' | 'unreachable' | 'not-probed';
export type Readiness = 'ready' | 'not-ready' | 'unreachable' | 'not-probed';

export type ProbeOutcome = { answered: true; status: number; body: string } | { answered: false; message: string };

/** The longest body we read from a probe answer (spiced answers "ok", "ready", "not ready"). */
const MAX_BODY = 256;

/** Host part of a URL for an IPv4 or IPv6 pod IP. */
export const urlHost = (ip: string) => (ip.includes(':') ? `[${ip}]` : ip);

function failureMessage(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) return `timed out after ${timeoutMs} ms`;
  const cause = (error as { cause?: { code?: unknown; message?: unknown } } | undefined)?.cause;
  const code = typeof cause?.code === 'string' ? cause.code : undefined;
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code) return code;
  if (typeof cause?.message === 'string' && cause.message) return cause.message;
  return error instanceof Error ? error.message : String(error);
}

/**
 * One GET, answered within timeoutMs or given up. The request is aborted at
 * the deadline and the outcome does not wait for a fetch that ignores the
 * abort, so a hanging pod never holds the caller past timeoutMs.
 */
export async function probe(fetchFn: typeof fetch, url: string, timeoutMs: number): Promise<ProbeOutcome> {
  const abort = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<ProbeOutcome>((resolve) => {
    timer = setTimeout(() => {
      abort.abort(new DOMException(`timed out after ${timeoutMs} ms`, 'TimeoutError'));
      resolve({ answered: false, message: `timed out after ${timeoutMs} ms` });
    }, timeoutMs);
  });
  const attempt = (async (): Promise<ProbeOutcome> => {
    try {
      const response = await fetchFn(url, { signal: abort.signal, redirect: 'manual', headers: { accept: 'text/plain' } });
      const body = (await response.text()).slice(0, MAX_BODY).trim();
      return { answered: true, status: response.status, body };
    } catch (error) {
      return { answered: false, message: failureMessage(error, timeoutMs) };
    }
  })();
  try {
    return await Promise.race([attempt, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

export interface SpicedState {
  health: Health;
  readiness: Readiness;
  /** Why either is not healthy/ready, when it is not. */
  message?: string;
}

/** Probes /health and /v1/ready of one spiced in parallel. */
export async function probeSpiced(fetchFn: typeof fetch, ip: string, port: number, timeoutMs: number): Promise<SpicedState> {
  const base = `http://${urlHost(ip)}:${port}`;
  const [h, r] = await Promise.all([probe(fetchFn, `${base}/health`, timeoutMs), probe(fetchFn, `${base}/v1/ready`, timeoutMs)]);
  const health: Health = !h.answered ? 'unreachable' : h.status === 200 ? 'healthy' : 'unhealthy';
  const readiness: Readiness = !r.answered ? 'unreachable' : r.status === 200 ? 'ready' : 'not-ready';
  const problems: string[] = [];
  if (health !== 'healthy') problems.push(`/health: ${describe(h)}`);
  if (readiness !== 'ready') problems.push(`/v1/ready: ${describe(r)}`);
  return problems.length ? { health, readiness, message: problems.join('; ') } : { health, readiness };
}

function describe(outcome: ProbeOutcome): string {
  if (!outcome.answered) return outcome.message;
  return outcome.body ? `HTTP ${outcome.status} ${JSON.stringify(outcome.body)}` : `HTTP ${outcome.status}`;
}
