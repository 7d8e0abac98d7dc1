// The reference implementation (Rust `tokenizers` through its napi binding), for tests and
// benchmarks only: its ids and offsets are the truth the TypeScript tokenizer must match.

import { createRequire } from 'node:module';

interface RustEncoding {
  getIds(): number[];
  getOffsets(): number[][];
}
interface RustTokenizer {
  encodeBatch(inputs: string[], options?: { addSpecialTokens?: boolean }): Promise<RustEncoding[]>;
  encode(input: string, pair?: null, options?: { addSpecialTokens?: boolean }): Promise<RustEncoding>;
  setTruncation(maxLength: number, options?: { direction?: string }): void;
}
interface RustTokenizers {
  Tokenizer: { fromFile(path: string): RustTokenizer };
}

export interface OracleResult {
  ids: number[];
  offsets: number[];
}

export class Oracle {
  private readonly tok: RustTokenizer;
  constructor(tokenizerJson: string, maxLength?: number, direction: 'left' | 'right' = 'right') {
    const rust = createRequire(import.meta.url)('tokenizers') as RustTokenizers;
    this.tok = rust.Tokenizer.fromFile(tokenizerJson);
    if (maxLength !== undefined) this.tok.setTruncation(maxLength, { direction });
  }

  async encodeAll(texts: string[], batch = 2000): Promise<OracleResult[]> {
    const out: OracleResult[] = [];
    for (let i = 0; i < texts.length; i += batch) {
      const encs = await this.tok.encodeBatch(texts.slice(i, i + batch));
      for (const e of encs) out.push({ ids: e.getIds(), offsets: e.getOffsets().flat() });
    }
    return out;
  }
}

/** The Rust library's decode, for the same file. */
export async function rustDecode(tokenizerJson: string, ids: number[][], skipSpecialTokens: boolean): Promise<string[]> {
  const rust = createRequire(import.meta.url)('tokenizers') as { Tokenizer: { fromFile(path: string): { decode(ids: number[], skip: boolean): Promise<string> } } };
  const tok = rust.Tokenizer.fromFile(tokenizerJson);
  const out: string[] = [];
  for (const row of ids) out.push(await tok.decode(row, skipSpecialTokens));
  return out;
}
