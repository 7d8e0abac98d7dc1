// A model folder in the Hugging Face hub layout, and which of its ONNX exports to use.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { POOLING_FILE, readModelRules, readRerankRules, RULE_FILES, type ModelRules } from './rules.js';

export type Dtype = 'int8' | 'fp32' | 'q4';
export const DTYPES: readonly Dtype[] = ['int8', 'fp32', 'q4'];

const INT8_FILES = ['onnx/model_qint8_avx512_vnni.onnx', 'onnx/model_quantized.onnx'] as const;

/**
 * The export each dtype is made from, in order of preference: the official int8 export,
 * the Xenova int8 export, then fp32. q4 has no export of its own: `prepare` makes it from
 * the int8 one (a quarter of the fp32 download, and it fits a 1 GB volume) or from fp32.
 */
export const ONNX_FILES: Record<Dtype, readonly string[]> = {
  int8: INT8_FILES,
  fp32: ['onnx/model.onnx'],
  q4: [...INT8_FILES, 'onnx/model.onnx'],
};

export const REQUIRED_FILES = ['config.json', 'tokenizer.json', 'tokenizer_config.json'] as const;

export interface ModelConfig {
  hiddenSize: number;
  maxPositions: number;
  padId: number;
  modelType: string;
  /** What to call the model in /info and logs (see modelName). */
  name?: string;
  /** A generated test model: its vectors mean nothing, and the logs say so. */
  randomWeights?: boolean;
  /**
   * What the graph computes: token vectors to pool (embed), or a relevance logit per input pair
   * (rerank: a *ForSequenceClassification architecture, a cross-encoder).
   */
  task?: 'embed' | 'rerank';
  /** A classifier's labels (id2label), for rerankers. */
  labels?: number;
  /** sentence-transformers' CrossEncoder activation named in config.json, if any. */
  activationFn?: string;
}

/**
 * The model's name: its hub repo when the folder is a hub-cache snapshot
 * (…/models--org--name/snapshots/<commit>), else config.json's `_name_or_path` when it names a
 * repo, else the folder's name.
 */
export function modelName(dir: string, raw: Record<string, unknown>): string {
  const snap = /models--([^/]+?)--([^/]+)\/snapshots\/[0-9a-f]{40}\/?$/.exec(dir);
  if (snap) return `${snap[1]}/${snap[2]}`;
  const named = raw._name_or_path;
  if (typeof named === 'string' && /^[\w.-]+\/[\w.-]+$/.test(named)) return named;
  return basename(dir);
}

export interface ModelFiles {
  dir: string;
  onnx: string;
  /** Path of the ONNX file relative to dir, as the hub names it. */
  onnxName: string;
  dtype: Dtype;
  config: ModelConfig;
  /** Pooling, prompts, token limit: read from the sentence-transformers files (rules.ts). */
  rules: ModelRules;
  /** The rule files present, relative to dir (their changes make a prepared form stale). */
  ruleFiles: string[];
}

/**
 * How many tokens the position table holds. RoBERTa-family models (XLM-R among them) number
 * positions from the padding id + 1, so 514 positions hold 512 tokens; BERT numbers them from 0.
 */
export function positionLimit(config: ModelConfig): number {
  const fromPadding = ['xlm-roberta', 'roberta', 'camembert'].includes(config.modelType);
  return fromPadding ? config.maxPositions - config.padId - 1 : config.maxPositions;
}

/** The sentence-transformers files in `dir` that say something about its rules. */
export function ruleFilesIn(dir: string): string[] {
  const found: string[] = RULE_FILES.filter((f) => existsSync(join(dir, f)));
  let entries: string[] = [];
  try {
    entries = readdirSync(dir).filter((d) => /^\d+_Pooling$/.test(d)).map((d) => `${d}/config.json`);
  } catch {
    // no folder listing: no pooling files
  }
  return [...found, ...entries.filter((f) => POOLING_FILE.test(f) && existsSync(join(dir, f)))];
}

export class ModelDirError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelDirError';
  }
}

export function readModelConfig(dir: string): ModelConfig {
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new ModelDirError(`${join(dir, 'config.json')}: cannot read (${(e as Error).message})`);
  }
  const num = (k: string, dflt?: number): number => {
    const v = raw[k] ?? dflt;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new ModelDirError(`config.json: "${k}" must be a non-negative integer`);
    return v;
  };
  return {
    hiddenSize: num('hidden_size'),
    maxPositions: num('max_position_embeddings', 514),
    padId: num('pad_token_id', 1),
    modelType: typeof raw.model_type === 'string' ? raw.model_type : 'unknown',
    name: modelName(dir, raw),
    randomWeights: raw.ortos_fixture !== undefined,
    ...classifierOf(raw),
  };
}

/** A sequence-classification config (a cross-encoder): its labels and activation. */
function classifierOf(raw: Record<string, unknown>): Pick<ModelConfig, 'task' | 'labels' | 'activationFn'> {
  const archs = Array.isArray(raw.architectures) ? raw.architectures.filter((a): a is string => typeof a === 'string') : [];
  if (!archs.some((a) => a.endsWith('ForSequenceClassification'))) return { task: 'embed' };
  const id2label = raw.id2label !== null && typeof raw.id2label === 'object' ? Object.keys(raw.id2label).length : undefined;
  const labels = typeof raw.num_labels === 'number' ? raw.num_labels : id2label ?? 2;
  // sentence-transformers >= 4 keeps it under "sentence_transformers"; older ones at the top.
  const st = raw.sentence_transformers !== null && typeof raw.sentence_transformers === 'object' ? (raw.sentence_transformers as Record<string, unknown>).activation_fn : undefined;
  const fn = typeof st === 'string' ? st : typeof raw.sbert_ce_default_activation_function === 'string' ? raw.sbert_ce_default_activation_function : undefined;
  return { task: 'rerank', labels, ...(fn !== undefined ? { activationFn: fn } : {}) };
}

/**
 * A repo folder of the hub cache (models--org--name) holds its files under snapshots/<commit>:
 * say so, and how to use the cache as it is meant to be used.
 */
function hubCacheHint(dir: string): string {
  const m = /^models--(.+?)--(.+)$/.exec(basename(dir));
  if (m === null) return '';
  let snapshots: string[] = [];
  try {
    snapshots = readdirSync(join(dir, 'snapshots'));
  } catch {
    // no snapshots folder: only the general hint
  }
  const one = snapshots.length > 0 ? join(dir, 'snapshots', snapshots[0]) : join(dir, 'snapshots', '<commit>');
  return `; this is a hub cache folder: point --model-dir at ${one}, or use --model ${m[1]}/${m[2]} with HF_HUB_OFFLINE=1 to serve it from the cache`;
}

export function resolveModelDir(dir: string, dtype?: Dtype): ModelFiles {
  if (!existsSync(dir)) throw new ModelDirError(`model folder ${dir} does not exist`);
  const missing = REQUIRED_FILES.filter((f) => !existsSync(join(dir, f)));
  const order = dtype ? ONNX_FILES[dtype] : [...ONNX_FILES.int8, ...ONNX_FILES.fp32];
  const onnxName = order.find((f) => existsSync(join(dir, f)));
  if (missing.length > 0 || onnxName === undefined) {
    const lacks = [...missing, ...(onnxName === undefined ? [`one of ${order.join(', ')}`] : [])];
    throw new ModelDirError(`model folder ${dir} lacks ${lacks.join(' and ')} (expected the Hugging Face hub layout)${hubCacheHint(dir)}`);
  }
  const config = readModelConfig(dir);
  let rules: ModelRules;
  try {
    rules = config.task === 'rerank' ? readRerankRules(dir, config, positionLimit(config)) : readModelRules(dir, config.name, positionLimit(config));
  } catch (e) {
    throw new ModelDirError((e as Error).message);
  }
  return {
    dir,
    onnx: join(dir, onnxName),
    onnxName,
    dtype: dtype === 'q4' ? 'q4' : ONNX_FILES.fp32.includes(onnxName) ? 'fp32' : 'int8',
    config,
    rules,
    ruleFiles: ruleFilesIn(dir),
  };
}
