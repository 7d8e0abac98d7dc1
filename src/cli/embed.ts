import { createInterface } from 'node:readline';
import { ConfigError, engineConfig, modelConfig, type EngineConfigOptions, type Env, type Flags, type ModelConfigOptions } from '../config.js';
import { ServiceError } from '../core/errors.js';
import { Pipeline } from '../pipeline/pipeline.js';
import { EmbeddingService } from '../service/embedding-service.js';
import { ensurePrepared } from '../prepare/ensure.js';
import { ENGINE_HELP, ENGINE_OPTIONS, MODEL_HELP, MODEL_OPTIONS, parse, type Options } from './args.js';
import { log } from './log.js';

export const EMBED_HELP = `usage: ortos-embed embed [options] TEXT...
       … | ortos-embed embed [options]          (one text per line on stdin)

Prints one JSON array (the vector) per input on stdout, in input order. Empty lines on
stdin are skipped (stderr says how many), so line N of the output is the Nth non-empty line.
The model's prompt is put before each text unless the text starts with one (e5: "query: "
or "passage: "; its files or the built-in table say which; "ortos-embed serve" shows them
in GET /info).

  --input-type NAME            the prompt: query (the e5 default; also for symmetric tasks),
                               passage, or any name in the model's config_sentence_transformers.json
  --no-normalize               skip L2 normalization
  --no-truncate                refuse inputs over the model's token limit instead of cutting them

${MODEL_HELP}

${ENGINE_HELP}`;

async function readStdinLines(): Promise<string[]> {
  const lines: string[] = [];
  for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) lines.push(line);
  return lines;
}

export const EMBED_OPTIONS = {
  ...MODEL_OPTIONS,
  ...ENGINE_OPTIONS,
  'input-type': { type: 'string' },
  'no-normalize': { type: 'boolean' },
  'no-truncate': { type: 'boolean' },
} satisfies Options;

/** Everything embed reads from its flags and the environment, validated once. */
export function embedSettings(flags: Flags, env: Env): { model: ModelConfigOptions; engine: EngineConfigOptions; prompt: string | undefined } {
  const prompt = flags['input-type'];
  if (prompt !== undefined && (typeof prompt !== 'string' || prompt.trim() === '')) throw new ConfigError('--input-type needs a prompt name, such as query or passage');
  return { model: modelConfig(flags, env), engine: engineConfig(flags, env), prompt };
}

export async function embedCommand(argv: string[], env: Env): Promise<number> {
  const { flags, positionals } = parse(argv, EMBED_OPTIONS, 'embed', true);
  if (flags.help) {
    console.log(EMBED_HELP);
    return 0;
  }
  const { model, engine, prompt } = embedSettings(flags, env);
  const textsPromise = positionals.length > 0 ? Promise.resolve(positionals) : readStdinLines();
  const ready = await ensurePrepared(model, log);
  const pipeline = await Pipeline.load(ready.prepared.dir, engine);
  const given = await textsPromise;
  // An empty line is not a text to embed (a trailing newline, a blank line between
  // paragraphs): it is skipped, and said so, rather than turned into a vector of "query: ".
  const texts = positionals.length > 0 ? given : given.filter((l) => l.trim() !== '');
  if (given.length > texts.length) log(`skipped ${given.length - texts.length} empty line${given.length - texts.length > 1 ? 's' : ''} of stdin`);
  if (texts.length === 0) throw new ConfigError('no input: give TEXT arguments or non-empty lines on stdin');
  let result;
  try {
    result = await EmbeddingService.over(pipeline).embed({ texts }, {
      prompt,
      instruction: engine.instruction,
      normalize: flags['no-normalize'] !== true,
      truncate: flags['no-truncate'] !== true,
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
  await pipeline.close();
  return 0;
}
