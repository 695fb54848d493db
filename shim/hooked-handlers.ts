// The handlers `run` calls over HTTP (`--handler-url NAME=URL`): each is the
// local handler's shape (parent, children, conditions) with its reconcile sent
// to the hook, and one HookClient per hook to stop and close with the operator.
import type { Handler } from '../core/handler.ts';
import { HookClient, type HookClientOptions } from './hook-client.ts';
import { hookRequestDuration } from './hook-metrics.ts';
import type { HandlerName } from './handler-names.ts';
import { HANDLERS } from './handlers.ts';
import type { KubeClient } from './kube/client.ts';
import type { Logger } from './log.ts';
import type { OperatorMetrics } from './metrics.ts';
import { remoteHandler } from './remote-handler.ts';

export type HookOptions = Record<string, Omit<HookClientOptions, 'handler'>>;

export interface HookedHandlers {
  /** The handler to run for a name: the local one, or its hook. */
  handlerOf(name: HandlerName): Handler;
  stop(): Promise<void>;
}

export function hookedHandlers(o: { hooks?: HookOptions; client: KubeClient; log: Logger; metrics: OperatorMetrics; canWriteFor(name: string): () => boolean }): HookedHandlers {
  const onCall = Object.keys(o.hooks ?? {}).length ? hookRequestDuration(o.metrics.registry) : undefined;
  const remotes: { handler: Handler & { stop(): Promise<void> }; client: HookClient }[] = [];
  return {
    handlerOf(name) {
      const hook = o.hooks?.[name];
      if (!hook) return HANDLERS[name];
      const client = new HookClient({ ...hook, handler: name });
      const handler = remoteHandler(HANDLERS[name], { client: o.client, hook: client, log: o.log, canWrite: o.canWriteFor(name), onCall });
      remotes.push({ handler, client });
      o.log.info('handler served by a hook', { handler: name, url: client.url.href });
      return handler;
    },
    async stop() {
      await Promise.all(remotes.map((r) => r.handler.stop()));
      remotes.forEach((r) => r.client.close());
    },
  };
}
