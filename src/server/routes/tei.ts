// text-embeddings-inference's routes, in its shapes (router/src/http/types.rs): /embed,
// /embed_all (token vectors), /similarity (cosine of a source sentence with others),
// /tokenize and /decode. They take the model's own token ids.

import { badRequest } from '../api-error.js';
import { TimeSlices } from '../../core/time-slices.js';
import type { ServeConfig } from '../config.js';
import { readJson, sendJson } from '../http-io.js';
import { parseBody, TeiDecode, TeiEmbed, TeiEmbedAll, TeiSimilarity, TeiTokenize } from '../schemas.js';
import type { EmbeddingService, TextRequest } from '../service.js';
import { PromptError } from '../../model/rules.js';
import { withPrompt } from '../../tokenizer/inputs.js';
import { checkDimensions, checkIdLists, checkTexts, splitInput } from './limits.js';
import type { Route } from './route.js';

type Direction = 'left' | 'right' | 'Left' | 'Right';
const direction = (d: Direction | undefined): 'left' | 'right' => (d ?? 'right').toLowerCase() as 'left' | 'right';

export function teiRoutes(cfg: ServeConfig, service: EmbeddingService): Record<string, Route> {
  const texts = (inputs: string | string[], param: string, note: Record<string, unknown>): string[] => {
    const list = typeof inputs === 'string' ? [inputs] : inputs;
    checkTexts(list, cfg, param);
    note.inputs = list.length;
    return list;
  };

  return {
    '/embed': {
      method: 'POST',
      handler: async ({ req, res, signal, note }) => {
        const body = parseBody(TeiEmbed, await readJson(req, cfg.maxBodyBytes));
        if (body.dimensions !== undefined && body.dimensions !== null) {
          const model = await service.host.get(signal);
          checkDimensions(body.dimensions, model.dimensions, model.name);
        }
        const input = splitInput(body.inputs);
        const normalize = body.normalize ?? true;
        let result;
        if ('ids' in input) {
          checkIdLists(input.ids, cfg, 'inputs');
          note.inputs = input.ids.length;
          result = await service.embedTokenIds(input.ids, normalize, signal, 'inputs');
        } else {
          result = await service.embedTexts({
            texts: texts(input.texts, 'inputs', note),
            prompt: body.prompt_name ?? undefined,
            instruction: body.instruction ?? undefined,
            normalize,
            truncate: body.truncate ?? false,
            direction: direction(body.truncation_direction),
            param: 'inputs',
          }, signal);
        }
        note.tokens = result.tokens;
        sendJson(res, 200, result.vectors.map((v) => Array.from(v)));
      },
    },

    '/embed_all': {
      method: 'POST',
      handler: async ({ req, res, signal, note }) => {
        const body = parseBody(TeiEmbedAll, await readJson(req, cfg.maxBodyBytes));
        const request: TextRequest = {
          texts: texts(body.inputs, 'inputs', note),
          prompt: body.prompt_name ?? undefined,
          instruction: body.instruction ?? undefined,
          normalize: false,
          truncate: body.truncate ?? false,
          direction: direction(body.truncation_direction),
          param: 'inputs',
        };
        const { vectors, dim, tokens } = await service.tokenVectors(request, cfg.maxTokenVectors, signal);
        note.tokens = tokens;
        // Written input by input: the answer can be megabytes of JSON, never built whole.
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
      handler: async ({ req, res, signal, note }) => {
        const body = parseBody(TeiSimilarity, await readJson(req, cfg.maxBodyBytes));
        if (body.inputs.sentences.length === 0) throw badRequest('inputs.sentences must not be an empty list', 'inputs.sentences');
        const all = texts([body.inputs.source_sentence, ...body.inputs.sentences], 'inputs.sentences', note);
        const p = body.parameters ?? {};
        const { scores, tokens } = await service.similarity({
          texts: all,
          prompt: p.prompt_name ?? undefined,
          instruction: p.instruction ?? undefined,
          promptParam: 'parameters.prompt_name',
          instructionParam: 'parameters.instruction',
          normalize: true,
          truncate: p.truncate ?? false,
          direction: direction(p.truncation_direction),
          param: 'inputs.sentences',
        }, signal);
        note.tokens = tokens;
        sendJson(res, 200, scores);
      },
    },

    '/tokenize': {
      method: 'POST',
      handler: async ({ req, res, signal, note }) => {
        const body = parseBody(TeiTokenize, await readJson(req, cfg.maxBodyBytes));
        const list = texts(body.inputs, 'inputs', note);
        const model = await service.host.get(signal);
        const addSpecial = body.add_special_tokens ?? true;
        // Input by input, letting other requests in between: up to 2 MB of text tokenized whole
        // (no limit cuts it here), and an answer of tens of MB written in parts.
        const slices = new TimeSlices();
        const parts: string[] = [];
        for (const raw of list) {
          await slices.next();
          // The prompt is added only when asked for, so offsets refer to the text as sent.
          let text = raw;
          if (body.prompt_name) {
            try {
              text = withPrompt(model.rules, raw, { prompt: body.prompt_name, instruction: body.instruction ?? undefined });
            } catch (e) {
              if (e instanceof PromptError) throw badRequest(e.message, e.field === 'prompt' ? 'prompt_name' : 'instruction');
              throw e;
            }
          }
          const cps = Array.from(text);
          const enc = model.tokenizer.encode(text, { addSpecialTokens: addSpecial });
          parts.push(JSON.stringify(enc.ids.map((id, i) => {
            const start = enc.offsets[2 * i];
            const stop = enc.offsets[2 * i + 1];
            return { id, text: enc.special[i] ? model.tokenizer.piece(id) : cps.slice(start, stop).join(''), special: enc.special[i], start, stop };
          })));
        }
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
      handler: async ({ req, res, signal, note }) => {
        const body = parseBody(TeiDecode, await readJson(req, cfg.maxBodyBytes));
        const ids = body.ids.length > 0 && typeof body.ids[0] === 'number' ? [body.ids as number[]] : (body.ids as number[][]);
        checkIdLists(ids, cfg, 'ids');
        note.inputs = ids.length;
        sendJson(res, 200, await service.decode(ids, body.skip_special_tokens ?? true, signal));
      },
    },
  };
}
