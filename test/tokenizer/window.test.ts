// An input that will be cut is read only as far as its kept tokens reach. The result must be
// the whole input's, token for token: checked against the Rust `tokenizers` library with its
// own truncation (which tokenizes everything), both directions, on random texts built from the
// characters where a cut could go wrong (spaces the normalizer makes, marks that join the
// character before, Prepend characters, Hangul jamo, ZWJ emoji, added tokens), and on the
// body that used to stall the service.

import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import fc from 'fast-check';
import { FIXTURE_TOKENIZER_JSON, fixtureTokenizer } from '../helpers/fixtures.js';

interface RustTokenizer {
  encode(input: string, pair?: null, options?: { addSpecialTokens?: boolean }): Promise<{ getIds(): number[]; getOffsets(): number[][] }>;
  setTruncation(maxLength: number, options?: { direction?: string }): void;
}
const rust = createRequire(import.meta.url)('tokenizers') as { Tokenizer: { fromFile(path: string): RustTokenizer } };

// Loaded once (17 MB of JSON); each call sets its own truncation, and calls do not overlap.
const rustTok = rust.Tokenizer.fromFile(FIXTURE_TOKENIZER_JSON);
function reference(maxLength: number, direction: 'left' | 'right'): RustTokenizer {
  rustTok.setTruncation(maxLength, { direction });
  return rustTok;
}

const tok = fixtureTokenizer();
const PIECES = [
  'a', 'б', 'Z', '7', 'ä', 'x', 'word', 'слово', '中', ' ', ' ', ' ', '  ', '\u00a0', '\u00a0\u00a0', '\u3000', '\u2003', '\t', '\n',
  '\u0301', '\u0308', '\u093f', '\u200d', '\u200c', '😀', '🏽', '👨\u200d👩', '\u0600', '\u0d4e', '\u1100', '\u1161', '\u11a8', '가',
  'ﬁ', '①', 'ｶ', 'ﾞ', '\u00b4', '<s>', '</s>', '<mask>', '<unk>', '\ud800',
];

test('a cut input is the whole input\'s tokens, both directions, on random texts (against Rust tokenizers)', { timeout: 120_000 }, async () => {
  let windowed = 0;
  let runs = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.constantFrom(...PIECES), { minLength: 0, maxLength: 400, size: 'max' }),
      fc.integer({ min: 3, max: 24 }),
      fc.constantFrom<'left' | 'right'>('left', 'right'),
      // A short first guess makes the part read end near the last kept token, where a wrong cut shows.
      fc.constantFrom(1, 2, 3, 6),
      async (pieces, maxLength, direction, windowCharsPerToken) => {
        const text = pieces.join('');
        const want = await reference(maxLength, direction).encode(text);
        const got = tok.encode(text, { maxLength, direction, windowCharsPerToken });
        runs++;
        if (got.partial) windowed++;
        assert.deepEqual(got.ids, want.getIds(), `ids of ${JSON.stringify(text)} cut to ${maxLength} from the ${direction}`);
        assert.deepEqual(got.offsets, want.getOffsets().flat(), `offsets of ${JSON.stringify(text)}`);
        // Over the limit exactly when the whole input is (a refusal with truncate off depends on it).
        assert.equal(got.truncated > 0, tok.encode(text).ids.length > maxLength, `over the limit? ${JSON.stringify(text)}`);
      },
    ),
    { numRuns: 3000, seed: 20261129 },
  );
  assert.ok(windowed > runs / 4, `the shortcut was taken in ${windowed} of ${runs} runs: the test must exercise it`);
});

test('the body that stalled the service: "a\\u00a0\\u00a0" runs, cut to 512 from either end, read only in part', { timeout: 60_000 }, async () => {
  const text = 'a\u00a0\u00a0'.repeat(10_666);
  for (const direction of ['right', 'left'] as const) {
    const want = await reference(512, direction).encode(text);
    const got = tok.encode(text, { maxLength: 512, direction });
    assert.ok(got.partial, 'only the kept part was tokenized');
    assert.ok(got.truncated > 0);
    assert.deepEqual(got.ids, want.getIds(), direction);
    assert.deepEqual(got.offsets, want.getOffsets().flat(), direction);
  }
  const whole = tok.encode(text);
  assert.equal(whole.partial, false);
  assert.equal(whole.ids.length, 10_669);
});
