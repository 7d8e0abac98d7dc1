// The embedding cache's settings (serve and embed).

import { ConfigError } from './errors.js';
import { integer, text, type Setting } from './setting.js';

export const CACHE_TABLE = {
  cacheMemoryMb: integer('cache-memory-mb', 'CACHE_MEMORY_MB', 'MB', 64, 0, 1_000_000,
    'in-memory embedding cache (repeated inputs answered without the model; 0: off)'),
  cacheDir: {
    ...text('cache-dir', 'CACHE_DIR', 'DIR', `also keep the cache in this directory (put it on a Fly volume): it survives
restarts and answers repeats before the model has loaded`),
    read(raw: string | undefined): string | undefined {
      if (raw !== undefined && raw.trim() === '') throw new ConfigError('--cache-dir must name a directory');
      return raw;
    },
  } satisfies Setting<string | undefined>,
  cacheDiskMb: integer('cache-disk-mb', 'CACHE_DISK_MB', 'MB', 1024, 1, 10_000_000, 'size bound of the --cache-dir store; least recently used go first'),
};
