// Request bodies, validated with valibot (12–18 ms to import on one core, against ~100 ms
// for zod), and turned into one internal request shape.

import * as v from 'valibot';
import { badRequest } from '../core/errors.js';

const text = v.string();
const tokenIds = v.array(v.pipe(v.number(), v.integer(), v.minValue(0)));
const directions = ['left', 'right', 'Left', 'Right'] as const;
const inputTypes = ['query', 'passage'] as const;

export const OpenAiEmbeddings = v.object({
  input: v.union([text, v.array(text), tokenIds, v.array(tokenIds)], 'must be a string, an array of strings, or token ids'),
  model: v.optional(v.string()),
  encoding_format: v.optional(v.picklist(['float', 'base64'], 'must be "float" or "base64"')),
  dimensions: v.optional(v.pipe(v.number(), v.integer())),
  user: v.optional(v.string()),
  input_type: v.optional(v.picklist(inputTypes, 'must be "query" or "passage"')),
});

export const TeiEmbed = v.object({
  inputs: v.union([text, v.array(text)], 'must be a string or an array of strings'),
  normalize: v.optional(v.boolean()),
  truncate: v.optional(v.boolean()),
  truncation_direction: v.optional(v.picklist(directions, 'must be "left" or "right"')),
  prompt_name: v.optional(v.nullable(v.picklist(inputTypes, 'must be "query" or "passage"'))),
});

export const TeiTokenize = v.object({
  inputs: v.union([text, v.array(text)], 'must be a string or an array of strings'),
  add_special_tokens: v.optional(v.boolean()),
  prompt_name: v.optional(v.nullable(v.picklist(inputTypes, 'must be "query" or "passage"'))),
});

/** The field a client of the other API would send instead, and what that route is. */
const OTHER_API: Record<string, { sent: string; route: string; api: string }> = {
  input: { sent: 'inputs', route: '/embed', api: 'TEI' },
  inputs: { sent: 'input', route: '/v1/embeddings', api: 'OpenAI' },
};

export function parseBody<S extends v.GenericSchema>(schema: S, body: unknown): v.InferOutput<S> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest('the body must be a JSON object');
  const r = v.safeParse(schema, body);
  if (r.success) return r.output;
  const issue = r.issues[0];
  const path = issue.path?.map((p) => String(p.key)).join('.') ?? null;
  if (path !== null && issue.path?.length === 1 && !(path in body)) {
    // A required field is missing: name it, and the likely mix-up between the two APIs.
    const other = OTHER_API[path];
    const hint = other && other.sent in body ? `; "${other.sent}" is what ${other.api}'s ${other.route} takes, this route takes "${path}"` : '';
    throw badRequest(`the body has no "${path}"${hint}`, path, 'missing_field');
  }
  const message = issue.message.startsWith('Invalid') && issue.expected ? `expected ${issue.expected}, got ${issue.received}` : issue.message;
  throw badRequest(path ? `${path}: ${message}` : message, path);
}
