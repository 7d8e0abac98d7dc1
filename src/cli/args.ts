// Flag parsing shared by the commands (node:util's parseArgs: no dependency, no start-up cost);
// which flags a command takes comes from its settings tables (settings/).

import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigError } from '../settings/errors.js';
import type { Flags } from '../settings/setting.js';

export type Options = NonNullable<ParseArgsConfig['options']>;

export interface Parsed {
  flags: Flags;
  positionals: string[];
  /** --help was asked for: its text is printed, and the command has nothing else to do. */
  helped: boolean;
}

function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
  }
  return d[a.length][b.length];
}

/**
 * Flags of one command. Mistakes become one line that says what was wrong and where to look
 * (node's own messages quote oddly and point nowhere).
 */
export function parse(argv: string[], options: Options, command: string, helpText: string, positionals = false): Parsed {
  const help = `see "ortos-embed ${command} --help"`;
  try {
    const { values, positionals: rest } = parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: positionals, strict: true });
    const helped = values.help === true;
    if (helped) console.log(helpText);
    return { flags: values as Flags, positionals: rest, helped };
  } catch (e) {
    const err = e as { code?: string; message: string };
    const opt = /'(-{1,2}[^' ]+)/.exec(err.message)?.[1] ?? '';
    if (err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      const name = opt.replace(/^-+/, '').split('=')[0];
      const near = Object.keys(options).filter((k) => distance(k, name) <= 2).map((k) => `--${k}`);
      throw new ConfigError(`${command}: unknown option ${opt}${near.length > 0 ? ` (did you mean ${near.join(' or ')}?)` : ''}; ${help}`);
    }
    if (err.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      throw new ConfigError(/argument missing/.test(err.message) ? `${command}: ${opt} needs a value; ${help}` : `${command}: ${opt} takes no value; ${help}`);
    }
    if (err.code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
      const arg = /'([^']*)'/.exec(err.message)?.[1] ?? '';
      throw new ConfigError(`${command}: unexpected argument "${arg}" (it takes options only); ${help}`);
    }
    throw new ConfigError(`${command}: ${err.message}; ${help}`);
  }
}
