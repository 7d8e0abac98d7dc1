import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { FIXTURE_TOKENIZER_JSON } from '../helpers/fixtures.js';
import { parseTokenizerJson, UnsupportedTokenizerError } from '../../src/tokenizer/spec.js';

const base = JSON.parse(readFileSync(FIXTURE_TOKENIZER_JSON, 'utf8')) as Record<string, unknown>;
const model = base.model as Record<string, unknown>;

function rejects(change: Record<string, unknown>, named: RegExp): void {
  assert.throws(() => parseTokenizerJson(JSON.stringify({ ...base, ...change })), (e: unknown) => {
    assert.ok(e instanceof UnsupportedTokenizerError);
    assert.match(e.message, named);
    return true;
  });
}

test('reads the fixture: Precompiled + Replace, Metaspace always, Unigram with unk 3, <s> $A </s>', () => {
  const spec = parseTokenizerJson(JSON.stringify(base));
  assert.deepEqual(spec.normalizers.map((n) => n.type), ['Precompiled', 'Replace']);
  assert.equal(spec.metaspace.prependScheme, 'always');
  assert.equal(spec.unkId, 3);
  assert.equal(spec.vocab.length, 250002);
  assert.deepEqual(spec.template, [{ special: '<s>' }, { sequence: 'A' }, { special: '</s>' }]);
});

test('unsupported components are refused by name', () => {
  rejects({ model: { ...model, type: 'BPE' } }, /model type "BPE"/);
  rejects({ model: { ...model, byte_fallback: true } }, /byte_fallback/);
  rejects({ normalizer: { type: 'NFKC' } }, /normalizer type "NFKC"/);
  rejects({ normalizer: { type: 'Sequence', normalizers: [{ type: 'Lowercase' }] } }, /normalizer type "Lowercase"/);
  rejects({ pre_tokenizer: { type: 'ByteLevel' } }, /pre_tokenizer type "ByteLevel"/);
  rejects({ post_processor: { type: 'RobertaProcessing' } }, /post_processor type "RobertaProcessing"/);
  rejects({ added_tokens: [{ id: 5, content: 'x', normalized: true, special: false }] }, /after normalization/);
});

test('malformed JSON is a clear error, not a crash', () => {
  assert.throws(() => parseTokenizerJson('{"model": '), /not valid JSON/);
  assert.throws(() => parseTokenizerJson('[]'), /top level/);
});
