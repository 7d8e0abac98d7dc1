import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fixtureTokenizer } from '../testing/fixtures.js';
import { InputTooLongError, prepareInputs, withPrefix } from './e5-input.js';

const tok = fixtureTokenizer();

test('the e5 prefix is added once, by input type, and never doubled', () => {
  assert.equal(withPrefix('привет', 'query'), 'query: привет');
  assert.equal(withPrefix('привет', 'passage'), 'passage: привет');
  assert.equal(withPrefix('query: привет', 'passage'), 'query: привет');
  assert.equal(withPrefix('passage: x', 'query'), 'passage: x');
  assert.equal(withPrefix('query:x', 'query'), 'query: query:x');
  const a = prepareInputs(tok, ['привет'], { inputType: 'query', truncate: true }).ids[0];
  const b = prepareInputs(tok, ['query: привет'], { inputType: 'query', truncate: true }).ids[0];
  assert.deepEqual(a, b);
});

test('a 100k-character input is cut to 512 tokens including <s> and </s>, and counted', () => {
  const long = 'слово word '.repeat(10_000);
  const r = prepareInputs(tok, [long, 'short'], { inputType: 'passage', truncate: true });
  assert.equal(r.ids[0].length, 512);
  assert.equal(r.ids[0][0], 0);
  assert.equal(r.ids[0][511], 2);
  assert.equal(r.truncated, 1);
  assert.equal(r.tokens, 512 + r.ids[1].length);
});

test('with truncation off an over-long input is refused, naming it', () => {
  assert.throws(
    () => prepareInputs(tok, ['ok', 'x '.repeat(2000)], { inputType: 'query', truncate: false }),
    (e: unknown) => e instanceof InputTooLongError && e.index === 1 && e.tokens > 512 && /truncate/.test(e.message),
  );
});
