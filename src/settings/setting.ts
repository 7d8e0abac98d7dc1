// One declaration per setting: its flag, its environment variable, how its value is read and
// checked, its default, and its line of --help. The commands' option lists, their --help and
// their typed settings are all made from these tables (as TEI's `#[clap(long, env)]` makes its
// flags from one declaration), so a flag cannot be accepted without being documented, or
// documented under another default than the one applied.

import { ConfigError } from './errors.js';

export type Env = Readonly<Record<string, string | undefined>>;
export type Flags = Readonly<Record<string, string | boolean | undefined>>;

export interface Setting<T> {
  readonly flag: string;
  readonly env?: string;
  /** The value's placeholder in --help (N, D, DIR); none for an on/off flag. */
  readonly arg?: string;
  /** What it does, one or more lines, without the environment variable or the default. */
  readonly help: string;
  /** The default as --help shows it, if it has one worth saying. */
  readonly shown?: string;
  /** The flag's value, else the variable's (an empty variable is unset), read and checked. */
  read(raw: string | undefined, on: boolean): T;
}

export type Table = Readonly<Record<string, Setting<unknown>>>;
export type Values<T extends Table> = { -readonly [K in keyof T]: T[K] extends Setting<infer V> ? V : never };

export function truthy(v: string | undefined): boolean {
  return v !== undefined && ['1', 'true', 'yes', 'on'].includes(v.toLowerCase());
}

/** Every setting of `table`, flags first, then the environment, then defaults. */
export function readAll<T extends Table>(table: T, flags: Flags, env: Env): Values<T> {
  const out: Record<string, unknown> = {};
  for (const [key, s] of Object.entries(table)) {
    const f = flags[s.flag];
    const e = s.env !== undefined ? env[s.env] : undefined;
    const raw = typeof f === 'string' ? f : e !== undefined && e !== '' ? e : undefined;
    out[key] = s.read(raw, f === true || (s.arg === undefined && truthy(e)));
  }
  return out as Values<T>;
}

/** node:util parseArgs options for these tables. */
export function optionsOf(...tables: Table[]): Record<string, { type: 'string' | 'boolean' }> {
  const out: Record<string, { type: 'string' | 'boolean' }> = {};
  for (const t of tables) for (const s of Object.values(t)) out[s.flag] = { type: s.arg === undefined ? 'boolean' : 'string' };
  return out;
}

const COLUMN = 25;
const WIDTH = 100;

/** Words into lines of at most `width` characters. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

/** The --help lines of a table: the flag and its value, what it does, its variable and default. */
export function helpOf(table: Table): string {
  const lines: string[] = [];
  for (const s of Object.values(table)) {
    const head = `  --${s.flag}${s.arg ? ` ${s.arg}` : ''}`;
    const tail = [s.env ? `env ${s.env}${s.arg === undefined ? '=1' : ''}` : '', s.shown !== undefined ? `default ${s.shown}` : ''].filter(Boolean).join('; ');
    const text = wrap(`${s.help}${tail ? ` (${tail})` : ''}`, WIDTH - COLUMN);
    text.forEach((t, i) => {
      const lead = i === 0 ? (head.length < COLUMN ? head.padEnd(COLUMN) : `${head}\n${' '.repeat(COLUMN)}`) : ' '.repeat(COLUMN);
      lines.push(`${lead}${t}`);
    });
  }
  return lines.join('\n');
}

// The kinds of value, each with its check and its error.

export const text = (flag: string, env: string | undefined, arg: string, help: string, shown?: string): Setting<string | undefined> =>
  ({ flag, env, arg, help, shown, read: (raw) => raw });

export const onOff = (flag: string, env: string | undefined, help: string): Setting<boolean> =>
  ({ flag, env, help, read: (_raw, on) => on });

export function integer(flag: string, env: string | undefined, arg: string, dflt: number, min: number, max: number, help: string): Setting<number> {
  return {
    flag, env, arg, help, shown: String(dflt),
    read(raw) {
      if (raw === undefined) return dflt;
      const n = Number(raw);
      if (!Number.isInteger(n) || n < min || n > max) throw new ConfigError(`--${flag} must be an integer from ${min} to ${max}, got "${raw}"`);
      return n;
    },
  };
}

export function choice<V extends string>(flag: string, env: string | undefined, arg: string, values: readonly V[], dflt: V, help: string): Setting<V> {
  return {
    flag, env, arg, help, shown: dflt,
    read(raw) {
      if (raw === undefined) return dflt;
      if (!values.includes(raw as V)) throw new ConfigError(`--${flag} must be one of ${values.join(', ')}, got "${raw}"`);
      return raw as V;
    },
  };
}

/**
 * "300ms", "30s", "5m" or "1h". A bare number is refused: "--idle 5" could mean seconds or
 * minutes, and a wrong guess is silent.
 */
export function parseDuration(name: string, raw: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(raw.trim());
  if (!m) {
    const bare = /^\d+(\.\d+)?$/.test(raw.trim());
    throw new ConfigError(`${name} must be a duration with a unit, like 500ms, 30s, 5m or 1h, got "${raw}"${bare ? ` (seconds? write ${raw.trim()}s)` : ''}`);
  }
  return Math.round(Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h']);
}

/** A duration in milliseconds; `off` (and 0) allowed where `offAllowed`. */
export function duration(flag: string, env: string | undefined, dflt: string, help: string, offAllowed = false): Setting<number> {
  return {
    flag, env, arg: 'D', help, shown: dflt,
    read(raw) {
      const v = raw ?? dflt;
      if (offAllowed && (v === 'off' || v === '0')) return 0;
      return parseDuration(`--${flag}`, v);
    },
  };
}
