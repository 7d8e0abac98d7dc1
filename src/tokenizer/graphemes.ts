// Extended grapheme clusters, as the charsmap rule needs them.
//
// Most text has none longer than one code point, and then segmentation can be skipped:
// a character joins its neighbours only if its Grapheme_Cluster_Break class is Extend, ZWJ,
// SpacingMark, Prepend, Regional_Indicator, a Hangul jamo/syllable class, or CR. JOINERS is
// a superset of those classes (marks, format characters, Hangul, regional indicators, emoji
// modifiers, CR, and the letters that are Prepend or SpacingMark); graphemes.test.ts checks
// it against Intl.Segmenter over the BMP. Skipping also saves creating the segmenter, which
// loads ICU data (12 ms on one core) on the start-up path.
//
// Intl.Segmenter iterates in quadratic time over one long string on Node 20 (40k
// characters: 0.65 s), so text is segmented in windows: every segment but the last of a
// window is final, and the next window starts at that last segment, a true boundary.

export const JOINERS =
  /[\p{M}\p{Cf}\p{Regional_Indicator}\p{Script=Hangul}\p{Emoji_Modifier}\r\u0D4E\u0E33\u0EB3\uFF9E\uFF9F\u{111C2}\u{111C3}\u{113D1}\u{1193F}\u{11941}\u{11A84}-\u{11A89}\u{11D46}\u{11F02}\u{16D63}\u{16D67}-\u{16D6A}]/u;

let segmenter: Intl.Segmenter | undefined;
const WINDOW = 256;

function codePoints(s: string): number {
  let n = 0;
  for (let u = 0; u < s.length; u++) {
    const c = s.charCodeAt(u);
    if (c < 0xdc00 || c > 0xdfff) n++;
  }
  return n;
}

/**
 * Length in code points of each grapheme of `text`, in order, or null when every grapheme
 * is a single code point.
 */
export function graphemeLengths(text: string): number[] | null {
  if (!JOINERS.test(text)) return null;
  segmenter ??= new Intl.Segmenter('und', { granularity: 'grapheme' });
  const out: number[] = [];
  let at = 0;
  let window = WINDOW;
  while (at < text.length) {
    let end = Math.min(text.length, at + window);
    const last = text.charCodeAt(end - 1);
    if (end < text.length && last >= 0xd800 && last <= 0xdbff) end++;
    const pieces: string[] = [];
    for (const { segment } of segmenter.segment(text.slice(at, end))) pieces.push(segment);
    if (end === text.length) {
      for (const p of pieces) out.push(codePoints(p));
      break;
    }
    if (pieces.length < 2) {
      // One grapheme fills the whole window: look further before deciding where it ends.
      window *= 2;
      continue;
    }
    for (let i = 0; i < pieces.length - 1; i++) {
      out.push(codePoints(pieces[i]));
      at += pieces[i].length;
    }
    window = WINDOW;
  }
  return out;
}
