// The compiled tokenizer on disk: one file, read with a single read and viewed as typed
// arrays in place (no parsing, no per-piece objects).
//
// Layout: "ORTOSTOK" | u32 format version | u32 header length | JSON header | padding to 8 |
// arrays, each 8-aligned, at the offsets the header lists.

import { closeSync, fstatSync, openSync, readSync, writeFileSync } from 'node:fs';
import type { TokenizerArrays, TokenizerData, TokenizerMeta } from './data.js';

const MAGIC = 'ORTOSTOK';
export const TOKENIZER_FORMAT_VERSION = 1;

type ArrayName = keyof TokenizerArrays;
const KINDS = {
  trieFirst: Uint32Array,
  trieLabel: Uint32Array,
  trieValue: Int32Array,
  scores: Float32Array,
  charsmapTrie: Uint32Array,
  charsmapPool: Uint8Array,
  charsmapKeyStarts: Uint8Array,
  pieceText: Uint8Array,
  pieceOffsets: Uint32Array,
} as const satisfies Record<ArrayName, unknown>;

interface Header {
  meta: TokenizerMeta;
  /** Extra facts a reader may check (e.g. a hash of the source). */
  source: Record<string, string>;
  arrays: Record<ArrayName, { offset: number; length: number }>;
}

const align8 = (n: number): number => (n + 7) & ~7;

export function writeTokenizerFile(path: string, data: TokenizerData, source: Record<string, string> = {}): void {
  const names = Object.keys(KINDS) as ArrayName[];
  // Offsets depend on the header length, which depends on the offsets: lay out after a
  // header sized with placeholder offsets that are never shorter than the real ones.
  const layout = (base: number): Header['arrays'] => {
    let at = base;
    const out = {} as Header['arrays'];
    for (const name of names) {
      const arr = data.arrays[name];
      out[name] = { offset: at, length: arr.length };
      at = align8(at + arr.byteLength);
    }
    return out;
  };
  const placeholder = Buffer.from(JSON.stringify({ meta: data.meta, source, arrays: layout(1e12) } satisfies Header));
  const base = align8(16 + placeholder.length);
  // Padded with spaces counted in bytes, not characters: the header holds multi-byte text.
  const headerBytes = Buffer.alloc(placeholder.length, 0x20);
  Buffer.from(JSON.stringify({ meta: data.meta, source, arrays: layout(base) } satisfies Header)).copy(headerBytes);
  const arrays = layout(base);
  const last = names[names.length - 1];
  const total = align8(arrays[last].offset + data.arrays[last].byteLength);
  const out = Buffer.alloc(total);
  out.write(MAGIC, 0, 'latin1');
  out.writeUInt32LE(TOKENIZER_FORMAT_VERSION, 8);
  out.writeUInt32LE(headerBytes.length, 12);
  headerBytes.copy(out, 16);
  for (const name of names) {
    const arr = data.arrays[name];
    Buffer.from(arr.buffer, arr.byteOffset, arr.byteLength).copy(out, arrays[name].offset);
  }
  writeFileSync(path, out);
}

export class TokenizerFileError extends Error {
  constructor(path: string, why: string) {
    super(`compiled tokenizer ${path}: ${why}; run "ortos-embed prepare" again`);
    this.name = 'TokenizerFileError';
  }
}

export interface LoadedTokenizerFile {
  data: TokenizerData;
  source: Record<string, string>;
}

// Needed only to show a piece's text (/tokenize), never to encode: read on first use, so a
// cold start reads 3.9 of the 12.7 MB fewer. They are the file's last arrays.
const LAZY: ReadonlySet<ArrayName> = new Set(['pieceText', 'pieceOffsets']);

function readFully(fd: number, path: string, into: Uint8Array, position: number): void {
  let got = 0;
  while (got < into.length) {
    const n = readSync(fd, into, got, into.length - got, position + got);
    if (n === 0) throw new TokenizerFileError(path, 'short read');
    got += n;
  }
}

export function readTokenizerFile(path: string): LoadedTokenizerFile {
  // The descriptor stays open until the lazy arrays are read (once, then it is closed): a
  // later prepare that replaces the folder unlinks this file, and the open descriptor still
  // reads the version that was loaded.
  const fd = openSync(path, 'r');
  let keepOpen = false;
  try {
    const size = fstatSync(fd).size;
    const head = Buffer.alloc(Math.min(size, 16));
    readFully(fd, path, head, 0);
    if (head.length < 16 || head.toString('latin1', 0, 8) !== MAGIC) throw new TokenizerFileError(path, 'not a compiled tokenizer');
    const version = head.readUInt32LE(8);
    if (version !== TOKENIZER_FORMAT_VERSION) throw new TokenizerFileError(path, `format version ${version}, expected ${TOKENIZER_FORMAT_VERSION}`);
    const headerLength = head.readUInt32LE(12);
    if (16 + headerLength > size) throw new TokenizerFileError(path, 'damaged header');
    const headerBytes = Buffer.alloc(headerLength);
    readFully(fd, path, headerBytes, 16);
    let header: Header;
    try {
      header = JSON.parse(headerBytes.toString('utf8')) as Header;
    } catch {
      throw new TokenizerFileError(path, 'damaged header');
    }
    const names = Object.keys(KINDS) as ArrayName[];
    for (const name of names) {
      const where = header.arrays?.[name];
      if (!where || where.offset % 8 !== 0 || where.offset + where.length * KINDS[name].BYTES_PER_ELEMENT > size) {
        throw new TokenizerFileError(path, `array ${name} is missing or out of bounds (truncated file?)`);
      }
    }
    const eager = names.filter((n) => !LAZY.has(n));
    const eagerEnd = Math.max(...eager.map((n) => header.arrays[n].offset + header.arrays[n].length * KINDS[n].BYTES_PER_ELEMENT));
    const buf = new ArrayBuffer(eagerEnd);
    readFully(fd, path, new Uint8Array(buf), 0);
    const arrays = {} as Record<ArrayName, TokenizerArrays[ArrayName]>;
    for (const name of eager) arrays[name] = new KINDS[name](buf, header.arrays[name].offset, header.arrays[name].length);
    const lazyStart = Math.min(...[...LAZY].map((n) => header.arrays[n].offset));
    let tail: ArrayBuffer | Error | null = null;
    const readTail = (): ArrayBuffer => {
      if (tail === null) {
        try {
          const bytes = new ArrayBuffer(size - lazyStart);
          readFully(fd, path, new Uint8Array(bytes), lazyStart);
          tail = bytes;
        } catch (e) {
          tail = e instanceof Error ? e : new Error(String(e));
        } finally {
          closeSync(fd);
        }
      }
      if (tail instanceof Error) throw tail;
      return tail;
    };
    for (const name of LAZY) {
      let value: TokenizerArrays[ArrayName] | null = null;
      Object.defineProperty(arrays, name, {
        enumerable: true,
        get: () => {
          value ??= new KINDS[name](readTail(), header.arrays[name].offset - lazyStart, header.arrays[name].length);
          return value;
        },
      });
    }
    keepOpen = true;
    return { data: { meta: header.meta, arrays: arrays as TokenizerArrays }, source: header.source ?? {} };
  } finally {
    if (!keepOpen) closeSync(fd);
  }
}
