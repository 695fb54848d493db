// Serves a fetch-style handler (Request -> Response) on node:http, so the
// handlers in functions/ run unchanged here and on any fetch runtime.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export type FetchHandler = (request: Request) => Response | Promise<Response>;

/** Parses "host:port" (host may be empty or [ipv6]). */
export function parseEndpoint(endpoint: string): { host: string; port: number } {
  const match = /^(\[[^\]]+\]|[^:]*):(\d{1,5})$/.exec(endpoint);
  const port = Number(match?.[2]);
  if (!match || port > 65535) throw new Error(`${endpoint} is not host:port`);
  return { host: match[1]!.replace(/^\[|\]$/g, '') || '0.0.0.0', port };
}

async function toRequest(req: IncomingMessage, base: string): Promise<Request> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const headers = new Headers();
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(', ') : v);
  const hasBody = req.method !== 'GET' && req.method !== 'HEAD' && chunks.length > 0;
  return new Request(new URL(req.url ?? '/', base), { method: req.method, headers, body: hasBody ? Buffer.concat(chunks) : undefined });
}

export async function serveFetch(handler: FetchHandler, endpoint: string): Promise<{ server: Server; port: number; close(): Promise<void> }> {
  const { host, port } = parseEndpoint(endpoint);
  const server = createServer(async (req, res) => {
    try {
      const response = await handler(await toRequest(req, `http://${req.headers.host ?? 'localhost'}`));
      res.writeHead(response.status, Object.fromEntries(response.headers));
      res.end(Buffer.from(await response.arrayBuffer()));
    } catch (error) {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`internal error: ${(error as Error).message}\n`);
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
