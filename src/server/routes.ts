// The HTTP API: OpenAI's /v1/embeddings, TEI's /embed and /tokenize, and the status routes.
// Each handler validates, calls the service and shapes the answer; nothing else.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError, badRequest } from '../core/errors.js';
import { cpuInfo } from '../cpu.js';
import { withPrefix, type InputType } from '../tokenizer/e5-input.js';
import { ortosVersion } from '../version.js';
import type { ServeConfig } from './config.js';
import { readJson, sendJson } from './http-io.js';
import type { Metrics } from './metrics.js';
import { OpenAiEmbeddings, parseBody, TeiEmbed, TeiTokenize } from './schemas.js';
import type { EmbeddingService } from './service.js';

export interface RouteContext {
  req: IncomingMessage;
  res: ServerResponse;
  signal: AbortSignal;
  /** Facts for the request log line. */
  note: Record<string, unknown>;
}

export type Handler = (ctx: RouteContext) => Promise<void>;

export interface Route {
  method: 'GET' | 'POST';
  handler: Handler;
  /** Open without the API key. */
  open?: boolean;
}

function checkTexts(texts: string[], cfg: ServeConfig, param: string): void {
  if (texts.length === 0) throw badRequest(`${param} must not be an empty list`, param);
  if (texts.length > cfg.maxInputs) {
    throw new ApiError(413, `${texts.length} inputs in one request, over the limit of ${cfg.maxInputs}`, 'invalid_request_error', 'too_many_inputs', param);
  }
  const long = texts.findIndex((t) => t.length > cfg.maxChars);
  if (long >= 0) {
    throw new ApiError(413, `input ${long} has ${texts[long].length} characters, over the limit of ${cfg.maxChars}`, 'invalid_request_error', 'input_too_long', `${param}.${long}`);
  }
}

/** TEI's `inputs`: one string or a list, checked against the limits. */
function teiTexts(inputs: string | string[], cfg: ServeConfig, note: Record<string, unknown>): string[] {
  const texts = typeof inputs === 'string' ? [inputs] : inputs;
  checkTexts(texts, cfg, 'inputs');
  note.inputs = texts.length;
  return texts;
}

function base64Of(v: Float32Array): string {
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');
}

export function buildRoutes(cfg: ServeConfig, service: EmbeddingService, metrics: Metrics, info: () => Record<string, unknown>): Map<string, Route> {
  const routes = new Map<string, Route>();

  routes.set('/v1/embeddings', {
    method: 'POST',
    handler: async ({ req, res, signal, note }) => {
      const body = parseBody(OpenAiEmbeddings, await readJson(req, cfg.maxBodyBytes));
      const model = service.host.state.status === 'ready' ? service.host.state.model : null;
      const dims = model?.dimensions ?? 768;
      if (body.dimensions !== undefined && body.dimensions !== dims) {
        throw badRequest(`dimensions: only ${dims} is supported; multilingual-e5-base was not trained for shortened (Matryoshka) vectors, so cut vectors lose quality`, 'dimensions');
      }
      const input = body.input;
      let result;
      if (typeof input === 'string' || (Array.isArray(input) && input.every((x) => typeof x === 'string'))) {
        const texts = typeof input === 'string' ? [input] : (input as string[]);
        checkTexts(texts, cfg, 'input');
        note.inputs = texts.length;
        result = await service.embedTexts({ texts, inputType: body.input_type ?? 'query', normalize: true, truncate: true, direction: 'right' }, signal);
      } else {
        const ids = (input as unknown[]).length > 0 && typeof (input as unknown[])[0] === 'number' ? [input as number[]] : (input as number[][]);
        if (ids.length === 0) throw badRequest('input must not be an empty list', 'input');
        if (ids.length > cfg.maxInputs) throw new ApiError(413, `${ids.length} inputs in one request, over the limit of ${cfg.maxInputs}`, 'invalid_request_error', 'too_many_inputs', 'input');
        note.inputs = ids.length;
        result = await service.embedTokenIds(ids, true, signal);
      }
      note.tokens = result.tokens;
      const asBase64 = body.encoding_format === 'base64';
      sendJson(res, 200, {
        object: 'list',
        data: result.vectors.map((v, index) => ({ object: 'embedding', index, embedding: asBase64 ? base64Of(v) : Array.from(v) })),
        model: body.model ?? cfg.servedName ?? (service.host.state.status === 'ready' ? service.host.state.model.name : 'unknown'),
        usage: { prompt_tokens: result.tokens, total_tokens: result.tokens },
      }, result.truncated > 0 ? { 'x-truncated-inputs': String(result.truncated) } : {});
    },
  });

  routes.set('/embed', {
    method: 'POST',
    handler: async ({ req, res, signal, note }) => {
      const body = parseBody(TeiEmbed, await readJson(req, cfg.maxBodyBytes));
      const texts = teiTexts(body.inputs, cfg, note);
      const result = await service.embedTexts({
        texts,
        inputType: body.prompt_name ?? 'query',
        normalize: body.normalize ?? true,
        truncate: body.truncate ?? false,
        direction: (body.truncation_direction ?? 'right').toLowerCase() as 'left' | 'right',
      }, signal);
      note.tokens = result.tokens;
      sendJson(res, 200, result.vectors.map((v) => Array.from(v)));
    },
  });

  routes.set('/tokenize', {
    method: 'POST',
    handler: async ({ req, res, signal, note }) => {
      const body = parseBody(TeiTokenize, await readJson(req, cfg.maxBodyBytes));
      const texts = teiTexts(body.inputs, cfg, note);
      const model = await service.host.get(signal);
      const addSpecial = body.add_special_tokens ?? true;
      const out = texts.map((raw) => {
        // The prefix is added only when asked for, so offsets refer to the text as sent.
        const text = body.prompt_name ? withPrefix(raw, body.prompt_name as InputType) : raw;
        const cps = Array.from(text);
        const enc = model.tokenizer.encode(text, { addSpecialTokens: addSpecial });
        return enc.ids.map((id, i) => {
          const start = enc.offsets[2 * i];
          const stop = enc.offsets[2 * i + 1];
          return { id, text: enc.special[i] ? model.tokenizer.piece(id) : cps.slice(start, stop).join(''), special: enc.special[i], start, stop };
        });
      });
      sendJson(res, 200, out);
    },
  });

  routes.set('/health', {
    method: 'GET',
    open: true,
    handler: async ({ res }) => {
      const s = service.host.state;
      sendJson(res, s.status === 'failed' ? 503 : 200, s.status === 'failed' ? { status: 'failed', reason: s.reason } : { status: s.status });
    },
  });

  routes.set('/ready', {
    method: 'GET',
    handler: async ({ res }) => {
      const s = service.host.state;
      if (s.status === 'ready') sendJson(res, 200, { status: 'ready' });
      else sendJson(res, 503, { status: s.status, ...(s.status === 'failed' ? { reason: s.reason } : {}) }, { 'retry-after': '1' });
    },
  });

  routes.set('/info', {
    method: 'GET',
    handler: async ({ res }) => {
      sendJson(res, 200, {
        ...info(),
        version: ortosVersion(),
        cpu: cpuInfo(),
        limits: {
          max_body_bytes: cfg.maxBodyBytes,
          max_inputs: cfg.maxInputs,
          max_chars: cfg.maxChars,
          max_queued_inputs: cfg.maxQueuedInputs,
          max_queue_wait_ms: cfg.maxQueueWaitMs,
        },
      });
    },
  });

  routes.set('/metrics', {
    method: 'GET',
    open: cfg.metricsOpen,
    handler: async ({ res }) => {
      const { contentType, body } = await metrics.render();
      res.writeHead(200, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
      res.end(body);
    },
  });

  return routes;
}
