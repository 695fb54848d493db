// Desired <-> its wire form, and the request and answer envelopes. JSON drops
// `undefined`, which a handler's status uses to mean "remove this key": such
// keys travel by name in `statusRemove` and come back as undefined.
import type { Desired, Observed } from '../handler.ts';
import type { DesiredWire, ReconcileRequest, ReconcileResponse } from './schemas.ts';
import { HOOK_API_VERSION, KIND_REQUEST, KIND_RESPONSE } from './version.ts';

export function desiredToWire(desired: Desired): DesiredWire {
  if (!desired.status) return desired as DesiredWire;
  const status: Record<string, unknown> = {};
  const statusRemove: string[] = [];
  for (const [key, value] of Object.entries(desired.status)) {
    if (value === undefined) statusRemove.push(key);
    else status[key] = value;
  }
  return { ...desired, status, ...(statusRemove.length ? { statusRemove } : {}) } as DesiredWire;
}

export function desiredFromWire(wire: DesiredWire): Desired {
  const { statusRemove, ...rest } = wire;
  if (!statusRemove?.length) return rest as Desired;
  const status: Record<string, unknown> = { ...rest.status };
  for (const key of statusRemove) if (!(key in status)) status[key] = undefined;
  return { ...rest, status } as Desired;
}

export const reconcileRequest = (handler: string, observed: Observed): ReconcileRequest => ({
  apiVersion: HOOK_API_VERSION,
  kind: KIND_REQUEST,
  handler,
  observed: observed as ReconcileRequest['observed'],
});

export const reconcileResponse = (handler: string, desired: Desired): ReconcileResponse => ({
  apiVersion: HOOK_API_VERSION,
  kind: KIND_RESPONSE,
  handler,
  desired: desiredToWire(desired),
});
