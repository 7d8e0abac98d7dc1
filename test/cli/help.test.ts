// Every --help lists every flag its command accepts and every environment variable it reads.
// The variables read are recorded, not listed here: each command's settings are read once,
// by one function, which runs here against an environment that notes what was asked of it.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Env, Flags } from '../../src/settings/setting.js';
import type { Options } from '../../src/cli/args.js';
import { CACHE_HELP, CACHE_OPTIONS } from '../../src/cli/cache.js';
import { COST_HELP, COST_OPTIONS } from '../../src/cli/cost.js';
import { EMBED_HELP, EMBED_OPTIONS, embedSettings } from '../../src/cli/embed.js';
import { PREPARE_HELP, PREPARE_OPTIONS, prepareSettings } from '../../src/cli/prepare.js';
import { SERVE_HELP, SERVE_OPTIONS, serveSettings } from '../../src/cli/serve.js';
import { VERIFY_HELP, VERIFY_OPTIONS, verifySettings } from '../../src/cli/verify.js';

function variablesRead(settings: (flags: Flags, env: Env) => unknown): string[] {
  const read = new Set<string>();
  // Loopback, so serve's check for a key on a public address passes and every later setting is read too.
  const base: Record<string, string> = { HOST: '127.0.0.1' };
  const env = new Proxy(base, {
    get(target, key) {
      if (typeof key === 'string') read.add(key);
      return target[key as string];
    },
  });
  settings({}, env);
  return [...read];
}

const COMMANDS: Array<[string, Options, string, ((flags: Flags, env: Env) => unknown) | null]> = [
  ['serve', SERVE_OPTIONS, SERVE_HELP, serveSettings],
  ['prepare', PREPARE_OPTIONS, PREPARE_HELP, prepareSettings],
  ['embed', EMBED_OPTIONS, EMBED_HELP, embedSettings],
  ['verify', VERIFY_OPTIONS, VERIFY_HELP, verifySettings],
  ['cost', COST_OPTIONS, COST_HELP, null],
  ['cache', CACHE_OPTIONS, CACHE_HELP, null],
];

for (const [name, options, help, settings] of COMMANDS) {
  test(`${name} --help lists every flag and every environment variable ${name} reads`, () => {
    for (const flag of Object.keys(options)) assert.match(help, new RegExp(`--${flag}\\b`), `--${flag} is missing from ${name} --help`);
    if (settings === null) return;
    const read = variablesRead(settings);
    assert.ok(read.length > 0);
    for (const v of read) assert.match(help, new RegExp(`\\b${v}\\b`), `${v} is read by ${name} but missing from its --help`);
  });
}
