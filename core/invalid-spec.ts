// The answer to a spec that cannot be acted on, the same for every parent
// kind: Ready=False InvalidSpec naming each field, the conditions a caller
// carries over as they were, and one Warning Event per new message (a pass
// that finds the same problems again says nothing new).
import { findCondition, setConditions, type ConditionInput } from './conditions.ts';
import type { RecordedEvent } from './handler.ts';
import { REASON_INVALID_SPEC } from './set-reasons.ts';
import type { SpecProblem } from './spec/normalize.ts';
import type { Condition } from './spec/spicepodset.ts';

/** Problems as one message: `field message; field message`. */
export const problemsMessage = (problems: SpecProblem[]) => problems.map((p) => `${p.field} ${p.message}`).join('; ');

/** A stored condition as input again, unchanged. */
export const asInput = (c: Condition): ConditionInput => ({ ...c, reason: c.reason ?? '', message: c.message ?? '' });

export function invalidSpecAnswer(
  previous: Condition[] | undefined,
  problems: SpecProblem[],
  carried: ConditionInput[],
  now: number,
  generation: number | undefined,
): { message: string; conditions: Condition[]; events: RecordedEvent[] } {
  const message = problemsMessage(problems);
  const conditions = setConditions(
    previous,
    [{ type: 'Ready', status: 'False', reason: REASON_INVALID_SPEC, message }, ...carried],
    now,
    generation,
  );
  const before = findCondition(previous, 'Ready');
  const events: RecordedEvent[] =
    before?.reason === REASON_INVALID_SPEC && before.message === message ? [] : [{ type: 'Warning', reason: REASON_INVALID_SPEC, message }];
  return { message, conditions, events };
}
