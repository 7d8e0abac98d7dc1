// The reranker served beside the embedder: none unless asked for (its download and memory are
// the user's choice), the default cross-encoder with --rerank, or a hub repo or folder of one.

import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { MANIFEST_FILE } from '../model/manifest.js';
import { parseModelRef } from '../model/hub.js';
import { ConfigError } from './errors.js';
import type { ModelConfigOptions } from './model.js';
import { helpOf, onOff, readAll, text, type Env, type Flags } from './setting.js';

/**
 * The default reranker: multilingual (mMARCO's 14 languages, Russian among them, and transfer to
 * others), Apache-2.0, XLM-R vocabulary with a 12-layer 384-wide encoder (118M parameters, 96M
 * of them the word-embedding table, which prepare moves out of the graph), with the int8 ONNX
 * export the cross-encoder organisation added in 2025. Not pinned to a commit: that export's
 * commit id could not be looked up where this was written; pin one with @REV.
 */
export const DEFAULT_RERANKER = 'cross-encoder/mmarco-mMiniLMv2-L12-H384-v1';

export const RERANK_TABLE = {
  rerank: onOff('rerank', 'RERANK', `serve the default reranker, ${DEFAULT_RERANKER}, at POST /rerank
and /v1/rerank (about 100 MB more memory once loaded; see README)`),
  rerankModel: text('rerank-model', 'RERANK_MODEL', 'REPO[@REV]', `serve this hub cross-encoder as the reranker (a *ForSequenceClassification
model with one label, a tokenizer.json and an ONNX export)`),
  rerankModelDir: text('rerank-model-dir', 'RERANK_MODEL_DIR', 'DIR', `serve the cross-encoder in this folder as the reranker: the hub layout, or a
folder "prepare --prepared-dir" made (as the image bakes it in)`),
  rerankPreload: onOff('rerank-preload', 'RERANK_PRELOAD', `load the reranker at start, after the embedder, instead of on its first
request (the embedder's wake never waits for it)`),
};

export interface RerankConfig {
  /** Where the reranker comes from: the same hub settings as the embedder, its own repo or folder. */
  model: ModelConfigOptions;
  preload: boolean;
}

/** The reranker asked for, or undefined when none is. */
export function rerankConfig(flags: Flags, env: Env, base: ModelConfigOptions): RerankConfig | undefined {
  const r = readAll(RERANK_TABLE, flags, env);
  if (r.rerankModel !== undefined && r.rerankModelDir !== undefined) throw new ConfigError('--rerank-model and --rerank-model-dir name two rerankers: give one');
  if (r.rerankModelDir !== undefined && !existsSync(r.rerankModelDir)) throw new ConfigError(`--rerank-model-dir ${r.rerankModelDir} does not exist`);
  if (!r.rerank && r.rerankModel === undefined && r.rerankModelDir === undefined) {
    if (r.rerankPreload) throw new ConfigError('--rerank-preload needs a reranker: --rerank, --rerank-model or --rerank-model-dir');
    return undefined;
  }
  let model;
  try {
    model = parseModelRef(r.rerankModel ?? `${DEFAULT_RERANKER}@main`);
  } catch (e) {
    throw new ConfigError(`--rerank-model: ${(e as Error).message}`);
  }
  const dir = r.rerankModelDir !== undefined ? resolve(r.rerankModelDir) : undefined;
  // A prepared folder stands alone (nothing looked up or downloaded); a hub-layout one is
  // prepared beside its files, int8 where the export has it, else fp32.
  const prepared = dir !== undefined && existsSync(join(dir, MANIFEST_FILE)) && !existsSync(join(dir, 'config.json'));
  return {
    model: { ...base, model, modelDir: prepared ? undefined : dir, dtype: undefined, preparedDir: prepared ? dir : undefined },
    preload: r.rerankPreload,
  };
}

export const RERANK_HELP = `Reranker (a cross-encoder beside the embedder, loaded on its first request):\n${helpOf(RERANK_TABLE)}`;
