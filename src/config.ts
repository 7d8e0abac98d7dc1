// Configuration, validated once at start-up: flags win over the environment, which wins
// over defaults. Nothing below the CLI reads process.env.

import { homedir } from 'node:os';
import { usableCores } from './cpu.js';
import { join, resolve } from 'node:path';
import { DEFAULT_ENDPOINT, DEFAULT_REPO, DEFAULT_REVISION, parseModelRef, type ModelRef } from './model/hub.js';
import { DTYPES, type Dtype } from './model/layout.js';

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
  hfHome: string;
  endpoint: string;
  token?: string;
  offline: boolean;
  preparedDir?: string;
}

export interface EngineConfigOptions {
  threads: number;
  /** Padded tokens per session run. */
  batchTokens: number;
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
  return {
    modelDir: modelDir ? resolve(modelDir) : undefined,
    model,
    dtype: dtypeRaw as Dtype | undefined,
    hfHome: resolve(pick(flags, 'hf-home', env, 'HF_HOME') ?? join(homedir(), '.cache', 'huggingface')),
    endpoint: pick(flags, 'hf-endpoint', env, 'HF_ENDPOINT') ?? DEFAULT_ENDPOINT,
    token: pick(flags, 'hf-token', env, 'HF_TOKEN'),
    offline: truthy(env.HF_HUB_OFFLINE) || flags.offline === true,
    preparedDir: preparedDir ? resolve(preparedDir) : undefined,
  };
}

export function engineConfig(flags: Flags, env: Env): EngineConfigOptions {
  return {
    threads: intIn('--threads', pick(flags, 'threads', env, 'THREADS'), usableCores(), 1, 256),
    batchTokens: intIn('--batch-tokens', pick(flags, 'batch-tokens', env, 'BATCH_TOKENS'), 256, 16, 4096),
  };
}
