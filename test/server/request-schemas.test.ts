// Request bodies and limits on their own: what each schema accepts and refuses, and the
// errors (status, code, the field's path) a client is shown.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiError } from '../../src/server/api-error.js';
import { serveConfig } from '../../src/settings/serve.js';
import { checkedInputs, checkIdLists, checkTexts, splitInput } from '../../src/server/routes/limits.js';
import { OpenAiEmbeddings, parseBody, TeiDecode, TeiEmbed, TeiEmbedAll, TeiSimilarity, TeiTokenize } from '../../src/server/schemas.js';

function refused(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ApiError, String(e));
    return e;
  }
  assert.fail('accepted');
}

test('OpenAI bodies: each input form, formats and input types; wrong types name the field', () => {
  for (const input of ['x', ['a', 'b'], [1, 2], [[1], [2, 3]], []]) assert.deepEqual(parseBody(OpenAiEmbeddings, { input }).input, input);
  const full = parseBody(OpenAiEmbeddings, { input: 'x', model: 'm', encoding_format: 'base64', dimensions: 768, user: 'u', input_type: 'document', instruction: 'i' });
  assert.deepEqual(full, { input: 'x', model: 'm', encoding_format: 'base64', dimensions: 768, user: 'u', input_type: 'document', instruction: 'i' });
  for (const [body, param, message] of [
    [{ input: 5 }, 'input', /^input: must be a string, an array of strings, or token ids$/],
    [{ input: [1.5] }, 'input.0', /input/],
    [{ input: [-1] }, 'input.0', /input/],
    [{ input: 'x', encoding_format: 'hex' }, 'encoding_format', /^encoding_format: must be "float" or "base64"$/],
    [{ input: 'x', input_type: 'search' }, 'input_type', /^input_type: must be "query", "passage" or "document"$/],
    [{ input: 'x', dimensions: 1.5 }, 'dimensions', /dimensions/],
    [{ input: 'x', instruction: 3 }, 'instruction', /^instruction: must be a string$/],
  ] as const) {
    const e = refused(() => parseBody(OpenAiEmbeddings, body));
    assert.equal(e.status, 400);
    assert.equal(e.param, param, JSON.stringify(body));
    assert.match(e.message, message);
  }
});

test('a missing field is named, with the other API\'s field pointed out; a body that is not an object is refused', () => {
  const e = refused(() => parseBody(OpenAiEmbeddings, { inputs: 'x' }));
  assert.deepEqual([e.status, e.code, e.param], [400, 'missing_field', 'input']);
  assert.equal(e.message, 'the body has no "input"; "inputs" is what TEI\'s /embed takes, this route takes "input"');
  const t = refused(() => parseBody(TeiEmbed, { input: 'x' }));
  assert.equal(t.message, 'the body has no "inputs"; "input" is what OpenAI\'s /v1/embeddings takes, this route takes "inputs"');
  assert.equal(refused(() => parseBody(TeiEmbed, {})).message, 'the body has no "inputs"');
  for (const body of [null, [], 'x', 3]) assert.equal(refused(() => parseBody(TeiEmbed, body)).message, 'the body must be a JSON object');
});

test('TEI bodies: options and their wrong values', () => {
  assert.deepEqual(parseBody(TeiEmbed, { inputs: 'x', normalize: false, truncate: true, truncation_direction: 'Left', prompt_name: null, dimensions: null }),
    { inputs: 'x', normalize: false, truncate: true, truncation_direction: 'Left', prompt_name: null, dimensions: null });
  assert.equal(refused(() => parseBody(TeiEmbed, { inputs: 'x', truncation_direction: 'up' })).message, 'truncation_direction: must be "left" or "right"');
  assert.equal(refused(() => parseBody(TeiEmbed, { inputs: 'x', prompt_name: 1 })).message, 'prompt_name: must be a string');
  assert.equal(refused(() => parseBody(TeiEmbedAll, { inputs: [1] })).message, 'inputs: must be a string or an array of strings');
  assert.equal(refused(() => parseBody(TeiEmbed, { inputs: 'x', normalize: 'yes' })).param, 'normalize');
  assert.equal(refused(() => parseBody(TeiSimilarity, { inputs: { source_sentence: 'x' } })).param, 'inputs.sentences');
  assert.deepEqual(parseBody(TeiSimilarity, { inputs: { source_sentence: 'x', sentences: ['y'] }, parameters: { truncate: true } }).parameters, { truncate: true });
  assert.equal(refused(() => parseBody(TeiTokenize, { inputs: 'x', add_special_tokens: 1 })).param, 'add_special_tokens');
  assert.deepEqual(parseBody(TeiDecode, { ids: [0, 5] }).ids, [0, 5]);
  assert.equal(refused(() => parseBody(TeiDecode, { ids: ['a'] })).message, 'ids: must be token ids or a list of them');
});

test('limits: empty lists, too many inputs, too long inputs, token-id lists', () => {
  const cfg = serveConfig({ host: '127.0.0.1', port: '0', 'max-inputs': '3', 'max-chars': '5' }, {});
  checkTexts(['a', 'bbbbb'], cfg, 'input');
  let e = refused(() => checkTexts([], cfg, 'input'));
  assert.deepEqual([e.status, e.param, e.message], [400, 'input', 'input must not be an empty list']);
  e = refused(() => checkTexts(['a', 'b', 'c', 'd'], cfg, 'inputs'));
  assert.deepEqual([e.status, e.code, e.param], [413, 'too_many_inputs', 'inputs']);
  assert.equal(e.message, '4 inputs in one request, over the limit of 3 (--max-inputs)');
  e = refused(() => checkTexts(['a', 'bbbbbb'], cfg, 'inputs'));
  assert.deepEqual([e.status, e.code, e.param, e.message], [413, 'input_too_long', 'inputs.1', 'inputs[1] has 6 characters, over the limit of 5 (--max-chars; within it, inputs are cut to the model\'s token limit)']);
  checkIdLists([[1], [1, 2, 3, 4, 5]], cfg, 'input');
  e = refused(() => checkIdLists([[1], []], cfg, 'input'));
  assert.deepEqual([e.status, e.param, e.message], [400, 'input.1', 'input[1] is an empty list of token ids']);
  assert.equal(refused(() => checkIdLists([], cfg, 'ids')).message, 'ids must not be an empty list');
  assert.equal(refused(() => checkIdLists([[1], [1], [1], [1]], cfg, 'ids')).status, 413);
  e = refused(() => checkIdLists([[1, 2, 3, 4, 5, 6]], cfg, 'ids'));
  assert.deepEqual([e.status, e.param, e.message], [413, 'ids.0', 'ids[0] has 6 token ids, over the limit of 5 (--max-chars)']);
  assert.deepEqual(splitInput('x'), { texts: ['x'] });
  assert.deepEqual(splitInput(['x', 'y']), { texts: ['x', 'y'] });
  assert.deepEqual(splitInput([1, 2]), { ids: [[1, 2]] });
  assert.deepEqual(splitInput([[1], [2]]), { ids: [[1], [2]] });
  assert.deepEqual(splitInput([]), { texts: [] });
});

test('every field of every request body is described in the API document (the schemas are its source)', async () => {
  const { toJsonSchema } = await import('@valibot/to-json-schema');
  const undescribed: string[] = [];
  const walk = (node: unknown, path: string): void => {
    if (typeof node !== 'object' || node === null) return;
    const o = node as Record<string, unknown>;
    if (o.properties && typeof o.properties === 'object') {
      for (const [name, prop] of Object.entries(o.properties as Record<string, Record<string, unknown>>)) {
        const d = prop.description ?? (prop.anyOf as Array<Record<string, unknown>> | undefined)?.find((x) => typeof x.description === 'string')?.description;
        if (typeof d !== 'string' || d.trim().length < 8) undescribed.push(`${path}.${name}`);
        walk(prop, `${path}.${name}`);
      }
    }
    for (const key of ['anyOf', 'items']) {
      const sub = o[key];
      if (Array.isArray(sub)) sub.forEach((x) => walk(x, path));
      else walk(sub, path);
    }
  };
  for (const [name, schema] of Object.entries({ OpenAiEmbeddings, TeiEmbed, TeiEmbedAll, TeiSimilarity, TeiTokenize, TeiDecode })) {
    walk(toJsonSchema(schema, { target: 'draft-2020-12', errorMode: 'ignore' }), name);
  }
  assert.deepEqual(undescribed, []);
});

test('limits at their exact bounds, and the first input as much as any other', () => {
  const cfg = serveConfig({ host: '127.0.0.1', port: '0', 'max-inputs': '3', 'max-chars': '5' }, {});
  checkTexts(['a', 'b', 'ccccc'], cfg, 'input');
  checkIdLists([[1], [2], [1, 2, 3, 4, 5]], cfg, 'input');
  let e = refused(() => checkTexts(['cccccc', 'a'], cfg, 'input'));
  assert.deepEqual([e.status, e.param, e.message], [413, 'input.0', 'input[0] has 6 characters, over the limit of 5 (--max-chars; within it, inputs are cut to the model\'s token limit)']);
  e = refused(() => checkIdLists([[], [1]], cfg, 'ids'));
  assert.deepEqual([e.status, e.param, e.message], [400, 'ids.0', 'ids[0] is an empty list of token ids']);
  e = refused(() => checkIdLists([[1], [1], [1], [1]], cfg, 'ids'));
  assert.deepEqual([e.code, e.param, e.message], ['too_many_inputs', 'ids', '4 inputs in one request, over the limit of 3 (--max-inputs)']);
  e = refused(() => checkIdLists([[1, 2, 3, 4, 5, 6]], cfg, 'ids'));
  assert.equal(e.code, 'input_too_long');
});

test('a nested field that is missing or wrong is named by its path; a wrong type without its own message says what was expected', () => {
  let e = refused(() => parseBody(TeiSimilarity, { inputs: { source_sentence: 'x' } }));
  assert.deepEqual([e.code, e.param], ['invalid_value', 'inputs.sentences']);
  assert.match(e.message, /^inputs\.sentences: /);
  e = refused(() => parseBody(TeiEmbed, { inputs: 'x', normalize: 'yes' }));
  assert.equal(e.message, 'normalize: expected boolean, got "yes"');
  e = refused(() => parseBody(TeiSimilarity, { inputs: 'x' }));
  assert.deepEqual([e.param, e.message], ['inputs', 'inputs: expected Object, got "x"']);
});

test('every limit error is an invalid_request_error; checked inputs are counted for the log line', () => {
  const cfg = serveConfig({ host: '127.0.0.1', port: '0', 'max-inputs': '2', 'max-chars': '3' }, {});
  for (const f of [() => checkTexts(['a', 'b', 'c'], cfg, 'input'), () => checkTexts(['aaaa'], cfg, 'input'), () => checkIdLists([[1], [1], [1]], cfg, 'input'), () => checkIdLists([[1, 2, 3, 4]], cfg, 'input')]) {
    const e = refused(f);
    assert.deepEqual([e.status, e.type], [413, 'invalid_request_error']);
  }
  const note: Record<string, unknown> = {};
  assert.deepEqual(checkedInputs({ texts: ['a', 'b'] }, cfg, 'input', note), { texts: ['a', 'b'] });
  assert.equal(note.inputs, 2);
  assert.deepEqual(checkedInputs({ ids: [[1]] }, cfg, 'ids', note), { ids: [[1]] });
  assert.equal(note.inputs, 1);
  assert.equal(refused(() => checkedInputs({ texts: ['aaaa'] }, cfg, 'inputs', note)).param, 'inputs.0');
  assert.equal(refused(() => checkedInputs({ ids: [[1, 2, 3, 4]] }, cfg, 'ids', note)).message, 'ids[0] has 4 token ids, over the limit of 3 (--max-chars)');
});

test('each enum and type message as a client sees it', () => {
  assert.equal(parseBody(OpenAiEmbeddings, { input: 'x', encoding_format: 'float' }).encoding_format, 'float');
  assert.equal(refused(() => parseBody(TeiEmbed, { inputs: 5 })).message, 'inputs: must be a string, an array of strings, or token ids');
  assert.equal(refused(() => parseBody(TeiTokenize, { inputs: 'x', prompt_name: 5 })).message, 'prompt_name: must be a string');
});
