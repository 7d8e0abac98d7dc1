// Parity with the reference (Rust `tokenizers`): identical ids and offsets on real text in
// ~180 languages plus hand-made edge cases.

import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { edgeCases } from '../helpers/edge-cases.js';
import { FIXTURES, FIXTURE_TOKENIZER_JSON, fixtureTokenizer } from '../helpers/fixtures.js';
import { readCatalogs, sampleAcrossLocales } from '../helpers/gettext.js';
import { Oracle } from '../helpers/oracle.js';
import type { Tokenizer } from '../../src/tokenizer/tokenizer.js';
import { skipOrFail } from '../helpers/skip.js';

const SAMPLE_FILE = join(FIXTURES, 'parity-sample.json');
const CORPUS_SIZE = 250_000;

interface Sample {
  strings: string[];
  ids: number[][];
}

function compare(tok: Tokenizer, texts: string[], expected: Array<{ ids: number[]; offsets?: number[] }>): string[] {
  const bad: string[] = [];
  for (let i = 0; i < texts.length; i++) {
    const got = tok.encode(texts[i]);
    const want = expected[i];
    const idsOk = got.ids.length === want.ids.length && got.ids.every((v, k) => v === want.ids[k]);
    const offOk = want.offsets === undefined ||
      (got.offsets.length === want.offsets.length && got.offsets.every((v, k) => v === want.offsets?.[k]));
    if (!idsOk || !offOk) {
      bad.push(`${JSON.stringify(texts[i].slice(0, 80))}: ${idsOk ? 'offsets' : 'ids'} differ\n  want ${want.ids.join(',')}\n  got  ${got.ids.join(',')}`);
    }
  }
  return bad;
}

const tok = fixtureTokenizer();
const oracle = new Oracle(FIXTURE_TOKENIZER_JSON);

test('hand-made edge cases match the reference', async () => {
  const cases = edgeCases();
  const bad = compare(tok, cases, await oracle.encodeAll(cases));
  console.log(`edge cases: ${cases.length} compared, ${bad.length} mismatches`);
  assert.deepEqual(bad, []);
});

test('committed multilingual sample matches its recorded reference ids and the live reference', async () => {
  const sample = JSON.parse(readFileSync(SAMPLE_FILE, 'utf8')) as Sample;
  assert.ok(sample.strings.length >= 3000);
  const recorded = compare(tok, sample.strings, sample.ids.map((ids) => ({ ids })));
  const live = compare(tok, sample.strings, await oracle.encodeAll(sample.strings));
  console.log(`committed sample: ${sample.strings.length} compared, ${recorded.length} mismatches with recorded ids, ${live.length} with the live reference`);
  assert.deepEqual(recorded.slice(0, 5), []);
  assert.deepEqual(live.slice(0, 5), []);
});

test(`${CORPUS_SIZE} gettext strings across all installed languages match the reference`, async (t) => {
  const catalogs = readCatalogs();
  if (catalogs.size === 0 || !existsSync('/usr/share/locale')) {
    skipOrFail(t, 'no gettext catalogs installed here; the committed sample above covers this machine');
    return;
  }
  const texts = sampleAcrossLocales(catalogs, CORPUS_SIZE, 20261126);
  const bad = compare(tok, texts, await oracle.encodeAll(texts));
  console.log(`gettext corpus: ${texts.length} strings from ${catalogs.size} locales compared, ${bad.length} mismatches`);
  for (const b of bad.slice(0, 10)) console.log(b);
  assert.ok(texts.length >= 200_000, `only ${texts.length} strings found`);
  assert.equal(bad.length, 0);
});

test('truncation to 512 including specials matches the reference, both directions', async () => {
  const truncating = new Oracle(FIXTURE_TOKENIZER_JSON, 512);
  const texts = edgeCases().filter((s) => tok.encode(s).ids.length > 512);
  assert.ok(texts.length >= 2);
  const want = await truncating.encodeAll(texts);
  for (let i = 0; i < texts.length; i++) {
    const got = tok.encode(texts[i], { maxLength: 512 });
    assert.equal(got.ids.length, 512);
    assert.deepEqual(got.ids, want[i].ids);
    assert.deepEqual(got.offsets, want[i].offsets);
    assert.ok(got.truncated > 0);
    const left = tok.encode(texts[i], { maxLength: 512, direction: 'left' });
    const full = tok.encode(texts[i]);
    assert.deepEqual(left.ids.slice(1, -1), full.ids.slice(full.ids.length - 511, -1));
  }
});
