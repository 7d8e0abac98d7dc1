// The API key check on its own: the three ways clients send a key, and everything that must
// not pass (no key, a wrong one, a prefix or extension of the right one, another header).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiError } from '../../src/server/api-error.js';
import { ApiKeyCheck } from '../../src/server/auth.js';

const KEY = 'the-right-key-0123';
const check = new ApiKeyCheck(KEY);
const passes = (headers: Record<string, string | string[] | undefined>): boolean => {
  try {
    check.check(headers);
    return true;
  } catch (e) {
    assert.ok(e instanceof ApiError);
    assert.equal(e.status, 401);
    assert.equal(e.type, 'authentication_error');
    assert.equal(e.code, 'invalid_api_key');
    return false;
  }
};

test('accepted: Bearer (any case, any spaces), the bare key in Authorization, the api-key header', () => {
  for (const h of [{ authorization: `Bearer ${KEY}` }, { authorization: `bearer ${KEY}` }, { authorization: `BEARER   ${KEY}` }, { authorization: KEY }, { 'api-key': KEY }]) {
    assert.equal(passes(h), true, JSON.stringify(h));
  }
});

test('refused: no key, a wrong key, a near miss, the key in an unknown header, Basic auth', () => {
  for (const h of [{}, { authorization: 'Bearer wrong' }, { authorization: `Bearer ${KEY}x` }, { authorization: `Bearer ${KEY.slice(0, -1)}` },
    { authorization: `Bearer  ${KEY} ` }, { 'x-api-key': KEY }, { authorization: `Basic ${Buffer.from(`u:${KEY}`).toString('base64')}` }, { 'api-key': `${KEY} ` },
    { authorization: '' }, { authorization: 'Bearer ' }, { authorization: 'wrong', 'api-key': KEY }, { authorization: `NotBearer ${KEY}` },
    { authorization: `x Bearer ${KEY}` }]) {
    assert.equal(passes(h), false, JSON.stringify(h));
  }
});

test('the message says how to send a missing key, and only that the key is wrong otherwise', () => {
  assert.throws(() => check.check({}), (e: unknown) => e instanceof ApiError && /missing API key: send "Authorization: Bearer <key>"/.test(e.message));
  assert.throws(() => check.check({ authorization: 'Bearer nope' }), (e: unknown) => e instanceof ApiError && e.message === 'invalid API key');
});

test('a header sent twice (an array in node) is not a key', () => {
  assert.equal(passes({ 'api-key': [KEY, KEY] }), false);
});
