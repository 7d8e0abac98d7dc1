// The reranker's routes: text-embeddings-inference's POST /rerank ([{index, score, text?}] best
// first; router/src/http/types.rs RerankRequest, Rank) and the Cohere/Jina shape that
// LangChain, LlamaIndex, Dify and Open WebUI call (POST /v1/rerank; /v2/rerank as Cohere's v2
// client sends it): {results: [{index, relevance_score, document?}]}, best first. And GET
// /v1/models, the models served, as OpenAI's clients list them.

import { randomUUID } from 'node:crypto';
import { ApiError } from '../api-error.js';
import type { ServeConfig } from '../../settings/serve.js';
import { readJson, sendJson } from '../http-io.js';
import { CohereRerank, parseBody, TeiRerank } from '../schemas.js';
import type { EmbeddingService } from '../../service/embedding-service.js';
import type { Reranked, RerankService } from '../../service/rerank-service.js';
import { checkTexts } from './limits.js';
import type { Route, RouteContext } from './route.js';

/** Without a reranker these routes are not in the table; a request to one is told why. */
export const NO_RERANKER = 'no reranker is served here: start the service with --rerank (the default multilingual cross-encoder), --rerank-model REPO or --rerank-model-dir DIR';
export const RERANK_PATHS = new Set(['/rerank', '/v1/rerank', '/v2/rerank']);

function ranked(r: Reranked): number[] {
  // Best first; equal scores keep the order sent.
  return r.scores.map((_, i) => i).sort((a, b) => r.scores[b] - r.scores[a] || a - b);
}

export function rerankRoutes(cfg: ServeConfig, embedder: EmbeddingService, reranker: RerankService | undefined, servedName: () => string): Record<string, Route> {
  const models: Record<string, Route> = {
    '/v1/models': {
      method: 'GET',
      handler: async ({ res }) => {
        sendJson(res, 200, {
          object: 'list',
          data: [
            { id: servedName(), object: 'model', created: 0, owned_by: 'ortos-embed', task: 'embedding', status: embedder.state.status },
            ...(reranker !== undefined ? [{ id: reranker.name, object: 'model', created: 0, owned_by: 'ortos-embed', task: 'rerank', status: reranker.state.status }] : []),
          ],
        });
      },
    },
  };
  if (reranker === undefined) return models;
  const r: RerankService = reranker;
  const checkQuery = (query: string): void => {
    if (query.length > cfg.maxChars) throw new ApiError(413, `query has ${query.length} characters, over the limit of ${cfg.maxChars} (--max-chars)`, 'invalid_request_error', 'input_too_long', 'query');
  };

  const cohere = (defaultReturn: boolean) => async ({ req, res, signal, note }: RouteContext): Promise<void> => {
    const body = parseBody(CohereRerank, await readJson(req, cfg.maxBodyBytes));
    checkQuery(body.query);
    const texts = body.documents.map((d) => (typeof d === 'string' ? d : d.text));
    checkTexts(texts, cfg, 'documents');
    note.inputs = texts.length;
    // Truncated as Cohere and Jina do: a long document is cut to the model's window, not refused.
    const result = await r.rerank(body.query, texts, { truncate: true, direction: 'right', raw: body.raw_scores ?? false }, signal);
    note.tokens = result.tokens;
    const top = ranked(result).slice(0, body.top_n ?? texts.length);
    const withDocs = body.return_documents ?? defaultReturn;
    sendJson(res, 200, {
      id: randomUUID(),
      model: body.model ?? result.model,
      results: top.map((i) => ({ index: i, relevance_score: result.scores[i], ...(withDocs ? { document: typeof body.documents[i] === 'string' ? { text: texts[i] } : body.documents[i] } : {}) })),
      usage: { total_tokens: result.tokens },
      meta: { api_version: { version: '1' }, billed_units: { search_units: 1 } },
    }, result.truncated > 0 ? { 'x-truncated-inputs': String(result.truncated) } : {});
  };

  return {
    ...models,
    '/rerank': {
      method: 'POST',
      fields: { inputs: 'texts', prompt: 'query', instruction: 'query' },
      handler: async ({ req, res, signal, note }) => {
            const body = parseBody(TeiRerank, await readJson(req, cfg.maxBodyBytes));
        checkQuery(body.query);
        checkTexts(body.texts, cfg, 'texts');
        note.inputs = body.texts.length;
        const result = await r.rerank(body.query, body.texts, {
          truncate: body.truncate ?? false,
          direction: (body.truncation_direction ?? 'right').toLowerCase() as 'left' | 'right',
          raw: body.raw_scores ?? false,
        }, signal);
        note.tokens = result.tokens;
        sendJson(res, 200, ranked(result).map((i) => ({ index: i, score: result.scores[i], ...(body.return_text === true ? { text: body.texts[i] } : {}) })),
          result.truncated > 0 ? { 'x-truncated-inputs': String(result.truncated) } : {});
      },
    },
    '/v1/rerank': { method: 'POST', fields: { inputs: 'documents', prompt: 'query', instruction: 'query' }, handler: cohere(true) },
    '/v2/rerank': { method: 'POST', fields: { inputs: 'documents', prompt: 'query', instruction: 'query' }, handler: cohere(false) },
  };
}


