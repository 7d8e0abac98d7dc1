import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DiskTier, STORE_FILE } from '../cache/disk-tier.js';
import { CACHE_TABLE } from '../settings/cache.js';
import { ConfigError } from '../settings/errors.js';
import { helpOf, onOff, optionsOf, readAll, type Env } from '../settings/setting.js';
import { parse, type Options } from './args.js';
import { log } from './log.js';

const OWN_TABLE = {
  clear: onOff('clear', undefined, 'remove every stored vector (the file stays, emptied)'),
};
const TABLE = { cacheDir: CACHE_TABLE.cacheDir, ...OWN_TABLE };

export const CACHE_HELP = `usage: ortos-embed cache --cache-dir DIR [--clear]

Shows what the persistent embedding cache in DIR holds (vectors, bytes), or empties it. It is
safe while a service uses the same directory: that service's in-memory tier keeps what it has
until it restarts (or a request sends "Cache-Control: no-cache").

${helpOf(TABLE)}`;

export const CACHE_OPTIONS = optionsOf(TABLE) satisfies Options;

export async function cacheCommand(argv: string[], env: Env): Promise<number> {
  const { flags, helped } = parse(argv, CACHE_OPTIONS, 'cache', CACHE_HELP);
  if (helped) return 0;
  const { cacheDir, clear } = readAll(TABLE, flags, env);
  if (cacheDir === undefined) throw new ConfigError('give the cache\'s directory: --cache-dir DIR (or CACHE_DIR)');
  if (!existsSync(join(cacheDir, STORE_FILE))) throw new ConfigError(`no embedding cache in ${cacheDir} (no ${STORE_FILE}): is it the directory serve was given?`);
  const tier = await DiskTier.open(cacheDir, Number.MAX_SAFE_INTEGER, (_level, message) => log(message));
  if (tier === null) return 1;
  const mib = (n: number): string => (n / 2 ** 20).toFixed(1);
  if (clear) {
    const removed = tier.clear();
    log(`removed ${removed} vectors from ${tier.path}`);
  }
  console.log(JSON.stringify({ path: tier.path, entries: tier.entries, bytes: tier.bytes }));
  if (!clear) log(`${tier.entries} vectors, ${mib(tier.bytes)} MiB in ${tier.path}`);
  tier.close();
  return 0;
}
