// SentencePiece's `precompiled_charsmap`: a darts-clone double-array trie over UTF-8 bytes
// whose leaves point into a pool of NUL-terminated replacement strings. The format is
// [u32 trie byte length][trie units: u32 LE][replacement pool].

export interface CharsmapParts {
  /** darts-clone units. */
  trie: Uint32Array;
  /** UTF-8 replacement pool. */
  pool: Uint8Array;
  /**
   * One bit per code point: set when some key starts with that character. A character
   * outside the set can never be rewritten, which lets the common case skip the trie and
   * the grapheme segmentation entirely.
   */
  keyStarts: Uint8Array;
}

const HAS_LEAF = 1 << 8;

function offsetOf(unit: number): number {
  return (unit >>> 10) << ((unit & (1 << 9)) >>> 6);
}

function labelOf(unit: number): number {
  return (unit & 0x800000ff) >>> 0;
}

export function splitCharsmap(blob: Uint8Array): { trie: Uint32Array; pool: Uint8Array } {
  if (blob.length < 4) throw new Error('precompiled_charsmap is truncated');
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  const trieBytes = view.getUint32(0, true);
  if (trieBytes % 4 !== 0 || 4 + trieBytes > blob.length) throw new Error('precompiled_charsmap has a bad trie size');
  const trie = new Uint32Array(trieBytes / 4);
  for (let i = 0; i < trie.length; i++) trie[i] = view.getUint32(4 + i * 4, true);
  return { trie, pool: blob.slice(4 + trieBytes) };
}

function utf8Of(cp: number, out: number[]): void {
  if (cp < 0x80) out.push(cp);
  else if (cp < 0x800) out.push(0xc0 | (cp >> 6), 0x80 | (cp & 63));
  else if (cp < 0x10000) out.push(0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63));
  else out.push(0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 63), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63));
}

/** Built once by `prepare`; scanning all 1.1M code points takes a fraction of a second. */
export function computeKeyStarts(trie: Uint32Array): Uint8Array {
  const bits = new Uint8Array(0x110000 >> 3);
  if (trie.length === 0) return bits;
  const bytes: number[] = [];
  const root = offsetOf(trie[0]);
  for (let cp = 1; cp < 0x110000; cp++) {
    if (cp >= 0xd800 && cp <= 0xdfff) continue;
    bytes.length = 0;
    utf8Of(cp, bytes);
    let node = root;
    let ok = true;
    for (const c of bytes) {
      node ^= c;
      const unit = trie[node];
      if (unit === undefined || labelOf(unit) !== c) {
        ok = false;
        break;
      }
      node ^= offsetOf(unit);
    }
    if (ok) bits[cp >> 3] |= 1 << (cp & 7);
  }
  return bits;
}

export class Charsmap {
  private readonly trie: Uint32Array;
  private readonly pool: Uint8Array;
  private readonly keyStarts: Uint8Array;
  private readonly replacements = new Map<number, number[]>();
  private readonly scratch: number[] = [];

  constructor(parts: CharsmapParts) {
    this.trie = parts.trie;
    this.pool = parts.pool;
    this.keyStarts = parts.keyStarts;
  }

  mayRewrite(cp: number): boolean {
    return (this.keyStarts[cp >> 3] & (1 << (cp & 7))) !== 0;
  }

  /**
   * The replacement for the shortest key that is a prefix of cps[from, to), as the
   * reference does (it takes the first hit of a common-prefix search), or null.
   */
  rewrite(cps: ArrayLike<number>, from: number, to: number): number[] | null {
    const trie = this.trie;
    if (trie.length === 0) return null;
    const bytes = this.scratch;
    bytes.length = 0;
    for (let i = from; i < to; i++) utf8Of(cps[i], bytes);
    let node = offsetOf(trie[0]);
    for (const c of bytes) {
      if (c === 0) return null;
      node ^= c;
      const unit = trie[node];
      if (unit === undefined || labelOf(unit) !== c) return null;
      node ^= offsetOf(unit);
      if (unit & HAS_LEAF) return this.replacementAt(trie[node] & 0x7fffffff);
    }
    return null;
  }

  private replacementAt(index: number): number[] {
    let cached = this.replacements.get(index);
    if (cached === undefined) {
      let end = index;
      while (end < this.pool.length && this.pool[end] !== 0) end++;
      const text = Buffer.from(this.pool.buffer, this.pool.byteOffset + index, end - index).toString('utf8');
      cached = Array.from(text, (ch) => ch.codePointAt(0) as number);
      this.replacements.set(index, cached);
    }
    return cached;
  }
}
