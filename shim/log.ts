// Structured logs, one line per event: JSON by default, or zap's console
// layout (time, LEVEL, message, then the fields as JSON) for people running
// the operator in a terminal. Callers pass names, keys and reasons, never
// object contents, so no Secret data can reach a log line.
export type Level = 'debug' | 'info' | 'warn' | 'error';

/** The levels in order; a logger writes its own level and those after it. */
export const LEVELS: readonly Level[] = ['debug', 'info', 'warn', 'error'];
/** --zap-encoder values (controller-runtime pkg/log/zap: json, console). */
export const ENCODERS = ['json', 'console'] as const;
export type Encoder = (typeof ENCODERS)[number];

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

export interface LoggerOptions {
  /** Debug lines too (the same as level 'debug'). */
  verbose?: boolean;
  /** The lowest level written. Default info (debug with verbose). */
  level?: Level;
  encoder?: Encoder;
  write?: (line: string) => void;
  base?: Record<string, unknown>;
}

export function jsonLogger(options: LoggerOptions = {}): Logger {
  const write = options.write ?? ((line: string) => process.stderr.write(line));
  const base = options.base ?? {};
  const lowest = LEVELS.indexOf(options.level ?? (options.verbose ? 'debug' : 'info'));
  const emit = (level: Level, msg: string, fields?: Record<string, unknown>) => {
    if (LEVELS.indexOf(level) < lowest) return;
    const error = fields?.error;
    const rest = error instanceof Error ? { ...fields, error: error.message } : fields;
    const ts = new Date().toISOString();
    if (options.encoder === 'console') {
      const all = { ...base, ...rest };
      write(`${ts}\t${level.toUpperCase()}\t${msg}${Object.keys(all).length ? `\t${JSON.stringify(all)}` : ''}\n`);
    } else {
      write(`${JSON.stringify({ ts, level, msg, ...base, ...rest })}\n`);
    }
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (fields) => jsonLogger({ ...options, base: { ...base, ...fields } }),
  };
}
