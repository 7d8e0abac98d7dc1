// Request bodies, validated with valibot (12–18 ms to import on one core, against ~100 ms for
// zod). The same schemas make the OpenAPI document (openapi.ts), so what is documented is
// what is checked.

import * as v from 'valibot';
import { badRequest } from './api-error.js';
import { OUTPUT_DTYPES } from '../vectors/compact.js';

const text = v.string();
const tokenIds = v.array(v.pipe(v.number(), v.integer(), v.minValue(0)));
const directions = ['left', 'right', 'Left', 'Right'] as const;
const inputTypes = ['query', 'passage', 'document'] as const;

const promptName = v.optional(v.nullable(v.pipe(v.string('must be a string'),
  v.description('The prompt to put before each text unless it has one: "query" or "passage" (e5: "query: " / "passage: "), or any name the model\'s config_sentence_transformers.json defines. Default: the model\'s default prompt (e5: "query", also right for symmetric tasks); GET /info lists them.'))));
const instruction = v.optional(v.nullable(v.pipe(v.string('must be a string'),
  v.description('Instruction-following models (multilingual-e5-large-instruct) only: the task written before each query, e.g. "Given a question, retrieve passages that answer it". Default: --instruction, else the model card\'s.'))));
const truncate = v.optional(v.pipe(v.boolean(), v.description('Cut inputs longer than the model\'s limit (512 tokens for e5; GET /info) instead of answering 413. Default false.')));
const truncationDirection = v.optional(v.pipe(v.picklist(directions, 'must be "left" or "right"'), v.description('Which end to cut. Default right.')));
const outputDtype = v.optional(v.nullable(v.pipe(v.picklist(OUTPUT_DTYPES, `must be one of ${OUTPUT_DTYPES.map((d) => `"${d}"`).join(', ')}`),
  v.description('Compact vectors, named as Voyage AI\'s output_dtype and made as sentence-transformers\' quantize_embeddings: "float" (default); "int8" or "uint8", one byte per dimension from ranges calibrated on a built-in multilingual sample when the model was prepared (GET /info); "binary" (int8) or "ubinary" (uint8), the signs of 8 dimensions packed into each byte, most significant first. With encoding_format "base64", the bytes of that type. int8 and uint8 need normalized vectors.'))));
const teiInputs = v.pipe(v.union([text, v.array(text)], 'must be a string or an array of strings'), v.description('One text or a list.'));

export const OpenAiEmbeddings = v.object({
  input: v.pipe(v.union([text, v.array(text), tokenIds, v.array(tokenIds)], 'must be a string, an array of strings, or token ids'),
    v.description('Text, texts, or token ids. Token ids are read as OpenAI\'s cl100k_base (what LangChain and other OpenAI clients send) and decoded to text; --token-ids model reads them as the model\'s own ids.')),
  model: v.optional(v.pipe(v.string(), v.description('Echoed back; any name is accepted. A name ending in ":passage", ":document" or ":query" chooses that prompt when input_type is not given, for clients that cannot send input_type (LangChain\'s embedDocuments, LlamaIndex, Chroma): configure the documents\' client with model "multilingual-e5-base:passage".'))),
  encoding_format: v.optional(v.pipe(v.picklist(['float', 'base64'], 'must be "float" or "base64"'), v.description('"float" (default) or "base64": the vector\'s bytes (little-endian float32; with output_dtype, int8 for int8 and binary, uint8 for uint8 and ubinary).'))),
  output_dtype: outputDtype,
  dimensions: v.optional(v.pipe(v.number(), v.integer(), v.description('Only the model\'s own dimension is accepted: e5 was not trained for shortened vectors.'))),
  user: v.optional(v.pipe(v.string(), v.description('Accepted and ignored.'))),
  input_type: v.optional(v.pipe(v.picklist(inputTypes, 'must be "query", "passage" or "document"'), v.description('Extension: which prompt to put before each text: "query" (the default for e5) or "passage"/"document" (the same thing); GET /info shows the model\'s prompts.'))),
  instruction,
});

export const TeiEmbed = v.object({
  inputs: v.pipe(v.union([text, v.array(text), tokenIds, v.array(tokenIds)], 'must be a string, an array of strings, or token ids'),
    v.description('One text, a list, or the model\'s own token ids.')),
  normalize: v.optional(v.pipe(v.boolean(), v.description('L2-normalize (default true).'))),
  truncate,
  truncation_direction: truncationDirection,
  prompt_name: promptName,
  instruction,
  dimensions: v.optional(v.nullable(v.pipe(v.number(), v.integer(), v.description('Only the model\'s own dimension is accepted.')))),
  output_dtype: outputDtype,
});

export const TeiEmbedAll = v.object({
  inputs: teiInputs,
  truncate,
  truncation_direction: truncationDirection,
  prompt_name: promptName,
  instruction,
  output_dtype: v.optional(v.nullable(v.pipe(v.picklist(['float', 'binary', 'ubinary'], 'must be "float", "binary" or "ubinary" (int8 and uint8 ranges are calibrated on sentence vectors, not token vectors)'),
    v.description('"float" (default), or each token vector\'s signs packed 8 to a byte: "binary" (int8) or "ubinary" (uint8), as /embed\'s output_dtype.')))),
});

export const TeiSimilarity = v.object({
  inputs: v.pipe(v.object({
    source_sentence: v.pipe(v.string(), v.description('The text the others are compared with.')),
    sentences: v.pipe(v.array(v.string()), v.description('Texts to compare with the source sentence.')),
  }), v.description('The source sentence and the sentences to score against it.')),
  parameters: v.optional(v.nullable(v.pipe(v.object({ truncate, truncation_direction: truncationDirection, prompt_name: promptName, instruction }),
    v.description('Options, as /embed takes them: truncate, truncation_direction, prompt_name, instruction.')))),
});

export const TeiTokenize = v.object({
  inputs: teiInputs,
  add_special_tokens: v.optional(v.pipe(v.boolean(), v.description('Add <s> and </s> (default true).'))),
  prompt_name: v.optional(v.nullable(v.pipe(v.string('must be a string'), v.description('Put this prompt before each text first (default: none, so offsets refer to the text as sent).')))),
  instruction,
});

export const TeiDecode = v.object({
  ids: v.pipe(v.union([tokenIds, v.array(tokenIds)], 'must be token ids or a list of them'), v.description('The model\'s own token ids, one list or several.')),
  skip_special_tokens: v.optional(v.pipe(v.boolean(), v.description('Leave out <s>, </s>, <pad>, <unk>, <mask> (default true).'))),
});

const rawScores = v.optional(v.pipe(v.boolean(), v.description('The logits as the model gives them, without its activation (sigmoid for one label). Default false.')));

export const TeiRerank = v.object({
  query: v.pipe(v.string('must be a string'), v.description('The query each text is scored against.')),
  texts: v.pipe(v.array(v.string('must be a string'), 'must be an array of strings'), v.description('The passages to rank.')),
  truncate: v.optional(v.nullable(v.pipe(v.boolean(), v.description('Cut pairs longer than the reranker\'s limit (the longer of query and text first, as sentence-transformers\' CrossEncoder) instead of answering 413. Default false.')))),
  truncation_direction: truncationDirection,
  raw_scores: rawScores,
  return_text: v.optional(v.pipe(v.boolean(), v.description('Put each text in its rank. Default false.'))),
});

const document = v.union([v.string(), v.looseObject({ text: v.string('must be a string') })], 'must be a string or an object with a string "text"');

export const CohereRerank = v.object({
  model: v.optional(v.nullable(v.pipe(v.string(), v.description('Echoed back; the served reranker answers whatever is named (GET /v1/models lists it).')))),
  query: v.pipe(v.string('must be a string'), v.description('The query each document is scored against.')),
  documents: v.pipe(v.array(document, 'must be an array of strings or {"text": …} objects'), v.description('The documents to rank: strings, or objects with a "text" (their other fields come back as sent).')),
  top_n: v.optional(v.nullable(v.pipe(v.number('must be a number'), v.integer('must be an integer'), v.minValue(1, 'must be at least 1'), v.description('How many of the best to return. More than there are documents returns them all, as Cohere does. Default: all.')))),
  return_documents: v.optional(v.nullable(v.pipe(v.boolean(), v.description('Put each document in its result. Default true on /v1/rerank (Jina, Cohere v1), false on /v2/rerank (Cohere v2).')))),
  max_chunks_per_doc: v.optional(v.nullable(v.pipe(v.number(), v.description('Accepted and ignored: a document longer than the reranker\'s limit is cut, not chunked.')))),
  rank_fields: v.optional(v.nullable(v.pipe(v.array(v.string()), v.description('Accepted; only "text" is ranked.')))),
  raw_scores: rawScores,
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
