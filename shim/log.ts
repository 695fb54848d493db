// JSON logs, one line per event. Callers pass names, keys and reasons,
// never object contents, so no Secret data can reach a log line.
export type Level = 'debug' | 'info' | 'warn' | 'error';

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

export function jsonLogger(options: { verbose?: boolean; write?: (line: string) => void; base?: Record<string, unknown> } = {}): Logger {
  const write = options.write ?? ((line: string) => process.stderr.write(line));
  const base = options.base ?? {};
  const emit = (level: Level, msg: string, fields?: Record<string, unknown>) => {
    if (level === 'debug' && !options.verbose) return;
    const error = fields?.error;
    const rest = error instanceof Error ? { ...fields, error: error.message } : fields;
    write(`${JSON.stringify({ ts: new Date().toISOString(), level, msg, ...base, ...rest })}\n`);
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (fields) => jsonLogger({ ...options, base: { ...base, ...fields } }),
  };
}
