import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { compiledFixturePath } from '../helpers/fixtures.js';
import { readTokenizerFile, TokenizerFileError, writeTokenizerFile } from '../../src/tokenizer/binary-file.js';
import { Tokenizer } from '../../src/tokenizer/tokenizer.js';

const dir = mkdtempSync(join(tmpdir(), 'ortos-bin-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('loads the 250k vocabulary as typed arrays, not objects (its load time is a benchmark figure)', () => {
  const { data } = readTokenizerFile(compiledFixturePath());
  for (const [name, array] of Object.entries(data.arrays)) assert.ok(ArrayBuffer.isView(array), `${name} is a typed array`);
  const tok = new Tokenizer(data);
  assert.equal(tok.vocabSize, 250002);
  assert.equal(tok.piece(0), '<s>');
  assert.equal(tok.piece(250001), '<mask>');
});

test('a truncated or foreign file is refused with a message that says to prepare again', () => {
  const path = join(dir, 'cut.bin');
  writeFileSync(path, readFileSync(compiledFixturePath()));
  truncateSync(path, 100_000);
  assert.throws(() => readTokenizerFile(path), (e: unknown) => e instanceof TokenizerFileError && /out of bounds/.test(e.message) && /prepare/.test(e.message));
  writeFileSync(path, '{"not": "a tokenizer"}');
  assert.throws(() => readTokenizerFile(path), /not a compiled tokenizer/);
});

test('piece texts are read on first use, from the file that was loaded even after it was replaced', () => {
  const path = join(dir, 'lazy.bin');
  const bytes = readFileSync(compiledFixturePath());
  writeFileSync(path, bytes);
  const tok = new Tokenizer(readTokenizerFile(path).data);
  const ids = tok.encode('привет, мир').ids;
  rmSync(path);
  writeFileSync(path, 'replaced by another prepare');
  assert.equal(ids.map((id) => tok.piece(id)).join(''), '<s>▁привет,▁мир</s>');
  writeFileSync(path, bytes);
  truncateSync(path, bytes.length - 10);
  assert.throws(() => readTokenizerFile(path), /pieceOffsets is missing or out of bounds/, 'a cut in the lazy part is caught at load, not at first use');
});

test('a header with multi-byte text round-trips (its padding is counted in bytes)', () => {
  const path = join(dir, 'utf8.bin');
  const { data } = readTokenizerFile(compiledFixturePath());
  const arrays = Object.fromEntries(Object.entries(data.arrays)) as typeof data.arrays;
  writeTokenizerFile(path, { meta: data.meta, arrays }, { note: 'многобайтовый текст '.repeat(20) });
  const back = readTokenizerFile(path);
  assert.equal(back.source.note, 'многобайтовый текст '.repeat(20));
  assert.deepEqual(new Tokenizer(back.data).encode('привет, мир').ids, new Tokenizer(data).encode('привет, мир').ids);
});
