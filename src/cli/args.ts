// Flag parsing shared by the commands (node:util's parseArgs: no dependency, no start-up cost).

import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigError, type Flags } from '../config.js';

export type Options = NonNullable<ParseArgsConfig['options']>;

export const MODEL_OPTIONS: Options = {
  'model-dir': { type: 'string' },
  model: { type: 'string' },
  dtype: { type: 'string' },
  'hf-home': { type: 'string' },
  'hf-hub-cache': { type: 'string' },
  'hf-endpoint': { type: 'string' },
  'hf-token': { type: 'string' },
  'prepared-dir': { type: 'string' },
  offline: { type: 'boolean' },
};

export const ENGINE_OPTIONS: Options = {
  threads: { type: 'string' },
  'batch-tokens': { type: 'string' },
  'int8-weights': { type: 'string' },
  instruction: { type: 'string' },
};

export const MODEL_HELP = `Model (flags win over environment variables):
  --model-dir DIR      a local folder in the Hugging Face hub layout (env MODEL_DIR):
                       config.json, tokenizer.json, tokenizer_config.json and
                       onnx/model_qint8_avx512_vnni.onnx, onnx/model_quantized.onnx or onnx/model.onnx;
                       pooling, prompts and token limit are read from its sentence-transformers
                       files (modules.json, 1_Pooling/config.json, sentence_bert_config.json,
                       config_sentence_transformers.json) when it has them
  --model REPO[@REV]   hub repo to download when no --model-dir is given (env MODEL;
                       default intfloat/multilingual-e5-base at a pinned revision). REV is a
                       commit, a branch, a tag or refs/pr/N. The multilingual-e5 family:
                       intfloat/multilingual-e5-small (384 dimensions), -base (768), -large
                       (1024) and -large-instruct (1024, queries take an instruction); other
                       sentence-transformers models with an XLM-R or BERT ONNX export work too
  --dtype int8|fp32|q4 which form to serve (env DTYPE; default: int8 if present). q4 is
                       made by prepare from the int8 export: 4-bit MatMul weights, fewer
                       bytes to read at a cold start, slightly less exact (see README)
  --prepared-dir DIR   where the prepared form lives (env PREPARED_DIR; default
                       <model folder>/ortos-prepared-<dtype>). Alone, a prepared folder is
                       enough to serve: nothing is looked up or downloaded

Hugging Face hub (the same variables and cache as its Python tools):
  --hf-home DIR        cache root (env HF_HOME; default $XDG_CACHE_HOME/huggingface,
                       else ~/.cache/huggingface)
  --hf-hub-cache DIR   the model cache itself (env HF_HUB_CACHE; default $HF_HOME/hub)
  --hf-endpoint URL    the hub or a mirror (env HF_ENDPOINT; default https://huggingface.co)
  --hf-token T         for gated and private repos (env HF_TOKEN; else the file that
                       "hf auth login" writes, $HF_TOKEN_PATH or $HF_HOME/token)
  --offline            use only the local cache, never the network (env HF_HUB_OFFLINE=1)
  Downloads resume after a dropped or stalled connection (no byte for HF_HUB_DOWNLOAD_TIMEOUT
  seconds, default 10) and retry 429 and 5xx answers up to 5 times with backoff; metadata
  requests time out after HF_HUB_ETAG_TIMEOUT seconds (default 10). A branch falls back to
  its cached commit when the hub is unreachable. The older names HUGGINGFACE_HUB_CACHE,
  HUGGING_FACE_HUB_TOKEN and TRANSFORMERS_OFFLINE=1 are read too.`;

export const ENGINE_HELP = `Engine:
  --threads N          onnxruntime threads (env THREADS; default: usable cores, a container CPU quota included)
  --batch-tokens N     padded tokens per model run (env BATCH_TOKENS; default 256)
  --int8-weights W     auto (default): the int8 graph whose integer products are exact on this
                       CPU: int8 weights where u8×s8 kernels are exact (VNNI, ARM), uint8
                       weights elsewhere (x86 without VNNI, where u8×s8 saturates). s8 or u8
                       force one, for measurements (env INT8_WEIGHTS)
  --instruction TEXT   for instruction-following models (multilingual-e5-large-instruct): the
                       task written before queries that give none (env INSTRUCTION; default the
                       model card's "Given a web search query, retrieve relevant passages that
                       answer the query")`;

export interface Parsed {
  flags: Flags;
  positionals: string[];
}

function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
  }
  return d[a.length][b.length];
}

/**
 * Flags of one command. Mistakes become one line that says what was wrong and where to look
 * (node's own messages quote oddly and point nowhere).
 */
export function parse(argv: string[], options: Options, command: string, positionals = false): Parsed {
  const help = `see "ortos-embed ${command} --help"`;
  try {
    const { values, positionals: rest } = parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: positionals, strict: true });
    return { flags: values as Flags, positionals: rest };
  } catch (e) {
    const err = e as { code?: string; message: string };
    const opt = /'(-{1,2}[^' ]+)/.exec(err.message)?.[1] ?? '';
    if (err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      const name = opt.replace(/^-+/, '').split('=')[0];
      const near = Object.keys(options).filter((k) => distance(k, name) <= 2).map((k) => `--${k}`);
      throw new ConfigError(`${command}: unknown option ${opt}${near.length > 0 ? ` (did you mean ${near.join(' or ')}?)` : ''}; ${help}`);
    }
    if (err.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      throw new ConfigError(/argument missing/.test(err.message) ? `${command}: ${opt} needs a value; ${help}` : `${command}: ${opt} takes no value; ${help}`);
    }
    if (err.code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
      const arg = /'([^']*)'/.exec(err.message)?.[1] ?? '';
      throw new ConfigError(`${command}: unexpected argument "${arg}" (it takes options only); ${help}`);
    }
    throw new ConfigError(`${command}: ${err.message}; ${help}`);
  }
}
