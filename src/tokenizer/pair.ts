// Two sequences as one input, the way a cross-encoder reads a query and a passage: each
// tokenized alone, cut "longest first" to fit, then joined by the tokenizer's pair template
// (XLM-R: <s> A </s></s> B </s>; BERT: [CLS] A [SEP] B [SEP], B's tokens of type 1). The cut is
// the Rust tokenizers library's, which transformers' fast tokenizers and so sentence-transformers'
// CrossEncoder use with truncation=True: tokenizers/src/utils/truncation.rs (TruncationStrategy::
// LongestFirst) on lengths that, since tokenizers #1990 (April 2026, "early exit for
// truncation"), stop counting at the first word that brings a sequence to the truncation length
// (pre_tokenizer.rs tokenize_with_limit). Which tokens are kept is the same either way; the early
// exit only decides which side gets the odd token when both are cut.

import type { PairPiece } from './spec.js';

export interface PairEncoding {
  ids: number[];
  typeIds: number[];
  /** Tokens cut from the query (A) and the passage (B). */
  cut: { a: number; b: number };
}

/** The lengths the two sequences are cut to, so that together they take at most `room` tokens. */
export function longestFirst(n1: number, n2: number, room: number): [number, number] {
  if (n1 + n2 <= room) return [n1, n2];
  // As the Rust code: with n1 the shorter, keep it whole if the longer can take the rest;
  // else split the room in halves (the odd token to the longer).
  const swap = n1 > n2;
  let a = swap ? n2 : n1;
  let b = swap ? n1 : n2;
  b = a > room ? a : Math.max(a, room - a);
  if (a + b > room) {
    a = Math.floor(room / 2);
    b = a + (room % 2);
  }
  return swap ? [b, a] : [a, b];
}

function cutTo<T>(xs: T[], n: number, direction: 'left' | 'right'): T[] {
  if (xs.length <= n) return xs;
  return direction === 'right' ? xs.slice(0, n) : xs.slice(xs.length - n);
}

/** A sequence's tokens, and whether each starts a pre-token (a word, or an added token). */
export interface Sequence {
  ids: number[];
  wordStarts: boolean[];
}

/**
 * The tokens the Rust library has counted when it stops early: whole words, from the kept end,
 * until at least `max` tokens (all of them if fewer).
 */
export function earlyExitLength(s: Sequence, max: number, direction: 'left' | 'right'): number {
  const n = s.ids.length;
  if (n <= max) return n;
  if (direction === 'right') {
    // The word holding token max-1 is counted whole: up to the next word start.
    let end = max;
    while (end < n && !s.wordStarts[end]) end++;
    return end;
  }
  // From the end: the word holding token n-max is counted whole, back to its start.
  let start = n - max;
  while (start > 0 && !s.wordStarts[start]) start--;
  return n - start;
}

export function joinPair(template: readonly PairPiece[], specials: Readonly<Record<string, number[]>>, sa: Sequence, sb: Sequence, maxLength: number, direction: 'left' | 'right' = 'right'): PairEncoding {
  const added = template.reduce((n, p) => n + ('special' in p ? specials[p.special].length : 0), 0);
  const a = sa.ids;
  const b = sb.ids;
  const [na, nb] = longestFirst(earlyExitLength(sa, maxLength, direction), earlyExitLength(sb, maxLength, direction), Math.max(0, maxLength - added));
  const seq = { A: cutTo(a, na, direction), B: cutTo(b, nb, direction) };
  const ids: number[] = [];
  const typeIds: number[] = [];
  for (const piece of template) {
    const part = 'special' in piece ? specials[piece.special] : seq[piece.sequence];
    for (const id of part) {
      ids.push(id);
      typeIds.push(piece.typeId);
    }
  }
  return { ids, typeIds, cut: { a: a.length - seq.A.length, b: b.length - seq.B.length } };
}
