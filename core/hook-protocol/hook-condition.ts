// The condition the operator keeps on a parent while a hook it calls for that
// parent fails: `<Handler>HookReady`, False, with the failure's reason and a
// message naming the hook. Removed once the hook answers again, so a healthy
// hooked install shows exactly the status an in-process one does.
import type { ConditionInput } from '../conditions.ts';

/** `workloads` -> `WorkloadsHookReady`, `network-policy` -> `NetworkPolicyHookReady`. */
export function hookConditionType(handler: string): string {
  return `${handler
    .split('-')
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join('')}HookReady`;
}

export function hookFailedCondition(handler: string, reason: string, message: string): ConditionInput {
  return {
    type: hookConditionType(handler),
    status: 'False',
    reason,
    message: `${message}; nothing from this pass was applied or deleted; retrying with backoff`,
  };
}
