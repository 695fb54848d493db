// `spiceai-operator serve <handler>`: one handler's fetch module
// (functions/<handler>/worker.ts) served over HTTP(S) on Node, for
// `run --handler-url`. Stateless: run as many copies as needed behind a Service.
import { readFileSync } from 'node:fs';
import { HANDLER_NAMES, type HandlerName } from '../../handler-names.ts';
import type { Logger } from '../../log.ts';
import { isLoopbackHost } from '../../loopback.ts';
import { endpointFlag, wholeNumberFlag } from '../flag-values.ts';
import { runUntilSignal } from '../until-signal.ts';
import { UsageError, type Command } from '../usage.ts';

function readFlagFile(flag: string, path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(
      `--${flag} ${path}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`,
    );
  }
}

export const serveCommand: Command = {
  name: 'serve',
  summary: 'Serve one handler as a hook (POST /reconcile) for run --handler-url.',
  usage:
    'spiceai-operator serve <handler> [--listen ADDR] [--tls-cert FILE --tls-key FILE [--client-ca FILE] [--reload-seconds N]] [--token-file FILE]',
  allowPositionals: true,
  options: {
    listen: { type: 'string', default: '0.0.0.0:8443' },
    'tls-cert': { type: 'string' },
    'tls-key': { type: 'string' },
    'client-ca': { type: 'string' },
    'token-file': { type: 'string' },
    'reload-seconds': { type: 'string', default: '30' },
    verbose: { type: 'boolean' },
  },
  flags: [
    ['<handler>', `the handler to serve: ${HANDLER_NAMES.join(', ')}`],
    ['--listen ADDR', 'bind address (default 0.0.0.0:8443); without TLS only a loopback address is accepted'],
    ['--tls-cert FILE', 'serving certificate (PEM); with --tls-key, serve HTTPS'],
    ['--tls-key FILE', 'its private key (PEM)'],
    ['--client-ca FILE', "require a client certificate issued by this CA (mutual TLS: the operator's)"],
    ['--token-file FILE', "require Authorization: Bearer <the file's content>"],
    [
      '--reload-seconds N',
      're-read --tls-cert, --tls-key and --client-ca this often and serve what changed (a renewed certificate in a mounted Secret) without a restart; 0: never (default 30)',
    ],
    ['--verbose', 'debug-level logs'],
    ['-h, --help', 'show this help'],
  ],
  async run(values, positionals) {
    const flags = parseServeFlags(values, positionals);
    const { jsonLogger } = await import('../../log.ts');
    const log = jsonLogger({ verbose: !!values.verbose });
    await runUntilSignal(() => serveHook(flags, log), log, 'stopping: finishing requests in flight');
    return 0;
  },
};

type ServeFlags = ReturnType<typeof parseServeFlags>;

/** What `serve` is given, checked, with the certificate, CA and token files read. */
export function parseServeFlags(values: Record<string, unknown>, positionals: string[]) {
  if (positionals.length !== 1) throw new UsageError(`expected one handler to serve (${HANDLER_NAMES.join(', ')})`);
  const name = positionals[0]!;
  if (!(HANDLER_NAMES as readonly string[]).includes(name))
    throw new UsageError(`unknown handler ${name} (known: ${HANDLER_NAMES.join(', ')})`);
  const listen = String(values.listen);
  const host = endpointFlag(values, 'listen');
  const certPath = values['tls-cert'] as string | undefined;
  const keyPath = values['tls-key'] as string | undefined;
  const clientCaPath = values['client-ca'] as string | undefined;
  if (!!certPath !== !!keyPath) throw new UsageError('--tls-cert and --tls-key go together');
  if (clientCaPath && !certPath) throw new UsageError('--client-ca needs --tls-cert and --tls-key (mutual TLS)');
  if (!certPath && !isLoopbackHost(host)) {
    throw new UsageError(
      `--listen ${listen}: without --tls-cert/--tls-key a hook is served on a loopback address only (its requests carry cluster state, the pki handler's CA keys)`,
    );
  }
  const reloadSeconds = wholeNumberFlag(values, 'reload-seconds', { min: 0, unit: 'seconds' });
  const files = certPath ? { certPath, keyPath: keyPath!, clientCaPath } : undefined;
  const tls = files ? { certPem: readFlagFile('tls-cert', files.certPath), keyPem: readFlagFile('tls-key', files.keyPath) } : undefined;
  const clientCaPem = clientCaPath ? readFlagFile('client-ca', clientCaPath) : undefined;
  const token = values['token-file'] ? readFlagFile('token-file', String(values['token-file'])).trim() : undefined;
  if (token === '') throw new UsageError(`--token-file ${values['token-file']}: the file is empty`);
  return { name: name as HandlerName, listen, host, files, tls, clientCaPem, token, reloadSeconds };
}

/** Serves the handler's fetch module until stopped. */
async function serveHook(flags: ServeFlags, log: Logger): Promise<{ stop(): Promise<void> }> {
  const { serveFetch, serveFetchTls } = await import('../../http.ts');
  const { HOOK_WORKERS } = await import('../../hook-workers.ts');
  const worker = (await HOOK_WORKERS[flags.name]()).default;
  const { hookError } = await import('../../../core/hook-protocol/reconcile-worker.ts');
  const { DEFAULT_MAX_REQUEST_BYTES } = await import('../../../core/hook-protocol/version.ts');
  const { REASON_BODY_TOO_LARGE } = await import('../../../core/hook-protocol/reasons.ts');
  // A body over the limit is refused before Node reads it, with the module's own answer.
  const tooLargeResponse = hookError(413, REASON_BODY_TOO_LARGE, `request body larger than ${DEFAULT_MAX_REQUEST_BYTES} bytes`);
  const tooLarge = { contentType: 'application/json', body: await tooLargeResponse.text() };
  let fetch = (request: Request) => worker.fetch(request);
  if (flags.token) {
    const { requireBearerToken } = await import('../../hook-token.ts');
    fetch = requireBearerToken(fetch, flags.token) as typeof fetch;
  }
  const options = { maxBodyBytes: DEFAULT_MAX_REQUEST_BYTES, tooLarge };
  const { tls, clientCaPem, host } = flags;
  const server = tls
    ? await serveFetchTls(fetch, flags.listen, tls, { ...options, clientCaPem })
    : await serveFetch(fetch, flags.listen, options);
  const reload =
    flags.files && tls && flags.reloadSeconds > 0 && 'setCertificate' in server
      ? reloadCertificateFiles(server, flags.files, { ...tls, clientCaPem }, flags.reloadSeconds, log)
      : undefined;
  log.info('serving hook', {
    handler: flags.name,
    address: `${host.includes(':') ? `[${host}]` : host}:${server.port}`,
    scheme: tls ? 'https' : 'http',
    clientAuth: [clientCaPem ? 'mutual-tls' : '', flags.token ? 'token' : ''].filter(Boolean).join(',') || 'none',
  });
  return {
    stop: () => {
      clearInterval(reload);
      return server.close();
    },
  };
}

interface Certificate {
  certPem: string;
  keyPem: string;
  clientCaPem?: string;
}

/**
 * A Secret mounted as files is updated in place by the kubelet (a renewal by the operator): re-reads
 * the files every `seconds` and serves what changed; a half-written set is left for the next look.
 */
function reloadCertificateFiles(
  server: { setCertificate(c: Certificate): void },
  files: { certPath: string; keyPath: string; clientCaPath?: string },
  loaded: Certificate,
  seconds: number,
  log: Logger,
) {
  let current = loaded;
  const timer = setInterval(() => {
    let next: Certificate;
    try {
      next = {
        certPem: readFileSync(files.certPath, 'utf8'),
        keyPem: readFileSync(files.keyPath, 'utf8'),
        clientCaPem: files.clientCaPath ? readFileSync(files.clientCaPath, 'utf8') : loaded.clientCaPem,
      };
    } catch (error) {
      log.warn('could not re-read the certificate files; serving the ones loaded', { error: (error as Error).message });
      return;
    }
    if (next.certPem === current.certPem && next.keyPem === current.keyPem && next.clientCaPem === current.clientCaPem) return;
    try {
      server.setCertificate(next);
    } catch (error) {
      // Half-written (a key that is not the certificate's): the next look finds the whole.
      log.warn('the certificate files do not make a usable certificate yet; serving the ones loaded', { error: (error as Error).message });
      return;
    }
    current = next;
    log.info('hook certificate reloaded', { file: files.certPath });
  }, seconds * 1000);
  timer.unref();
  return timer;
}
