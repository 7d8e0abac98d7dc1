// Decoding ids back to text (TEI's /decode) equals the Rust library's decode, with and without
// the special tokens, on the committed multilingual sample and the edge cases.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { edgeCases } from '../helpers/edge-cases.js';
import { FIXTURE_TOKENIZER_JSON, FIXTURES, fixtureTokenizer } from '../helpers/fixtures.js';
import { Oracle, rustDecode } from '../helpers/oracle.js';

test('decode equals the Rust library\'s on 3,989 multilingual strings and the edge cases, specials kept and skipped', async () => {
  const tok = fixtureTokenizer();
  const sample = (JSON.parse(readFileSync(join(FIXTURES, 'parity-sample.json'), 'utf8')) as { strings: string[] }).strings;
  const texts = [...sample, ...edgeCases().filter((t) => t.length < 2000), 'a <mask> b', '<s> x </s>'];
  const ids = (await new Oracle(FIXTURE_TOKENIZER_JSON).encodeAll(texts)).map((r) => r.ids);
  for (const skip of [true, false]) {
    const want = await rustDecode(FIXTURE_TOKENIZER_JSON, ids, skip);
    let mismatches = 0;
    ids.forEach((row, i) => {
      if (tok.decode(row, skip) !== want[i]) mismatches++;
    });
    assert.equal(mismatches, 0, `skip special tokens ${skip}: ${mismatches} of ${ids.length} differ`);
  }
});
