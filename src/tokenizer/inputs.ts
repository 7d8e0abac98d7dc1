// Texts to token ids under a model's rules: its prompt put before each text (never twice: a
// text that already starts with one of the model's prompts is taken as it is), then cut to the
// model's token limit, or refused when the caller does not allow cutting.

import { TimeSlices } from '../core/time-slices.js';
import { hasPrompt, promptFor, type ModelRules } from '../model/rules.js';
import type { Tokenizer } from './tokenizer.js';

export class InputTooLongError extends Error {
  constructor(
    readonly index: number,
    /** Tokens counted; with `atLeast`, only the part read (the rest was not tokenized). */
    readonly tokens: number,
    readonly limit: number,
    readonly atLeast = false,
  ) {
    super(`input ${index} has ${atLeast ? 'more than ' : ''}${tokens} tokens, more than the limit of ${limit} (set truncate to cut it instead)`);
    this.name = 'InputTooLongError';
  }
}


export interface PreparedInputs {
  ids: number[][];
  /** Tokens per input after truncation, specials included. */
  tokens: number;
  truncated: number;
}

export interface PromptChoice {
  /** A prompt name ("query", "passage", or any the model's files define); undefined: the model's default. */
  prompt?: string;
  /** For instruction-following models: the task (default: the model's). */
  instruction?: string;
  /** A model without prompts ignores `prompt` instead of refusing it (OpenAI's input_type). */
  lenient?: boolean;
}

export interface PrepareOptions extends PromptChoice {
  /** false refuses over-long input instead of cutting it. */
  truncate: boolean;
  direction?: 'right' | 'left';
}

/** The text the model reads for `text`. Throws PromptError for a prompt the model lacks. */
export function withPrompt(rules: ModelRules, text: string, choice: PromptChoice): string {
  const prefix = promptFor(rules, choice.prompt, choice.instruction, choice.lenient);
  if (prefix === '' || hasPrompt(rules, text)) return text;
  return prefix + text;
}

/**
 * Texts to ids under the model's rules, yielding to the event loop every few milliseconds so
 * that a large request never stalls the others. One input takes at most a few milliseconds:
 * an input that will be cut is read only as far as its kept tokens reach (Tokenizer.encode).
 */
export async function prepareInputs(tok: Tokenizer, rules: ModelRules, texts: readonly string[], opts: PrepareOptions): Promise<PreparedInputs> {
  const limit = rules.maxTokens;
  // Checked once, before any work: an unknown prompt is the request's error, not one text's.
  promptFor(rules, opts.prompt, opts.instruction, opts.lenient);
  const ids: number[][] = [];
  let tokens = 0;
  let truncated = 0;
  const slices = new TimeSlices();
  for (let i = 0; i < texts.length; i++) {
    await slices.next();
    const enc = tok.encode(withPrompt(rules, texts[i], opts), { maxLength: limit, direction: opts.direction });
    if (enc.truncated > 0) {
      if (!opts.truncate) throw new InputTooLongError(i, enc.ids.length + enc.truncated, limit, enc.partial);
      truncated++;
    }
    ids.push(enc.ids);
    tokens += enc.ids.length;
  }
  return { ids, tokens, truncated };
}
