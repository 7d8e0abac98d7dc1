import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BUILT_IN, type ModelRules } from '../../src/model/rules.js';
import { fixtureTokenizer } from '../helpers/fixtures.js';
import { InputTooLongError, prepareInputs, withPrompt } from '../../src/tokenizer/inputs.js';

const tok = fixtureTokenizer();
const e5: ModelRules = { pooling: 'mean', normalize: true, maxTokens: 512, ...BUILT_IN['intfloat/multilingual-e5-base'], from: { pooling: '', maxTokens: '', prompts: '' } };

test('the e5 prompt is added once, by name, and never doubled', async () => {
  assert.equal(withPrompt(e5, 'привет', { prompt: 'query' }), 'query: привет');
  assert.equal(withPrompt(e5, 'привет', {}), 'query: привет', 'query is the default');
  assert.equal(withPrompt(e5, 'привет', { prompt: 'passage' }), 'passage: привет');
  assert.equal(withPrompt(e5, 'привет', { prompt: 'document' }), 'passage: привет', 'document is read as passage');
  assert.equal(withPrompt(e5, 'query: привет', { prompt: 'passage' }), 'query: привет');
  assert.equal(withPrompt(e5, 'passage: x', { prompt: 'query' }), 'passage: x');
  assert.equal(withPrompt(e5, 'query:x', { prompt: 'query' }), 'query: query:x');
  const a = (await prepareInputs(tok, e5, ['привет'], { prompt: 'query', truncate: true })).ids[0];
  const b = (await prepareInputs(tok, e5, ['query: привет'], { prompt: 'query', truncate: true })).ids[0];
  assert.deepEqual(a, b);
});

test('a 100k-character input is cut to the model\'s limit including <s> and </s>, and counted', async () => {
  const long = 'слово word '.repeat(10_000);
  const r = await prepareInputs(tok, e5, [long, 'short'], { prompt: 'passage', truncate: true });
  assert.equal(r.ids[0].length, 512);
  assert.equal(r.ids[0][0], 0);
  assert.equal(r.ids[0][511], 2);
  assert.equal(r.truncated, 1);
  assert.equal(r.tokens, 512 + r.ids[1].length);
  const long8k = await prepareInputs(tok, { ...e5, maxTokens: 8192 }, [long], { truncate: true });
  assert.equal(long8k.ids[0].length, 8192, 'a model with 8192 positions reads 8192 tokens');
});

test('with truncation off an over-long input is refused, naming it', async () => {
  await assert.rejects(
    () => prepareInputs(tok, e5, ['ok', 'x '.repeat(2000)], { prompt: 'query', truncate: false }),
    (e: unknown) => e instanceof InputTooLongError && e.index === 1 && e.tokens > 512 && /truncate/.test(e.message),
  );
});
