// The handlers `run` calls over HTTP (`--handler-url NAME=URL`, `--handler-service NAME=SERVICE`):
// each is the local handler's shape (parent, children, conditions) with its reconcile sent to the
// hook, one HookClient per hook to stop and close with the operator, and, for hooks behind a
// Service of the operator namespace, their certificates from the operator's own CA (hook-tls.ts).
import type { Handler } from '../core/handler.ts';
import type { HookFlagOptions } from './cli/hook-flags.ts';
import type { Clock } from './clock.ts';
import { HookClient } from './hook-client.ts';
import { hookRequestDuration } from './hook-metrics.ts';
import { startHookTls, type RunningHookTls } from './hook-tls.ts';
import type { HandlerName } from './handler-names.ts';
import { HANDLERS } from './handlers.ts';
import type { KubeClient } from './kube/client.ts';
import type { Logger } from './log.ts';
import type { OperatorMetrics } from './metrics.ts';
import { remoteHandler } from './remote-handler.ts';

export type HookOptions = Record<string, HookFlagOptions>;

export interface HookedHandlersOptions {
  hooks?: HookOptions;
  /** The handlers this process runs (a hook of another is left alone). */
  handlers: readonly HandlerName[];
  client: KubeClient;
  log: Logger;
  metrics: OperatorMetrics;
  clock: Clock;
  canWriteFor(name: string): () => boolean;
  operatorNamespace: string;
  clusterDomain: string;
  /** Where the operator's CA is kept (the webhook's Secret and Service). */
  webhook: { serviceName: string; secretName?: string; url?: string };
  /** How often the hook certificates are re-checked (default 10 minutes). */
  tlsCheckIntervalMs?: number;
}

export interface HookedHandlers {
  /** The handler to run for a name: the local one, or its hook. */
  handlerOf(name: HandlerName): Handler;
  stop(): Promise<void>;
}

/** --handler-service: the hooks' certificates from the operator's own CA, issued before the first call. */
async function hookCertificates(o: HookedHandlersOptions): Promise<RunningHookTls | undefined> {
  const serviced = Object.entries(o.hooks ?? {}).filter(([name, h]) => h.service && o.handlers.includes(name as HandlerName));
  if (!serviced.length) return undefined;
  return startHookTls({
    client: o.client,
    operatorNamespace: o.operatorNamespace,
    clusterDomain: o.clusterDomain,
    webhook: o.webhook,
    hooks: Object.fromEntries(serviced.map(([name, h]) => [name, { serviceName: h.service!, url: h.url }])),
    log: o.log,
    clock: o.clock,
    checkIntervalMs: o.tlsCheckIntervalMs,
  });
}

export async function hookedHandlers(o: HookedHandlersOptions): Promise<HookedHandlers> {
  const onCall = Object.keys(o.hooks ?? {}).length ? hookRequestDuration(o.metrics.registry) : undefined;
  const tls = await hookCertificates(o);
  const remotes: { handler: Handler & { stop(): Promise<void> }; client: HookClient }[] = [];
  return {
    handlerOf(name) {
      const hook = o.hooks?.[name];
      if (!hook) return HANDLERS[name];
      const { service, ...options } = hook;
      const client = new HookClient({ ...options, ...(service ? tls!.current() : {}), handler: name });
      if (service) tls!.onChange((issued) => client.setTls(issued));
      const handler = remoteHandler(HANDLERS[name], { client: o.client, hook: client, log: o.log, canWrite: o.canWriteFor(name), onCall });
      remotes.push({ handler, client });
      o.log.info('handler served by a hook', { handler: name, url: client.url.href });
      return handler;
    },
    async stop() {
      tls?.stop();
      await Promise.all(remotes.map((r) => r.handler.stop()));
      remotes.forEach((r) => r.client.close());
    },
  };
}
