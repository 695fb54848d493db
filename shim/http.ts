// Serves a fetch-style handler (Request -> Response) on node:http, so the
// handlers in functions/ run unchanged here and on any fetch runtime.
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type RequestListener,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';

export type FetchHandler = (request: Request) => Response | Promise<Response>;

/** Parses "host:port" (host may be empty or [ipv6]). */
export function parseEndpoint(endpoint: string): { host: string; port: number } {
  const match = /^(\[[^\]]+\]|[^:]*):(\d{1,5})$/.exec(endpoint);
  const port = Number(match?.[2]);
  if (!match || port > 65535) throw new Error(`${endpoint} is not host:port`);
  return { host: match[1]!.replace(/^\[|\]$/g, '') || '0.0.0.0', port };
}

/** A body that went over the limit while being read (no content-length said so: chunked). */
class BodyTooLarge extends Error {}

async function toRequest(req: IncomingMessage, base: string, maxBodyBytes: number): Promise<Request> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBodyBytes) throw new BodyTooLarge();
    chunks.push(chunk as Buffer);
  }
  // Name/value pairs straight from the wire: cheaper for undici than a Headers object built up one set() at a time.
  const headers: [string, string][] = [];
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) headers.push([req.rawHeaders[i]!, req.rawHeaders[i + 1]!]);
  const hasBody = req.method !== 'GET' && req.method !== 'HEAD' && chunks.length > 0;
  return new Request(new URL(req.url ?? '/', base), { method: req.method, headers, body: hasBody ? Buffer.concat(chunks) : undefined });
}

/** A route answered from the body text without building Request/Response objects (see serveFetchTls). */
export type TextRoute = (body: string) => Promise<{ status: number; body: string }>;

/** What a plain route answers: the status, the headers (content-type included) and the body. */
export interface PlainAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * Answers a request from its method, path (without the query) and headers, or returns undefined to
 * pass it on to the fetch handler; its body is not read. No Request or Response is built: Node's are
 * undici's, which loads with the first one built (and with it http2, assert, readline and web
 * streams: about 8 MiB of RSS on Node 24 in a process that does nothing else), and the probes and
 * /metrics are all that most operators are ever asked.
 */
export type PlainRoute = (
  method: string,
  path: string,
  headers: IncomingHttpHeaders,
) => PlainAnswer | undefined | Promise<PlainAnswer | undefined>;

/** The answer to a path nothing serves, when there is no fetch handler to pass it on to. */
const NOT_FOUND: PlainAnswer = { status: 404, headers: { 'content-type': 'text/plain' }, body: 'not found\n' };

/** The 413 answer to a body over the limit, when the served module has its own (a hook's JSON error). */
export interface TooLargeAnswer {
  contentType: string;
  body: string;
}

function send(res: ServerResponse, answer: PlainAnswer): void {
  const body = Buffer.from(answer.body);
  res.writeHead(answer.status, { ...answer.headers, 'content-length': body.length });
  res.end(body);
}

/**
 * Adapts a fetch handler to node:http(s); requests over `maxBodyBytes` get 413 without reaching it.
 * `plain` answers first; what it passes on goes to the handler, or is 404 without one.
 */
function fetchListener(
  handler: FetchHandler | undefined,
  scheme: 'http' | 'https',
  options: ServeOptions & { textRoutes?: Record<string, TextRoute> },
): RequestListener {
  const { maxBodyBytes = Infinity, textRoutes = {}, tooLarge, plain } = options;
  const refuse = (req: IncomingMessage, res: ServerResponse) => {
    res.writeHead(413, { 'content-type': tooLarge?.contentType ?? 'text/plain', connection: 'close' });
    res.end(tooLarge?.body ?? `request body over ${maxBodyBytes} bytes\n`);
    req.destroy();
  };
  return async (req, res) => {
    try {
      const declared = Number(req.headers['content-length'] ?? 0);
      if (declared > maxBodyBytes) return refuse(req, res);
      const q = req.url?.indexOf('?') ?? -1;
      const path = q === -1 ? (req.url ?? '/') : req.url!.slice(0, q);
      const route = textRoutes[`${req.method} ${path}`];
      if (route) {
        const chunks: Buffer[] = [];
        let size = 0;
        await new Promise<void>((resolve, reject) => {
          req.on('data', (c: Buffer) => {
            size += c.length;
            if (size <= maxBodyBytes) chunks.push(c);
          });
          req.on('end', resolve);
          req.on('error', reject);
        });
        if (size > maxBodyBytes) {
          res.writeHead(413, { 'content-type': 'text/plain' });
          res.end(`request body over ${maxBodyBytes} bytes\n`);
          return;
        }
        const answer = await route(Buffer.concat(chunks).toString('utf8'));
        return send(res, { status: answer.status, headers: { 'content-type': 'application/json' }, body: answer.body });
      }
      const answer = (await plain?.(req.method ?? 'GET', path, req.headers)) ?? (handler ? undefined : NOT_FOUND);
      if (answer) {
        req.resume();
        return send(res, answer);
      }
      const response = await handler!(await toRequest(req, `${scheme}://${req.headers.host ?? 'localhost'}`, maxBodyBytes));
      res.writeHead(response.status, Object.fromEntries(response.headers));
      res.end(Buffer.from(await response.arrayBuffer()));
    } catch (error) {
      if (error instanceof BodyTooLarge) return refuse(req, res);
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`internal error: ${(error as Error).message}\n`);
    }
  };
}

/**
 * How long close() lets requests in flight finish before it drops the connections left. It also
 * ends connections that never sent a request (a TLS client's spare connection: the API server keeps
 * one to the webhook), on which server.close() would otherwise wait forever: a SIGTERM never ended
 * the operator once its webhook had been called.
 */
export const CLOSE_GRACE_MS = 5_000;

async function listen<S extends Server | TlsServer>(
  server: S,
  endpoint: string,
): Promise<{ server: S; port: number; close(graceMs?: number): Promise<void> }> {
  const { host, port } = parseEndpoint(endpoint);
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: (graceMs = CLOSE_GRACE_MS) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(() => sockets.forEach((socket) => socket.destroy()), graceMs);
        // A keep-alive connection whose request ends after close() began becomes idle then.
        const idle = setInterval(() => server.closeIdleConnections(), 100);
        server.close(() => {
          clearTimeout(timer);
          clearInterval(idle);
          resolve();
        });
        server.closeIdleConnections();
      }),
  };
}

export interface ServeOptions {
  maxBodyBytes?: number;
  /** What a body over maxBodyBytes is answered (default: a text/plain line). */
  tooLarge?: TooLargeAnswer;
  /** Asked before the fetch handler, without a Request (PlainRoute). */
  plain?: PlainRoute;
}

/** Serves `plain` and then the fetch handler; with no handler, what `plain` passes on is 404. */
export async function serveFetch(
  handler: FetchHandler | undefined,
  endpoint: string,
  options: ServeOptions = {},
): Promise<{ server: Server; port: number; close(graceMs?: number): Promise<void> }> {
  return listen(createServer(fetchListener(handler, 'http', options)), endpoint);
}

export interface TlsCertificate {
  certPem: string;
  keyPem: string;
}

/**
 * Serves a fetch handler over HTTPS. `setCertificate` swaps the serving
 * certificate for new connections without a restart (renewal); open
 * connections keep the one they negotiated.
 *
 * `textRoutes` ("POST /path" -> body text in, JSON text out) skip the
 * Request/Response objects for hot routes: on Node 20 building and reading
 * them costs more than the rest of an admission (bench/injection.ts).
 */
export async function serveFetchTls(
  handler: FetchHandler | undefined,
  endpoint: string,
  tls: TlsCertificate,
  options: ServeOptions & { textRoutes?: Record<string, TextRoute>; clientCaPem?: string } = {},
): Promise<{
  server: TlsServer;
  port: number;
  close(graceMs?: number): Promise<void>;
  setCertificate(tls: TlsCertificate & { clientCaPem?: string }): void;
}> {
  // With clientCaPem, mutual TLS: a client without a certificate that CA issued is refused in the handshake.
  const clientAuth = options.clientCaPem ? { ca: options.clientCaPem, requestCert: true, rejectUnauthorized: true } : {};
  const server = createTlsServer(
    { cert: tls.certPem, key: tls.keyPem, minVersion: 'TLSv1.2', ...clientAuth },
    fetchListener(handler, 'https', options),
  );
  const served = await listen(server, endpoint);
  // A new client CA (a renewal) replaces the one given at start; mutual TLS stays on or off as started.
  let clientCaPem = options.clientCaPem;
  return {
    ...served,
    setCertificate: (next) => {
      if (options.clientCaPem && next.clientCaPem) clientCaPem = next.clientCaPem;
      server.setSecureContext({ cert: next.certPem, key: next.keyPem, minVersion: 'TLSv1.2', ...(clientCaPem ? { ca: clientCaPem } : {}) });
    },
  };
}
