// Query-passage pairs as a cross-encoder reads them, against the Rust tokenizers library on the
// same tokenizer.json: XLM-R's pair template (<s> A </s></s> B </s>) and BERT's ([CLS] A [SEP]
// B [SEP], B of token type 1), cut longest first in both directions, for lengths on every side
// of the limit (one side cut, both cut with an odd or even room, equal lengths, added tokens in
// the text). Ids and token types must be equal.

import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { test } from 'node:test';
import { readTokenizerFile } from '../../src/tokenizer/binary-file.js';
import { longestFirst } from '../../src/tokenizer/pair.js';
import { Tokenizer } from '../../src/tokenizer/tokenizer.js';
import { cachedFixture, type FixtureSize } from '../fixture-models/generate.js';
import { preparedFixture } from '../helpers/models.js';
import { defaultPreparedDir, prepareModel } from '../../src/prepare/prepare.js';
import { resolveModelDir } from '../../src/model/layout.js';

interface RustEncoding { getIds(): number[]; getTypeIds(): number[] }
const rust = createRequire(import.meta.url)('tokenizers') as { Tokenizer: { fromFile(p: string): { setTruncation(n: number, o: object): void; encode(a: string, b: string): Promise<RustEncoding> } } };

test('longestFirst: the shorter kept whole when the longer can take the rest; else halves, the odd token to the longer', () => {
  assert.deepEqual(longestFirst(10, 20, 100), [10, 20]);
  assert.deepEqual(longestFirst(10, 200, 100), [10, 90]);
  assert.deepEqual(longestFirst(200, 10, 100), [90, 10]);
  assert.deepEqual(longestFirst(300, 200, 101), [51, 50]);
  assert.deepEqual(longestFirst(200, 300, 101), [50, 51]);
  assert.deepEqual(longestFirst(60, 60, 100), [50, 50]);
  assert.deepEqual(longestFirst(60, 60, 101), [50, 51]);
});

async function tokenizerOf(size: FixtureSize): Promise<{ ours: Tokenizer; json: string }> {
  const dir = cachedFixture(size, 'fp32');
  const prepared = (await prepareModel(resolveModelDir(dir, 'fp32'), defaultPreparedDir(dir, 'fp32'), {}, () => {})).dir;
  return { ours: new Tokenizer(readTokenizerFile(join(prepared, 'tokenizer.bin')).data), json: join(dir, 'tokenizer.json') };
}

const words = (n: number, step: number): string => Array.from({ length: n }, (_, i) => `w${(i * step) % 97}${i % 5 === 0 ? 'длинноеслово' : ''}${i % 17 === 0 ? ' 東京の天気' : ''}`).join(' ');

for (const [size, family] of [['rerank-tiny', 'XLM-R'], ['rerank-tiny-bert', 'BERT']] as Array<[FixtureSize, string]>) {
  test(`${family} pairs: ids and token types equal the Rust library's, cut longest first either way, at 512 and at 64`, { timeout: 120_000 }, async () => {
    await preparedFixture('tiny', 'fp32');
    const { ours, json } = await tokenizerOf(size);
    const long = Array.from({ length: 400 }, (_, i) => `слово${i % 37} word${i % 11}`).join(' ');
    const cases: Array<[string, string]> = [
      ['Как вернуть товар?', 'Возврат возможен в течение 14 дней.'],
      [long, long.split(' ').reverse().join(' ')],
      [long.split(' ').reverse().join(' '), long],
      [long, long],
      ['a <mask> in the query', `the passage ${long}`],
      ['', 'empty query'],
    ];
    for (const na of [3, 100, 255, 300, 700]) for (const nb of [3, 100, 256, 300, 700]) cases.push([words(na, 7), words(nb, 11)]);
    let cut = 0;
    for (const max of [512, 64]) {
      for (const direction of ['right', 'left'] as const) {
        const tok = rust.Tokenizer.fromFile(json);
        tok.setTruncation(max, { strategy: 'LongestFirst', direction });
        for (const [a, b] of cases) {
          const want = await tok.encode(a, b);
          const got = ours.encodePair(a, b, max, direction);
          assert.deepEqual(got.ids, want.getIds(), `${direction} ${max}: ids of (${a.length}, ${b.length} chars)`);
          assert.deepEqual(got.typeIds, want.getTypeIds(), `${direction} ${max}: token types`);
          if (got.cut.a > 0 && got.cut.b > 0) cut++;
        }
      }
    }
    assert.ok(cut > 10, `cases with both sides cut: ${cut}`);
  });
}
