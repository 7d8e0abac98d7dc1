// Parquet: columns "id" and "embedding" (a LIST of FLOAT, or of INT32 annotated INT_8/UINT_8
// for the compact types), the layout pandas, pyarrow, DuckDB and the vector databases' loaders
// read. Written with hyparquet-writer (pure JavaScript, one dependency, ~0.4 MB; imported only
// by a job that asks for Parquet). A Parquet file cannot be appended to, so the rows are staged
// in a .npy beside it (resumable like any output) and the Parquet file is written from it at the
// end, a row group at a time, then renamed into place.

import { closeSync, fsyncSync, openSync, readFileSync, readSync, renameSync, rmSync } from 'node:fs';
import { ortosVersion } from '../../version.js';
import { vectorOf, type OutputDtype } from '../../vectors/compact.js';
import { bytesPerElement, NPY_HEADER_BYTES } from './npy.js';
import { NpySink } from './npy-sink.js';
import type { SinkOptions, SinkRow, SinkState, VectorSink } from './sink.js';

/** Rows per row group: ~30 MB of float32 e5-base vectors, read and written at once. */
const ROW_GROUP = 10_000;

function elementSchema(dtype: OutputDtype): { type: 'FLOAT' | 'INT32'; converted_type?: 'INT_8' | 'UINT_8' } {
  if (dtype === 'float') return { type: 'FLOAT' };
  return { type: 'INT32', converted_type: dtype === 'int8' || dtype === 'binary' ? 'INT_8' : 'UINT_8' };
}

export class ParquetSink implements VectorSink {
  private readonly staging: NpySink;
  private readonly stagingFiles: { npy: string; ids: string };
  readonly files: string[];

  constructor(private readonly opts: SinkOptions, at: SinkState) {
    this.stagingFiles = { npy: `${opts.output}.partial.npy`, ids: `${opts.output}.partial.ids.jsonl` };
    this.staging = new NpySink({ ...opts, output: this.stagingFiles.npy, idsPath: this.stagingFiles.ids }, at);
    this.files = [opts.output];
  }

  append(rows: readonly SinkRow[]): void {
    this.staging.append(rows);
  }

  sync(): SinkState {
    return this.staging.sync();
  }

  async finish(): Promise<void> {
    const { width } = this.staging.sync();
    const { ParquetWriter, fileWriter } = await import('hyparquet-writer');
    const tmp = `${this.opts.output}.tmp`;
    const writer = fileWriter(tmp);
    const pw = new ParquetWriter({
      writer,
      schema: [
        { name: 'root', num_children: 2 },
        this.opts.lineIds ? { name: 'id', type: 'INT64', repetition_type: 'REQUIRED' } : { name: 'id', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' },
        { name: 'embedding', repetition_type: 'REQUIRED', converted_type: 'LIST', num_children: 1 },
        { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
        { name: 'element', repetition_type: 'REQUIRED', ...elementSchema(this.opts.dtype) },
      ],
      createdBy: `ortos-embed ${ortosVersion()}`,
      kvMetadata: [{ key: 'ortos-embed.output_dtype', value: this.opts.dtype }],
    });
    const ids = readFileSync(this.stagingFiles.ids, 'utf8').split('\n').slice(0, -1);
    const size = width * bytesPerElement(this.opts.dtype);
    const fd = openSync(this.stagingFiles.npy, 'r');
    try {
      for (let from = 0; from < ids.length; from += ROW_GROUP) {
        const n = Math.min(ROW_GROUP, ids.length - from);
        const buf = Buffer.alloc(n * size);
        readSync(fd, buf, 0, buf.length, NPY_HEADER_BYTES + from * size);
        const embedding: number[][] = [];
        const id: Array<bigint | string> = [];
        for (let i = 0; i < n; i++) {
          embedding.push(Array.from(vectorOf(buf.subarray(i * size, (i + 1) * size), this.opts.dtype)));
          const value = JSON.parse(ids[from + i]) as string | number;
          id.push(this.opts.lineIds ? BigInt(value) : String(value));
        }
        await pw.write({ columnData: [{ name: 'id', data: id }, { name: 'embedding', data: embedding }], rowGroupSize: ROW_GROUP });
      }
      await pw.finish();
    } finally {
      closeSync(fd);
    }
    const out = openSync(tmp, 'r');
    try {
      fsyncSync(out);
    } finally {
      closeSync(out);
    }
    renameSync(tmp, this.opts.output);
  }

  /** After the job is recorded complete: the staging files go. */
  discardStaging(): void {
    rmSync(this.stagingFiles.npy, { force: true });
    rmSync(this.stagingFiles.ids, { force: true });
  }

  close(): void {
    this.staging.close();
  }
}
