// One JSON object per line, pino's field names (level, time, msg), so log tooling built for
// pino reads it; or, for a person at a terminal, one readable line (time, level, message,
// key=value). Not pino itself: importing pino costs 40–48 ms on one core here, a sixth of the
// whole wake budget, for what is a JSON.stringify and a write.

export type Level = 'debug' | 'info' | 'warn' | 'error';
const LEVELS: Record<Level, number> = { debug: 20, info: 30, warn: 40, error: 50 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export type LogFormat = 'json' | 'pretty';

const value = (v: unknown): string => {
  if (typeof v !== 'string') return JSON.stringify(v);
  return /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v);
};

/** `12:04:05.123 INFO  model ready loadMs=231 model_id=intfloat/multilingual-e5-base` */
export function prettyLine(level: Level, time: Date, msg: string, fields: Record<string, unknown> = {}): string {
  const hhmmss = time.toISOString().slice(11, 23);
  const kv = Object.entries(fields).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${value(v)}`);
  return `${hhmmss} ${level.toUpperCase().padEnd(5)} ${msg}${kv.length > 0 ? ` ${kv.join(' ')}` : ''}\n`;
}

export function createLogger(minLevel: Level = 'info', write: (line: string) => void = (l) => process.stdout.write(l), format: LogFormat = 'json'): Logger {
  const min = LEVELS[minLevel];
  const emit = (level: Level, msg: string, fields?: Record<string, unknown>): void => {
    if (LEVELS[level] < min) return;
    write(format === 'pretty' ? prettyLine(level, new Date(), msg, fields)
      : JSON.stringify({ level: LEVELS[level], time: Date.now(), pid: process.pid, msg, ...fields }) + '\n');
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
  };
}
