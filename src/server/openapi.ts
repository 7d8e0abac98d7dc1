// The OpenAPI 3.1 document of the service. Request bodies are the valibot schemas that
// validate them (schemas.ts), converted to JSON Schema 2020-12, so the document cannot say
// one thing while the service checks another. Imported only when /openapi.json or /docs is
// first asked for: nothing of it is on the wake path.

import { toJsonSchema } from '@valibot/to-json-schema';
import type * as v from 'valibot';
import { CohereRerank, OpenAiEmbeddings, TeiDecode, TeiEmbed, TeiEmbedAll, TeiRerank, TeiSimilarity, TeiTokenize } from './schemas.js';

type Json = Record<string, unknown>;

const vector = { type: 'array', items: { type: 'number' } };
const errorBody = {
  type: 'object',
  properties: {
    error: {
      type: 'object',
      properties: {
        message: { type: 'string' },
        type: { type: 'string' },
        code: { type: ['string', 'null'] },
        param: { type: ['string', 'null'], description: 'The field at fault, as a dotted path (input.2).' },
        request_id: { type: 'string' },
      },
      required: ['message', 'type'],
    },
  },
  required: ['error'],
};

/** A request body: the validating schema, and an example that works on any model ("Try it out" sends it). */
function body(schema: v.GenericSchema, example: Json): Json {
  return { required: true, content: { 'application/json': { schema: toJsonSchema(schema, { target: 'draft-2020-12', errorMode: 'ignore' }), example } } };
}

function ok(description: string, schema: Json, type = 'application/json'): Json {
  return { description, content: { [type]: { schema } } };
}

const ERRORS: Json = {
  400: { $ref: '#/components/responses/BadRequest' },
  401: { $ref: '#/components/responses/Unauthorized' },
  413: { $ref: '#/components/responses/TooLarge' },
  429: { $ref: '#/components/responses/Busy' },
  503: { $ref: '#/components/responses/Unavailable' },
};

export interface DocumentFacts {
  version: string;
  model: string;
  dimensions: number;
  maxTokens: number;
  /** The model's prompts by name (e5: "query: " and "passage: "), or none. */
  prompts: Record<string, string>;
  keyRequired: boolean;
  /** The reranker served, if any: its routes are listed then. */
  reranker?: string;
}

export function openApiDocument(f: DocumentFacts): Json {
  const post = (tag: string, summary: string, description: string, schema: v.GenericSchema, answer: Json, example: Json): Json => ({
    post: { tags: [tag], summary, description, requestBody: body(schema, example), responses: { 200: answer, ...ERRORS } },
  });
  const get = (summary: string, description: string, answer: Json, open = false): Json => ({
    get: { tags: ['Status'], summary, description, ...(open ? { security: [] } : {}), responses: { 200: answer, ...(open ? {} : { 401: ERRORS[401] }), 503: ERRORS[503] } },
  });
  return {
    openapi: '3.1.0',
    info: {
      title: 'ortos-embed',
      version: f.version,
      description: `Multilingual embeddings (${f.model}, ${f.dimensions} dimensions, up to ${f.maxTokens} tokens per text) with OpenAI- and ` +
        'text-embeddings-inference-compatible routes. ' + (Object.keys(f.prompts).length > 0
          ? `The model's prompts (${Object.entries(f.prompts).map(([k, p]) => `${k}: ${JSON.stringify(p)}`).join(', ')}) are put before each text unless it starts with one; input_type or prompt_name chooses.`
          : 'The model takes no prompts: texts are embedded as sent.'),
      license: { name: 'MIT', identifier: 'MIT' },
    },
    servers: [{ url: '/' }],
    security: f.keyRequired ? [{ bearer: [] }, { apiKey: [] }] : [],
    tags: [
      { name: 'OpenAI', description: 'The embeddings API of OpenAI\'s clients (openai, LangChain, LlamaIndex, the Vercel AI SDK).' },
      { name: 'TEI', description: 'The routes of Hugging Face\'s text-embeddings-inference.' },
      ...(f.reranker !== undefined ? [{ name: 'Rerank', description: `A cross-encoder (${f.reranker}) scores each (query, passage) pair: TEI's /rerank and the Cohere/Jina shape (/v1/rerank) that LangChain, LlamaIndex, Dify and Open WebUI call. It loads on its first request.` }] : []),
      { name: 'Status', description: 'Health, readiness, facts and metrics.' },
    ],
    paths: {
      '/v1/embeddings': post('OpenAI', 'Embeddings', 'Vectors for texts, in input order, each with its index. Long texts are cut to the model\'s limit; the x-truncated-inputs header counts them. ' +
        'Token ids are read as cl100k_base (what LangChain sends) unless the service runs with --token-ids model or reject.', OpenAiEmbeddings, ok('The vectors', {
        type: 'object',
        properties: {
          object: { const: 'list' },
          data: { type: 'array', items: { type: 'object', properties: { object: { const: 'embedding' }, index: { type: 'integer' }, embedding: { oneOf: [vector, { type: 'string', contentEncoding: 'base64' }] } } } },
          model: { type: 'string' },
          usage: { type: 'object', properties: { prompt_tokens: { type: 'integer' }, total_tokens: { type: 'integer' } } },
        },
      }), { input: 'привет, мир', model: f.model }),
      '/embed': post('TEI', 'Embed', 'One vector per input (normalized unless normalize is false). Over-long inputs are refused (413) unless truncate is true.', TeiEmbed, ok('The vectors', { type: 'array', items: vector }), { inputs: ['привет, мир', 'hello world'] }),
      '/embed_all': post('TEI', 'Token vectors', 'Every token\'s vector (the last hidden state, neither pooled nor normalized), per input. At most --max-token-vectors tokens in all.', TeiEmbedAll,
        ok('Per input, per token, a vector', { type: 'array', items: { type: 'array', items: vector } }), { inputs: 'привет, мир' }),
      '/similarity': post('TEI', 'Similarity', 'The cosine similarity of source_sentence with each of sentences.', TeiSimilarity, ok('One score per sentence', { type: 'array', items: { type: 'number' } }),
        { inputs: { source_sentence: 'Как дела?', sentences: ['How are you?', 'Сколько стоит доставка?'] } }),
      '/tokenize': post('TEI', 'Tokenize', 'The tokens of each input, with offsets in code points of the text.', TeiTokenize, ok('Per input, its tokens', {
        type: 'array',
        items: { type: 'array', items: { type: 'object', properties: { id: { type: 'integer' }, text: { type: 'string' }, special: { type: 'boolean' }, start: { type: 'integer' }, stop: { type: 'integer' } } } },
      }), { inputs: 'привет, мир' }),
      '/decode': post('TEI', 'Decode', 'The text of the model\'s token ids.', TeiDecode, ok('One text per list of ids', { type: 'array', items: { type: 'string' } }), { ids: [0, 5, 9, 2] }),
      ...(f.reranker !== undefined ? rerankPaths(post, f.reranker) : {}),
      '/v1/models': get('Models', 'The models served (OpenAI\'s list), each with its task and state.', ok('Models', {
        type: 'object', properties: { object: { const: 'list' }, data: { type: 'array', items: { type: 'object', properties: { id: { type: 'string' }, object: { const: 'model' }, task: { enum: ['embedding', 'rerank'] }, status: { type: 'string' } } } } },
      })),
      '/health': get('Health', 'Open without a key. 200 while loading and when ready; 503 with the reason if the model failed to load.', ok('Status', {
        type: 'object', properties: { status: { enum: ['loading', 'ready', 'failed'] }, reason: { type: 'string' } },
      }), true),
      '/ready': get('Readiness', '200 once the model is loaded, else 503.', ok('Ready', { type: 'object', properties: { status: { const: 'ready' } } })),
      '/info': get('Facts', 'The model, its revision, dtype, int8 path, dimensions, limits, version and CPU.', ok('Facts', { type: 'object' })),
      '/metrics': get('Metrics', 'Prometheus text format.', ok('Metrics', { type: 'string' }, 'text/plain')),
      '/openapi.json': get('This document', 'OpenAPI 3.1.', ok('The document', { type: 'object' })),
      '/docs': get('API page', 'A page that renders this document.', ok('HTML', { type: 'string' }, 'text/html')),
    },
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'The API key as "Authorization: Bearer <key>" (the bare key in Authorization works too).' },
        apiKey: { type: 'apiKey', in: 'header', name: 'api-key', description: 'The API key in an api-key header, as Azure OpenAI clients send it.' },
      },
      schemas: { Error: errorBody },
      responses: {
        BadRequest: { description: 'The body is not what the route takes; the message says which field and why.', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
        Unauthorized: { description: 'No key, or a wrong one.', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
        TooLarge: { description: 'Over a limit: body size, inputs, characters, or an over-long input without truncate.', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
        Busy: { description: 'The queue is full; retry after Retry-After seconds.', headers: { 'Retry-After': { schema: { type: 'integer' } } }, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
        Unavailable: { description: 'The model is loading, failed to load, or the service is shutting down.', headers: { 'Retry-After': { schema: { type: 'integer' } } }, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
      },
    },
  };
}

type Post = (tag: string, summary: string, description: string, schema: v.GenericSchema, answer: Json, example: Json) => Json;

function rerankPaths(post: Post, model: string): Json {
  const cohereAnswer = ok('Results, best first', {
    type: 'object',
    properties: {
      id: { type: 'string' },
      model: { type: 'string' },
      results: { type: 'array', items: { type: 'object', properties: { index: { type: 'integer' }, relevance_score: { type: 'number' }, document: { type: 'object', properties: { text: { type: 'string' } } } }, required: ['index', 'relevance_score'] } },
      usage: { type: 'object', properties: { total_tokens: { type: 'integer' } } },
    },
  });
  const example = { model, query: 'Как вернуть товар?', documents: ['Возврат возможен в течение 14 дней.', 'Доставка занимает от двух до семи дней.'], top_n: 1 };
  return {
    '/rerank': post('Rerank', 'Rerank (TEI)', 'Each text scored against the query by the cross-encoder (its activation: sigmoid for one label, unless raw_scores), best first. Over-long pairs are refused (413) unless truncate is true.', TeiRerank,
      ok('Ranks, best first', { type: 'array', items: { type: 'object', properties: { index: { type: 'integer' }, score: { type: 'number' }, text: { type: 'string' } }, required: ['index', 'score'] } }),
      { query: 'Как вернуть товар?', texts: ['Возврат возможен в течение 14 дней.', 'Доставка занимает от двух до семи дней.'], return_text: true }),
    '/v1/rerank': post('Rerank', 'Rerank (Cohere, Jina)', 'The documents scored against the query, best first, top_n of them (all by default; more than there are returns all, as Cohere does). Long documents are cut to the reranker\'s window.', CohereRerank, cohereAnswer, example),
    '/v2/rerank': post('Rerank', 'Rerank (Cohere v2)', 'As /v1/rerank, as Cohere\'s v2 client calls it: documents are not returned unless return_documents is true.', CohereRerank, cohereAnswer, example),
  };
}
