// Flag parsing shared by the commands (node:util's parseArgs: no dependency, no start-up cost).

import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigError, type Flags } from '../config.js';

type Options = NonNullable<ParseArgsConfig['options']>;

export const MODEL_OPTIONS: Options = {
  'model-dir': { type: 'string' },
  model: { type: 'string' },
  dtype: { type: 'string' },
  'hf-home': { type: 'string' },
  'hf-endpoint': { type: 'string' },
  'hf-token': { type: 'string' },
  'prepared-dir': { type: 'string' },
  offline: { type: 'boolean' },
};

export const ENGINE_OPTIONS: Options = {
  threads: { type: 'string' },
  'batch-tokens': { type: 'string' },
};

export const MODEL_HELP = `Model (flags win over environment variables):
  --model-dir DIR      a local folder in the Hugging Face hub layout (env MODEL_DIR):
                       config.json, tokenizer.json, tokenizer_config.json and
                       onnx/model_qint8_avx512_vnni.onnx, onnx/model_quantized.onnx or onnx/model.onnx
  --model REPO[@REV]   hub repo to download when no --model-dir is given (env MODEL;
                       default intfloat/multilingual-e5-base at a pinned revision)
  --dtype int8|fp32|q4 which form to serve (env DTYPE; default: int8 if present). q4 is
                       made by prepare from the int8 export: 4-bit MatMul weights, fewer
                       bytes to read at a cold start, slightly less exact (see README)
  --hf-home DIR        Hugging Face cache root (env HF_HOME; default ~/.cache/huggingface)
  --prepared-dir DIR   where the prepared form lives (default <model folder>/ortos-prepared-<dtype>)
  --offline            use only the local cache (env HF_HUB_OFFLINE=1); HF_TOKEN and
                       HF_ENDPOINT are honoured for private repos and mirrors`;

export const ENGINE_HELP = `Engine:
  --threads N          onnxruntime threads (env THREADS; default: usable cores, a container CPU quota included)
  --batch-tokens N     padded tokens per model run (env BATCH_TOKENS; default 256)`;

export interface Parsed {
  flags: Flags;
  positionals: string[];
}

export function parse(argv: string[], options: Options): Parsed {
  try {
    const { values, positionals } = parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
    return { flags: values as Flags, positionals };
  } catch (e) {
    throw new ConfigError((e as Error).message);
  }
}
