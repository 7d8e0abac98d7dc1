// One JSON object per line, pino's field names (level, time, msg), so log tooling built for
// pino reads it. Not pino itself: importing pino costs 40–48 ms on one core here, a sixth of
// the whole wake budget, for what is a JSON.stringify and a write.

export type Level = 'debug' | 'info' | 'warn' | 'error';
const LEVELS: Record<Level, number> = { debug: 20, info: 30, warn: 40, error: 50 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export function createLogger(minLevel: Level = 'info', write: (line: string) => void = (l) => process.stdout.write(l)): Logger {
  const min = LEVELS[minLevel];
  const emit = (level: Level, msg: string, fields?: Record<string, unknown>): void => {
    if (LEVELS[level] < min) return;
    write(JSON.stringify({ level: LEVELS[level], time: Date.now(), pid: process.pid, msg, ...fields }) + '\n');
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
  };
}
