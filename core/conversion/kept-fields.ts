// Lossless translation between two versions of a spec, field group by field
// group. Each rule owns some fields of the older version and some of the
// newer one and translates them both ways. Where a translation does not come
// back to what was written (a snake_case spelling, a `Parallel` strategy, a
// second volume template), the written value is kept, with a hash of what it
// was translated into, in an annotation on the translated object (as Cluster
// API and other Kubernetes projects keep fields the hub cannot express).
// Translating back restores the kept value if its counterpart is unchanged,
// so an unedited round trip returns the identical object; after an edit
// through the other version the edited value wins, translated afresh.
import { z } from 'zod';
import { canonicallyEqual, contentHash } from '../manifests/hash.ts';

export type Json = Record<string, unknown>;

export interface FieldRule {
  /** Names the rule in the kept-fields annotation. */
  name: string;
  older: readonly string[];
  newer: readonly string[];
  /** Older fields (only those present) to newer fields. */
  up(older: Json): Json;
  /** Newer fields (only those present) to older fields. */
  down(newer: Json): Json;
}

/** A nested spec (a cluster's node specs) translated by its own rules. */
export interface NestedRule {
  name: string;
  older: string;
  newer: string;
  rules: readonly Rule[];
  shapes: Shapes;
}

export type Rule = FieldRule | NestedRule;

/** The zod shapes of both versions, to compare values with their schema defaults applied. */
export interface Shapes {
  older: Record<string, z.ZodType>;
  newer: Record<string, z.ZodType>;
}

/** A value the other version cannot express: what was written, and a hash of what it became. */
export interface Kept {
  from: Json;
  to: string;
}
export type KeptFields = Record<string, Kept>;

export type Direction = 'up' | 'down';

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

export function pick(o: Json, keys: readonly string[]): Json {
  const out: Json = {};
  for (const k of keys) if (o[k] !== undefined) out[k] = o[k];
  return out;
}

export function defined<T extends Json>(o: T): T {
  const out: Json = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out as T;
}

const schemas = new WeakMap<object, Map<string, z.ZodType>>();
/**
 * The value as the API server holds it: the version's schema defaults filled
 * in (it defaults on every read), so a kept value still matches after the
 * object was stored and read back.
 */
function canonical(shape: Record<string, z.ZodType>, value: Json): string {
  const keys = Object.keys(value)
    .filter((k) => shape[k])
    .sort();
  let perShape = schemas.get(shape);
  if (!perShape) schemas.set(shape, (perShape = new Map()));
  const id = keys.join(',');
  let schema = perShape.get(id);
  if (!schema) perShape.set(id, (schema = z.object(Object.fromEntries(keys.map((k) => [k, shape[k]!])))));
  const parsed = schema.safeParse(value);
  return contentHash(parsed.success ? { ...value, ...(parsed.data as Json) } : value, 16);
}

/**
 * Translates `spec` in `direction`. `incoming` holds values the target
 * version had kept on this object (read from its annotation); values this
 * version cannot carry over are added to `outgoing` under `prefix + rule`.
 */
export function translate(
  rules: readonly Rule[],
  shapes: Shapes,
  spec: Json,
  direction: Direction,
  incoming: KeptFields,
  outgoing: KeptFields,
  prefix = '',
): Json {
  const out: Json = {};
  const claimed = new Set<string>();
  const [sourceShape, targetShape] = direction === 'up' ? [shapes.older, shapes.newer] : [shapes.newer, shapes.older];
  for (const rule of rules) {
    const key = prefix + rule.name;
    if (!('up' in rule)) {
      const [source, target] = direction === 'up' ? [rule.older, rule.newer] : [rule.newer, rule.older];
      claimed.add(source);
      const value = spec[source];
      if (value === undefined) continue;
      out[target] = isObject(value) ? translate(rule.rules, rule.shapes, value, direction, incoming, outgoing, `${key}.`) : value;
      continue;
    }
    const [sourceKeys, forward, backward] = direction === 'up' ? [rule.older, rule.up, rule.down] : [rule.newer, rule.down, rule.up];
    for (const k of sourceKeys) claimed.add(k);
    const written = pick(spec, sourceKeys);
    const kept = incoming[key];
    const translated = kept && kept.to === canonical(sourceShape, written) ? kept.from : forward(written);
    if (!canonicallyEqual(backward(translated), written)) {
      outgoing[key] = { from: written, to: canonical(targetShape, translated) };
    }
    Object.assign(out, translated);
  }
  // Fields both versions spell the same way.
  for (const [k, v] of Object.entries(spec)) if (!claimed.has(k) && v !== undefined) out[k] = v;
  return out;
}
