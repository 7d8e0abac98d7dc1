// The Unigram model: Viterbi over piece scores, with the reference's handling of unknown
// characters (a one-character unknown node scored min_score - 10, consecutive unknowns
// fused into one token).
//
// The pieces live in a trie over code points, stored as three flat arrays in breadth-first
// order so that it loads without any per-node work: the children of node n are the nodes
// first[n] .. first[n+1]-1, sorted by label.

export interface PieceTrie {
  first: Uint32Array;
  label: Uint32Array;
  /** Piece id ending at this node, or -1. */
  value: Int32Array;
}

const UNK_PENALTY = 10;

export interface WordToken {
  id: number;
  /** [start, end) in code points of the word. */
  start: number;
  end: number;
}

export class Unigram {
  readonly trie: PieceTrie;
  readonly scores: Float32Array;
  readonly unkId: number;
  private readonly unkScore: number;
  // Reused across calls: one tokenizer serves one request at a time on the event loop.
  private best = new Float64Array(256);
  private from = new Int32Array(256);
  private ids = new Int32Array(256);

  constructor(trie: PieceTrie, scores: Float32Array, unkId: number, minScore: number) {
    this.trie = trie;
    this.scores = scores;
    this.unkId = unkId;
    this.unkScore = minScore - UNK_PENALTY;
  }

  private child(node: number, cp: number): number {
    const { first, label } = this.trie;
    let lo = first[node];
    let hi = first[node + 1] - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const l = label[mid];
      if (l === cp) return mid;
      if (l < cp) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  /** Exact lookup of a piece, or -1. */
  lookup(cps: ArrayLike<number>, from: number, to: number): number {
    let node = 0;
    for (let i = from; i < to && node >= 0; i++) node = this.child(node, cps[i]);
    return node >= 0 ? this.trie.value[node] : -1;
  }

  /** Tokenizes cps[from, to) and appends the tokens to `out`, positions relative to `from`. */
  encodeWord(cps: ArrayLike<number>, from: number, to: number, out: WordToken[]): void {
    const n = to - from;
    if (n === 0) return;
    if (this.best.length < n + 1) {
      const size = Math.max(n + 1, this.best.length * 2);
      this.best = new Float64Array(size);
      this.from = new Int32Array(size);
      this.ids = new Int32Array(size);
    }
    const best = this.best;
    const back = this.from;
    const ids = this.ids;
    back.fill(-1, 0, n + 1);
    best[0] = 0;
    const value = this.trie.value;
    const scores = this.scores;
    for (let pos = 0; pos < n; pos++) {
      const base = best[pos];
      let hasSingle = false;
      let node = 0;
      for (let k = pos; k < n; k++) {
        node = this.child(node, cps[from + k]);
        if (node < 0) break;
        const id = value[node];
        if (id < 0) continue;
        const key = k + 1;
        const candidate = scores[id] + base;
        if (back[key] < 0 || candidate > best[key]) {
          best[key] = candidate;
          back[key] = pos;
          ids[key] = id;
        }
        if (key === pos + 1) hasSingle = true;
      }
      if (!hasSingle) {
        const key = pos + 1;
        const candidate = this.unkScore + base;
        if (back[key] < 0 || candidate > best[key]) {
          best[key] = candidate;
          back[key] = pos;
          ids[key] = this.unkId;
        }
      }
    }
    // Walk back from the end, fusing runs of unknowns.
    const reversed: WordToken[] = [];
    let end = n;
    let unkEnd = -1;
    while (end > 0) {
      const start = back[end];
      if (ids[end] === this.unkId) {
        if (unkEnd < 0) unkEnd = end;
      } else {
        if (unkEnd >= 0) {
          reversed.push(this.fused(cps, from, end, unkEnd));
          unkEnd = -1;
        }
        reversed.push({ id: ids[end], start, end });
      }
      end = start;
    }
    if (unkEnd >= 0) reversed.push(this.fused(cps, from, 0, unkEnd));
    for (let i = reversed.length - 1; i >= 0; i--) out.push(reversed[i]);
  }

  private fused(cps: ArrayLike<number>, from: number, start: number, end: number): WordToken {
    // The reference looks the fused text up in the vocabulary before falling back to unk.
    const id = end - start > 1 ? this.lookup(cps, from + start, from + end) : -1;
    return { id: id >= 0 ? id : this.unkId, start, end };
  }
}
