// `run --handler-url NAME=URL`, `--handler-service NAME=SERVICE` and the flags that secure those calls
// (rows of commands/run-flags.ts), checked at start: a hook for a handler this process does not run, a URL
// that is not https (except on loopback), a Service name that is not one, or half a client certificate ends
// `run` in one line.
import { readFileSync } from 'node:fs';
import type { HookClientOptions } from '../hook-client.ts';
import { isLoopbackHost } from '../loopback.ts';
import { isDns1123Label } from '../../core/spec/kubernetes-names.ts';
import { UsageError } from './usage.ts';

function readFlagFile(flag: string, path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(
      `--${flag} ${path}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`,
    );
  }
}

/** A hook as `run` calls it; `service`: its Service in the operator namespace, whose TLS the operator issues (`--handler-service`). */
export type HookFlagOptions = Omit<HookClientOptions, 'handler'> & { service?: string };

/** NAME=VALUE of a repeatable hook flag, for a handler this process runs, once. */
function handlerPairs(flag: string, given: string[], handlers: readonly string[], what: string): [string, string][] {
  const seen = new Set<string>();
  return given.map((pair) => {
    const eq = pair.indexOf('=');
    const name = eq > 0 ? pair.slice(0, eq) : '';
    if (!name) throw new UsageError(`--${flag} ${pair}: expected NAME=${what}`);
    if (!handlers.includes(name))
      throw new UsageError(`--${flag} ${pair}: ${name} is not a handler this process runs (--handlers: ${handlers.join(', ')})`);
    if (seen.has(name)) throw new UsageError(`--${flag} ${pair}: ${name} is given twice`);
    seen.add(name);
    return [name, pair.slice(eq + 1)];
  });
}

export function parseHookFlags(
  values: Record<string, unknown>,
  handlers: readonly string[],
  operatorNamespace = 'spiceai-operator-system',
): Record<string, HookFlagOptions> {
  const hooks: Record<string, HookFlagOptions> = {};
  const given = (values['handler-url'] as string[] | undefined) ?? [];
  const timeout = Number(values['handler-timeout-seconds']);
  if (!(timeout > 0 && timeout <= 300))
    throw new UsageError(`--handler-timeout-seconds ${values['handler-timeout-seconds']}: expected a number of seconds from 0 to 300`);
  const cert = values['handler-client-cert'] as string | undefined;
  const key = values['handler-client-key'] as string | undefined;
  if (!!cert !== !!key) throw new UsageError('--handler-client-cert and --handler-client-key go together');
  const caPem = values['handler-ca'] ? readFlagFile('handler-ca', String(values['handler-ca'])) : undefined;
  const clientCertPem = cert ? readFlagFile('handler-client-cert', cert) : undefined;
  const clientKeyPem = key ? readFlagFile('handler-client-key', key) : undefined;
  const token = values['handler-token-file'] ? readFlagFile('handler-token-file', String(values['handler-token-file'])).trim() : undefined;
  if (token === '') throw new UsageError(`--handler-token-file ${values['handler-token-file']}: the file is empty`);

  const services = new Map(handlerPairs('handler-service', (values['handler-service'] as string[] | undefined) ?? [], handlers, 'SERVICE'));
  for (const [name, service] of services) {
    if (!isDns1123Label(service))
      throw new UsageError(`--handler-service ${name}=${service}: ${JSON.stringify(service)} is not a Service name (a DNS-1123 label)`);
  }
  const urls = new Map(handlerPairs('handler-url', given, handlers, 'URL'));
  // A Service without a URL is dialled by its cluster DNS name, on the Service's port 443.
  for (const [name, service] of services) if (!urls.has(name)) urls.set(name, `https://${service}.${operatorNamespace}.svc`);
  for (const [name, url] of urls) {
    const pair = `${name}=${url}`;
    const service = services.get(name);
    if (service && !url.startsWith('https:'))
      throw new UsageError(`--handler-url ${pair}: --handler-service ${name}=${service} issues the hook a certificate: use https`);
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new UsageError(`--handler-url ${pair}: ${JSON.stringify(url)} is not a URL`);
    }
    if (parsed.username || parsed.password || parsed.search || parsed.hash)
      throw new UsageError(`--handler-url ${pair}: expected a URL without user, query or fragment`);
    if (parsed.protocol === 'http:' && !isLoopbackHost(parsed.hostname)) {
      throw new UsageError(
        `--handler-url ${pair}: plain http is refused except on loopback (the hook receives cluster state; pki's receives CA keys): use https`,
      );
    }
    if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw new UsageError(`--handler-url ${pair}: expected an https URL`);
    // With --handler-service the operator's CA and client certificate (shim/hook-tls.ts) replace --handler-ca and the client certificate flags.
    hooks[name] = service
      ? { url, token, timeoutMs: timeout * 1000, service }
      : { url, caPem, clientCertPem, clientKeyPem, token, timeoutMs: timeout * 1000 };
  }
  return hooks;
}
