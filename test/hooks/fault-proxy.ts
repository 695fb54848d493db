// A hook that misbehaves on demand, for fault tests: on loopback, in front of
// a real hook server (`serve`, over mutual TLS), it passes calls through, or
// answers 500, answers garbage, sleeps past the caller's deadline, or stops
// listening altogether (a killed hook) and comes back on the same port.
// It runs in its own process (FaultProxyProcess), told what to do on stdin:
// the test process blocks on kubectl and on reading the audit log, and a
// proxy in it would stall the calls it passes through.
import { createServer, type Server } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Socket } from 'node:net';

export type FaultMode = 'pass' | 'error500' | 'garbage' | 'sleep' | 'down';

export class FaultProxy {
  mode: FaultMode = 'pass';
  port = 0;
  calls = 0;
  private server?: Server;
  private readonly sockets = new Set<Socket>();

  constructor(
    private readonly target: { url: string; ca: string; cert: string; key: string },
    private readonly sleepMs = 5_000,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const server = createServer((req, res) => {
      this.calls++;
      const chunks: Buffer[] = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        if (this.mode === 'error500') {
          res.writeHead(500, { 'content-type': 'text/plain' }).end('internal error: the hook broke\n');
          return;
        }
        if (this.mode === 'garbage') {
          res.writeHead(200, { 'content-type': 'application/json' }).end('{"apiVersion": "hooks.spice.ai/v1", "desired": {"apply": [');
          return;
        }
        const forward = () => {
          const out = httpsRequest(
            new URL(req.url!, this.target.url),
            {
              method: req.method,
              headers: { 'content-type': 'application/json', 'content-length': String(body.length) },
              ca: this.target.ca,
              cert: this.target.cert,
              key: this.target.key,
            },
            (answer) => {
              res.writeHead(answer.statusCode!, { 'content-type': String(answer.headers['content-type'] ?? '') });
              answer.pipe(res);
            },
          );
          out.on('error', (e) => res.writeHead(502).end(String(e)));
          out.end(body);
        };
        if (this.mode === 'sleep') setTimeout(forward, this.sleepMs);
        else forward();
      });
    });
    server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.once('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as { port: number }).port;
    this.server = server;
  }

  /** Killed: the port refuses connections, and open ones are cut. */
  async kill(): Promise<void> {
    this.mode = 'down';
    const server = this.server!;
    this.server = undefined;
    this.sockets.forEach((s) => s.destroy());
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Back on the same port, passing calls through. */
  async revive(): Promise<void> {
    this.mode = 'pass';
    await this.start();
  }

  async stop(): Promise<void> {
    if (this.server) await this.kill();
  }
}

/** The proxy in a child process (this file run as a script), driven over stdin/stdout. */
export class FaultProxyProcess {
  port = 0;
  private child?: import('node:child_process').ChildProcess;
  private lines: string[] = [];
  private waiting?: (line: string) => void;

  constructor(
    private readonly target: { url: string; ca: string; cert: string; key: string },
    private readonly sleepMs: number,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  private next(): Promise<string> {
    const line = this.lines.shift();
    if (line !== undefined) return Promise.resolve(line);
    return new Promise((resolve) => (this.waiting = resolve));
  }

  private async command(text: string): Promise<string> {
    this.child!.stdin!.write(`${text}\n`);
    return this.next();
  }

  async start(): Promise<void> {
    const { spawn } = await import('node:child_process');
    this.child = spawn(
      process.execPath,
      ['--import', 'tsx', new URL(import.meta.url).pathname, JSON.stringify({ ...this.target, sleepMs: this.sleepMs })],
      { stdio: ['pipe', 'pipe', 'inherit'] },
    );
    let buffer = '';
    this.child.stdout!.on('data', (chunk) => {
      buffer += chunk;
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        if (this.waiting) {
          const w = this.waiting;
          this.waiting = undefined;
          w(line);
        } else this.lines.push(line);
      }
    });
    this.port = Number(await this.next());
  }

  async setMode(mode: FaultMode): Promise<void> {
    await this.command(`mode ${mode}`);
  }

  async kill(): Promise<void> {
    await this.command('kill');
  }

  async revive(): Promise<void> {
    await this.command('revive');
  }

  async calls(): Promise<number> {
    return Number(await this.command('calls'));
  }

  async stop(): Promise<void> {
    if (!this.child || this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child!.once('exit', resolve));
    this.child.kill('SIGTERM');
    await exited;
  }
}

if (process.argv[1] === new URL(import.meta.url).pathname) {
  const options = JSON.parse(process.argv[2]!) as { url: string; ca: string; cert: string; key: string; sleepMs: number };
  const proxy = new FaultProxy(options, options.sleepMs);
  await proxy.start();
  process.stdout.write(`${proxy.port}\n`);
  const { createInterface } = await import('node:readline');
  for await (const line of createInterface({ input: process.stdin })) {
    const [verb, arg] = line.split(' ');
    if (verb === 'mode') proxy.mode = arg as FaultMode;
    else if (verb === 'kill') await proxy.kill();
    else if (verb === 'revive') await proxy.revive();
    process.stdout.write(`${verb === 'calls' ? proxy.calls : 'ok'}\n`);
  }
}
