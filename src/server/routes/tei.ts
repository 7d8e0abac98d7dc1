// text-embeddings-inference's routes, in its shapes (router/src/http/types.rs): /embed,
// /embed_all (token vectors), /similarity (cosine of a source sentence with others),
// /tokenize and /decode. They take the model's own token ids.

import { badRequest } from '../api-error.js';
import { TimeSlices } from '../../core/time-slices.js';
import type { ServeConfig } from '../../settings/serve.js';
import { readJson, sendJson } from '../http-io.js';
import { parseBody, TeiDecode, TeiEmbed, TeiEmbedAll, TeiSimilarity, TeiTokenize } from '../schemas.js';
import type { EmbeddingService } from '../../service/embedding-service.js';
import { cachedHeader, cacheMode } from './cache-control.js';
import { checkedInputs, splitInput } from './limits.js';
import type { Route } from './route.js';

type Direction = 'left' | 'right' | 'Left' | 'Right';
const direction = (d: Direction | undefined): 'left' | 'right' => (d ?? 'right').toLowerCase() as 'left' | 'right';

export function teiRoutes(cfg: ServeConfig, service: EmbeddingService): Record<string, Route> {
  const texts = (inputs: string | string[], param: string, note: Record<string, unknown>): string[] =>
    (checkedInputs({ texts: typeof inputs === 'string' ? [inputs] : inputs }, cfg, param, note) as { texts: string[] }).texts;

  return {
    '/embed': {
      method: 'POST',
      handler: async ({ req, res, signal, note }) => {
        const body = parseBody(TeiEmbed, await readJson(req, cfg.maxBodyBytes));
        const input = checkedInputs(splitInput(body.inputs), cfg, 'inputs', note);
        const opts = {
          prompt: body.prompt_name ?? undefined,
          instruction: body.instruction ?? undefined,
          normalize: body.normalize ?? true,
          truncate: body.truncate ?? false,
          direction: direction(body.truncation_direction),
          dimensions: body.dimensions ?? undefined,
          cache: cacheMode(req),
          dtype: body.output_dtype ?? undefined,
        };
        const result = await service.embed(input, opts, signal);
        note.tokens = result.tokens;
        if (result.cached > 0) note.cached = result.cached;
        sendJson(res, 200, result.vectors.map((v) => Array.from(v)), cachedHeader(result.cached));
      },
    },

    '/embed_all': {
      method: 'POST',
      handler: async ({ req, res, signal, note }) => {
        const body = parseBody(TeiEmbedAll, await readJson(req, cfg.maxBodyBytes));
        const { vectors, dim, tokens } = await service.tokenVectors(texts(body.inputs, 'inputs', note), {
          prompt: body.prompt_name ?? undefined,
          instruction: body.instruction ?? undefined,
          truncate: body.truncate ?? false,
          direction: direction(body.truncation_direction),
          dtype: body.output_dtype ?? undefined,
        }, cfg.maxTokenVectors, signal);
        note.tokens = tokens;
        // Written input by input, letting other requests in: the answer can be megabytes of JSON.
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('[');
        const slices = new TimeSlices();
        for (const [i, v] of vectors.entries()) {
          const rows: string[] = [];
          for (let t = 0; t < v.length / dim; t++) {
            await slices.next();
            rows.push(JSON.stringify(Array.from(v.subarray(t * dim, (t + 1) * dim))));
          }
          res.write(`${i > 0 ? ',' : ''}[${rows.join(',')}]`);
        }
        res.end(']');
      },
    },

    '/similarity': {
      method: 'POST',
      fields: { inputs: 'inputs.sentences', prompt: 'parameters.prompt_name', instruction: 'parameters.instruction' },
      handler: async ({ req, res, signal, note }) => {
        const body = parseBody(TeiSimilarity, await readJson(req, cfg.maxBodyBytes));
        if (body.inputs.sentences.length === 0) throw badRequest('inputs.sentences must not be an empty list', 'inputs.sentences');
        const all = texts([body.inputs.source_sentence, ...body.inputs.sentences], 'inputs.sentences', note);
        const p = body.parameters ?? {};
        const { scores, tokens, cached } = await service.similarity(all, {
          prompt: p.prompt_name ?? undefined,
          instruction: p.instruction ?? undefined,
          truncate: p.truncate ?? false,
          direction: direction(p.truncation_direction),
          cache: cacheMode(req),
        }, signal);
        note.tokens = tokens;
        if (cached > 0) note.cached = cached;
        sendJson(res, 200, scores, cachedHeader(cached));
      },
    },

    '/tokenize': {
      method: 'POST',
      handler: async ({ req, res, signal, note }) => {
        const body = parseBody(TeiTokenize, await readJson(req, cfg.maxBodyBytes));
        const list = texts(body.inputs, 'inputs', note);
        // Input by input, letting other requests in between: up to 2 MB of text tokenized whole
        // (no limit cuts it here), and an answer of tens of MB written in parts once all is known
        // good (a prompt error is the request's, before any byte is sent).
        const slices = new TimeSlices();
        const parts: string[] = [];
        await service.tokenize(list, { prompt: body.prompt_name || undefined, instruction: body.instruction ?? undefined, addSpecialTokens: body.add_special_tokens ?? true }, signal, async (t) => {
          await slices.next();
          parts.push(JSON.stringify(t.ids.map((id, i) => ({ id, text: t.texts[i], special: t.special[i], start: t.offsets[2 * i], stop: t.offsets[2 * i + 1] }))));
        });
        res.writeHead(200, { 'content-type': 'application/json' });
        for (let i = 0; i < parts.length; i++) {
          await slices.next();
          res.write(`${i === 0 ? '[' : ','}${parts[i]}`);
        }
        res.end(parts.length === 0 ? '[]' : ']');
      },
    },

    '/decode': {
      method: 'POST',
      fields: { inputs: 'ids', prompt: 'prompt_name', instruction: 'instruction' },
      handler: async ({ req, res, signal, note }) => {
        const body = parseBody(TeiDecode, await readJson(req, cfg.maxBodyBytes));
        const ids = body.ids.length > 0 && typeof body.ids[0] === 'number' ? [body.ids as number[]] : (body.ids as number[][]);
        checkedInputs({ ids }, cfg, 'ids', note);
        sendJson(res, 200, await service.decode(ids, body.skip_special_tokens ?? true, signal));
      },
    },
  };
}
