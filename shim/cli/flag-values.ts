// Flag values every subcommand reads the same way: whole numbers within bounds
// and host:port endpoints, refused with one line that names the flag.
import { parseEndpoint } from '../http.ts';
import { UsageError } from './usage.ts';

/** `--flag N`, a whole number from `min` (to `max`), in `unit`s; a UsageError naming the flag otherwise. */
export function wholeNumberFlag(values: Record<string, unknown>, flag: string, o: { min: number; max?: number; unit?: string }): number {
  const n = Number(values[flag]);
  if (Number.isInteger(n) && n >= o.min && (o.max === undefined || n <= o.max)) return n;
  const range = o.max === undefined ? `>= ${o.min}` : `from ${o.min} to ${o.max}`;
  throw new UsageError(`--${flag} ${values[flag]}: expected a whole number${o.unit ? ` of ${o.unit}` : ''} ${range}`);
}

/** `--flag HOST:PORT`: its host; a UsageError naming the flag otherwise. */
export function endpointFlag(values: Record<string, unknown>, flag: string): string {
  try {
    return parseEndpoint(String(values[flag])).host;
  } catch (error) {
    throw new UsageError(`--${flag}: ${(error as Error).message}`);
  }
}
