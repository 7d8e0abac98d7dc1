// Writes a fixture model in the Hugging Face hub layout: config.json, the sentence-transformers
// files, the fixture tokenizer and onnx/model.onnx (fp32) or onnx/model_qint8_avx512_vnni.onnx
// (int8), random weights from a seed. Used by tests (tiny) and benchmarks (e5-small/base/large
// shaped, built once into .cache/).
//
//   node build/test/fixture-models/generate.js --size SIZE --dtype int8|fp32|both --out DIR [--seed N]

import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CACHE_DIR, FIXTURE_TOKENIZER_DIR } from '../helpers/fixtures.js';
import { writeModel } from '../../src/onnx/writer.js';
import { buildXlmrGraph, type FixtureDtype, type GraphOptions } from './xlmr-graph.js';
import { E5_BASE, E5_LARGE, E5_SMALL, randomWeights, RERANK_MMINILM, RERANK_TINY, RERANK_TINY_BERT, TINY, TINY_8K, TINY_BERT, type XlmrShape } from './xlmr-weights.js';

export const SHAPES = {
  tiny: TINY, 'tiny-bert': TINY_BERT, 'tiny-8k': TINY_8K, 'e5-small': E5_SMALL, 'e5-base': E5_BASE, 'e5-large': E5_LARGE,
  'rerank-tiny': RERANK_TINY, 'rerank-tiny-bert': RERANK_TINY_BERT, 'rerank-mminilm': RERANK_MMINILM,
} as const;
export type FixtureSize = keyof typeof SHAPES;
export const FIXTURE_SIZES = Object.keys(SHAPES) as FixtureSize[];
export const FIXTURE_SEED = 20261126;
/**
 * Bumped whenever the generator changes what a seed makes (2: full-range weights, outlier
 * channels; 3: a name in config.json; 4: sentence-transformers files).
 */
export const FIXTURE_VERSION = 4;

export function shapeOf(size: FixtureSize): XlmrShape {
  return SHAPES[size];
}

/**
 * The sentence-transformers files a fixture carries, as the real repos have them (modules.json,
 * 1_Pooling/config.json, 2_Normalize, sentence_bert_config.json, config_sentence_transformers.json).
 * By default e5's rules, with its prompts written in config_sentence_transformers.json (the real
 * e5 repos leave them to the model card; a fixture is not named after a real repo, so the
 * built-in table would not apply). `prompts: null` writes no prompts, as the real e5 repos.
 */
export interface FixtureRules {
  pooling?: 'mean' | 'cls';
  maxSeqLength?: number;
  prompts?: Record<string, string> | null;
  defaultPrompt?: string | null;
  /** Leave out every sentence-transformers file. */
  none?: boolean;
}

function writeSentenceTransformersFiles(dir: string, shape: XlmrShape, rules: FixtureRules): void {
  if (rules.none) return;
  const modules = [
    { idx: 0, name: '0', path: '', type: 'sentence_transformers.models.Transformer' },
    { idx: 1, name: '1', path: '1_Pooling', type: 'sentence_transformers.models.Pooling' },
    { idx: 2, name: '2', path: '2_Normalize', type: 'sentence_transformers.models.Normalize' },
  ];
  writeFileSync(join(dir, 'modules.json'), JSON.stringify(modules, null, 2));
  mkdirSync(join(dir, '1_Pooling'), { recursive: true });
  const pooling = rules.pooling ?? 'mean';
  writeFileSync(join(dir, '1_Pooling', 'config.json'), JSON.stringify({
    word_embedding_dimension: shape.hidden,
    pooling_mode_cls_token: pooling === 'cls',
    pooling_mode_mean_tokens: pooling === 'mean',
    pooling_mode_max_tokens: false,
    pooling_mode_mean_sqrt_len_tokens: false,
  }, null, 2));
  writeFileSync(join(dir, 'sentence_bert_config.json'), JSON.stringify({ max_seq_length: rules.maxSeqLength ?? 512, do_lower_case: false }, null, 2));
  const prompts = rules.prompts === undefined ? { query: 'query: ', passage: 'passage: ' } : rules.prompts;
  const st: Record<string, unknown> = { __version__: { sentence_transformers: '3.3.1' } };
  if (prompts !== null) {
    st.prompts = prompts;
    st.default_prompt_name = rules.defaultPrompt === undefined ? 'query' : rules.defaultPrompt;
  }
  writeFileSync(join(dir, 'config_sentence_transformers.json'), JSON.stringify(st, null, 2));
}

export function onnxFileFor(dtype: FixtureDtype): string {
  return dtype === 'fp32' ? 'model.onnx' : 'model_qint8_avx512_vnni.onnx';
}

/** What a fixture folder holds: one export, or both in one hub-layout folder (as the real repo has). */
export type FixtureExports = FixtureDtype | 'both';

const exportsOf = (e: FixtureExports): FixtureDtype[] => (e === 'both' ? ['int8', 'fp32'] : [e]);

export function writeFixtureModel(dir: string, size: FixtureSize, dtype: FixtureExports, seed = FIXTURE_SEED, graph: GraphOptions = {}, rules: FixtureRules = {}): void {
  const shape = shapeOf(size);
  mkdirSync(join(dir, 'onnx'), { recursive: true });
  const bert = shape.arch === 'bert';
  const classifier = shape.labels !== undefined;
  const config = {
    // The name /info and the logs show: this is not intfloat/multilingual-e5-base.
    _name_or_path: `ortos-fixture/${bert ? 'bert' : 'xlmr'}-${size}-random`,
    architectures: [`${bert ? 'Bert' : 'XLMRoberta'}${classifier ? 'ForSequenceClassification' : 'Model'}`],
    ...(classifier ? { id2label: Object.fromEntries(Array.from({ length: shape.labels ?? 1 }, (_, i) => [String(i), `LABEL_${i}`])) } : {}),
    model_type: bert ? 'bert' : 'xlm-roberta',
    hidden_size: shape.hidden,
    num_hidden_layers: shape.layers,
    num_attention_heads: shape.heads,
    intermediate_size: shape.ffn,
    vocab_size: shape.vocab,
    max_position_embeddings: shape.positions,
    pad_token_id: shape.padId,
    bos_token_id: 0,
    eos_token_id: 2,
    type_vocab_size: bert ? 2 : 1,
    layer_norm_eps: shape.eps,
    hidden_act: 'gelu',
    ortos_fixture: { size, seed, version: FIXTURE_VERSION, note: 'random weights: not a real model' },
  };
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config, null, 2));
  // Cross-encoder repos carry no sentence-transformers module files.
  if (!classifier) writeSentenceTransformersFiles(dir, shape, rules);
  for (const f of ['tokenizer.json', 'tokenizer_config.json']) copyFileSync(join(FIXTURE_TOKENIZER_DIR, f), join(dir, f));
  if (classifier && bert) writeBertPairTemplate(join(dir, 'tokenizer.json'));
  const weights = randomWeights(shape, seed);
  for (const d of exportsOf(dtype)) {
    const target = join(dir, 'onnx', onnxFileFor(d));
    const tmp = `${target}.tmp`;
    writeModel(tmp, buildXlmrGraph(weights, d, graph), { '': 14 });
    renameSync(tmp, target);
  }
}

/**
 * BERT's pair template, [CLS] A [SEP] B [SEP] with B's part of token type 1, on the fixture's
 * XLM-R vocabulary (<s> and </s> as CLS and SEP), as BertTokenizerFast's post_processor has it
 * and as multilingual BERT-family models with a SentencePiece vocabulary write it.
 */
function writeBertPairTemplate(path: string): void {
  const tok = JSON.parse(readFileSync(path, 'utf8')) as { post_processor: { pair: unknown[] } };
  tok.post_processor.pair = [
    { SpecialToken: { id: '<s>', type_id: 0 } },
    { Sequence: { id: 'A', type_id: 0 } },
    { SpecialToken: { id: '</s>', type_id: 0 } },
    { Sequence: { id: 'B', type_id: 1 } },
    { SpecialToken: { id: '</s>', type_id: 1 } },
  ];
  writeFileSync(path, JSON.stringify(tok));
}

/** A fixture with other rules than e5's, under its own name in .cache/. */
export interface FixtureVariant {
  name: string;
  rules: FixtureRules;
}

/** The fixture folder under .cache/, built on first use. */
export function cachedFixture(size: FixtureSize, dtype: FixtureExports, variant?: FixtureVariant): string {
  const dir = join(CACHE_DIR, 'models', `${shapeOf(size).arch}-${size}-${dtype}-${FIXTURE_SEED}-v${FIXTURE_VERSION}${variant ? `-${variant.name}` : ''}`);
  if (!exportsOf(dtype).every((d) => existsSync(join(dir, 'onnx', onnxFileFor(d))))) {
    const tmp = `${dir}.tmp-${process.pid}`;
    rmSync(tmp, { recursive: true, force: true });
    writeFixtureModel(tmp, size, dtype, FIXTURE_SEED, {}, variant?.rules ?? {});
    rmSync(dir, { recursive: true, force: true });
    renameSync(tmp, dir);
  }
  return dir;
}

export const FIXTURE_HELP = `usage: npm run -s fixture -- [--size SIZE] [--dtype int8|fp32|both] [--out DIR] [--seed N]

SIZE: tiny (default; 32 hidden, 2 layers), e5-small (BERT, 384 × 12), e5-base (768 × 12),
e5-large (1024 × 24; ~2.3 GB of memory to make), tiny-bert, tiny-8k (8194 positions);
cross-encoders (one relevance logit): rerank-tiny, rerank-tiny-bert, rerank-mminilm (the
shape of cross-encoder/mmarco-mMiniLMv2-L12-H384-v1, 384 × 12).

Writes a model with random weights in the Hugging Face hub layout (config.json, tokenizer.json,
tokenizer_config.json, onnx/…), for trying everything offline: its vectors mean nothing, its
shapes, files and timings are real. --dtype both writes the int8 and the fp32 export into one
folder (what "verify" compares). Without --out it is built once under .cache/models/.
Prints the folder alone on stdout, so it can be passed on:

  HOST=127.0.0.1 npm start -- --model-dir "$(npm run -s fixture -- --size e5-base)"`;

async function main(): Promise<void> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ options: { size: { type: 'string' }, dtype: { type: 'string' }, out: { type: 'string' }, seed: { type: 'string' }, help: { type: 'boolean', short: 'h' } } }));
  } catch (e) {
    process.stderr.write(`fixture: ${(e as Error).message.replace(/\. To specify.*$/, '')}\n\n${FIXTURE_HELP}\n`);
    process.exitCode = 2;
    return;
  }
  if (values.help) {
    console.log(FIXTURE_HELP);
    return;
  }
  const size = (values.size ?? 'tiny') as FixtureSize;
  const dtype = (values.dtype ?? 'int8') as FixtureExports;
  if (!FIXTURE_SIZES.includes(size) || !['int8', 'fp32', 'both'].includes(dtype)) {
    process.stderr.write(`fixture: --size must be one of ${FIXTURE_SIZES.join(', ')} and --dtype int8, fp32 or both\n\n${FIXTURE_HELP}\n`);
    process.exitCode = 2;
    return;
  }
  const out = typeof values.out === 'string' ? values.out : undefined;
  const t0 = performance.now();
  const dir = out ?? cachedFixture(size, dtype);
  if (out) writeFixtureModel(out, size, dtype, Number(values.seed ?? FIXTURE_SEED));
  process.stderr.write(`fixture: ${size} ${dtype} (random weights) ready in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  console.log(dir);
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/^.*\//, '/'))) await main();
