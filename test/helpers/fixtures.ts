// Paths to the fixtures the tests share, and the compiled fixture tokenizer (built once per
// checkout into .cache/, since compiling 250k pieces takes a few seconds).

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readTokenizerFile, TOKENIZER_FORMAT_VERSION, writeTokenizerFile } from '../../src/tokenizer/binary-file.js';
import { compileTokenizerJson } from '../../src/tokenizer/compile.js';
import { Tokenizer } from '../../src/tokenizer/tokenizer.js';

// build/test/helpers/ → the project root.
export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const FIXTURES = join(PROJECT_ROOT, 'test', 'fixtures');
export const FIXTURE_TOKENIZER_DIR = join(FIXTURES, 'xlmr-synthetic');
export const FIXTURE_TOKENIZER_JSON = join(FIXTURE_TOKENIZER_DIR, 'tokenizer.json');
export const CACHE_DIR = join(PROJECT_ROOT, '.cache');

export function compiledFixturePath(): string {
  const json = readFileSync(FIXTURE_TOKENIZER_JSON);
  const hash = createHash('sha256').update(json).digest('hex').slice(0, 16);
  const path = join(CACHE_DIR, `tokenizer-${hash}-v${TOKENIZER_FORMAT_VERSION}.bin`);
  if (!existsSync(path)) {
    mkdirSync(CACHE_DIR, { recursive: true });
    const tmp = `${path}.${process.pid}.tmp`;
    writeTokenizerFile(tmp, compileTokenizerJson(json.toString('utf8')));
    renameSync(tmp, path);
  }
  return path;
}

export function fixtureTokenizer(): Tokenizer {
  return new Tokenizer(readTokenizerFile(compiledFixturePath()).data);
}
