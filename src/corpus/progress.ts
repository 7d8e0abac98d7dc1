// Progress of a long job: a bar redrawn on a terminal (rows, tokens/s, ETA), a line every ten
// seconds otherwise (a log that is read later, or a CI job's output).

export class Progress {
  private readonly started = performance.now();
  private last = 0;
  private drawn = false;

  constructor(
    private readonly total: number | null,
    private readonly from: number,
    private readonly tty: boolean,
    private readonly write: (s: string) => void,
  ) {}

  update(rows: number, tokens: number, force = false): void {
    const now = performance.now();
    if (!force && now - this.last < (this.tty ? 200 : 10_000)) return;
    this.last = now;
    const secs = Math.max(0.001, (now - this.started) / 1000);
    const rate = (rows - this.from) / secs;
    const tps = tokens / secs;
    const left = this.total !== null && rate > 0 ? (this.total - rows) / rate : null;
    const of = this.total !== null ? `/${this.total.toLocaleString('en')}` : '';
    const eta = left !== null ? ` ETA ${clock(left)}` : '';
    if (this.tty) {
      const width = 24;
      const done = this.total ? Math.min(width, Math.round((rows / this.total) * width)) : 0;
      const bar = this.total ? `[${'#'.repeat(done)}${'-'.repeat(width - done)}] ` : '';
      this.write(`\r${bar}${rows.toLocaleString('en')}${of} rows  ${Math.round(tps).toLocaleString('en')} tokens/s${eta}   `);
      this.drawn = true;
    } else {
      this.write(`${new Date().toISOString()} ${rows.toLocaleString('en')}${of} rows, ${Math.round(tps).toLocaleString('en')} tokens/s${eta}\n`);
    }
  }

  /** Ends the bar's line. */
  end(): void {
    if (this.drawn) this.write('\n');
  }
}

function clock(s: number): string {
  if (s < 60) return `${Math.ceil(s)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(Math.ceil(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
