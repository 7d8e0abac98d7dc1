// The rows of an input file for `embed --input`: plain text (one text a line), JSONL (a text
// field and an optional id field) or CSV (a text column and an optional id column; quoted
// newlines, a BOM and the dialects csv-parse reads). Each row is a text with its id, or what is
// wrong with it and where (line numbers count from 1, as editors do). Rows come in file order,
// from `fromRow` on (resuming skips what was done without holding the file in memory).

import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { extname } from 'node:path';

export type InputFormat = 'text' | 'jsonl' | 'csv';
export const INPUT_FORMATS: readonly InputFormat[] = ['text', 'jsonl', 'csv'];

export interface InputOptions {
  format: InputFormat;
  /** JSONL: the text's field; CSV: its column's header. */
  textField: string;
  /** JSONL field or CSV column of the row's id; none: the line number. */
  idField?: string;
  /** Longer texts are an error in that row. */
  maxChars: number;
}

export type Row =
  | { index: number; line: number; id: string | number; text: string }
  /** `fatal`: the file cannot be read past this point. */
  | { index: number; line: number; error: string; fatal?: boolean };

export function formatOf(path: string): InputFormat {
  const ext = extname(path).toLowerCase();
  if (ext === '.jsonl' || ext === '.ndjson') return 'jsonl';
  if (ext === '.csv') return 'csv';
  return 'text';
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function checkText(text: string, maxChars: number): string | null {
  if (text.trim() === '') return 'the text is empty';
  if (text.length > maxChars) return `the text is ${text.length} characters, over the limit of ${maxChars} (--max-chars)`;
  return null;
}

/** Lines as bytes, so that invalid UTF-8 is found in its line rather than replaced silently. */
async function* byteLines(path: string): AsyncGenerator<Buffer> {
  let rest = Buffer.alloc(0);
  for await (const chunk of createReadStream(path)) {
    let data = rest.length > 0 ? Buffer.concat([rest, chunk as Buffer]) : (chunk as Buffer);
    let start = 0;
    for (let nl = data.indexOf(10, start); nl >= 0; nl = data.indexOf(10, start)) {
      yield data.subarray(start, nl > start && data[nl - 1] === 13 ? nl - 1 : nl);
      start = nl + 1;
    }
    rest = Buffer.from(data.subarray(start));
    data = rest;
  }
  if (rest.length > 0) yield rest;
}

async function* lineRows(path: string, opts: InputOptions, fromRow: number): AsyncGenerator<Row> {
  let line = 0;
  let index = 0;
  for await (let bytes of byteLines(path)) {
    line++;
    if (line === 1 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) bytes = bytes.subarray(3);
    // Plain text: an empty line separates, it is not a text (and not a row).
    if (opts.format === 'text' && bytes.toString('latin1').trim() === '') continue;
    const i = index++;
    if (i < fromRow) continue;
    let decoded: string;
    try {
      decoded = strictUtf8.decode(bytes);
    } catch {
      yield { index: i, line, error: 'the line is not valid UTF-8' };
      continue;
    }
    if (opts.format === 'text') {
      const bad = checkText(decoded, opts.maxChars);
      yield bad === null ? { index: i, line, id: line, text: decoded } : { index: i, line, error: bad };
      continue;
    }
    let value: unknown;
    try {
      value = JSON.parse(decoded);
    } catch (e) {
      yield { index: i, line, error: decoded.trim() === '' ? 'the line is empty (JSONL has one JSON object a line)' : `not JSON: ${(e as Error).message}` };
      continue;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      yield { index: i, line, error: 'not a JSON object' };
      continue;
    }
    const obj = value as Record<string, unknown>;
    const text = obj[opts.textField];
    if (typeof text !== 'string') {
      yield { index: i, line, error: text === undefined ? `no "${opts.textField}" field (--text-field)` : `"${opts.textField}" is ${Array.isArray(text) ? 'an array' : typeof text}, not a string` };
      continue;
    }
    let id: string | number = line;
    if (opts.idField !== undefined) {
      const v = obj[opts.idField];
      if (typeof v !== 'string' && typeof v !== 'number') {
        yield { index: i, line, error: v === undefined ? `no "${opts.idField}" field (--id-field)` : `"${opts.idField}" is ${typeof v}, not a string or number` };
        continue;
      }
      id = v;
    }
    const bad = checkText(text, opts.maxChars);
    yield bad === null ? { index: i, line, id, text } : { index: i, line, error: bad };
  }
}

async function* csvRows(path: string, opts: InputOptions, fromRow: number): AsyncGenerator<Row> {
  const { parse } = await import('csv-parse');
  const parser = createReadStream(path).pipe(parse({ bom: true, columns: true, relax_column_count: true, info: true, skip_empty_lines: true }));
  let index = 0;
  try {
    for await (const record of parser as AsyncIterable<{ record: Record<string, string>; info: { lines: number } }>) {
      const i = index++;
      const line = record.info.lines;
      if (i < fromRow) continue;
      const text = record.record[opts.textField];
      if (text === undefined) {
        yield { index: i, line, error: `no "${opts.textField}" column (--text-field)` };
        continue;
      }
      const id = opts.idField !== undefined ? record.record[opts.idField] : line;
      if (id === undefined) {
        yield { index: i, line, error: `no "${opts.idField}" column (--id-field)` };
        continue;
      }
      const bad = text.includes('\uFFFD') ? 'the row is not valid UTF-8' : checkText(text, opts.maxChars);
      yield bad === null ? { index: i, line, id, text } : { index: i, line, error: bad };
    }
  } catch (e) {
    // A CSV that cannot be read on (an unclosed quote): one error where it broke; the rows before stand.
    const err = e as Error & { lines?: number };
    yield { index, line: err.lines ?? 0, error: `the CSV cannot be read past here: ${err.message}`, fatal: true };
  }
}

export function readInput(path: string, opts: InputOptions, fromRow = 0): AsyncGenerator<Row> {
  return opts.format === 'csv' ? csvRows(path, opts, fromRow) : lineRows(path, opts, fromRow);
}

/** Rows in the file, for the progress bar's total (a count, not a parse: one pass over the bytes). */
export async function countRows(path: string, opts: InputOptions): Promise<number | null> {
  if (opts.format === 'csv') return null;
  let n = 0;
  for await (const line of createInterface({ input: createReadStream(path), crlfDelay: Infinity })) {
    if (opts.format === 'text' && line.trim() === '') continue;
    n++;
  }
  return n;
}
