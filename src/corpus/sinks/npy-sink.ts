// .npy: the vectors as one (rows, width) array numpy, FAISS and usearch load directly (float32,
// int8 or uint8 as the type says), and their ids beside it, one JSON value a line, in
// NAME.ids.jsonl. The header's row count is written again at every checkpoint, so a job
// stopped half-way leaves a valid array of what was done.

import { closeSync, fsyncSync } from 'node:fs';
import type { OutputDtype } from '../../vectors/compact.js';
import { openAt, writeAllAt } from './files.js';
import { bytesPerElement, NPY_HEADER_BYTES, npyHeader } from './npy.js';
import type { SinkOptions, SinkRow, SinkState, VectorSink } from './sink.js';

export const idsPathOf = (npy: string): string => `${npy.replace(/\.npy$/i, '')}.ids.jsonl`;

export class NpySink implements VectorSink {
  private readonly fd: number;
  private readonly idsFd: number;
  private bytes: number;
  private idsBytes: number;
  private width: number;
  private readonly dtype: OutputDtype;
  readonly files: string[];

  constructor(opts: SinkOptions & { idsPath?: string }, at: SinkState) {
    const ids = opts.idsPath ?? idsPathOf(opts.output);
    this.files = [opts.output, ids];
    this.dtype = opts.dtype;
    this.bytes = Math.max(at.outputBytes, NPY_HEADER_BYTES);
    this.idsBytes = at.idsBytes;
    this.width = at.width;
    this.fd = openAt(opts.output, at.outputBytes);
    this.idsFd = openAt(ids, this.idsBytes);
    this.writeHeader();
  }

  get rows(): number {
    return this.width === 0 ? 0 : (this.bytes - NPY_HEADER_BYTES) / (this.width * bytesPerElement(this.dtype));
  }

  private writeHeader(): void {
    writeAllAt(this.fd, npyHeader(this.dtype, this.rows, this.width), 0);
  }

  append(rows: readonly SinkRow[]): void {
    if (rows.length === 0) return;
    if (this.width === 0) this.width = rows[0].vector.length;
    const size = this.width * bytesPerElement(this.dtype);
    const block = Buffer.alloc(rows.length * size);
    let ids = '';
    rows.forEach((r, i) => {
      if (r.vector.length !== this.width) throw new Error(`a vector of ${r.vector.length} elements among vectors of ${this.width}`);
      block.set(new Uint8Array(r.vector.buffer, r.vector.byteOffset, r.vector.byteLength), i * size);
      ids += `${JSON.stringify(r.id)}\n`;
    });
    this.bytes += writeAllAt(this.fd, block, this.bytes);
    this.idsBytes += writeAllAt(this.idsFd, Buffer.from(ids, 'utf8'), this.idsBytes);
  }

  sync(): SinkState {
    // The rows first, then the header that counts them.
    fsyncSync(this.fd);
    fsyncSync(this.idsFd);
    this.writeHeader();
    fsyncSync(this.fd);
    return { outputBytes: this.bytes, idsBytes: this.idsBytes, width: this.width };
  }

  async finish(): Promise<void> {
    this.sync();
  }

  close(): void {
    closeSync(this.fd);
    closeSync(this.idsFd);
  }
}
