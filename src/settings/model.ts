// Which model, from where: a local folder, or a hub repo at a revision, downloaded into the
// Hugging Face cache with the same variables and cache as its Python tools.

import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { DEFAULT_ENDPOINT, DEFAULT_REPO, DEFAULT_REVISION, parseModelRef, type ModelRef } from '../model/hub.js';
import { DTYPES, type Dtype } from '../model/layout.js';
import { ConfigError } from './errors.js';
import { helpOf, onOff, readAll, text, truthy, type Env, type Flags, type Setting } from './setting.js';

export const MODEL_TABLE = {
  modelDir: { ...text('model-dir', 'MODEL_DIR', 'DIR', `a local folder in the Hugging Face hub layout: config.json, tokenizer.json,
tokenizer_config.json and onnx/model_qint8_avx512_vnni.onnx,
onnx/model_quantized.onnx or onnx/model.onnx; pooling, prompts and token limit
are read from its sentence-transformers files (modules.json,
1_Pooling/config.json, sentence_bert_config.json,
config_sentence_transformers.json) when it has them`),
    read(raw: string | undefined): string | undefined {
      // A folder that is not there is a mistake in the command, not a model that failed to load.
      if (raw !== undefined && !existsSync(raw)) throw new ConfigError(`--model-dir ${raw} does not exist`);
      return raw;
    },
  } satisfies Setting<string | undefined>,
  model: {
    flag: 'model', env: 'MODEL', arg: 'REPO[@REV]',
    help: `hub repo to download when no --model-dir is given. REV is a commit, a branch,
a tag or refs/pr/N. The multilingual-e5 family: intfloat/multilingual-e5-small
(384 dimensions), -base (768), -large (1024) and -large-instruct (1024, queries
take an instruction); other sentence-transformers models with an XLM-R or BERT
ONNX export work too`,
    shown: `${DEFAULT_REPO} at a pinned revision`,
    read(raw: string | undefined): ModelRef {
      try {
        return parseModelRef(raw ?? `${DEFAULT_REPO}@${DEFAULT_REVISION}`);
      } catch (e) {
        throw new ConfigError((e as Error).message);
      }
    },
  } satisfies Setting<ModelRef>,
  dtype: {
    flag: 'dtype', env: 'DTYPE', arg: 'int8|fp32|q4',
    help: `which form to serve (int8 by default, if present). q4 is made by prepare
from the int8 export: 4-bit MatMul weights, fewer bytes to read at a cold start,
slightly less exact (see README)`,
    read(raw: string | undefined): Dtype | undefined {
      if (raw !== undefined && !DTYPES.includes(raw as Dtype)) throw new ConfigError(`--dtype must be one of ${DTYPES.join(', ')}, got "${raw}"`);
      return raw as Dtype | undefined;
    },
  } satisfies Setting<Dtype | undefined>,
  preparedDir: text('prepared-dir', 'PREPARED_DIR', 'DIR', `where the prepared form lives (default <model folder>/ortos-prepared-<dtype>).
Alone, a prepared folder is enough to serve: nothing is looked up or downloaded`),
};

export const HUB_TABLE = {
  hfHome: text('hf-home', 'HF_HOME', 'DIR', 'cache root', '$XDG_CACHE_HOME/huggingface, else ~/.cache/huggingface'),
  hfHubCache: text('hf-hub-cache', 'HF_HUB_CACHE', 'DIR', 'the model cache itself', '$HF_HOME/hub'),
  hfEndpoint: {
    flag: 'hf-endpoint', env: 'HF_ENDPOINT', arg: 'URL', help: 'the hub or a mirror', shown: DEFAULT_ENDPOINT,
    read(raw: string | undefined): string {
      const endpoint = raw ?? DEFAULT_ENDPOINT;
      try {
        if (!/^https?:$/.test(new URL(endpoint).protocol)) throw new Error('not http(s)');
      } catch {
        throw new ConfigError(`--hf-endpoint (HF_ENDPOINT) must be an http(s) URL, got "${endpoint}"`);
      }
      return endpoint;
    },
  } satisfies Setting<string>,
  hfToken: text('hf-token', 'HF_TOKEN', 'T', `for gated and private repos (else the file that "hf auth login" writes,
$HF_TOKEN_PATH or $HF_HOME/token)`),
  offline: onOff('offline', 'HF_HUB_OFFLINE', 'use only the local cache, never the network'),
};

export const MODEL_HELP = `Model (flags win over environment variables):
${helpOf(MODEL_TABLE)}

Hugging Face hub (the same variables and cache as its Python tools):
${helpOf(HUB_TABLE)}
  Downloads resume after a dropped or stalled connection (no byte for HF_HUB_DOWNLOAD_TIMEOUT
  seconds, default 10) and retry 429 and 5xx answers up to 5 times with backoff; metadata
  requests time out after HF_HUB_ETAG_TIMEOUT seconds (default 10). A branch falls back to
  its cached commit when the hub is unreachable. The older names HUGGINGFACE_HUB_CACHE,
  HUGGING_FACE_HUB_TOKEN and TRANSFORMERS_OFFLINE=1 are read too.`;

export interface ModelConfigOptions {
  /** A local folder in the hub layout; when set, nothing is downloaded. */
  modelDir?: string;
  model: ModelRef;
  dtype?: Dtype;
  /** The hub cache (HF_HUB_CACHE; by default $HF_HOME/hub). */
  hubCache: string;
  endpoint: string;
  token?: string;
  /** Where the token came from, for messages (never the token itself). */
  tokenSource?: string;
  offline: boolean;
  /** What turned offline mode on, for messages. */
  offlineSource?: string;
  preparedDir?: string;
  /** No byte for this long and a download resumes (HF_HUB_DOWNLOAD_TIMEOUT, seconds; ms here). */
  stallMs: number;
  /** Metadata requests time out after this (HF_HUB_ETAG_TIMEOUT, seconds; ms here). */
  metadataTimeoutMs: number;
}

function seconds(name: string, raw: string | undefined, dflt: number): number {
  if (raw === undefined || raw === '') return dflt * 1000;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new ConfigError(`${name} must be a number of seconds above 0, got "${raw}"`);
  return Math.round(n * 1000);
}

/**
 * The Hugging Face locations and token, resolved as huggingface_hub's constants.py does:
 * HF_HOME (default $XDG_CACHE_HOME/huggingface, else ~/.cache/huggingface), HF_HUB_CACHE
 * (default $HF_HOME/hub; the older HUGGINGFACE_HUB_CACHE too), and the token from HF_TOKEN
 * (or the older HUGGING_FACE_HUB_TOKEN), else the file `hf auth login` writes ($HF_TOKEN_PATH,
 * default $HF_HOME/token).
 */
export function hubLocations(flags: Flags, env: Env): { hfHome: string; hubCache: string; token?: string; tokenSource?: string } {
  const hub = readAll(HUB_TABLE, flags, env);
  const set = (name: string): string | undefined => (env[name] !== undefined && env[name] !== '' ? env[name] : undefined);
  const hfHome = resolve(hub.hfHome ?? join(set('XDG_CACHE_HOME') ?? join(homedir(), '.cache'), 'huggingface'));
  const hubCache = resolve(hub.hfHubCache ?? set('HUGGINGFACE_HUB_CACHE') ?? join(hfHome, 'hub'));
  const given = typeof flags['hf-token'] === 'string' ? { token: flags['hf-token'], tokenSource: '--hf-token' }
    : set('HF_TOKEN') ? { token: set('HF_TOKEN') as string, tokenSource: 'HF_TOKEN' }
    : set('HUGGING_FACE_HUB_TOKEN') ? { token: set('HUGGING_FACE_HUB_TOKEN') as string, tokenSource: 'HUGGING_FACE_HUB_TOKEN' } : null;
  if (given) return { hfHome, hubCache, token: given.token.trim(), tokenSource: given.tokenSource };
  const path = set('HF_TOKEN_PATH') ?? join(hfHome, 'token');
  try {
    const token = readFileSync(path, 'utf8').trim();
    if (token !== '') return { hfHome, hubCache, token, tokenSource: path };
  } catch {
    // no saved token: anonymous, as the Python tools are
  }
  return { hfHome, hubCache };
}

export function modelConfig(flags: Flags, env: Env): ModelConfigOptions {
  const m = readAll(MODEL_TABLE, flags, env);
  const hub = readAll(HUB_TABLE, flags, env);
  const { hubCache, token, tokenSource } = hubLocations(flags, env);
  const offlineSource = flags.offline === true ? '--offline' : truthy(env.HF_HUB_OFFLINE) ? 'HF_HUB_OFFLINE=1' : truthy(env.TRANSFORMERS_OFFLINE) ? 'TRANSFORMERS_OFFLINE=1' : undefined;
  return {
    modelDir: m.modelDir ? resolve(m.modelDir) : undefined,
    model: m.model,
    dtype: m.dtype,
    hubCache,
    endpoint: hub.hfEndpoint,
    token,
    tokenSource,
    offline: offlineSource !== undefined,
    offlineSource,
    preparedDir: m.preparedDir ? resolve(m.preparedDir) : undefined,
    stallMs: seconds('HF_HUB_DOWNLOAD_TIMEOUT', env.HF_HUB_DOWNLOAD_TIMEOUT, 10),
    metadataTimeoutMs: seconds('HF_HUB_ETAG_TIMEOUT', env.HF_HUB_ETAG_TIMEOUT, 10),
  };
}
