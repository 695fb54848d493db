// Starts hook servers for tests and benchmarks: `spiceai-operator serve` on
// Node, and the same fetch module under `deno serve`. Both on loopback.
import { spawn, type ChildProcess } from 'node:child_process';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

const root = new URL('../../', import.meta.url).pathname;
export const denoBin = join(root, 'node_modules', '.bin', 'deno');
export const denoEnv = () => ({
  ...process.env,
  DENO_DIR: join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'spiceai-operator', 'deno'),
  NO_COLOR: '1',
});

export interface HookServer {
  child: ChildProcess;
  url: string;
  port: number;
  output(): string;
  stop(): Promise<void>;
}

function started(
  child: ChildProcess,
  find: (text: string) => { url: string; port: number } | undefined,
  what: string,
): Promise<HookServer> {
  let text = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not start in 180 s:\n${text}`)), 180_000);
    const onData = (chunk: Buffer) => {
      text += chunk;
      const found = find(text);
      if (found) {
        clearTimeout(timer);
        resolve({
          child,
          ...found,
          output: () => text,
          async stop() {
            if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
            await exited;
          },
        });
      }
    };
    child.stdout!.on('data', (c) => (text += c));
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited (${code}) before serving:\n${text}`));
    });
  });
}

/** `spiceai-operator serve <handler>` with extra flags (TLS, client CA, token). */
export function startNodeHook(handler: string, flags: string[] = []): Promise<HookServer> {
  const bin = process.env.SPICEAI_OPERATOR_BIN ?? join(root, 'bin', 'spiceai-operator.mjs');
  const child = spawn(process.execPath, [bin, 'serve', handler, '--listen', '127.0.0.1:0', ...flags], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return started(
    child,
    (text) => {
      const line = text.split('\n').find((l) => l.includes('"serving hook"'));
      if (!line) return undefined;
      const log = JSON.parse(line) as { address: string; scheme: string };
      return { url: `${log.scheme}://${log.address}`, port: Number(log.address.split(':').pop()) };
    },
    `serve ${handler}`,
  );
}

/** `deno serve functions/<handler>/worker.ts`: the same module, with no Node and no file access. */
export function startDenoHook(handler: string): Promise<HookServer> {
  const child = spawn(
    denoBin,
    // The yaml package reads its debug switches LOG_TOKENS and LOG_STREAM; nothing else is allowed.
    ['serve', '--no-prompt', '--host', '127.0.0.1', '--port', '0', '--allow-env=LOG_TOKENS,LOG_STREAM', `functions/${handler}/worker.ts`],
    { cwd: root, env: denoEnv(), stdio: ['ignore', 'pipe', 'pipe'] },
  );
  return started(
    child,
    (text) => {
      const m = /Listening on (http:\/\/127\.0\.0\.1:(\d+))/.exec(text);
      return m ? { url: m[1]!, port: Number(m[2]) } : undefined;
    },
    `deno serve ${handler}`,
  );
}

export interface RawAnswer {
  status: number;
  contentType: string;
  body: Buffer;
}

/** One request with exactly these headers and body bytes (fetch would add a content type). */
export function rawRequest(
  url: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string | Uint8Array,
  tls: { ca?: string; cert?: string; key?: string } = {},
): Promise<RawAnswer> {
  const bytes = body === undefined ? undefined : typeof body === 'string' ? Buffer.from(body) : Buffer.from(body);
  const u = new URL(path, url);
  const request = u.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = request(
      u,
      { method, headers: { ...headers, ...(bytes ? { 'content-length': String(bytes.length) } : {}) }, agent: false, ...tls },
      (res) => {
        answered = true;
        const chunks: Buffer[] = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode!, contentType: String(res.headers['content-type'] ?? ''), body: Buffer.concat(chunks) }),
        );
        res.on('error', reject);
      },
    );
    // A server may answer (413) before it has read the whole body and close: the answer counts, not the write.
    req.on('error', (error) => {
      if (!answered) reject(error);
    });
    if (bytes && bytes.length > 1024 * 1024) {
      // A server that refuses a large body on its declared length answers before reading it: give it
      // the chance, so the answer is read rather than lost in a reset of the half-sent body.
      req.flushHeaders();
      setTimeout(() => (answered ? req.destroy() : req.end(bytes)), 1500);
    } else if (bytes) req.end(bytes);
    else req.end();
  });
}

/**
 * The same module on workerd (Cloudflare's Workers runtime, from npm): bundled by esbuild for a
 * neutral platform (no Node built-ins to fall back on), served by `workerd serve` on a free port.
 */
export async function startWorkerdHook(handler: string): Promise<HookServer> {
  const { build } = await import('esbuild');
  const { mkdtempSync, writeFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { createServer } = await import('node:net');
  const dir = mkdtempSync(join(tmpdir(), `workerd-${handler}-`));
  await build({
    entryPoints: [join(root, 'functions', handler, 'worker.ts')],
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    mainFields: ['module', 'main'],
    outfile: join(dir, 'worker.mjs'),
    logLevel: 'warning',
  });
  const port = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
  writeFileSync(
    join(dir, 'config.capnp'),
    [
      'using Workerd = import "/workerd/workerd.capnp";',
      'const config :Workerd.Config = (',
      '  services = [ (name = "main", worker = .hook) ],',
      `  sockets = [ (name = "http", address = "127.0.0.1:${port}", http = (), service = "main") ],`,
      ');',
      'const hook :Workerd.Worker = (',
      '  modules = [ (name = "worker", esModule = embed "worker.mjs") ],',
      '  compatibilityDate = "2025-01-01",',
      ');',
    ].join('\n'),
  );
  const child = spawn(join(root, 'node_modules', '.bin', 'workerd'), ['serve', join(dir, 'config.capnp')], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout!.on('data', (c) => (text += c));
  child.stderr!.on('data', (c) => (text += c));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  // workerd prints nothing when it listens: ask its /healthz until it answers.
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`workerd exited (${child.exitCode}):\n${text}`);
    const up = await rawRequest(url, 'GET', '/healthz', {}).then(
      (r) => r.status === 200,
      () => false,
    );
    if (up) break;
    if (i > 300) throw new Error(`workerd did not answer in 60 s:\n${text}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    child,
    url,
    port,
    output: () => text,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
