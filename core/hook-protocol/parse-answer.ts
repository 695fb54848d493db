// What the operator makes of a hook's answer: a Desired to act on, or a
// failure that says why (and so nothing is applied or pruned). Only a 200
// whose body is a ReconcileResponse for the handler asked, in a version the
// operator speaks, whose Desired passes the schema, is ever acted on.
import type { Desired } from '../handler.ts';
import { REASON_HOOK_ERROR, REASON_HOOK_INVALID_ANSWER } from './reasons.ts';
import { firstIssue, hookErrorSchema, reconcileResponseSchema, type DesiredWire } from './schemas.ts';
import { desiredFromWire } from './wire.ts';
import { SUPPORTED_HOOK_API_VERSIONS } from './version.ts';

export type HookAnswer = { ok: true; desired: Desired } | { ok: false; reason: string; message: string };

const clip = (text: string) => (text.length > 200 ? `${text.slice(0, 200)}...` : text);

export function parseHookAnswer(handler: string, status: number, text: string): HookAnswer {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    if (status !== 200)
      return { ok: false, reason: REASON_HOOK_ERROR, message: `answered HTTP ${status}: ${clip(text.trim()) || '(empty body)'}` };
    return {
      ok: false,
      reason: REASON_HOOK_INVALID_ANSWER,
      message: `answered 200 with a body that is not JSON: ${clip(text.trim()) || '(empty body)'}`,
    };
  }
  if (status !== 200) {
    const error = hookErrorSchema.safeParse(body);
    const detail = error.success ? `${error.data.reason}: ${error.data.message}` : clip(text.trim());
    return { ok: false, reason: REASON_HOOK_ERROR, message: `answered HTTP ${status}: ${detail}` };
  }
  const parsed = reconcileResponseSchema.safeParse(body);
  if (!parsed.success)
    return {
      ok: false,
      reason: REASON_HOOK_INVALID_ANSWER,
      message: `answer is not a ReconcileResponse: ${firstIssue(parsed.error).message}`,
    };
  const answer = body as { apiVersion: string; handler: string; desired: DesiredWire };
  if (!SUPPORTED_HOOK_API_VERSIONS.includes(answer.apiVersion)) {
    return {
      ok: false,
      reason: REASON_HOOK_INVALID_ANSWER,
      message: `answer is in apiVersion ${JSON.stringify(answer.apiVersion)}; the operator speaks ${SUPPORTED_HOOK_API_VERSIONS.join(', ')}`,
    };
  }
  if (answer.handler !== handler)
    return { ok: false, reason: REASON_HOOK_INVALID_ANSWER, message: `answer is from the ${answer.handler} handler, not ${handler}` };
  return { ok: true, desired: desiredFromWire(answer.desired) };
}
