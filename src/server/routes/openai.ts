// OpenAI's POST /v1/embeddings, as its clients call it: text, texts or token ids (read as
// cl100k_base by default, see decodeCl100k), float or base64 answers, `user` accepted and
// ignored, `dimensions` only the model's own.

import { ApiError, badRequest } from '../api-error.js';
import type { ServeConfig } from '../../settings/serve.js';
import { readJson, sendJson } from '../http-io.js';
import { OpenAiEmbeddings, parseBody } from '../schemas.js';
import type { EmbeddingService, EmbedOptions } from '../../service/embedding-service.js';
import { cachedHeader, cacheMode } from './cache-control.js';
import { CL100K_REGULAR, isCl100kId, loadCl100k } from '../../tokenizer/cl100k.js';
import { checkedInputs, splitInput } from './limits.js';
import type { Route } from './route.js';
import { base64Of } from '../../vectors/compact.js';

/**
 * The prompt a model name asks for: "multilingual-e5-base:passage" → passage. OpenAI clients
 * send only the model name they are configured with, and their document calls (LangChain's
 * embedDocuments, LlamaIndex, Chroma) cannot say "passage" otherwise.
 */
export function promptOfModelName(model: string | undefined): string | undefined {
  return model === undefined ? undefined : /:(query|passage|document)$/.exec(model)?.[1];
}

/**
 * Arrays of cl100k_base ids (what OpenAI clients send) back to the texts they encode. A client
 * that splits a long text into several arrays (LangChain: 8191 ids each) may cut a character
 * in two; that character decodes to U+FFFD, as it would for OpenAI.
 */
async function decodeCl100k(ids: number[][]): Promise<string[]> {
  ids.forEach((row, i) => {
    const bad = row.findIndex((id) => !isCl100kId(id));
    if (bad >= 0) {
      throw badRequest(`input[${i}][${bad}] is token id ${row[bad]}, not in cl100k_base (0 to ${CL100K_REGULAR - 1} and its 5 special tokens); ` +
        'token ids are read as OpenAI\'s cl100k_base (--token-ids model reads them as this model\'s own)', `input.${i}.${bad}`);
    }
  });
  const decode = await loadCl100k();
  return ids.map((row) => decode(row));
}

export function openAiRoutes(cfg: ServeConfig, service: EmbeddingService): Record<string, Route> {
  return {
    '/v1/embeddings': {
      method: 'POST',
      fields: { inputs: 'input', prompt: 'input_type', instruction: 'instruction' },
      handler: async ({ req, res, signal, note }) => {
        const body = parseBody(OpenAiEmbeddings, await readJson(req, cfg.maxBodyBytes));
        const input = checkedInputs(splitInput(body.input), cfg, 'input', note);
        // Cut to the model's limit as OpenAI's own models are not: its clients cannot ask for it.
        const opts: EmbedOptions = { prompt: body.input_type ?? promptOfModelName(body.model), lenientPrompt: true, instruction: body.instruction ?? undefined, normalize: true, truncate: true, direction: 'right', dimensions: body.dimensions, cache: cacheMode(req), dtype: body.output_dtype ?? undefined };
        let result;
        if ('texts' in input) {
          result = await service.embed(input, opts, signal);
        } else {
          note.tokenIds = cfg.tokenIds;
          if (cfg.tokenIds === 'reject') {
            throw new ApiError(400, 'token ids are not accepted here (--token-ids reject): send the text', 'invalid_request_error', 'token_ids_rejected', 'input');
          }
          result = cfg.tokenIds === 'model'
            ? await service.embed({ ids: input.ids }, opts, signal)
            : await service.embed({ texts: await decodeCl100k(input.ids) }, opts, signal);
        }
        note.tokens = result.tokens;
        if (result.cached > 0) note.cached = result.cached;
        const asBase64 = body.encoding_format === 'base64';
        sendJson(res, 200, {
          object: 'list',
          data: result.vectors.map((v, index) => ({ object: 'embedding', index, embedding: asBase64 ? base64Of(v) : Array.from(v) })),
          model: body.model ?? cfg.servedName ?? result.model,
          usage: { prompt_tokens: result.tokens, total_tokens: result.tokens },
        }, { ...(result.truncated > 0 ? { 'x-truncated-inputs': String(result.truncated) } : {}), ...cachedHeader(result.cached) });
      },
    },
  };
}
