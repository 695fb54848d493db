// Reading one watch: the query that opens it, and the response read as a
// stream of newline-delimited JSON events handed to onEvent synchronously and
// in order. It ends when the server ends the stream or the signal aborts;
// it fails on a transport error, a non-2xx answer, an undecodable line, a
// connection closed mid-stream, a stream silent past its deadline, and
// after an ERROR event (an ApiError carrying the Status code, e.g. 410 when
// the resourceVersion is too old). An exception thrown by onEvent ends the
// watch with it.
import type * as http from 'node:http';
import type { WatchEvent, WatchOptions } from './client.ts';
import type { ResourceRef } from './resources.ts';
import { ApiError, readBody, transportError } from './transport.ts';

/** Extra client-side slack over timeoutSeconds before a silent watch connection is abandoned. */
const WATCH_GRACE_MS = 60_000;

/** The query string of a watch request. */
export function watchQuery(options: WatchOptions): Record<string, string | undefined> {
  return {
    watch: 'true',
    resourceVersion: options.resourceVersion,
    allowWatchBookmarks: options.allowWatchBookmarks ? 'true' : undefined,
    timeoutSeconds: String(options.timeoutSeconds),
    labelSelector: options.labelSelector,
    fieldSelector: options.fieldSelector,
  };
}

export interface WatchStreamOptions {
  ref: ResourceRef;
  path: string;
  timeoutSeconds: number;
  signal: AbortSignal;
  onConnected?: () => void;
  onEvent: (event: WatchEvent) => void;
  /** The HTTP status once the answer arrives, or 0 when none does. */
  onStatus: (code: number) => void;
  /** The error for a non-2xx answer. */
  apiError: (status: number, headers: http.IncomingHttpHeaders, text: string) => Error;
}

/** Splits text arriving in chunks into trimmed, non-empty lines. */
function lineSplitter(onLine: (line: string) => void, stopped: () => boolean) {
  let buffer = '';
  return {
    push(chunk: string) {
      buffer += chunk;
      let nl: number;
      while (!stopped() && (nl = buffer.indexOf('\n')) !== -1) {
        const line = buffer.slice(0, nl).trim();
        buffer = buffer.slice(nl + 1);
        if (line) onLine(line);
      }
    },
    /** The last line, when the stream ends without a newline. */
    flush() {
      if (buffer.trim()) onLine(buffer.trim());
    },
  };
}

/** One line of the stream as an event; an Error when it is not JSON. */
function decodeEvent(line: string, kind: string): WatchEvent | Error {
  try {
    return JSON.parse(line) as WatchEvent;
  } catch {
    return new Error(`watch ${kind}: undecodable event (${line.length} bytes)`);
  }
}

/** An ERROR event's Status as an ApiError. */
function errorEventStatus(event: WatchEvent, path: string): ApiError {
  const s = event.object ?? {};
  return new ApiError({
    status: typeof s.code === 'number' ? s.code : 500,
    reason: s.reason ?? '',
    message: s.message ?? 'watch ERROR event',
    details: s.details,
    verb: 'watch',
    path,
  });
}

/** Sends the request (built, not ended) and reads its answer as a watch stream. */
export function streamWatch(req: http.ClientRequest, o: WatchStreamOptions): Promise<void> {
  const { ref, signal } = o;
  return new Promise<void>((resolve, reject) => {
    let settled = false;
    const guard = setTimeout(
      () => finish(new Error(`watch ${ref.kind}: no end of stream ${o.timeoutSeconds}s + ${WATCH_GRACE_MS / 1000}s after it started`)),
      o.timeoutSeconds * 1000 + WATCH_GRACE_MS,
    );
    /** Ends the watch once: resolved without an error, rejected with one. */
    const finish = (error?: unknown) => {
      if (settled) return;
      settled = true;
      clearTimeout(guard);
      signal.removeEventListener('abort', onAbort);
      if (error !== undefined) {
        req.destroy();
        reject(error);
      } else resolve();
    };
    const onAbort = () => {
      req.destroy();
      finish();
    };
    /** A transport failure, unless it is the abort we caused. */
    const broken = (error: unknown) => finish(signal.aborted ? undefined : transportError('watch', ref, error));

    const deliver = (line: string) => {
      const event = decodeEvent(line, ref.kind);
      if (event instanceof Error) return finish(event);
      if (signal.aborted) return finish();
      try {
        o.onEvent(event);
        if (event.type === 'ERROR') finish(errorEventStatus(event, o.path));
      } catch (error) {
        finish(error);
      }
    };

    const readStream = (res: http.IncomingMessage) => {
      o.onConnected?.();
      res.setEncoding('utf8');
      const lines = lineSplitter(deliver, () => settled);
      res.on('data', (chunk: string) => {
        if (!settled) lines.push(chunk);
      });
      res.on('end', () => {
        if (!settled) lines.flush();
        finish();
      });
      res.on('error', broken);
      res.on('close', () =>
        finish(res.complete || signal.aborted ? undefined : new Error(`watch ${ref.kind}: connection closed mid-stream`)),
      );
    };

    const onResponse = (res: http.IncomingMessage) => {
      const status = res.statusCode ?? 0;
      o.onStatus(status);
      if (status >= 200 && status < 300) return readStream(res);
      readBody(res).then(
        (text) => finish(o.apiError(status, res.headers, text)),
        (error) => finish(transportError('watch', ref, error)),
      );
    };

    signal.addEventListener('abort', onAbort, { once: true });
    // Aborted while the request was being built: no event will come for it now.
    if (signal.aborted) onAbort();
    req.on('error', (error) => {
      o.onStatus(0);
      broken(error);
    });
    req.on('response', onResponse);
    req.end();
  });
}
