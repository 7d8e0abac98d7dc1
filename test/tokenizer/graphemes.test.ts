import assert from 'node:assert/strict';
import { test } from 'node:test';
import { graphemeLengths, JOINERS } from '../../src/tokenizer/graphemes.js';

const segmenter = new Intl.Segmenter('und', { granularity: 'grapheme' });
const single = (s: string): boolean => [...segmenter.segment(s)].length === 1;

test('JOINERS covers every BMP character that can share a grapheme with a neighbour', () => {
  const missed: string[] = [];
  for (let cp = 0; cp < 0x10000; cp++) {
    if (cp >= 0xd800 && cp <= 0xdfff) continue;
    const x = String.fromCodePoint(cp);
    if (JOINERS.test(x)) continue;
    if (single('a' + x) || single(x + 'a') || single(x + x) || single(x + '\u11a8') || single(x + '\u1161') || single(x + '\n')) {
      missed.push(cp.toString(16));
    }
  }
  assert.deepEqual(missed, []);
});

test('plain text skips segmentation; joined text is segmented, also past the window size', () => {
  assert.equal(graphemeLengths('plain ascii and кириллица 中文'), null);
  assert.deepEqual(graphemeLengths('e\u0301x'), [2, 1]);
  const long = 'ab\u0301'.repeat(300) + '👨\u200d👩\u200d👧';
  const lengths = graphemeLengths(long);
  assert.deepEqual(lengths, [...segmenter.segment(long)].map((s) => [...s.segment].length));
});
