#!/usr/bin/env node
// ortos-embed: multilingual-e5-base embeddings that wake in well under a second.
// Dispatches to one command; each command is imported only when it runs.

import { debugging, environment } from '../settings/environment.js';
import { ConfigError } from '../settings/errors.js';
import type { Env } from '../settings/setting.js';

const HELP = `usage: ortos-embed <command> [options]

Commands:
  serve      run the HTTP service (OpenAI /v1/embeddings, TEI /embed and /tokenize)
  prepare    download and prepare the model for fast start-up
  embed      print embeddings of texts given as arguments or on stdin
  verify     compare int8 and fp32 vectors on a multilingual sample (quantization loss)
  cost       estimate the monthly Fly.io cost for a usage profile
  cache      show or clear the persistent embedding cache (--cache-dir)

Run "ortos-embed <command> --help" for a command's options.`;

type Command = (argv: string[], env: Env) => Promise<number>;

const COMMANDS: Record<string, () => Promise<Command>> = {
  serve: async () => (await import('./serve.js')).serveCommand,
  prepare: async () => (await import('./prepare.js')).prepareCommand,
  embed: async () => (await import('./embed.js')).embedCommand,
  verify: async () => (await import('./verify.js')).verifyCommand,
  cost: async () => (await import('./cost.js')).costCommand,
  cache: async () => (await import('./cache.js')).cacheCommand,
};

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(HELP);
    return name === undefined ? 2 : 0;
  }
  if (name === '--version') {
    console.log((await import('../version.js')).ortosVersion());
    return 0;
  }
  const load = COMMANDS[name];
  if (!load) {
    const near = Object.keys(COMMANDS).find((c) => c.startsWith(name) || name.startsWith(c) || [...c].filter((ch, i) => name[i] !== ch).length <= 1);
    console.error(`ortos-embed: unknown command "${name}"${near ? ` (did you mean ${near}?)` : ''}\n\n${HELP}`);
    return 2;
  }
  return (await load())(rest, environment());
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    const err = e as Error;
    const usage = err instanceof ConfigError;
    console.error(`ortos-embed: ${usage ? '' : 'error: '}${err.message}`);
    if (debugging()) console.error(err.stack);
    process.exitCode = usage ? 2 : 1;
  },
);
