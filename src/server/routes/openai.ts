// OpenAI's POST /v1/embeddings, as its clients call it: text, texts or token ids (read as
// cl100k_base by default: see service.decodeCl100k), float or base64 answers, `user`
// accepted and ignored, `dimensions` only the model's own.

import { ApiError } from '../api-error.js';
import type { ServeConfig } from '../config.js';
import { readJson, sendJson } from '../http-io.js';
import { OpenAiEmbeddings, parseBody } from '../schemas.js';
import type { EmbeddingService } from '../service.js';
import { checkDimensions, checkIdLists, checkTexts, splitInput } from './limits.js';
import type { Route } from './route.js';

function base64Of(v: Float32Array): string {
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');
}

export function openAiRoutes(cfg: ServeConfig, service: EmbeddingService): Record<string, Route> {
  return {
    '/v1/embeddings': {
      method: 'POST',
      handler: async ({ req, res, signal, note }) => {
        const body = parseBody(OpenAiEmbeddings, await readJson(req, cfg.maxBodyBytes));
        if (body.dimensions !== undefined) {
          const model = await service.host.get(signal);
          checkDimensions(body.dimensions, model.dimensions, model.name);
        }
        const input = splitInput(body.input);
        const textRequest = (texts: string[]): Parameters<EmbeddingService['embedTexts']>[0] =>
          ({ texts, prompt: body.input_type, lenientPrompt: true, instruction: body.instruction ?? undefined, promptParam: 'input_type', normalize: true, truncate: true, direction: 'right', param: 'input' });
        let result;
        if ('texts' in input) {
          checkTexts(input.texts, cfg, 'input');
          note.inputs = input.texts.length;
          result = await service.embedTexts(textRequest(input.texts), signal);
        } else {
          checkIdLists(input.ids, cfg, 'input');
          note.inputs = input.ids.length;
          note.tokenIds = cfg.tokenIds;
          if (cfg.tokenIds === 'reject') {
            throw new ApiError(400, 'token ids are not accepted here (--token-ids reject): send the text', 'invalid_request_error', 'token_ids_rejected', 'input');
          }
          if (cfg.tokenIds === 'model') result = await service.embedTokenIds(input.ids, true, signal);
          else result = await service.embedTexts(textRequest(await service.decodeCl100k(input.ids)), signal);
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
    },
  };
}
