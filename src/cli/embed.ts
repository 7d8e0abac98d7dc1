import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { embedFile } from '../corpus/embed-file.js';
import { JobError } from '../corpus/job-error.js';
import { Progress } from '../corpus/progress.js';
import { countRows, formatOf, INPUT_FORMATS, type InputFormat } from '../corpus/read-input.js';
import { RemoteDoor, type Door } from '../corpus/remote-door.js';
import { EmbeddingCache } from '../cache/embedding-cache.js';
import { CACHE_TABLE } from '../settings/cache.js';
import { ServiceError } from '../core/errors.js';
import { Pipeline } from '../pipeline/pipeline.js';
import { EmbeddingService, type EmbedOptions } from '../service/embedding-service.js';
import { ensurePrepared } from '../prepare/ensure.js';
import { ENGINE_HELP, ENGINE_TABLE, engineConfig, type EngineConfigOptions } from '../settings/engine.js';
import { ConfigError } from '../settings/errors.js';
import { HUB_TABLE, MODEL_HELP, MODEL_TABLE, modelConfig, type ModelConfigOptions } from '../settings/model.js';
import { choice, helpOf, integer, onOff, optionsOf, readAll, text, type Env, type Flags, type Setting, type Values } from '../settings/setting.js';
import { parse, type Options } from './args.js';
import { OUTPUT_DTYPES } from '../vectors/compact.js';
import { OUTPUT_FORMATS, outputFormatOf, type OutputFormat } from '../corpus/sinks/sink.js';

const FILE_TABLE = {
  input: text('input', undefined, 'FILE', `embed every row of FILE: text lines, JSONL (.jsonl, .ndjson) or CSV (.csv), by
its extension unless --input-format says`),
  output: text('output', undefined, 'FILE', `write the vectors there in input order (needs --input): JSONL, one {"id",
"embedding"} a line; FILE.npy, one (rows, dims) array, the ids in FILE.ids.jsonl;
FILE.parquet, columns id and embedding (a list). Run the same command again after
an interruption: it continues where it stopped`),
  outputFormat: {
    ...text('output-format', undefined, 'F', 'jsonl, npy or parquet (default: by the extension of --output, else jsonl)'),
    read(raw: string | undefined): OutputFormat | undefined {
      if (raw !== undefined && !(OUTPUT_FORMATS as readonly string[]).includes(raw)) throw new ConfigError(`--output-format must be one of ${OUTPUT_FORMATS.join(', ')}, not "${raw}"`);
      return raw as OutputFormat | undefined;
    },
  } satisfies Setting<OutputFormat | undefined>,
  inputFormat: {
    ...text('input-format', undefined, 'F', 'text, jsonl or csv (default: by the extension)'),
    read(raw: string | undefined): InputFormat | undefined {
      if (raw !== undefined && !(INPUT_FORMATS as readonly string[]).includes(raw)) throw new ConfigError(`--input-format must be one of ${INPUT_FORMATS.join(', ')}, not "${raw}"`);
      return raw as InputFormat | undefined;
    },
  } satisfies Setting<InputFormat | undefined>,
  textField: { ...text('text-field', undefined, 'NAME', 'the JSONL field or CSV column of the text', 'text'), read: (raw: string | undefined) => raw ?? 'text' } satisfies Setting<string>,
  idField: text('id-field', undefined, 'NAME', 'the JSONL field or CSV column of the id (default: the line number)'),
  onError: choice('on-error', undefined, 'M', ['stop', 'skip'] as const, 'stop', `a bad row (not JSON, no text, empty, too long, not UTF-8) stops the job (stop), or is
left out and listed in OUTPUT.skipped.jsonl with its line number (skip)`),
  maxChars: integer('max-chars', undefined, 'N', 32_768, 1, 10_000_000, 'characters a row may have'),
  batchRows: integer('batch-rows', undefined, 'N', 64, 1, 4096, 'rows per model call, and per checkpoint'),
  url: text('url', undefined, 'URL', `send the rows to a running service (its /v1/embeddings) instead of loading the
model here: several Machines behind Fly's proxy share the batches`),
  apiKey: text('api-key', 'API_KEY', 'K', 'the service\'s key, with --url'),
  concurrency: integer('concurrency', undefined, 'N', 0, 0, 256, 'batches in flight at once (default: 4 with --url, 1 in this process)'),
};

const EMBED_TABLE = {
  inputType: text('input-type', undefined, 'NAME', `the prompt: query (the e5 default; also for symmetric tasks), passage, or\nany name in the model's config_sentence_transformers.json`),
  noNormalize: onOff('no-normalize', undefined, 'skip L2 normalization'),
  noTruncate: onOff('no-truncate', undefined, 'refuse inputs over the model\'s token limit instead of cutting them'),
  outputDtype: choice('output-dtype', undefined, 'T', OUTPUT_DTYPES, 'float', `float, or compact vectors as sentence-transformers' quantize_embeddings makes
them: int8 or uint8 (a byte a dimension, from ranges calibrated when the model
was prepared), binary or ubinary (8 dimensions' signs a byte)`),
};
import { log, RANDOM_WEIGHTS } from './log.js';

export const EMBED_HELP = `usage: ortos-embed embed [options] TEXT...
       … | ortos-embed embed [options]          (one text per line on stdin)
       ortos-embed embed [options] --input FILE --output OUT.jsonl|OUT.npy|OUT.parquet

Prints one JSON array (the vector) per input on stdout, in input order. Empty lines on
stdin are skipped (stderr says how many), so line N of the output is the Nth non-empty line.
The model's prompt is put before each text unless the text starts with one (e5: "query: "
or "passage: "; its files or the built-in table say which; "ortos-embed serve" shows them
in GET /info).

${helpOf(EMBED_TABLE)}

Files (a corpus; with a --cache-dir, rows embedded before are not computed again):
${helpOf(FILE_TABLE)}

Embedding cache (sizes in MiB; with --cache-dir, texts embedded before are not computed again):
${helpOf(CACHE_TABLE)}

${MODEL_HELP}

${ENGINE_HELP}`;

/** The flag of each option the door's errors name. */
const CLI_FLAG_OF = { prompt: 'input-type', instruction: 'instruction', dimensions: 'dimensions', dtype: 'output-dtype', normalize: 'no-normalize' } as const;

async function readStdinLines(): Promise<string[]> {
  const lines: string[] = [];
  for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) lines.push(line);
  return lines;
}

export const EMBED_OPTIONS = optionsOf(MODEL_TABLE, HUB_TABLE, ENGINE_TABLE, EMBED_TABLE, FILE_TABLE, CACHE_TABLE) satisfies Options;

/** Everything embed reads from its flags and the environment, validated once. */
export function embedSettings(flags: Flags, env: Env): { model: ModelConfigOptions; engine: EngineConfigOptions; prompt: string | undefined; normalize: boolean; truncate: boolean; dtype: Values<typeof EMBED_TABLE>['outputDtype']; cache: Values<typeof CACHE_TABLE>; file: Values<typeof FILE_TABLE> } {
  const own = readAll(EMBED_TABLE, flags, env);
  if (own.inputType !== undefined && own.inputType.trim() === '') throw new ConfigError('--input-type needs a prompt name, such as query or passage');
  const file = readAll(FILE_TABLE, flags, env);
  if ((file.input === undefined) !== (file.output === undefined)) throw new ConfigError('--input and --output go together: the vectors of FILE go to the output file');
  if (file.url !== undefined && file.input === undefined) throw new ConfigError('--url goes with --input and --output');
  if (file.outputFormat !== undefined && file.output === undefined) throw new ConfigError('--output-format goes with --output');
  if (own.noNormalize && (own.outputDtype === 'int8' || own.outputDtype === 'uint8')) throw new ConfigError(`--output-dtype ${own.outputDtype} is made from normalized vectors (its ranges were calibrated on them): drop --no-normalize`);
  if (file.url !== undefined && (own.noNormalize || own.noTruncate)) throw new ConfigError('--no-normalize and --no-truncate are not for --url: the service\'s OpenAI route normalizes and cuts to the model\'s limit');
  if (file.url !== undefined && !/^https?:\/\//.test(file.url)) throw new ConfigError(`--url must start with http:// or https://, not "${file.url}"`);
  return { model: modelConfig(flags, env), engine: engineConfig(flags, env), prompt: own.inputType, normalize: !own.noNormalize, truncate: !own.noTruncate, dtype: own.outputDtype, cache: readAll(CACHE_TABLE, flags, env), file };
}

export async function embedCommand(argv: string[], env: Env): Promise<number> {
  const { flags, positionals, helped } = parse(argv, EMBED_OPTIONS, 'embed', EMBED_HELP, true);
  if (helped) return 0;
  const { model, engine, prompt, normalize, truncate, dtype, cache: cacheCfg, file } = embedSettings(flags, env);
  if (file.input !== undefined && positionals.length > 0) throw new ConfigError('give texts as arguments or --input FILE, not both');
  if (file.input !== undefined && !existsSync(file.input)) throw new ConfigError(`--input ${file.input}: no such file`);
  if (file.input !== undefined && file.output !== undefined && file.url !== undefined) {
    return embedInputFile(new RemoteDoor(file.url, file.apiKey, log), { ...file, input: file.input, output: file.output }, { prompt, instruction: engine.instruction, normalize, truncate, direction: 'right', dtype }, `url ${file.url}`, 4);
  }
  const textsPromise = file.input !== undefined ? Promise.resolve([]) : positionals.length > 0 ? Promise.resolve(positionals) : readStdinLines();
  const ready = await ensurePrepared(model, log);
  const cache = await EmbeddingCache.open({
    memoryBytes: cacheCfg.cacheMemoryMb * 2 ** 20,
    dir: cacheCfg.cacheDir,
    diskBytes: cacheCfg.cacheDiskMb * 2 ** 20,
    log: (_level, message) => log(message),
  });
  const pipeline = await Pipeline.load(ready.prepared.dir, engine);
  if (pipeline.manifest.config.randomWeights) log(RANDOM_WEIGHTS);
  if (file.input !== undefined && file.output !== undefined) {
    const code = await embedInputFile(EmbeddingService.over(pipeline, undefined, cache), { ...file, input: file.input, output: file.output }, { prompt, instruction: engine.instruction, normalize, truncate, direction: 'right', dtype }, `${pipeline.text.manifestHash}`, 1);
    cache.close();
    await pipeline.close();
    return code;
  }
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
      dtype,
    });
  } catch (e) {
    if (e instanceof ServiceError && e.field !== undefined && 'option' in e.field) throw new ConfigError(`--${CLI_FLAG_OF[e.field.option]}: ${e.message}`);
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

/** `embed --input FILE --output FILE`: the whole file, resumable; the exit code. */
async function embedInputFile(door: Door, file: Values<typeof FILE_TABLE> & { input: string; output: string }, embed: Omit<EmbedOptions, 'cache'>, model: string, concurrency: number): Promise<number> {
  const format = file.inputFormat ?? formatOf(file.input);
  const input = { format, textField: file.textField, idField: file.idField, maxChars: file.maxChars };
  const total = await countRows(file.input, input);
  const tty = process.stderr.isTTY === true;
  try {
    const r = await embedFile(door, { ...input, input: file.input, output: file.output, outputFormat: file.outputFormat ?? outputFormatOf(file.output), onError: file.onError, batchRows: file.batchRows, concurrency: file.concurrency || concurrency, embed, model },
      (from) => new Progress(total, from, tty, (s) => process.stderr.write(s)));
    if (r.alreadyComplete) {
      log(`${file.output} is complete already (${r.embedded} rows${r.skipped > 0 ? `, ${r.skipped} skipped` : ''}); nothing to do`);
      return 0;
    }
    log(`${r.resumedAt > 0 ? `resumed at row ${r.resumedAt + 1}; ` : ''}${r.embedded} rows in ${file.output}` +
      `${r.skipped > 0 ? `, ${r.skipped} skipped (listed in ${file.output}.skipped.jsonl)` : ''}${r.cached > 0 ? `, ${r.cached} from the cache` : ''}`);
    return 0;
  } catch (e) {
    if (e instanceof JobError) throw new ConfigError(e.message);
    throw e;
  }
}
