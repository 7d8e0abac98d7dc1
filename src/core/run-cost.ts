// What one model run costs, learned from the runs the queue has timed: a fixed part per run
// (the hop to the inference thread, the session's own set-up) plus a part per padded token.
// A single ratio of time to tokens would charge every queued token the fixed part of the small
// runs seen last: after a stream of single queries it put 64 long inputs at 1.9 s of work that
// took 0.3 s, and refused requests (429) a queue would have served well within its bound.
//
// The two parts are a least-squares line through the recent runs, older runs weighing less
// (each run's weight decays by DECAY per later run), so a machine that slows down is followed
// within a few runs. Where the recent runs are too alike in size to tell the parts apart (a
// stream of single queries), the fixed part last told apart is kept and the rest of their time
// charged per token. Before the parts were ever told apart, or where the line makes no physical
// sense (a negative part), the whole time is charged per token: the cautious reading, which
// never says a queue is shorter than the runs seen suggest.

const DECAY = 0.8;
/** Runs whose sizes vary less than this (coefficient of variation) cannot separate the parts. */
const MIN_SPREAD = 0.2;

export interface Cost {
  /** Milliseconds per run. */
  perRun: number;
  /** Milliseconds per padded token. */
  perToken: number;
}

export class RunCost {
  // Decayed sums of weights, tokens, milliseconds, tokens², tokens × ms.
  private w = 0;
  private x = 0;
  private y = 0;
  private xx = 0;
  private xy = 0;
  /** The fixed part from the last runs that told the parts apart. */
  private perRun = 0;
  /** Set when the last runs told the parts apart. */
  private line: Cost | null = null;

  observe(paddedTokens: number, ms: number): void {
    this.w = this.w * DECAY + 1;
    this.x = this.x * DECAY + paddedTokens;
    this.y = this.y * DECAY + ms;
    this.xx = this.xx * DECAY + paddedTokens * paddedTokens;
    this.xy = this.xy * DECAY + paddedTokens * ms;
    this.line = null;
    const meanX = this.x / this.w;
    const variance = this.xx / this.w - meanX * meanX;
    if (variance < (MIN_SPREAD * meanX) ** 2) return;
    const perToken = (this.xy / this.w - meanX * (this.y / this.w)) / variance;
    const perRun = this.y / this.w - perToken * meanX;
    if (perToken > 0 && perRun >= 0) this.line = { perRun, perToken };
    this.perRun = this.line?.perRun ?? 0;
  }

  /** The current reading, or null before any run. */
  get cost(): Cost | null {
    if (this.line !== null) return this.line;
    if (this.w === 0 || this.x <= 0) return null;
    const rest = this.y - this.perRun * this.w;
    return rest > 0 ? { perRun: this.perRun, perToken: rest / this.x } : { perRun: 0, perToken: this.y / this.x };
  }

  /** Expected milliseconds for `runs` runs of `paddedTokens` in all, or null before any run. */
  estimate(runs: number, paddedTokens: number): number | null {
    const c = this.cost;
    return c === null ? null : runs * c.perRun + paddedTokens * c.perToken;
  }
}
