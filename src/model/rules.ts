// A model's rules — how its token vectors become one vector (pooling), whether it is
// normalized, how many tokens it reads, which text goes before a query or a document — read
// from the files sentence-transformers keeps beside the weights, the way SentenceTransformer
// loads them (sentence_transformers/SentenceTransformer.py `_load_sbert_model`, models/Pooling.py
// `Pooling.load`, the `prompts`/`default_prompt_name` of config_sentence_transformers.json):
//
//   modules.json                        [{ "path": "1_Pooling", "type": "sentence_transformers.models.Pooling" }, …]
//   1_Pooling/config.json               { "pooling_mode_mean_tokens": true, "pooling_mode_cls_token": false, … }
//   sentence_bert_config.json           { "max_seq_length": 512 }
//   config_sentence_transformers.json   { "prompts": { "query": "query: " }, "default_prompt_name": null }
//
// What the repos do not say comes from a small table (BUILT_IN): the multilingual-e5 prefixes
// and the large-instruct format are written only in their model cards.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export type Pooling = 'mean' | 'cls' | 'lasttoken';

export interface ModelRules {
  pooling: Pooling;
  /** A Normalize module follows the pooling (the vectors are unit length in sentence-transformers too). */
  normalize: boolean;
  /** Tokens per text, specials included: max_seq_length, bounded by the position table. */
  maxTokens: number;
  /** Prompt name → text put before the input; "{instruction}" in it is replaced by the instruction. */
  prompts: Record<string, string>;
  /** The prompt used when a request names none (null: the text as sent). */
  defaultPrompt: string | null;
  /** For instruction-following models: the task written into "{instruction}" when a request gives none. */
  defaultInstruction?: string;
  /** Where each rule came from, for /info and the logs. */
  from: { pooling: string; maxTokens: string; prompts: string; activation?: string };
  /** Embedding model (default) or cross-encoder reranker. */
  task?: 'embed' | 'rerank';
  /** A reranker's score from its logit, as sentence-transformers' CrossEncoder makes it. */
  activation?: 'sigmoid' | 'identity';
}

export const INSTRUCTION = '{instruction}';

interface BuiltIn {
  prompts: Record<string, string>;
  defaultPrompt: string;
  defaultInstruction?: string;
  source: string;
}

const E5: BuiltIn = {
  // Model cards of intfloat/multilingual-e5-{small,base,large}: "Each input text should start with
  // "query: " or "passage: ", even for non-English texts"; "query: " for symmetric tasks.
  prompts: { query: 'query: ', passage: 'passage: ' },
  defaultPrompt: 'query',
  source: 'built-in table (the multilingual-e5 model cards)',
};

const E5_INSTRUCT: BuiltIn = {
  // Model card of intfloat/multilingual-e5-large-instruct: queries are written
  // f'Instruct: {task_description}\nQuery: {query}', documents need no instruction; its
  // example task is the default here.
  prompts: { query: `Instruct: ${INSTRUCTION}\nQuery: `, passage: '' },
  defaultPrompt: 'query',
  defaultInstruction: 'Given a web search query, retrieve relevant passages that answer the query',
  source: 'built-in table (the multilingual-e5-large-instruct model card)',
};

/** Models whose prompts live only in their model cards, by hub repo. */
export const BUILT_IN: Record<string, BuiltIn> = {
  'intfloat/multilingual-e5-small': E5,
  'intfloat/multilingual-e5-base': E5,
  'intfloat/multilingual-e5-large': E5,
  'intfloat/multilingual-e5-large-instruct': E5_INSTRUCT,
};

/** The sentence-transformers files, as far as they exist: what the hub client downloads too. */
export const RULE_FILES = ['modules.json', 'sentence_bert_config.json', 'config_sentence_transformers.json'] as const;
/** A Pooling module's folder is named in modules.json; "1_Pooling" is what every export writes. */
export const POOLING_FILE = /^\d+_Pooling\/config\.json$/;

export class ModelRulesError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelRulesError';
  }
}

function readJson(dir: string, name: string): unknown {
  const path = join(dir, name);
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as unknown;
  } catch (e) {
    throw new ModelRulesError(`${path}: not valid JSON (${(e as Error).message})`);
  }
}

const isRecord = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

interface Module {
  path: string;
  type: string;
}

function readModules(dir: string): Module[] | undefined {
  const raw = readJson(dir, 'modules.json');
  if (raw === undefined) return undefined;
  if (!Array.isArray(raw)) throw new ModelRulesError(`${join(dir, 'modules.json')}: expected a list of modules`);
  return raw.filter(isRecord).map((m) => ({ path: typeof m.path === 'string' ? m.path : '', type: typeof m.type === 'string' ? m.type : '' }));
}

function poolingOf(dir: string, modules: Module[] | undefined): { pooling: Pooling; from: string } {
  const mod = modules?.find((m) => m.type.endsWith('.Pooling'));
  if (!mod) return { pooling: 'mean', from: modules ? 'default (modules.json has no Pooling module)' : 'default (no modules.json)' };
  const file = join(mod.path, 'config.json');
  const cfg = readJson(dir, file);
  if (!isRecord(cfg)) return { pooling: 'mean', from: `default (${file} missing)` };
  const on = Object.entries(cfg).filter(([k, v]) => k.startsWith('pooling_mode_') && v === true).map(([k]) => k.slice('pooling_mode_'.length));
  const known: Record<string, Pooling> = { mean_tokens: 'mean', cls_token: 'cls', lasttoken: 'lasttoken' };
  if (on.length !== 1 || known[on[0]] === undefined) {
    throw new ModelRulesError(`${join(dir, file)}: pooling ${on.length === 0 ? 'none' : on.join(' + ')} is not supported (mean_tokens, cls_token or lasttoken)`);
  }
  return { pooling: known[on[0]], from: file };
}

const ACTIVATIONS: Record<string, 'sigmoid' | 'identity'> = {
  'torch.nn.modules.activation.Sigmoid': 'sigmoid',
  'torch.nn.modules.linear.Identity': 'identity',
};

/**
 * A cross-encoder's rules, as sentence-transformers' CrossEncoder reads them
 * (cross_encoder/CrossEncoder.py): pairs cut to the tokenizer's model_max_length, bounded by the
 * position table; the score is the logit through the activation named in config.json, else
 * Sigmoid for one label. A reranker gives one score per pair: one label.
 */
export function readRerankRules(dir: string, config: { labels?: number; activationFn?: string }, positionLimit: number): ModelRules {
  const labels = config.labels ?? 1;
  if (labels !== 1) throw new ModelRulesError(`${join(dir, 'config.json')}: a classifier with ${labels} labels; a reranker gives one relevance score per pair (one label)`);
  const tc = readJson(dir, 'tokenizer_config.json');
  const mml = isRecord(tc) && typeof tc.model_max_length === 'number' && tc.model_max_length > 0 && tc.model_max_length < 1e9 ? tc.model_max_length : undefined;
  const maxTokens = Math.min(mml ?? positionLimit, positionLimit);
  let activation: 'sigmoid' | 'identity' = 'sigmoid';
  let activationFrom = 'default (one label: Sigmoid, as CrossEncoder)';
  if (config.activationFn !== undefined) {
    const known = ACTIVATIONS[config.activationFn];
    if (known === undefined) throw new ModelRulesError(`${join(dir, 'config.json')}: activation_fn ${config.activationFn} is not supported (${Object.keys(ACTIVATIONS).join(' or ')})`);
    activation = known;
    activationFrom = 'config.json (sentence_transformers.activation_fn)';
  }
  return {
    pooling: 'cls',
    normalize: false,
    maxTokens,
    prompts: {},
    defaultPrompt: null,
    task: 'rerank',
    activation,
    from: { pooling: 'none (a cross-encoder scores pairs)', maxTokens: mml === undefined ? 'the position table' : mml > positionLimit ? 'the position table (model_max_length is more)' : 'tokenizer_config.json (model_max_length)', prompts: 'none (a cross-encoder)', activation: activationFrom },
  };
}

/**
 * The rules of the model in `dir`. `name` is its hub repo (or what its folder is called), for
 * the built-in table; `positionLimit` is the most tokens its position table holds.
 */
export function readModelRules(dir: string, name: string | undefined, positionLimit: number): ModelRules {
  const modules = readModules(dir);
  const { pooling, from: poolingFrom } = poolingOf(dir, modules);
  const normalize = modules ? modules.some((m) => m.type.endsWith('.Normalize')) : true;

  const sbert = readJson(dir, 'sentence_bert_config.json');
  const seq = isRecord(sbert) && typeof sbert.max_seq_length === 'number' && sbert.max_seq_length > 0 ? sbert.max_seq_length : undefined;
  const maxTokens = Math.min(seq ?? positionLimit, positionLimit);
  const maxFrom = seq === undefined ? 'the position table (no sentence_bert_config.json)' : seq > positionLimit ? `the position table (max_seq_length ${seq} is more)` : 'sentence_bert_config.json';

  const st = readJson(dir, 'config_sentence_transformers.json');
  const filePrompts = isRecord(st) && isRecord(st.prompts) ? Object.fromEntries(Object.entries(st.prompts).filter((e): e is [string, string] => typeof e[1] === 'string')) : {};
  const fileDefault = isRecord(st) && typeof st.default_prompt_name === 'string' ? st.default_prompt_name : null;
  const table = name !== undefined ? BUILT_IN[name] : undefined;
  let prompts: Record<string, string>;
  let defaultPrompt: string | null;
  let promptsFrom: string;
  let defaultInstruction: string | undefined;
  if (Object.keys(filePrompts).length > 0) {
    prompts = filePrompts;
    defaultPrompt = fileDefault !== null && fileDefault in prompts ? fileDefault : null;
    promptsFrom = 'config_sentence_transformers.json';
    // An instruct template in the file still needs a task when the request gives none.
    if (Object.values(prompts).some((p) => p.includes(INSTRUCTION))) defaultInstruction = table?.defaultInstruction;
  } else if (table) {
    ({ prompts, defaultPrompt, defaultInstruction } = table);
    promptsFrom = table.source;
  } else {
    prompts = {};
    defaultPrompt = null;
    promptsFrom = 'none (the model\'s files name no prompts: texts are embedded as sent)';
  }
  return { pooling, normalize, maxTokens, prompts, defaultPrompt, defaultInstruction, from: { pooling: poolingFrom, maxTokens: maxFrom, prompts: promptsFrom } };
}

/** Request words for the two sides of retrieval, and the prompt names models use for them. */
const SYNONYMS: Record<string, readonly string[]> = {
  query: ['query'],
  passage: ['passage', 'document', 'doc', 'corpus'],
  document: ['document', 'passage', 'doc', 'corpus'],
};

export class PromptError extends Error {
  constructor(message: string, readonly field: 'prompt' | 'instruction') {
    super(message);
    this.name = 'PromptError';
  }
}

/**
 * The text put before each input for a request that asks for prompt `name` (undefined: the
 * model's default) with `instruction` (for instruct models). Throws PromptError for a name the
 * model does not know, and for any name on a model that has no prompts, as TEI does
 * (core/src/tokenization.rs `prepare_pre_prompt`: a validation error either way) and as
 * sentence-transformers' encode raises; `lenient` lets a model without prompts ignore the
 * name instead (OpenAI's `input_type` extension: a generic client may send it to any model).
 */
export function promptFor(rules: ModelRules, name: string | undefined, instruction: string | undefined, lenient = false): string {
  const names = Object.keys(rules.prompts);
  if (instruction !== undefined && !names.some((n) => rules.prompts[n].includes(INSTRUCTION))) {
    throw new PromptError('this model takes no instruction (only instruction-following models, such as multilingual-e5-large-instruct, do)', 'instruction');
  }
  let chosen: string | null;
  if (name === undefined) chosen = rules.defaultPrompt;
  else if (names.length === 0) {
    if (!lenient) throw new PromptError(`this model has no prompts, so prompt_name "${name}" cannot be applied (send the text as the model should read it)`, 'prompt');
    chosen = null;
  } else {
    chosen = [name, ...(SYNONYMS[name] ?? [])].find((n) => n in rules.prompts) ?? null;
    if (chosen === null) throw new PromptError(`this model has no prompt "${name}" (it has ${names.map((n) => `"${n}"`).join(', ')})`, 'prompt');
  }
  if (chosen === null) return '';
  // An instruct model's document side has no "{instruction}": the instruction is for queries.
  return rules.prompts[chosen].replaceAll(INSTRUCTION, instruction ?? rules.defaultInstruction ?? '');
}

/**
 * Whether `text` already starts with one of the model's prompts (then none is added: a client
 * that writes "query: …" itself must not get "query: query: …"). For a template, the part
 * before "{instruction}" counts.
 */
export function hasPrompt(rules: ModelRules, text: string): boolean {
  for (const p of Object.values(rules.prompts)) {
    const head = p.split(INSTRUCTION)[0];
    if (head.length > 0 && text.startsWith(head)) return true;
  }
  return false;
}
