// How strict admission is: the operator's level (`run --admission-policy`),
// overridden per object by the annotation spice.ai/validation-level. On an
// update, a problem the object already had is only a warning: a change that
// does not make things worse (a scale, the operator pausing a crashlooping
// set) is never refused for an old problem.
import type { Finding } from './rules.ts';

export const ANNOTATION_VALIDATION_LEVEL = 'spice.ai/validation-level';
export const LEVELS = ['err', 'warn', 'off'] as const;
export type Level = (typeof LEVELS)[number];
export const REASON_BAD_LEVEL = 'InvalidValidationLevel';

export interface Decision {
  allowed: boolean;
  /** The denial, one line per problem (kubectl prints it). */
  message?: string;
  warnings: string[];
  level: Level;
}

const line = (f: Finding) => `${f.field} ${f.message}`;

export function effectiveLevel(annotations: Record<string, string> | undefined, operatorLevel: Level): { level: Level; problem?: Finding } {
  const value = annotations?.[ANNOTATION_VALIDATION_LEVEL];
  if (value === undefined) return { level: operatorLevel };
  if ((LEVELS as readonly string[]).includes(value)) return { level: value as Level };
  return {
    level: operatorLevel,
    problem: {
      reason: REASON_BAD_LEVEL,
      severity: 'reject',
      field: `metadata.annotations[${ANNOTATION_VALIDATION_LEVEL}]`,
      message: `must be err, warn or off (got ${JSON.stringify(value)})`,
    },
  };
}

/** The decision for `found` (and, on an update, what the old object already had). */
export function decide(found: Finding[], level: Level, before: Finding[] = []): Decision {
  if (level === 'off') return { allowed: true, warnings: [], level };
  const old = new Set(before.map(line));
  const rejects = found.filter((f) => f.severity === 'reject' && !old.has(line(f)));
  const warnings = found.filter((f) => f.severity === 'warn' || old.has(line(f)) || level === 'warn').map(line);
  if (level === 'err' && rejects.length)
    return { allowed: false, message: rejects.map(line).join('; '), warnings: found.filter((f) => f.severity === 'warn').map(line), level };
  return { allowed: true, warnings: [...new Set(warnings)], level };
}
