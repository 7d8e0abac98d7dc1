// Requests being served, and the drain on shutdown: stop taking new ones, wait for these.

export class InFlight {
  private count = 0;
  private waiters: Array<() => void> = [];
  /** Set on shutdown: new requests get 503, those in flight finish. */
  draining = false;

  get size(): number {
    return this.count;
  }

  enter(): void {
    this.count++;
  }

  leave(): void {
    this.count--;
    if (this.count === 0) for (const w of this.waiters.splice(0)) w();
  }

  /** Resolves true when all finished, false when the grace period ran out first. */
  async drain(graceMs: number): Promise<boolean> {
    this.draining = true;
    if (this.count === 0) return true;
    const done = new Promise<boolean>((r) => this.waiters.push(() => r(true)));
    const late = new Promise<boolean>((r) => setTimeout(() => r(false), graceMs).unref());
    return Promise.race([done, late]);
  }
}
