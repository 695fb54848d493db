// `run --handler-url NAME=URL` and the flags that secure those calls (rows of
// commands/run-flags.ts), checked at start: a hook for a handler this process does not run, a URL that is not
// https (except on loopback), or half a client certificate ends `run` in one line.
import { readFileSync } from 'node:fs';
import type { HookClientOptions } from '../hook-client.ts';
import { isLoopbackHost } from '../loopback.ts';
import { UsageError } from './usage.ts';

function readFlagFile(flag: string, path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`--${flag} ${path}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
  }
}

export function parseHookFlags(values: Record<string, unknown>, handlers: readonly string[]): Record<string, Omit<HookClientOptions, 'handler'>> {
  const hooks: Record<string, Omit<HookClientOptions, 'handler'>> = {};
  const given = (values['handler-url'] as string[] | undefined) ?? [];
  const timeout = Number(values['handler-timeout-seconds']);
  if (!(timeout > 0 && timeout <= 300)) throw new UsageError(`--handler-timeout-seconds ${values['handler-timeout-seconds']}: expected a number of seconds from 0 to 300`);
  const cert = values['handler-client-cert'] as string | undefined;
  const key = values['handler-client-key'] as string | undefined;
  if (!!cert !== !!key) throw new UsageError('--handler-client-cert and --handler-client-key go together');
  const caPem = values['handler-ca'] ? readFlagFile('handler-ca', String(values['handler-ca'])) : undefined;
  const clientCertPem = cert ? readFlagFile('handler-client-cert', cert) : undefined;
  const clientKeyPem = key ? readFlagFile('handler-client-key', key) : undefined;
  const token = values['handler-token-file'] ? readFlagFile('handler-token-file', String(values['handler-token-file'])).trim() : undefined;
  if (token === '') throw new UsageError(`--handler-token-file ${values['handler-token-file']}: the file is empty`);

  for (const pair of given) {
    const eq = pair.indexOf('=');
    const name = eq > 0 ? pair.slice(0, eq) : '';
    const url = pair.slice(eq + 1);
    if (!name) throw new UsageError(`--handler-url ${pair}: expected NAME=URL`);
    if (!handlers.includes(name)) throw new UsageError(`--handler-url ${pair}: ${name} is not a handler this process runs (--handlers: ${handlers.join(', ')})`);
    if (hooks[name]) throw new UsageError(`--handler-url ${pair}: ${name} is given twice`);
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new UsageError(`--handler-url ${pair}: ${JSON.stringify(url)} is not a URL`);
    }
    if (parsed.username || parsed.password || parsed.search || parsed.hash) throw new UsageError(`--handler-url ${pair}: expected a URL without user, query or fragment`);
    if (parsed.protocol === 'http:' && !isLoopbackHost(parsed.hostname)) {
      throw new UsageError(`--handler-url ${pair}: plain http is refused except on loopback (the hook receives cluster state; pki's receives CA keys): use https`);
    }
    if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw new UsageError(`--handler-url ${pair}: expected an https URL`);
    hooks[name] = { url, caPem, clientCertPem, clientKeyPem, token, timeoutMs: timeout * 1000 };
  }
  return hooks;
}
