// The tokenizer pipeline, in the reference's order: split out added tokens on the raw text,
// normalize each remaining segment (charsmap, then Replace), Metaspace, Unigram, then the
// template's special tokens and truncation. Offsets are [start, end) in code points of the
// input, as the reference reports them.

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
}

export interface Encoding {
  ids: number[];
  /** Flat [start0, end0, start1, end1, …] in code points of the input. */
  offsets: number[];
  special: boolean[];
  /** Tokens dropped by truncation (0 if none). */
  truncated: number;
}

/** Rust's char::is_whitespace (Unicode White_Space); JS's \s differs on U+0085 and U+FEFF. */
function isWhitespace(cp: number): boolean {
  return (cp >= 9 && cp <= 13) || cp === 32 || cp === 0x85 || cp === 0xa0 || cp === 0x1680 ||
    (cp >= 0x2000 && cp <= 0x200a) || cp === 0x2028 || cp === 0x2029 || cp === 0x202f ||
    cp === 0x205f || cp === 0x3000;
}

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
  private pieceDecoder: TextDecoder | null = null;
  private specialIds: Set<number> | undefined;

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

  encode(input: string, options: EncodeOptions = {}): Encoding {
    // The reference receives Rust strings, in which lone surrogates became U+FFFD.
    const text = input.isWellFormed() ? input : input.toWellFormed();
    const cps = Array.from(text, (c) => c.codePointAt(0) as number);
    const ids: number[] = [];
    const offsets: number[] = [];
    for (const seg of this.splitAdded(cps)) {
      if (seg.id !== undefined) {
        ids.push(seg.id);
        offsets.push(seg.from, seg.to);
      } else {
        this.encodeSegment(cps, seg.from, seg.to, ids, offsets);
      }
    }

    const addSpecial = options.addSpecialTokens ?? true;
    let truncated = 0;
    if (options.maxLength !== undefined) {
      const room = Math.max(0, options.maxLength - (addSpecial ? this.specialCount : 0));
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
    }
    const special = new Array<boolean>(ids.length).fill(false);
    if (!addSpecial) return { ids, offsets, special, truncated };
    const pre = this.prefixIds;
    const post = this.suffixIds;
    return {
      ids: [...pre, ...ids, ...post],
      offsets: [...pre.flatMap(() => [0, 0]), ...offsets, ...post.flatMap(() => [0, 0])],
      special: [...pre.map(() => true), ...special, ...post.map(() => true)],
      truncated,
    };
  }

  /** Added tokens are matched leftmost-longest on the raw text, before normalization. */
  private splitAdded(cps: readonly number[]): Segment[] {
    const n = cps.length;
    if (n === 0) return [];
    const out: Segment[] = [];
    let segStart = 0;
    let pos = 0;
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
    const dest: Change[] = content.map((c) => [c, 1]);
    // Back to front: each replacement only reads the character just before its range.
    for (let i = ranges.length - 1; i >= 0; i--) {
      const [s, e] = ranges[i];
      text.transformRange(s, e, dest, e - s);
    }
  }
}
