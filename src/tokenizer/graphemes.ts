// Extended grapheme clusters, as the charsmap rule needs them. Intl.Segmenter iterates in
// quadratic time over one long string on Node 20 (40k characters: 0.65 s), so the text is
// segmented in windows: every segment but the last of a window is final, and the next
// window starts at that last segment, which is a true boundary.

const segmenter = new Intl.Segmenter('und', { granularity: 'grapheme' });
const WINDOW = 256;

function codePoints(s: string): number {
  let n = 0;
  for (let u = 0; u < s.length; u++) {
    const c = s.charCodeAt(u);
    if (c < 0xdc00 || c > 0xdfff) n++;
  }
  return n;
}

/** Length in code points of each grapheme of `text`, in order. */
export function graphemeLengths(text: string): number[] {
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
