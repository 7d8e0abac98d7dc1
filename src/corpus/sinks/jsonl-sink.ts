// JSONL: one {"id", "embedding"} a line; compact types as arrays of integers.

import { closeSync, fsyncSync } from 'node:fs';
import { openAt, writeAllAt } from './files.js';
import type { SinkOptions, SinkRow, SinkState, VectorSink } from './sink.js';

export class JsonlSink implements VectorSink {
  private readonly fd: number;
  private bytes: number;
  private width: number;

  constructor(opts: SinkOptions, at: SinkState) {
    this.files = [opts.output];
    this.fd = openAt(opts.output, at.outputBytes);
    this.bytes = at.outputBytes;
    this.width = at.width;
  }

  readonly files: string[];

  append(rows: readonly SinkRow[]): void {
    let text = '';
    for (const r of rows) text += `${JSON.stringify({ id: r.id, embedding: Array.from(r.vector) })}\n`;
    if (rows.length > 0) this.width = rows[0].vector.length;
    this.bytes += writeAllAt(this.fd, Buffer.from(text, 'utf8'), this.bytes);
  }

  sync(): SinkState {
    fsyncSync(this.fd);
    return { outputBytes: this.bytes, idsBytes: 0, width: this.width };
  }

  async finish(): Promise<void> {
    fsyncSync(this.fd);
  }

  close(): void {
    closeSync(this.fd);
  }
}
