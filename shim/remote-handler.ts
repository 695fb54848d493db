// A handler whose reconcile runs in a hook server (`run --handler-url`). What
// it watches, owns and reports (parent, children, related kinds, condition
// types) is the local handler's declaration; only `reconcile` crosses the wire.
//
// When a call fails (unreachable, deadline passed, an HTTP error, an answer
// that fails the schema) the reconcile throws: the controller then applies,
// patches and prunes nothing for that pass and retries the key with the queue's
// capped backoff. The parent meanwhile gets the condition `<Handler>HookReady`
// =False naming the hook and why (under its own field manager, so the handler's
// own status is untouched), and a Warning Event. The first answer after that
// removes the condition.
import type { Handler, KubeObject, Observed } from '../core/handler.ts';
import { hookConditionType, hookFailedCondition } from '../core/hook-protocol/hook-condition.ts';
import { setConditions } from '../core/conditions.ts';
import type { Condition } from '../core/spec/spicepodset.ts';
import { EventRecorder } from './events.ts';
import { HookCallError, type HookClient } from './hook-client.ts';
import type { KubeClient } from './kube/client.ts';
import type { Logger } from './log.ts';
import { OPERATOR_NAME } from '../core/labels.ts';

export const REASON_HOOK_FAILED_EVENT = 'HookFailed';
export const REASON_HOOK_RECOVERED_EVENT = 'HookRecovered';

export interface RemoteHandlerOptions {
  client: KubeClient;
  hook: HookClient;
  log: Logger;
  /** Writes (the condition, Events) only while this says so (leader election). */
  canWrite: () => boolean;
  /** Each call's duration and HTTP status (0 without an answer). */
  onCall?: (handler: string, code: number, seconds: number) => void;
}

const conditionsOf = (parent: KubeObject) => (parent.status as { conditions?: Condition[] } | undefined)?.conditions ?? [];

export function remoteHandler(local: Handler, o: RemoteHandlerOptions): Handler & { stop(): Promise<void> } {
  const type = hookConditionType(local.name);
  const fieldManager = `${OPERATOR_NAME}-hook-${local.name}`;
  const events = new EventRecorder({ client: o.client, component: OPERATOR_NAME, log: o.log });
  const log = o.log.child({ handler: local.name, hook: o.hook.url.origin });

  const writeCondition = async (parent: KubeObject, conditions: Condition[]) => {
    await o.client.applyStatus(
      {
        apiVersion: parent.apiVersion,
        kind: parent.kind,
        metadata: { name: parent.metadata.name, namespace: parent.metadata.namespace },
        status: { conditions },
      },
      { fieldManager, force: true },
    );
  };

  async function reconcile(observed: Observed) {
    const started = performance.now();
    const parent = observed.parent;
    const current = conditionsOf(parent).find((c) => c.type === type);
    try {
      const { desired, code } = await o.hook.call(observed);
      o.onCall?.(local.name, code, (performance.now() - started) / 1000);
      if (current && o.canWrite()) {
        await writeCondition(parent, []); // this manager's one entry, removed
        events.record(parent, { type: 'Normal', reason: REASON_HOOK_RECOVERED_EVENT, message: `hook ${o.hook.describe()} answers again` });
        log.info('hook recovered', { key: `${parent.metadata.namespace ?? ''}/${parent.metadata.name}` });
      }
      return desired;
    } catch (error) {
      if (!(error instanceof HookCallError)) throw error;
      o.onCall?.(local.name, error.code, (performance.now() - started) / 1000);
      const wanted = hookFailedCondition(local.name, error.reason, error.message);
      const unchanged =
        current && current.status === wanted.status && current.reason === wanted.reason && current.message === wanted.message;
      if (!unchanged && o.canWrite()) {
        const [condition] = setConditions(current ? [current] : [], [wanted], observed.now, parent.metadata.generation);
        try {
          await writeCondition(parent, [condition!]);
        } catch (writeError) {
          log.warn('could not write the hook condition', { error: writeError });
        }
        events.record(parent, { type: 'Warning', reason: REASON_HOOK_FAILED_EVENT, message: error.message });
      }
      throw error;
    }
  }

  return { ...local, reconcile, stop: () => events.flush() };
}
