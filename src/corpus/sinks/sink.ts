// Where a corpus job's vectors go. Each sink appends rows in input order and, at every
// checkpoint, syncs and reports the bytes that hold them; at a resume it is opened at those
// bytes and cuts off whatever was written after them (see ../checkpoint.ts).

import type { OutputDtype, Vector } from '../../vectors/compact.js';

export const OUTPUT_FORMATS = ['jsonl', 'npy', 'parquet'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** What a checkpoint records of a sink: enough to cut its files back to it. */
export interface SinkState {
  /** Bytes of the output file (for .npy, its header included; for Parquet, of the staging file). */
  outputBytes: number;
  /** Bytes of the ids file beside a .npy (0 for JSONL). */
  idsBytes: number;
  /** Elements per vector, once the first has been seen (0 before). */
  width: number;
}

export interface SinkRow {
  id: string | number;
  vector: Vector;
}

export interface VectorSink {
  /** The files it writes, for messages. */
  readonly files: string[];
  append(rows: readonly SinkRow[]): void;
  /** Everything appended is on disk; the state a checkpoint records. */
  sync(): SinkState;
  /** The job is done: make the final file (Parquet), sync it. */
  finish(): Promise<void>;
  /** Once the job is recorded complete: remove working files (Parquet's staging). */
  discardStaging?(): void;
  close(): void;
}

export interface SinkOptions {
  output: string;
  dtype: OutputDtype;
  /** Whether ids are the input's line numbers (no --id-field): Parquet types them INT64. */
  lineIds: boolean;
}

export function outputFormatOf(path: string): OutputFormat {
  if (/\.npy$/i.test(path)) return 'npy';
  if (/\.parquet$/i.test(path)) return 'parquet';
  return 'jsonl';
}
