// Configuration, validated once at start-up: flags win over the environment, which wins
// over defaults. Nothing below the CLI reads process.env.

import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { usableCores } from './cpu.js';
import { join, resolve } from 'node:path';
import { DEFAULT_ENDPOINT, DEFAULT_REPO, DEFAULT_REVISION, parseModelRef, type ModelRef } from './model/hub.js';
import { DTYPES, type Dtype } from './model/layout.js';
import { INT8_WEIGHTS, type Int8Weights } from './engine/int8-kernels.js';
import type { SessionMemory } from './engine/onnx-session.js';

export type Env = Readonly<Record<string, string | undefined>>;
export type Flags = Readonly<Record<string, string | boolean | undefined>>;

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

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

export interface EngineConfigOptions {
  threads: number;
  /** Padded tokens per session run. */
  batchTokens: number;
  /** int8 graphs: auto (exact on every CPU; the default), or forced int8 (s8) or uint8 (u8) weights, for measurements. */
  int8Weights?: Int8Weights;
  /** The task for instruct models' queries when a request gives none (else the model's default). */
  instruction?: string;
  /** onnxruntime's memory features, for benchmarks (the serving default otherwise). */
  memory?: SessionMemory;
}

/** A flag's value, else the environment variable's (empty counts as unset). */
export function pick(flags: Flags, flag: string, env: Env, name: string): string | undefined {
  const f = flags[flag];
  if (typeof f === 'string') return f;
  const e = env[name];
  return e !== undefined && e !== '' ? e : undefined;
}

export function truthy(v: string | undefined): boolean {
  return v !== undefined && ['1', 'true', 'yes', 'on'].includes(v.toLowerCase());
}

export function intIn(name: string, raw: string | undefined, dflt: number, min: number, max: number): number {
  if (raw === undefined) return dflt;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  return n;
}

function seconds(name: string, raw: string | undefined, dflt: number): number {
  if (raw === undefined) return dflt * 1000;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new ConfigError(`${name} must be a number of seconds above 0, got "${raw}"`);
  return Math.round(n * 1000);
}

/**
 * The Hugging Face locations and token, resolved as huggingface_hub's constants.py does:
 * HF_HOME (default $XDG_CACHE_HOME/huggingface, else ~/.cache/huggingface), HF_HUB_CACHE
 * (default $HF_HOME/hub), and the token from HF_TOKEN, else the file `huggingface-cli login`
 * writes ($HF_TOKEN_PATH, default $HF_HOME/token).
 */
export function hubLocations(flags: Flags, env: Env): { hfHome: string; hubCache: string; token?: string; tokenSource?: string } {
  const xdg = env.XDG_CACHE_HOME !== undefined && env.XDG_CACHE_HOME !== '' ? env.XDG_CACHE_HOME : join(homedir(), '.cache');
  const hfHome = resolve(pick(flags, 'hf-home', env, 'HF_HOME') ?? join(xdg, 'huggingface'));
  const hubCache = resolve(pick(flags, 'hf-hub-cache', env, 'HF_HUB_CACHE') ?? pick({}, '', env, 'HUGGINGFACE_HUB_CACHE') ?? join(hfHome, 'hub'));
  const given = typeof flags['hf-token'] === 'string' ? { token: flags['hf-token'], tokenSource: '--hf-token' }
    : env.HF_TOKEN ? { token: env.HF_TOKEN, tokenSource: 'HF_TOKEN' }
    : env.HUGGING_FACE_HUB_TOKEN ? { token: env.HUGGING_FACE_HUB_TOKEN, tokenSource: 'HUGGING_FACE_HUB_TOKEN' } : null;
  if (given) return { hfHome, hubCache, token: given.token.trim(), tokenSource: given.tokenSource };
  const path = pick({}, '', env, 'HF_TOKEN_PATH') ?? join(hfHome, 'token');
  try {
    const token = readFileSync(path, 'utf8').trim();
    if (token !== '') return { hfHome, hubCache, token, tokenSource: path };
  } catch {
    // no saved token: anonymous, as the Python tools are
  }
  return { hfHome, hubCache };
}

export function oneOf<T extends string>(name: string, raw: string | undefined, values: readonly T[], dflt: T): T {
  if (raw === undefined) return dflt;
  if (!values.includes(raw as T)) throw new ConfigError(`${name} must be one of ${values.join(', ')}, got "${raw}"`);
  return raw as T;
}

export function modelConfig(flags: Flags, env: Env): ModelConfigOptions {
  const dtypeRaw = pick(flags, 'dtype', env, 'DTYPE');
  if (dtypeRaw !== undefined && !DTYPES.includes(dtypeRaw as Dtype)) throw new ConfigError(`--dtype must be one of ${DTYPES.join(', ')}, got "${dtypeRaw}"`);
  const modelDir = pick(flags, 'model-dir', env, 'MODEL_DIR');
  const preparedDir = pick(flags, 'prepared-dir', env, 'PREPARED_DIR');
  let model: ModelRef;
  try {
    model = parseModelRef(pick(flags, 'model', env, 'MODEL') ?? `${DEFAULT_REPO}@${DEFAULT_REVISION}`);
  } catch (e) {
    throw new ConfigError((e as Error).message);
  }
  const endpoint = pick(flags, 'hf-endpoint', env, 'HF_ENDPOINT') ?? DEFAULT_ENDPOINT;
  try {
    if (!/^https?:$/.test(new URL(endpoint).protocol)) throw new Error('not http(s)');
  } catch {
    throw new ConfigError(`--hf-endpoint (HF_ENDPOINT) must be an http(s) URL, got "${endpoint}"`);
  }
  const { hubCache, token, tokenSource } = hubLocations(flags, env);
  const offlineSource = flags.offline === true ? '--offline' : truthy(env.HF_HUB_OFFLINE) ? 'HF_HUB_OFFLINE=1' : truthy(env.TRANSFORMERS_OFFLINE) ? 'TRANSFORMERS_OFFLINE=1' : undefined;
  return {
    modelDir: modelDir ? resolve(modelDir) : undefined,
    model,
    dtype: dtypeRaw as Dtype | undefined,
    hubCache,
    endpoint,
    token,
    tokenSource,
    offline: offlineSource !== undefined,
    offlineSource,
    preparedDir: preparedDir ? resolve(preparedDir) : undefined,
    stallMs: seconds('HF_HUB_DOWNLOAD_TIMEOUT', env.HF_HUB_DOWNLOAD_TIMEOUT, 10),
    metadataTimeoutMs: seconds('HF_HUB_ETAG_TIMEOUT', env.HF_HUB_ETAG_TIMEOUT, 10),
  };
}

export function engineConfig(flags: Flags, env: Env): EngineConfigOptions {
  return {
    threads: intIn('--threads', pick(flags, 'threads', env, 'THREADS'), usableCores(), 1, 256),
    batchTokens: intIn('--batch-tokens', pick(flags, 'batch-tokens', env, 'BATCH_TOKENS'), 256, 16, 4096),
    int8Weights: oneOf('--int8-weights', pick(flags, 'int8-weights', env, 'INT8_WEIGHTS'), INT8_WEIGHTS, 'auto'),
    instruction: pick(flags, 'instruction', env, 'INSTRUCTION'),
  };
}
