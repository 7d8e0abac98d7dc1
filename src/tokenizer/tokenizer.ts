// The tokenizer pipeline, in the reference's order: split out added tokens on the raw text,
// normalize each remaining segment (charsmap, then Replace), Metaspace, Unigram, then the
// template's special tokens and truncation. Offsets are [start, end) in code points of the
// input, as the reference reports them.

import { joinPair, type PairEncoding, type Sequence } from './pair.js';
import { Charsmap } from './charsmap.js';
import { graphemeLengths } from './graphemes.js';
import type { TokenizerData, TokenizerMeta } from './data.js';
import { NormalizedText, type Change } from './normalized.js';
import { Unigram, type WordToken } from './unigram.js';

export interface EncodeOptions {
  addSpecialTokens?: boolean;
  /** Truncate to this many tokens, specials included. */
  maxLength?: number;
  direction?: 'right' | 'left';
  /** First guess of characters per kept token, when only part of a long input is read. */
  windowCharsPerToken?: number;
}

export interface Encoding {
  ids: number[];
  /** Flat [start0, end0, start1, end1, …] in code points of the input. */
  offsets: number[];
  special: boolean[];
  /** Tokens dropped by truncation (0 if none); with `partial`, at least this many. */
  truncated: number;
  /**
   * Only the part of the input that can be kept was read (see `encodeWindow`): the input is
   * over the limit, by at least `truncated` tokens.
   */
  partial: boolean;
}

/** Rust's char::is_whitespace (Unicode White_Space); JS's \s differs on U+0085 and U+FEFF. */
function isWhitespace(cp: number): boolean {
  return (cp >= 9 && cp <= 13) || cp === 32 || cp === 0x85 || cp === 0xa0 || cp === 0x1680 ||
    (cp >= 0x2000 && cp <= 0x200a) || cp === 0x2028 || cp === 0x2029 || cp === 0x202f ||
    cp === 0x205f || cp === 0x3000;
}

// Grapheme_Cluster_Break=Prepend (Unicode 16, GraphemeBreakProperty.txt): a Prepend
// character joins the next one into one grapheme.
const PREPEND = new Set([0x0600, 0x0601, 0x0602, 0x0603, 0x0604, 0x0605, 0x06dd, 0x070f, 0x0890, 0x0891, 0x08e2, 0x0d4e,
  0x110bd, 0x110cd, 0x111c2, 0x111c3, 0x1193f, 0x11941, 0x11a3a, 0x11a84, 0x11a85, 0x11a86, 0x11a87, 0x11a88, 0x11a89,
  0x11d46, 0x11f02]);
/** Characters that join the one before them into a grapheme (Extend, ZWJ, SpacingMark). */
const JOINS_PREVIOUS = /^[\p{Grapheme_Extend}\p{Mc}\p{Emoji_Modifier}\u200d\u0e33\u0eb3]$/u;
const LETTER_OR_DIGIT = /^[\p{L}\p{N}]$/u;
const isHangulJamo = (cp: number): boolean => (cp >= 0x1100 && cp <= 0x11ff) || (cp >= 0xa960 && cp <= 0xa97f) || (cp >= 0xd7b0 && cp <= 0xd7ff);

/** Characters per token at most, in practice, to guess how much of an input to read first. */
const WINDOW_CHARS_PER_TOKEN = 6;

function utf8Length(cps: readonly number[], from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) {
    const cp = cps[i];
    n += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
  }
  return n;
}

/** The reference's bookkeeping when `oldCount` characters become `replacement`. */
function pushReplacement(out: Change[], oldCount: number, replacement: readonly number[]): void {
  for (const cp of replacement) out.push([cp, 0]);
  const diff = replacement.length - oldCount;
  if (diff > 0) {
    for (let i = out.length - 1, k = 0; k < diff && i >= 0; i--, k++) out[i][1] = 1;
  } else if (diff < 0 && out.length > 0) {
    out[out.length - 1][1] += diff;
  }
}

interface Segment {
  from: number;
  to: number;
  /** Set for an added token. */
  id?: number;
}

export class Tokenizer {
  readonly meta: TokenizerMeta;
  private readonly data: TokenizerData;
  private readonly unigram: Unigram;
  private readonly charsmap: Charsmap | null;
  private readonly replaces: Array<{ regex: RegExp; content: number[] }>;
  private readonly steps: Array<'charsmap' | number>;
  private readonly metaspace: number;
  private readonly added: Array<{ text: string; cps: number[]; id: number; lstrip: boolean; rstrip: boolean }>;
  private readonly prefixIds: number[];
  private readonly suffixIds: number[];
  /** Whether an input may be read only up to what truncation keeps (see `encodeWindow`). */
  private readonly windowable: boolean;
  private readonly spaceLike = new Map<number, boolean>();
  private pieceDecoder: TextDecoder | null = null;
  private specialIds: Set<number> | undefined;
  /** Added tokens by id, for telling one matched in the text from a piece the model gave (pairs). */
  private addedText: Map<number, string> | undefined;

  constructor(data: TokenizerData) {
    this.data = data;
    this.meta = data.meta;
    const a = data.arrays;
    this.unigram = new Unigram({ first: a.trieFirst, label: a.trieLabel, value: a.trieValue }, a.scores, data.meta.unkId, data.meta.minScore);
    this.charsmap = a.charsmapTrie.length > 0
      ? new Charsmap({ trie: a.charsmapTrie, pool: a.charsmapPool, keyStarts: a.charsmapKeyStarts })
      : null;
    this.replaces = [];
    this.steps = [];
    for (const n of data.meta.normalizers) {
      if (n.type === 'Precompiled') {
        if (this.charsmap) this.steps.push('charsmap');
      } else {
        this.steps.push(this.replaces.length);
        this.replaces.push({ regex: new RegExp(n.regex, 'gu'), content: Array.from(n.content, (c) => c.codePointAt(0) as number) });
      }
    }
    this.metaspace = data.meta.metaspace.replacement.codePointAt(0) as number;
    this.added = data.meta.addedTokens
      .filter((t) => t.content.length > 0)
      .map((t) => ({ text: t.content, cps: Array.from(t.content, (c) => c.codePointAt(0) as number), id: t.id, lstrip: t.lstrip, rstrip: t.rstrip }));
    this.windowable = data.meta.metaspace.split &&
      data.meta.normalizers.every((n) => n.type === 'Precompiled' || n.regex === ' {2,}') &&
      // A token that strips the spaces after it must not end where a cut may be made.
      this.added.every((t) => !t.cps.some(isWhitespace) && !(t.rstrip && LETTER_OR_DIGIT.test(String.fromCodePoint(t.cps[t.cps.length - 1]))));
    this.prefixIds = [];
    this.suffixIds = [];
    let seenSequence = false;
    for (const piece of data.meta.template) {
      if ('sequence' in piece) seenSequence = true;
      else (seenSequence ? this.suffixIds : this.prefixIds).push(...data.meta.templateSpecials[piece.special]);
    }
  }

  get vocabSize(): number {
    return this.meta.vocabSize;
  }

  /** Number of special tokens the template adds around one sequence. */
  get specialCount(): number {
    return this.prefixIds.length + this.suffixIds.length;
  }

  /** The text of a piece, as stored in the vocabulary. */
  piece(id: number): string {
    const { pieceText, pieceOffsets } = this.data.arrays;
    if (id < 0 || id >= this.meta.vocabSize) return '';
    this.pieceDecoder ??= new TextDecoder();
    return this.pieceDecoder.decode(pieceText.subarray(pieceOffsets[id], pieceOffsets[id + 1]));
  }

  /** Whether an id is one of the special added tokens (<s>, </s>, <pad>, <unk>, <mask>). */
  isSpecial(id: number): boolean {
    this.specialIds ??= new Set(this.meta.addedTokens.filter((t) => t.special).map((t) => t.id));
    return this.specialIds.has(id);
  }

  /**
   * Ids back to text as the Rust library's decode does: pieces through the Metaspace decoder
   * (the replacement character becomes a space, and the first kept piece loses its leading
   * one unless the scheme is "never"), special tokens left out when asked.
   */
  decode(ids: readonly number[], skipSpecialTokens = true): string {
    const { replacement, prependScheme } = this.meta.metaspace;
    let out = '';
    let first = true;
    for (const id of ids) {
      if (skipSpecialTokens && this.isSpecial(id)) continue;
      let s = this.piece(id).replaceAll(replacement, ' ');
      if (first && prependScheme !== 'never' && s.startsWith(' ')) s = s.slice(1);
      first = false;
      out += s;
    }
    return out;
  }

  /**
   * A query and a passage as one input by the pair template, cut longest first to `maxLength`
   * (see pair.ts).
   */
  encodePair(a: string, b: string, maxLength: number, direction: 'left' | 'right' = 'right'): PairEncoding {
    return this.pairsWith(a, maxLength, direction)(b);
  }

  /** `a` joined with each passage given: `a` (a rerank request's query) is tokenized once. */
  pairsWith(a: string, maxLength: number, direction: 'left' | 'right' = 'right'): (b: string) => PairEncoding {
    const template = this.meta.pairTemplate;
    if (template === undefined) throw new Error('this tokenizer.json has no pair template (post_processor.pair): it cannot join a query and a passage');
    const first = this.sequence(a, maxLength, direction);
    return (b) => joinPair(template, this.meta.templateSpecials, first, this.sequence(b, maxLength, direction), maxLength, direction);
  }

  /**
   * A text's tokens without specials, and which start a pre-token: Metaspace splits before each
   * replacement character (a piece starting with it begins a word), and an added token found in
   * the text is a split of its own. A long text is read only as far as the Rust library counts
   * before it stops (more than `max` tokens of whole words from the kept end, see
   * encodeWindow): a 2 MB passage costs what its first words do.
   */
  private sequence(input: string, max: number, direction: 'left' | 'right'): Sequence {
    const text = input.isWellFormed() ? input : input.toWellFormed();
    const cps = Array.from(text, (c) => c.codePointAt(0) as number);
    let window = this.encodeWindow(cps, max, direction, WINDOW_CHARS_PER_TOKEN);
    if (window === null) {
      window = { ids: [], offsets: [] };
      this.encodeRange(cps, 0, cps.length, window.ids, window.offsets);
    }
    const { ids, offsets } = window;
    this.addedText ??= new Map(this.added.map((t) => [t.id, t.text]));
    const added = this.addedText;
    // An added token matched in the text (not an <unk> the model gave a span of it).
    const matched = ids.map((id, i) => {
      const content = added.get(id);
      return content !== undefined && String.fromCodePoint(...cps.slice(offsets[2 * i], offsets[2 * i + 1])).includes(content);
    });
    const mark = this.meta.metaspace.replacement;
    const wordStarts = ids.map((id, i) => i === 0 || matched[i] || matched[i - 1] || this.piece(id).startsWith(mark));
    return { ids, wordStarts };
  }

  encode(input: string, options: EncodeOptions = {}): Encoding {
    // The reference receives Rust strings, in which lone surrogates became U+FFFD.
    const text = input.isWellFormed() ? input : input.toWellFormed();
    const cps = Array.from(text, (c) => c.codePointAt(0) as number);
    const addSpecial = options.addSpecialTokens ?? true;
    let ids: number[] = [];
    let offsets: number[] = [];
    let truncated = 0;
    let partial = false;
    if (options.maxLength !== undefined) {
      const room = Math.max(0, options.maxLength - (addSpecial ? this.specialCount : 0));
      const window = this.encodeWindow(cps, room, options.direction ?? 'right', options.windowCharsPerToken ?? WINDOW_CHARS_PER_TOKEN);
      if (window !== null) {
        ({ ids, offsets } = window);
        partial = true;
      } else {
        this.encodeRange(cps, 0, cps.length, ids, offsets);
      }
      if (ids.length > room) {
        truncated = ids.length - room;
        if (options.direction === 'left') {
          ids.splice(0, truncated);
          offsets.splice(0, truncated * 2);
        } else {
          ids.length = room;
          offsets.length = room * 2;
        }
      }
    } else {
      this.encodeRange(cps, 0, cps.length, ids, offsets);
    }
    const special = new Array<boolean>(ids.length).fill(false);
    if (!addSpecial) return { ids, offsets, special, truncated, partial };
    const pre = this.prefixIds;
    const post = this.suffixIds;
    return {
      ids: [...pre, ...ids, ...post],
      offsets: [...pre.flatMap(() => [0, 0]), ...offsets, ...post.flatMap(() => [0, 0])],
      special: [...pre.map(() => true), ...special, ...post.map(() => true)],
      truncated,
      partial,
    };
  }

  private encodeRange(cps: readonly number[], from: number, to: number, ids: number[], offsets: number[]): void {
    for (const seg of this.splitAdded(cps, from, to)) {
      if (seg.id !== undefined) {
        ids.push(seg.id);
        offsets.push(seg.from, seg.to);
      } else {
        this.encodeSegment(cps, seg.from, seg.to, ids, offsets);
      }
    }
  }

  /**
   * A long input that will be cut is read only as far as the kept tokens reach: its first
   * part (right truncation) or its last (left), grown until it gives more than `room`
   * tokens. The result is the whole input's, token for token: the part ends (or starts) at a
   * cut where nothing the pipeline does reaches across — a space-like character (one the
   * normalizer turns into a plain space) after a letter or digit that the normalizer leaves
   * alone and that is a grapheme of its own. There no grapheme, no added token (none holds
   * white space), no run of spaces (the only Replace allowed here collapses them) and no
   * word (Metaspace splits at the space) spans the cut. Null: read the whole input.
   */
  private encodeWindow(cps: readonly number[], room: number, direction: 'left' | 'right', charsPerToken: number): { ids: number[]; offsets: number[] } | null {
    if (!this.windowable) return null;
    const n = cps.length;
    for (let chars = Math.max(1, (room + 1) * charsPerToken); chars < n; chars *= 2) {
      const ids: number[] = [];
      const offsets: number[] = [];
      if (direction === 'right') {
        let p = chars;
        while (p < n && !this.safeCut(cps, p)) p++;
        if (p >= n) return null;
        this.encodeRange(cps, 0, p, ids, offsets);
      } else {
        let p = n - chars;
        while (p > 0 && !this.safeCut(cps, p)) p--;
        if (p <= 0) return null;
        this.encodeRange(cps, p, n, ids, offsets);
      }
      if (ids.length > room) return { ids, offsets };
    }
    return null;
  }

  /** Whether the input can be cut before cps[p] with the same tokens on both sides (see encodeWindow). */
  private safeCut(cps: readonly number[], p: number): boolean {
    if (p < 1 || p >= cps.length || !this.isSpaceLike(cps[p])) return false;
    if (p + 1 < cps.length && JOINS_PREVIOUS.test(String.fromCodePoint(cps[p + 1]))) return false;
    const before = cps[p - 1];
    const ch = String.fromCodePoint(before);
    if (!LETTER_OR_DIGIT.test(ch) || JOINS_PREVIOUS.test(ch) || PREPEND.has(before) || isHangulJamo(before)) return false;
    if (p >= 2 && PREPEND.has(cps[p - 2])) return false;
    return this.charsmap === null || !this.charsmap.mayRewrite(before) || this.charsmap.rewrite(cps, p - 1, p) === null;
  }

  /** A character the normalizer turns into one plain space (U+0020 itself, U+00A0, U+3000…). */
  private isSpaceLike(cp: number): boolean {
    let known = this.spaceLike.get(cp);
    if (known === undefined) {
      const out = this.charsmap !== null && this.charsmap.mayRewrite(cp) ? this.charsmap.rewrite([cp], 0, 1) : null;
      known = out === null ? cp === 0x20 : out.length === 1 && out[0] === 0x20;
      this.spaceLike.set(cp, known);
    }
    return known;
  }

  /** Added tokens are matched leftmost-longest on the raw text, before normalization. */
  private splitAdded(cps: readonly number[], from: number, n: number): Segment[] {
    if (n <= from) return [];
    const out: Segment[] = [];
    let segStart = from;
    let pos = from;
    if (this.added.length > 0) {
      while (pos < n) {
        let best = -1;
        let bestLen = 0;
        for (let t = 0; t < this.added.length; t++) {
          const pat = this.added[t].cps;
          if (pat[0] !== cps[pos] || pat.length <= bestLen || pos + pat.length > n) continue;
          let k = 1;
          while (k < pat.length && pat[k] === cps[pos + k]) k++;
          if (k === pat.length) {
            best = t;
            bestLen = pat.length;
          }
        }
        if (best < 0) {
          pos++;
          continue;
        }
        const tok = this.added[best];
        let start = pos;
        let stop = pos + bestLen;
        if (tok.lstrip) {
          let s = start;
          while (s > 0 && isWhitespace(cps[s - 1])) s--;
          start = Math.max(s, segStart);
        }
        if (tok.rstrip) while (stop < n && isWhitespace(cps[stop])) stop++;
        if (segStart < start) out.push({ from: segStart, to: start });
        out.push({ from: start, to: stop, id: tok.id });
        segStart = stop;
        pos += bestLen;
        if (pos < stop) pos = stop;
      }
    }
    if (segStart < n) out.push({ from: segStart, to: n });
    return out;
  }

  private encodeSegment(cps: readonly number[], from: number, to: number, ids: number[], offsets: number[]): void {
    const text = NormalizedText.slice(cps, from, to);
    for (const step of this.steps) {
      if (step === 'charsmap') this.applyCharsmap(text);
      else this.applyReplace(text, this.replaces[step].regex, this.replaces[step].content);
    }
    if (text.length === 0) return;

    // Metaspace: ' ' → ▁ keeps each character's alignment; a prepended ▁ shares the first one's.
    const meta = this.metaspace;
    const tcps = text.cps;
    for (let i = 0; i < tcps.length; i++) if (tcps[i] === 32) tcps[i] = meta;
    const scheme = this.meta.metaspace.prependScheme;
    if (tcps[0] !== meta && (scheme === 'always' || (scheme === 'first' && from === 0))) {
      tcps.unshift(meta);
      text.starts.unshift(text.starts[0]);
      text.ends.unshift(text.ends[0]);
    }

    const words: WordToken[] = [];
    const model = this.unigram;
    const emit = (wFrom: number, wTo: number): void => {
      words.length = 0;
      model.encodeWord(text.cps, wFrom, wTo, words);
      for (const w of words) {
        ids.push(w.id);
        offsets.push(text.starts[wFrom + w.start], text.ends[wFrom + w.end - 1]);
      }
    };
    if (!this.meta.metaspace.split) {
      emit(0, tcps.length);
      return;
    }
    // MergedWithNext: each ▁ opens a word; a run of ▁ gives single-▁ words before the last.
    let wordStart = 0;
    for (let i = 1; i < tcps.length; i++) {
      if (tcps[i] === meta) {
        emit(wordStart, i);
        wordStart = i;
      }
    }
    emit(wordStart, tcps.length);
  }

  private applyCharsmap(text: NormalizedText): void {
    const map = this.charsmap as Charsmap;
    const cps = text.cps;
    let any = false;
    for (let i = 0; i < cps.length; i++) {
      if (map.mayRewrite(cps[i])) {
        any = true;
        break;
      }
    }
    if (!any) return;
    const changes: Change[] = [];
    let modified = false;
    let at = 0;
    const lengths = graphemeLengths(text.toString());
    const count = lengths === null ? cps.length : lengths.length;
    for (let g = 0; g < count; g++) {
      const len = lengths === null ? 1 : lengths[g];
      const end = at + len;
      if (map.mayRewrite(cps[at]) && utf8Length(cps, at, end) < 6) {
        const whole = map.rewrite(cps, at, end);
        if (whole !== null) {
          modified = true;
          pushReplacement(changes, len, whole);
          at = end;
          continue;
        }
      }
      for (let i = at; i < end; i++) {
        const one = map.mayRewrite(cps[i]) ? map.rewrite(cps, i, i + 1) : null;
        if (one !== null) {
          modified = true;
          pushReplacement(changes, 1, one);
        } else {
          changes.push([cps[i], 0]);
        }
      }
      at = end;
    }
    if (modified) text.transform(changes, 0);
  }

  private applyReplace(text: NormalizedText, regex: RegExp, content: readonly number[]): void {
    const str = text.toString();
    regex.lastIndex = 0;
    if (!regex.test(str)) return;
    // Code-point index of each UTF-16 index, to map match positions.
    const ranges: Array<[number, number]> = [];
    regex.lastIndex = 0;
    let unit = 0;
    let cp = 0;
    for (let m = regex.exec(str); m !== null; m = regex.exec(str)) {
      if (m[0].length === 0) {
        regex.lastIndex++;
        continue;
      }
      const mEnd = m.index + m[0].length;
      while (unit < m.index) {
        const c = str.charCodeAt(unit);
        unit += c >= 0xd800 && c <= 0xdbff ? 2 : 1;
        cp++;
      }
      const startCp = cp;
      while (unit < mEnd) {
        const c = str.charCodeAt(unit);
        unit += c >= 0xd800 && c <= 0xdbff ? 2 : 1;
        cp++;
      }
      ranges.push([startCp, cp]);
    }
    // One pass, as the reference's `NormalizedString::replace` does since it stopped calling
    // transform_range per match (quadratic on inputs with many matches): every inserted
    // character takes the alignment of the last character of the match it replaces.
    text.replaceRanges(ranges, content);
  }
}
