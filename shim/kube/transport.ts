// What the client reads off the wire besides objects: a response body, and
// the errors for an answer that is not 2xx (ApiError, with the API server's
// Status code and reason) and for a request that got no answer.
//
// Errors never carry request bodies: the only text in an ApiError is the API
// server's own Status message, so Secret data we send cannot leak into logs.
import type * as http from 'node:http';
import type { ResourceRef } from './resources.ts';

export type Verb = 'get' | 'list' | 'watch' | 'apply' | 'patch' | 'create' | 'update' | 'delete';

/** A non-2xx answer from the API server (or an ERROR event on a watch). */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  /** HTTP status code (from the Status body's code for watch ERROR events). */
  readonly status: number;
  /** Status.reason, e.g. NotFound, AlreadyExists, Conflict, Expired, Gone; '' when absent. */
  readonly reason: string;
  readonly details?: Record<string, unknown>;
  readonly verb: Verb;
  readonly path: string;
  /** From the Retry-After header or Status.details.retryAfterSeconds. */
  readonly retryAfterSeconds?: number;

  constructor(init: {
    status: number;
    reason: string;
    message: string;
    verb: Verb;
    path: string;
    details?: Record<string, unknown>;
    retryAfterSeconds?: number;
  }) {
    super(init.message);
    this.status = init.status;
    this.reason = init.reason;
    this.details = init.details;
    this.verb = init.verb;
    this.path = init.path;
    this.retryAfterSeconds = init.retryAfterSeconds;
  }
}

export function isApiError(error: unknown, status?: number): error is ApiError {
  return error instanceof ApiError && (status === undefined || error.status === status);
}

/** Runs a write; false when it lost a race (409 Conflict or AlreadyExists), so the caller re-reads and decides again. */
export async function written(write: () => Promise<unknown>): Promise<boolean> {
  try {
    await write();
    return true;
  } catch (error) {
    if (isApiError(error, 409)) return false;
    throw error;
  }
}

/**
 * Reads a body to its end: its text, or with `keep` false none of it ('': read off the connection,
 * which is then free for the next request, and dropped).
 */
export function readBody(res: http.IncomingMessage, keep = true): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => keep && chunks.push(c));
    res.on('end', () => resolve(keep ? Buffer.concat(chunks).toString('utf8') : ''));
    res.on('error', reject);
    res.on('aborted', () => reject(new Error('connection closed before the answer was complete')));
  });
}

export function apiErrorFrom(verb: Verb, path: string, status: number, headers: http.IncomingHttpHeaders, text: string): ApiError {
  let s: { reason?: string; message?: string; details?: Record<string, unknown> & { retryAfterSeconds?: number } } = {};
  try {
    const parsed = JSON.parse(text);
    if (parsed && typeof parsed === 'object' && parsed.kind === 'Status') s = parsed;
  } catch {
    // not a Status: keep a short excerpt of the server's text (never our request)
  }
  const header = Number(headers['retry-after']);
  const retryAfterSeconds = Number.isFinite(header) && header > 0 ? header : s.details?.retryAfterSeconds;
  return new ApiError({
    status,
    reason: s.reason ?? '',
    message: s.message ?? `the API server answered ${status}${text ? `: ${text.slice(0, 200).trim()}` : ''}`,
    details: s.details,
    verb,
    path,
    retryAfterSeconds,
  });
}

export function transportError(verb: Verb, ref: ResourceRef, error: unknown): Error {
  const e = error as NodeJS.ErrnoException;
  const wrapped = new Error(`${verb} ${ref.kind}: ${e?.code ? `${e.code} ` : ''}${e?.message ?? String(error)}`, { cause: error });
  return wrapped;
}
