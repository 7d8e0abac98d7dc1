// Where an `embed --input … --output …` job stands, kept beside its output so that running the
// same command again continues it: rows done, and the bytes of the output (and of its ids file,
// for .npy) and of the skipped-rows file that hold them. The output is written first and synced, then this file replaced
// atomically; at a resume both files are cut back to the bytes recorded here, so a row written
// after the last checkpoint (a kill between the two) is written again, once.

import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeFileSync } from 'node:fs';

export interface Checkpoint {
  /** What made the output: a resume must be of the same job. */
  job: string;
  /** Rows of the input consumed (embedded or skipped). */
  rows: number;
  /** Bytes of the output (for Parquet: of its staging file). */
  outputBytes: number;
  /** Bytes of the ids file beside a .npy output. */
  idsBytes: number;
  /** Elements per vector, once known. */
  width: number;
  skippedBytes: number;
  embedded: number;
  skipped: number;
  complete: boolean;
}

export const checkpointPath = (output: string): string => `${output}.progress.json`;

export function readCheckpoint(output: string): Checkpoint | null {
  const path = checkpointPath(output);
  if (!existsSync(path)) return null;
  return JSON.parse(readFileSync(path, 'utf8')) as Checkpoint;
}

export function writeCheckpoint(output: string, c: Checkpoint): void {
  const path = checkpointPath(output);
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, JSON.stringify(c));
  const fd = openSync(tmp, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}
