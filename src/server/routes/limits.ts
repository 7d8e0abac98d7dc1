// The limits every route that takes texts applies, with the same errors.

import { ApiError, badRequest } from '../api-error.js';
import type { ServeConfig } from '../../settings/serve.js';

export function checkTexts(texts: readonly string[], cfg: ServeConfig, param: string): void {
  if (texts.length === 0) throw badRequest(`${param} must not be an empty list`, param);
  if (texts.length > cfg.maxInputs) {
    throw new ApiError(413, `${texts.length} inputs in one request, over the limit of ${cfg.maxInputs} (--max-inputs)`, 'invalid_request_error', 'too_many_inputs', param);
  }
  const long = texts.findIndex((t) => t.length > cfg.maxChars);
  if (long >= 0) {
    throw new ApiError(413, `${param}[${long}] has ${texts[long].length} characters, over the limit of ${cfg.maxChars} (--max-chars; within it, inputs are cut to the model's token limit)`, 'invalid_request_error', 'input_too_long', `${param}.${long}`);
  }
}

export function checkIdLists(ids: readonly number[][], cfg: ServeConfig, param: string): void {
  if (ids.length === 0) throw badRequest(`${param} must not be an empty list`, param);
  if (ids.length > cfg.maxInputs) {
    throw new ApiError(413, `${ids.length} inputs in one request, over the limit of ${cfg.maxInputs} (--max-inputs)`, 'invalid_request_error', 'too_many_inputs', param);
  }
  const empty = ids.findIndex((row) => row.length === 0);
  if (empty >= 0) throw badRequest(`${param}[${empty}] is an empty list of token ids`, `${param}.${empty}`);
  const long = ids.findIndex((row) => row.length > cfg.maxChars);
  if (long >= 0) {
    throw new ApiError(413, `${param}[${long}] has ${ids[long].length} token ids, over the limit of ${cfg.maxChars} (--max-chars)`, 'invalid_request_error', 'input_too_long', `${param}.${long}`);
  }
}

/**
 * The body's inputs as the door takes them, checked against the limits: texts, or the model's
 * own token ids (`ids` when the route reads ids as such). Counts them for the request's log line.
 */
export function checkedInputs(input: { texts: string[] } | { ids: number[][] }, cfg: ServeConfig, param: string, note: Record<string, unknown>): { texts: string[] } | { ids: number[][] } {
  if ('texts' in input) checkTexts(input.texts, cfg, param);
  else checkIdLists(input.ids, cfg, param);
  note.inputs = 'texts' in input ? input.texts.length : input.ids.length;
  return input;
}

/** A string or a list of strings; or token ids: one list, or a list of lists. */
export type TextsOrIds = string | string[] | number[] | number[][];

export function splitInput(input: TextsOrIds): { texts: string[] } | { ids: number[][] } {
  if (typeof input === 'string') return { texts: [input] };
  if (input.length > 0 && typeof input[0] === 'number') return { ids: [input as number[]] };
  if (input.length > 0 && Array.isArray(input[0])) return { ids: input as number[][] };
  return { texts: input as string[] };
}
