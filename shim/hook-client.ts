// The operator's side of a hook call: POST the Observed to the handler's
// server and return its Desired, or fail with the reason a user is shown.
// One keep-alive connection pool per hook; TLS verified against the given CA
// (the operator's), the operator's client certificate and/or a bearer token
// for authentication; a deadline per call; the answer read up to a bound and
// validated (core/hook-protocol/parse-answer.ts) before anyone acts on it.
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { Desired, Observed } from '../core/handler.ts';
import { parseHookAnswer } from '../core/hook-protocol/parse-answer.ts';
import { REASON_HOOK_INVALID_ANSWER, REASON_HOOK_TIMEOUT, REASON_HOOK_UNREACHABLE } from '../core/hook-protocol/reasons.ts';
import { DEFAULT_MAX_RESPONSE_BYTES, RECONCILE_PATH } from '../core/hook-protocol/version.ts';
import { reconcileRequest } from '../core/hook-protocol/wire.ts';

export const DEFAULT_HOOK_TIMEOUT_MS = 10_000;

export interface HookClientOptions {
  handler: string;
  /** The hook server's URL (its base, or the full …/reconcile URL). */
  url: string;
  /** CA certificates (PEM) that verify the hook's serving certificate; default: Node's. */
  caPem?: string;
  /** The operator's client certificate and key (PEM), for hooks that require mutual TLS. */
  clientCertPem?: string;
  clientKeyPem?: string;
  /** Sent as Authorization: Bearer. */
  token?: string;
  timeoutMs?: number;
  maxResponseBytes?: number;
}

/** A failed call: `reason` is one of the HookXxx reasons of core/hook-protocol/reasons.ts. */
export class HookCallError extends Error {
  constructor(
    readonly handler: string,
    readonly reason: string,
    message: string,
    /** The HTTP status, 0 when there was no answer. */
    readonly code: number,
  ) {
    super(message);
  }
}

/** The URL a hook is called at: the given one if it names /reconcile, else /reconcile under it. */
export function reconcileUrl(url: string): URL {
  const u = new URL(url);
  if (!u.pathname.endsWith(RECONCILE_PATH)) u.pathname = `${u.pathname.replace(/\/+$/, '')}${RECONCILE_PATH}`;
  return u;
}

class StaleConnectionError extends Error {}

export class HookClient {
  readonly url: URL;
  private agent: HttpAgent | HttpsAgent;
  private readonly timeoutMs: number;
  private readonly maxBytes: number;

  constructor(private o: HookClientOptions) {
    this.url = reconcileUrl(o.url);
    this.timeoutMs = o.timeoutMs ?? DEFAULT_HOOK_TIMEOUT_MS;
    this.maxBytes = o.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    this.agent = this.newAgent();
  }

  private newAgent(): HttpAgent | HttpsAgent {
    return this.url.protocol === 'https:'
      ? new HttpsAgent({ keepAlive: true, ca: this.o.caPem, cert: this.o.clientCertPem, key: this.o.clientKeyPem, minVersion: 'TLSv1.2' })
      : new HttpAgent({ keepAlive: true });
  }

  /**
   * New trust and client certificate (a renewal, `run --handler-service`): calls from now on use a
   * new connection pool; the old one is closed once the calls in flight on it are past their deadline.
   */
  setTls(tls: Pick<HookClientOptions, 'caPem' | 'clientCertPem' | 'clientKeyPem'>): void {
    const old = this.agent;
    this.o = { ...this.o, ...tls };
    this.agent = this.newAgent();
    setTimeout(() => old.destroy(), this.timeoutMs + 1000).unref();
  }

  /** Where the hook is, for messages (never the token). */
  describe(): string {
    return `${this.o.handler} at ${this.url.origin}`;
  }

  /** One call; `code` is the HTTP status (0 without an answer), for the metrics. */
  async call(observed: Observed): Promise<{ desired: Desired; code: number }> {
    const body = Buffer.from(JSON.stringify(reconcileRequest(this.o.handler, observed)));
    let received: { status: number; text: string };
    try {
      received = await this.post(body);
    } catch (error) {
      // A kept-alive connection the server closed as we reused it (its idle timeout): a new one, once.
      if (!(error instanceof StaleConnectionError)) throw error;
      received = await this.post(body);
    }
    const { status, text } = received;
    const answer = parseHookAnswer(this.o.handler, status, text);
    if (!answer.ok) throw new HookCallError(this.o.handler, answer.reason, `hook ${this.describe()} ${answer.message}`, status);
    return { desired: answer.desired, code: status };
  }

  private post(body: Buffer): Promise<{ status: number; text: string }> {
    const request = this.url.protocol === 'https:' ? httpsRequest : httpRequest;
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'content-length': String(body.length),
      accept: 'application/json',
    };
    if (this.o.token) headers.authorization = `Bearer ${this.o.token}`;
    return new Promise((resolve, reject) => {
      let settled = false;
      const fail = (reason: string, message: string, code = 0) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        req.destroy();
        reject(new HookCallError(this.o.handler, reason, `hook ${this.describe()} ${message}`, code));
      };
      const req = request(this.url, { method: 'POST', headers, agent: this.agent }, (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > this.maxBytes)
            fail(REASON_HOOK_INVALID_ANSWER, `answered more than ${this.maxBytes} bytes (not read further)`, res.statusCode ?? 0);
          else chunks.push(chunk);
        });
        res.on('end', () => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') });
        });
        res.on('error', (error) => fail(REASON_HOOK_UNREACHABLE, `broke off its answer: ${error.message}`, res.statusCode ?? 0));
      });
      const timer = setTimeout(() => fail(REASON_HOOK_TIMEOUT, `did not answer within ${this.timeoutMs / 1000} s`), this.timeoutMs);
      req.on('error', (error: NodeJS.ErrnoException) => {
        if (req.reusedSocket && error.code === 'ECONNRESET' && !settled) {
          settled = true;
          clearTimeout(timer);
          reject(new StaleConnectionError());
          return;
        }
        fail(REASON_HOOK_UNREACHABLE, `could not be reached: ${error.message}`);
      });
      req.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
