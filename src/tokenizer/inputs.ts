// e5's input rules: every text starts with "query: " or "passage: " (query for symmetric
// tasks), never twice; at most 512 tokens including <s> and </s>.

import type { Tokenizer } from './tokenizer.js';

export type InputType = 'query' | 'passage';
export const INPUT_TYPES: readonly InputType[] = ['query', 'passage'];
export const E5_MAX_TOKENS = 512;

export function withPrefix(text: string, inputType: InputType): string {
  if (text.startsWith('query: ') || text.startsWith('passage: ')) return text;
  return `${inputType}: ${text}`;
}

export class InputTooLongError extends Error {
  constructor(readonly index: number, readonly tokens: number, readonly limit: number) {
    super(`input ${index} has ${tokens} tokens, more than the limit of ${limit} (set truncate to cut it instead)`);
    this.name = 'InputTooLongError';
  }
}

export interface PreparedInputs {
  ids: number[][];
  /** Tokens per input after truncation, specials included. */
  tokens: number;
  truncated: number;
}

export interface PrepareOptions {
  inputType: InputType;
  /** false refuses over-long input instead of cutting it. */
  truncate: boolean;
  direction?: 'right' | 'left';
  maxTokens?: number;
  /** Skip the prefix (the caller already applied its own prompt). */
  raw?: boolean;
}

export function prepareInputs(tok: Tokenizer, texts: readonly string[], opts: PrepareOptions): PreparedInputs {
  const limit = opts.maxTokens ?? E5_MAX_TOKENS;
  const ids: number[][] = [];
  let tokens = 0;
  let truncated = 0;
  texts.forEach((text, i) => {
    const enc = tok.encode(opts.raw ? text : withPrefix(text, opts.inputType), { maxLength: limit, direction: opts.direction });
    if (enc.truncated > 0) {
      if (!opts.truncate) throw new InputTooLongError(i, enc.ids.length + enc.truncated, limit);
      truncated++;
    }
    ids.push(enc.ids);
    tokens += enc.ids.length;
  });
  return { ids, tokens, truncated };
}
