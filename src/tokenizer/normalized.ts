// A normalized string that remembers, for every character, the span of the original input
// it came from. The update rule is the reference's (`NormalizedString::transform_range`),
// worked in code points instead of bytes: every byte of a character shares one alignment
// there, so the two agree, and offsets come out in characters as the reference reports them.

/** A new character and how it relates to the old ones: 0 replaces one, >0 is inserted, -n replaces one and removes n more. */
export type Change = [cp: number, change: number];

export class NormalizedText {
  cps: number[];
  /** Original [start, end) of each character, in code points of the whole input. */
  starts: number[];
  ends: number[];

  constructor(cps: number[], starts: number[], ends: number[]) {
    this.cps = cps;
    this.starts = starts;
    this.ends = ends;
  }

  static slice(all: readonly number[], from: number, to: number): NormalizedText {
    const n = to - from;
    const cps = new Array<number>(n);
    const starts = new Array<number>(n);
    const ends = new Array<number>(n);
    for (let i = 0; i < n; i++) {
      cps[i] = all[from + i];
      starts[i] = from + i;
      ends[i] = from + i + 1;
    }
    return new NormalizedText(cps, starts, ends);
  }

  get length(): number {
    return this.cps.length;
  }

  /** Replaces characters [from, to) following `dest`; `removedFirst` of them are dropped up front. */
  transformRange(from: number, to: number, dest: readonly Change[], removedFirst: number): void {
    const { starts, ends } = this;
    let offset = Math.min(to, from + removedFirst);
    const newCps: number[] = [];
    const newStarts: number[] = [];
    const newEnds: number[] = [];
    for (const [cp, change] of dest) {
      let s: number;
      let e: number;
      if (change > 0) {
        if (offset < 1) {
          s = 0;
          e = 0;
        } else {
          s = starts[offset - 1];
          e = ends[offset - 1];
        }
      } else {
        s = starts[offset] ?? 0;
        e = ends[offset] ?? 0;
        if (offset < to) offset++;
        if (change < 0) offset = Math.min(to, offset - change);
      }
      newCps.push(cp);
      newStarts.push(s);
      newEnds.push(e);
    }
    if (from === 0 && to === this.cps.length) {
      this.cps = newCps;
      this.starts = newStarts;
      this.ends = newEnds;
    } else {
      this.cps.splice(from, to - from, ...newCps);
      starts.splice(from, to - from, ...newStarts);
      ends.splice(from, to - from, ...newEnds);
    }
  }

  /** Each [start, end) range (ascending, disjoint, non-empty) becomes `content`, in one pass. */
  replaceRanges(ranges: ReadonlyArray<readonly [number, number]>, content: readonly number[]): void {
    const { cps, starts, ends } = this;
    const newCps: number[] = [];
    const newStarts: number[] = [];
    const newEnds: number[] = [];
    let at = 0;
    for (const [from, to] of ranges) {
      for (; at < from; at++) {
        newCps.push(cps[at]);
        newStarts.push(starts[at]);
        newEnds.push(ends[at]);
      }
      for (const cp of content) {
        newCps.push(cp);
        newStarts.push(starts[to - 1]);
        newEnds.push(ends[to - 1]);
      }
      at = to;
    }
    for (; at < cps.length; at++) {
      newCps.push(cps[at]);
      newStarts.push(starts[at]);
      newEnds.push(ends[at]);
    }
    this.cps = newCps;
    this.starts = newStarts;
    this.ends = newEnds;
  }

  transform(dest: readonly Change[], removedFirst: number): void {
    this.transformRange(0, this.cps.length, dest, removedFirst);
  }

  toString(): string {
    let s = '';
    for (let i = 0; i < this.cps.length; i += 4096) {
      s += String.fromCodePoint(...this.cps.slice(i, i + 4096));
    }
    return s;
  }
}
