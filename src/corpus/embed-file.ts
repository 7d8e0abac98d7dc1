// `embed --input FILE --output FILE`: every row of the input embedded through the door, written
// in input order as JSONL ({"id", "embedding"}), .npy (ids beside it) or Parquet (sinks/), in
// float or a compact type, with progress, and resumable: the same command
// run again after Ctrl-C, kill -9 or a lost Machine continues where the last checkpoint stood,
// and the output holds every row exactly once (checkpoint.ts). Bad rows stop the job with their
// line number, or with --on-error skip are listed in <output>.skipped.jsonl and left out.

import { closeSync, existsSync, fsyncSync, openSync, rmSync, statSync, truncateSync, writeSync } from 'node:fs';
import type { Vector } from '../vectors/compact.js';
import { openSink } from './sinks/open-sink.js';
import type { OutputFormat, VectorSink } from './sinks/sink.js';
import { resolve } from 'node:path';
import type { EmbedOptions } from '../service/embedding-service.js';
import { JobError } from './job-error.js';
import type { Door } from './remote-door.js';
import { idsPathOf } from './sinks/npy-sink.js';
import { checkpointPath, readCheckpoint, writeCheckpoint, type Checkpoint } from './checkpoint.js';
import type { Progress } from './progress.js';
import { readInput, type InputOptions, type Row } from './read-input.js';

export interface FileJob extends InputOptions {
  input: string;
  output: string;
  outputFormat: OutputFormat;
  onError: 'stop' | 'skip';
  /** Rows per call to the door (one checkpoint each). */
  batchRows: number;
  /** Batches in flight at once (written in order). */
  concurrency: number;
  embed: Omit<EmbedOptions, 'cache'>;
  /** Names the model, so that a resume with another model is refused. */
  model: string;
}

export interface JobReport {
  rows: number;
  embedded: number;
  skipped: number;
  cached: number;
  tokens: number;
  /** Rows done before this run (a resume), or 0. */
  resumedAt: number;
  alreadyComplete: boolean;
}


export const skippedPath = (output: string): string => `${output}.skipped.jsonl`;

export async function embedFile(door: Door, job: FileJob, progress: (from: number) => Progress): Promise<JobReport> {
  const key = JSON.stringify({ input: resolve(job.input), format: job.format, text: job.textField, id: job.idField ?? null, model: job.model, embed: job.embed, maxChars: job.maxChars, output: job.outputFormat });
  let cp = readCheckpoint(job.output);
  const sinkOpts = { output: job.output, dtype: job.embed.dtype ?? 'float', lineIds: job.idField === undefined };
  if (cp === null) {
    // Files of the output's name the job did not write are not overwritten.
    const probe = [job.output, ...(job.outputFormat === 'npy' ? [idsPathOf(job.output)] : [])];
    const there = probe.find((f) => existsSync(f) && statSync(f).size > 0);
    if (there !== undefined) throw new JobError(`${there} exists and was not written by a job of this command (no ${checkpointPath(job.output)}): remove it or choose another --output`);
  }
  if (cp !== null && cp.job !== key) {
    throw new JobError(`${job.output} is the output of another job (another input file, fields, prompt, options or model; see ${checkpointPath(job.output)}): remove both or choose another --output`);
  }
  if (cp?.complete) return { rows: cp.rows, embedded: cp.embedded, skipped: cp.skipped, cached: 0, tokens: 0, resumedAt: cp.rows, alreadyComplete: true };
  cp ??= { job: key, rows: 0, outputBytes: 0, idsBytes: 0, width: 0, skippedBytes: 0, embedded: 0, skipped: 0, complete: false };
  const resumedAt = cp.rows;

  // Back to the last checkpoint: what was written after it is written again.
  const sink: VectorSink = openSink(job.outputFormat, sinkOpts, cp);
  const skippedFile = skippedPath(job.output);
  const skip = openSync(skippedFile, existsSync(skippedFile) ? 'r+' : 'w');
  truncateSync(skippedFile, cp.skippedBytes);
  const state: Checkpoint = { ...cp };
  const bar = progress(resumedAt);
  let cached = 0;
  let tokens = 0;
  let batch: Array<Extract<Row, { text: string }>> = [];
  let skippedLines: string[] = [];
  let lastIndex = resumedAt - 1;

  // Batches in flight, in input order: each is written (and checkpointed) when it and all before
  // it are done, so the output stays in input order and a checkpoint never covers a gap.
  const inflight: Array<{ result: Promise<{ vectors: Vector[]; tokens: number; cached: number } | null>; rows: typeof batch; skipped: string[]; last: number }> = [];
  const writeOldest = async (): Promise<void> => {
    const b = inflight.shift();
    if (b === undefined) return;
    const result = await b.result;
    if (result !== null) {
      cached += result.cached;
      tokens += result.tokens;
      sink.append(b.rows.map((r, i) => ({ id: r.id, vector: result.vectors[i] })));
    }
    state.skippedBytes += writeAll(skip, b.skipped.join(''), state.skippedBytes);
    Object.assign(state, sink.sync());
    fsyncSync(skip);
    state.embedded += b.rows.length;
    state.skipped += b.skipped.length;
    state.rows = b.last + 1;
    writeCheckpoint(job.output, state);
    bar.update(state.rows, tokens);
  };
  const flush = async (): Promise<void> => {
    if (batch.length === 0 && skippedLines.length === 0) return;
    const rows = batch;
    const result = rows.length > 0 ? door.embed({ texts: rows.map((r) => r.text) }, job.embed) : Promise.resolve(null);
    // Not left unhandled while older batches are written; its error is met in writeOldest.
    result.catch(() => {});
    inflight.push({ result, rows, skipped: skippedLines, last: lastIndex });
    batch = [];
    skippedLines = [];
    while (inflight.length >= Math.max(1, job.concurrency)) await writeOldest();
  };
  const drain = async (): Promise<void> => {
    while (inflight.length > 0) await writeOldest();
  };

  try {
    for await (const row of readInput(job.input, job, resumedAt)) {
      if ('error' in row) {
        if (job.onError === 'stop' || row.fatal === true) {
          await flush();
          await drain();
          throw new JobError(`${job.input}:${row.line}: ${row.error}${row.fatal === true ? '' : ' (--on-error skip leaves such rows out and lists them)'}. ` +
            `The ${state.rows.toLocaleString('en')} rows before it are in ${job.output}; fix the row and run the same command again to continue`);
        }
        skippedLines.push(`${JSON.stringify({ line: row.line, error: row.error })}\n`);
      } else {
        batch.push(row);
      }
      lastIndex = row.index;
      if (batch.length >= job.batchRows || skippedLines.length >= job.batchRows) await flush();
    }
    await flush();
    await drain();
    await sink.finish();
    state.complete = true;
    writeCheckpoint(job.output, state);
    sink.discardStaging?.();
    bar.update(state.rows, tokens, true);
  } finally {
    bar.end();
    sink.close();
    closeSync(skip);
    // Only a job that skipped rows leaves the list of them.
    if (state.skippedBytes === 0) rmSync(skippedFile, { force: true });
  }
  return { rows: state.rows, embedded: state.embedded, skipped: state.skipped, cached, tokens, resumedAt, alreadyComplete: false };
}

function writeAll(fd: number, text: string, at: number): number {
  if (text === '') return 0;
  const bytes = Buffer.from(text, 'utf8');
  let done = 0;
  while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done, at + done);
  return bytes.length;
}
