// Whether an object in the cache already says everything a desired object
// says, so the apply can be skipped: a no-op reconcile then writes nothing.
// Fields the server adds (defaults, status, metadata) are ignored; values
// the server rewrites (quantities, int-or-string) compare by meaning.
import { parseQuantity } from './manifests/quantity.ts';

export function satisfies(desired: unknown, observed: unknown): boolean {
  if (desired === undefined) return true;
  if (desired === null) return observed === null || observed === undefined;
  if (Array.isArray(desired)) {
    return Array.isArray(observed) && observed.length === desired.length && desired.every((d, i) => satisfies(d, observed[i]));
  }
  if (typeof desired === 'object') {
    if (!observed || typeof observed !== 'object' || Array.isArray(observed)) {
      // An empty desired object is satisfied by an absent one: the server drops empty structs.
      return Object.values(desired).every((v) => v === undefined) && observed === undefined;
    }
    return Object.entries(desired).every(([k, v]) => satisfies(v, (observed as Record<string, unknown>)[k]));
  }
  if (desired === observed) return true;
  if (typeof desired === 'number' || typeof observed === 'number') return String(desired) === String(observed);
  if (typeof desired === 'string' && typeof observed === 'string') {
    try {
      return parseQuantity(desired) === parseQuantity(observed);
    } catch {
      return false;
    }
  }
  return false;
}

/** Equality of two JSON values, ignoring undefined fields and key order. */
export function sameJson(a: unknown, b: unknown): boolean {
  return satisfies(a, b) && satisfies(b, a);
}
