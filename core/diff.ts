// Whether an object in the cache already says everything a desired object
// says, so the apply can be skipped: a no-op reconcile then writes nothing.
// Fields the server adds (defaults, status, metadata) are ignored; values
// the server rewrites (quantities, int-or-string) compare by meaning.
import { parseQuantity } from './manifests/quantity.ts';

export function satisfies(desired: unknown, observed: unknown): boolean {
  if (desired === undefined) return true;
  if (desired === null) return observed === null || observed === undefined;
  // Plain loops: this walks every child of every reconcile, and entries()/every() allocated more than the rest of it.
  if (Array.isArray(desired)) {
    if (!Array.isArray(observed) || observed.length !== desired.length) return false;
    for (let i = 0; i < desired.length; i++) if (!satisfies(desired[i], observed[i])) return false;
    return true;
  }
  if (typeof desired === 'object') {
    const d = desired as Record<string, unknown>;
    if (!observed || typeof observed !== 'object' || Array.isArray(observed)) {
      // An empty desired object is satisfied by an absent one: the server drops empty structs.
      for (const k of Object.keys(d)) if (d[k] !== undefined) return false;
      return observed === undefined;
    }
    const o = observed as Record<string, unknown>;
    for (const k of Object.keys(d)) if (!satisfies(d[k], o[k])) return false;
    return true;
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
