import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { hasPrompt, ModelRulesError, promptFor, PromptError, readModelRules } from '../../src/model/rules.js';

function folder(files: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), 'ortos-rules-'));
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), typeof content === 'string' ? content : JSON.stringify(content));
  }
  return dir;
}

// As multilingual-e5-base's repo has them: Transformer, Pooling (mean), Normalize; no prompts.
const E5_FILES = {
  'modules.json': [
    { idx: 0, name: '0', path: '', type: 'sentence_transformers.models.Transformer' },
    { idx: 1, name: '1', path: '1_Pooling', type: 'sentence_transformers.models.Pooling' },
    { idx: 2, name: '2', path: '2_Normalize', type: 'sentence_transformers.models.Normalize' },
  ],
  '1_Pooling/config.json': { word_embedding_dimension: 768, pooling_mode_cls_token: false, pooling_mode_mean_tokens: true, pooling_mode_max_tokens: false, pooling_mode_mean_sqrt_len_tokens: false },
  'sentence_bert_config.json': { max_seq_length: 512, do_lower_case: false },
  'config_sentence_transformers.json': { __version__: { sentence_transformers: '2.2.2' } },
};

test('e5 repos: mean pooling and 512 tokens from their files, the prefixes from the built-in table', (t) => {
  const dir = folder(E5_FILES);
  t.after(() => rmSync(dir, { recursive: true }));
  const r = readModelRules(dir, 'intfloat/multilingual-e5-small', 512);
  assert.equal(r.pooling, 'mean');
  assert.equal(r.normalize, true);
  assert.equal(r.maxTokens, 512);
  assert.deepEqual(r.prompts, { query: 'query: ', passage: 'passage: ' });
  assert.equal(r.defaultPrompt, 'query');
  assert.match(r.from.prompts, /built-in/);
  assert.equal(r.from.pooling, '1_Pooling/config.json');
  const unknown = readModelRules(dir, 'someone/e5-copy', 512);
  assert.deepEqual(unknown.prompts, {}, 'no prompts are guessed for a model the table does not name');
  assert.equal(promptFor(unknown, undefined, undefined), '');
  assert.throws(() => promptFor(unknown, 'query', undefined), (e: unknown) => e instanceof PromptError && e.field === 'prompt' && /no prompts/.test(e.message), 'a prompt name on a model without prompts is an error, as in TEI');
  assert.equal(promptFor(unknown, 'query', undefined, true), '', 'lenient (OpenAI input_type): ignored');
});

test('bge-m3-like: CLS pooling, 8192 tokens, no prompts', (t) => {
  const dir = folder({
    ...E5_FILES,
    '1_Pooling/config.json': { word_embedding_dimension: 1024, pooling_mode_cls_token: true, pooling_mode_mean_tokens: false },
    'sentence_bert_config.json': { max_seq_length: 8192 },
  });
  t.after(() => rmSync(dir, { recursive: true }));
  const r = readModelRules(dir, 'BAAI/bge-m3', 8192);
  assert.equal(r.pooling, 'cls');
  assert.equal(r.maxTokens, 8192);
  assert.equal(readModelRules(dir, 'BAAI/bge-m3', 512).maxTokens, 512, 'never more than the position table holds');
});

test('prompts from config_sentence_transformers.json win over the table; the default prompt is the file\'s', (t) => {
  const dir = folder({ ...E5_FILES, 'config_sentence_transformers.json': { prompts: { query: 'q> ', document: '' }, default_prompt_name: null } });
  t.after(() => rmSync(dir, { recursive: true }));
  const r = readModelRules(dir, 'intfloat/multilingual-e5-base', 512);
  assert.deepEqual(r.prompts, { query: 'q> ', document: '' });
  assert.equal(r.defaultPrompt, null);
  assert.equal(promptFor(r, undefined, undefined), '');
  assert.equal(promptFor(r, 'passage', undefined), '', 'passage is read as document');
  assert.throws(() => promptFor(r, 'classification', undefined), (e: unknown) => e instanceof PromptError && /"query", "document"/.test(e.message));
});

test('large-instruct: an instruction before queries, nothing before documents', (t) => {
  const dir = folder(E5_FILES);
  t.after(() => rmSync(dir, { recursive: true }));
  const r = readModelRules(dir, 'intfloat/multilingual-e5-large-instruct', 512);
  assert.equal(promptFor(r, 'query', undefined), 'Instruct: Given a web search query, retrieve relevant passages that answer the query\nQuery: ');
  assert.equal(promptFor(r, 'query', 'Find the answer'), 'Instruct: Find the answer\nQuery: ');
  assert.equal(promptFor(r, 'passage', 'Find the answer'), '');
  assert.ok(hasPrompt(r, 'Instruct: x\nQuery: y'));
  const e5 = readModelRules(dir, 'intfloat/multilingual-e5-base', 512);
  assert.throws(() => promptFor(e5, 'query', 'Find'), (e: unknown) => e instanceof PromptError && e.field === 'instruction');
});

test('no sentence-transformers files: mean pooling, the position table\'s limit; unsupported pooling is refused', (t) => {
  const bare = folder({});
  const max = folder({ ...E5_FILES, '1_Pooling/config.json': { pooling_mode_max_tokens: true } });
  const bad = folder({ 'modules.json': '{not json' });
  t.after(() => [bare, max, bad].forEach((d) => rmSync(d, { recursive: true })));
  const r = readModelRules(bare, undefined, 510);
  assert.equal(r.pooling, 'mean');
  assert.equal(r.maxTokens, 510);
  assert.throws(() => readModelRules(max, undefined, 512), (e: unknown) => e instanceof ModelRulesError && /max_tokens is not supported/.test(e.message));
  assert.throws(() => readModelRules(bad, undefined, 512), (e: unknown) => e instanceof ModelRulesError && /modules.json: not valid JSON/.test(e.message));
});
