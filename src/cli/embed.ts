import { createInterface } from 'node:readline';
import { EmbeddingCache } from '../cache/embedding-cache.js';
import { CACHE_TABLE } from '../settings/cache.js';
import { ServiceError } from '../core/errors.js';
import { Pipeline } from '../pipeline/pipeline.js';
import { EmbeddingService } from '../service/embedding-service.js';
import { ensurePrepared } from '../prepare/ensure.js';
import { ENGINE_HELP, ENGINE_TABLE, engineConfig, type EngineConfigOptions } from '../settings/engine.js';
import { ConfigError } from '../settings/errors.js';
import { HUB_TABLE, MODEL_HELP, MODEL_TABLE, modelConfig, type ModelConfigOptions } from '../settings/model.js';
import { helpOf, onOff, optionsOf, readAll, text, type Env, type Flags, type Values } from '../settings/setting.js';
import { parse, type Options } from './args.js';

const EMBED_TABLE = {
  inputType: text('input-type', undefined, 'NAME', `the prompt: query (the e5 default; also for symmetric tasks), passage, or\nany name in the model's config_sentence_transformers.json`),
  noNormalize: onOff('no-normalize', undefined, 'skip L2 normalization'),
  noTruncate: onOff('no-truncate', undefined, 'refuse inputs over the model\'s token limit instead of cutting them'),
};
import { log, RANDOM_WEIGHTS } from './log.js';

export const EMBED_HELP = `usage: ortos-embed embed [options] TEXT...
       … | ortos-embed embed [options]          (one text per line on stdin)

Prints one JSON array (the vector) per input on stdout, in input order. Empty lines on
stdin are skipped (stderr says how many), so line N of the output is the Nth non-empty line.
The model's prompt is put before each text unless the text starts with one (e5: "query: "
or "passage: "; its files or the built-in table say which; "ortos-embed serve" shows them
in GET /info).

${helpOf(EMBED_TABLE)}

Embedding cache (sizes in MiB; with --cache-dir, texts embedded before are not computed again):
${helpOf(CACHE_TABLE)}

${MODEL_HELP}

${ENGINE_HELP}`;

async function readStdinLines(): Promise<string[]> {
  const lines: string[] = [];
  for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) lines.push(line);
  return lines;
}

export const EMBED_OPTIONS = optionsOf(MODEL_TABLE, HUB_TABLE, ENGINE_TABLE, EMBED_TABLE, CACHE_TABLE) satisfies Options;

/** Everything embed reads from its flags and the environment, validated once. */
export function embedSettings(flags: Flags, env: Env): { model: ModelConfigOptions; engine: EngineConfigOptions; prompt: string | undefined; normalize: boolean; truncate: boolean; cache: Values<typeof CACHE_TABLE> } {
  const own = readAll(EMBED_TABLE, flags, env);
  if (own.inputType !== undefined && own.inputType.trim() === '') throw new ConfigError('--input-type needs a prompt name, such as query or passage');
  return { model: modelConfig(flags, env), engine: engineConfig(flags, env), prompt: own.inputType, normalize: !own.noNormalize, truncate: !own.noTruncate, cache: readAll(CACHE_TABLE, flags, env) };
}

export async function embedCommand(argv: string[], env: Env): Promise<number> {
  const { flags, positionals, helped } = parse(argv, EMBED_OPTIONS, 'embed', EMBED_HELP, true);
  if (helped) return 0;
  const { model, engine, prompt, normalize, truncate, cache: cacheCfg } = embedSettings(flags, env);
  const textsPromise = positionals.length > 0 ? Promise.resolve(positionals) : readStdinLines();
  const ready = await ensurePrepared(model, log);
  const cache = await EmbeddingCache.open({
    memoryBytes: cacheCfg.cacheMemoryMb * 2 ** 20,
    dir: cacheCfg.cacheDir,
    diskBytes: cacheCfg.cacheDiskMb * 2 ** 20,
    log: (_level, message) => log(message),
  });
  const pipeline = await Pipeline.load(ready.prepared.dir, engine);
  if (pipeline.manifest.config.randomWeights) log(RANDOM_WEIGHTS);
  const given = await textsPromise;
  // An empty line is not a text to embed (a trailing newline, a blank line between
  // paragraphs): it is skipped, and said so, rather than turned into a vector of "query: ".
  const texts = positionals.length > 0 ? given : given.filter((l) => l.trim() !== '');
  if (given.length > texts.length) log(`skipped ${given.length - texts.length} empty line${given.length - texts.length > 1 ? 's' : ''} of stdin`);
  if (texts.length === 0) throw new ConfigError('no input: give TEXT arguments or non-empty lines on stdin');
  let result;
  try {
    result = await EmbeddingService.over(pipeline, undefined, cache).embed({ texts }, {
      prompt,
      instruction: engine.instruction,
      normalize,
      truncate,
      direction: 'right',
    });
  } catch (e) {
    if (e instanceof ServiceError && e.field !== undefined && 'option' in e.field) throw new ConfigError(`--${e.field.option === 'prompt' ? 'input-type' : e.field.option}: ${e.message}`);
    throw e;
  }
  let out = '';
  for (const v of result.vectors) out += JSON.stringify(Array.from(v)) + '\n';
  process.stdout.write(out);
  if (result.truncated > 0) log(`${result.truncated} of ${texts.length} inputs were truncated to ${pipeline.maxTokens} tokens`);
  if (result.cached > 0) log(`${result.cached} of ${texts.length} inputs came from the cache`);
  cache.close();
  await pipeline.close();
  return 0;
}
