// `spiceai-operator serve <handler>`: one handler's fetch module
// (functions/<handler>/worker.ts) served over HTTP(S) on Node, for
// `run --handler-url`. Stateless: run as many copies as needed behind a Service.
import { readFileSync } from 'node:fs';
import { HANDLER_NAMES, type HandlerName } from '../../handler-names.ts';
import { UsageError, type Command } from '../usage.ts';

function readFlagFile(flag: string, path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`--${flag} ${path}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
  }
}

export const serveCommand: Command = {
  name: 'serve',
  summary: 'Serve one handler as a hook (POST /reconcile) for run --handler-url.',
  usage: 'spiceai-operator serve <handler> [--listen ADDR] [--tls-cert FILE --tls-key FILE [--client-ca FILE] [--reload-seconds N]] [--token-file FILE]',
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
    ['--client-ca FILE', 'require a client certificate issued by this CA (mutual TLS: the operator\'s)'],
    ['--token-file FILE', 'require Authorization: Bearer <the file\'s content>'],
    ['--reload-seconds N', 're-read --tls-cert, --tls-key and --client-ca this often and serve what changed (a renewed certificate in a mounted Secret) without a restart; 0: never (default 30)'],
    ['--verbose', 'debug-level logs'],
    ['-h, --help', 'show this help'],
  ],
  async run(values, positionals) {
    if (positionals.length !== 1) throw new UsageError(`expected one handler to serve (${HANDLER_NAMES.join(', ')})`);
    const name = positionals[0]!;
    if (!(HANDLER_NAMES as readonly string[]).includes(name)) throw new UsageError(`unknown handler ${name} (known: ${HANDLER_NAMES.join(', ')})`);
    const { parseEndpoint, serveFetch, serveFetchTls } = await import('../../http.ts');
    const listen = String(values.listen);
    let host: string;
    try {
      host = parseEndpoint(listen).host;
    } catch (error) {
      throw new UsageError(`--listen: ${(error as Error).message}`);
    }
    const certPath = values['tls-cert'] as string | undefined;
    const keyPath = values['tls-key'] as string | undefined;
    if (!!certPath !== !!keyPath) throw new UsageError('--tls-cert and --tls-key go together');
    if (values['client-ca'] && !certPath) throw new UsageError('--client-ca needs --tls-cert and --tls-key (mutual TLS)');
    const { isLoopbackHost } = await import('../../loopback.ts');
    if (!certPath && !isLoopbackHost(host)) {
      throw new UsageError(`--listen ${listen}: without --tls-cert/--tls-key a hook is served on a loopback address only (its requests carry cluster state, the pki handler's CA keys)`);
    }
    const reloadSeconds = Number(values['reload-seconds']);
    if (!Number.isInteger(reloadSeconds) || reloadSeconds < 0) throw new UsageError(`--reload-seconds ${values['reload-seconds']}: expected a whole number of seconds >= 0`);
    const tls = certPath ? { certPem: readFlagFile('tls-cert', certPath), keyPem: readFlagFile('tls-key', keyPath!) } : undefined;
    const clientCaPem = values['client-ca'] ? readFlagFile('client-ca', String(values['client-ca'])) : undefined;
    const token = values['token-file'] ? readFlagFile('token-file', String(values['token-file'])).trim() : undefined;
    if (token === '') throw new UsageError(`--token-file ${values['token-file']}: the file is empty`);

    const { jsonLogger } = await import('../../log.ts');
    const log = jsonLogger({ verbose: !!values.verbose });
    const { HOOK_WORKERS } = await import('../../hook-workers.ts');
    const worker = (await HOOK_WORKERS[name as HandlerName]()).default;
    const { hookError } = await import('../../../core/hook-protocol/reconcile-worker.ts');
    const { DEFAULT_MAX_REQUEST_BYTES } = await import('../../../core/hook-protocol/version.ts');
    const { REASON_BODY_TOO_LARGE } = await import('../../../core/hook-protocol/reasons.ts');
    // A body over the limit is refused before Node reads it, with the module's own answer.
    const tooLargeResponse = hookError(413, REASON_BODY_TOO_LARGE, `request body larger than ${DEFAULT_MAX_REQUEST_BYTES} bytes`);
    const tooLarge = { contentType: 'application/json', body: await tooLargeResponse.text() };
    let fetch = (request: Request) => worker.fetch(request);
    if (token) {
      const { requireBearerToken } = await import('../../hook-token.ts');
      fetch = requireBearerToken(fetch, token) as typeof fetch;
    }
    const options = { maxBodyBytes: DEFAULT_MAX_REQUEST_BYTES, tooLarge };
    const server = tls ? await serveFetchTls(fetch, listen, tls, { ...options, clientCaPem }) : await serveFetch(fetch, listen, options);
    let current = { certPem: tls?.certPem, keyPem: tls?.keyPem, clientCaPem };
    // A Secret mounted as files is updated in place by the kubelet (a renewal by the operator): re-read it.
    const reload =
      tls && reloadSeconds > 0 && 'setCertificate' in server
        ? setInterval(() => {
            const files = [certPath!, keyPath!, ...(values['client-ca'] ? [String(values['client-ca'])] : [])];
            let next: string[];
            try {
              next = files.map((f) => readFileSync(f, 'utf8'));
            } catch (error) {
              log.warn('could not re-read the certificate files; serving the ones loaded', { error: (error as Error).message });
              return;
            }
            if (next[0] === current.certPem && next[1] === current.keyPem && (next[2] ?? clientCaPem) === current.clientCaPem) return;
            try {
              server.setCertificate({ certPem: next[0]!, keyPem: next[1]!, clientCaPem: next[2] });
            } catch (error) {
              // Half-written (a key that is not the certificate's): the next look finds the whole.
              log.warn('the certificate files do not make a usable certificate yet; serving the ones loaded', { error: (error as Error).message });
              return;
            }
            current = { certPem: next[0]!, keyPem: next[1]!, clientCaPem: next[2] ?? clientCaPem };
            log.info('hook certificate reloaded', { file: certPath });
          }, reloadSeconds * 1000)
        : undefined;
    reload?.unref();
    log.info('serving hook', {
      handler: name,
      address: `${host.includes(':') ? `[${host}]` : host}:${server.port}`,
      scheme: tls ? 'https' : 'http',
      clientAuth: [clientCaPem ? 'mutual-tls' : '', token ? 'token' : ''].filter(Boolean).join(',') || 'none',
    });
    await new Promise<void>((resolve) => {
      const shutdown = (signal: string) => {
        log.info('stopping: finishing requests in flight', { signal });
        clearInterval(reload);
        void server.close().then(() => {
          log.info('stopped');
          resolve();
        });
      };
      process.once('SIGTERM', () => shutdown('SIGTERM'));
      process.once('SIGINT', () => shutdown('SIGINT'));
    });
    return 0;
  },
};
