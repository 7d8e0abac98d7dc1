// The in-memory tier: least recently used out first, never over its bound in bytes.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryTier } from '../../src/cache/memory-tier.js';

const vec = (n: number, fill: number): Float32Array => new Float32Array(n).fill(fill);

test('holds what fits; a hit makes an entry the most recent; the least recent goes first', () => {
  const one = vec(100, 1).byteLength + 120;
  const m = new MemoryTier(3 * one);
  m.set('a', vec(100, 1));
  m.set('b', vec(100, 2));
  m.set('c', vec(100, 3));
  assert.equal(m.entries, 3);
  assert.equal(m.get('a')?.[0], 1, 'a is now the most recent');
  m.set('d', vec(100, 4));
  assert.equal(m.get('b'), undefined, 'b was the least recent');
  assert.deepEqual(['a', 'c', 'd'].map((k) => m.get(k)?.[0]), [1, 3, 4]);
  assert.equal(m.evictions, 1);
  assert.equal(m.bytes, 3 * one);
});

test('a flood of distinct entries never passes the bound; replacing an entry does not count it twice', () => {
  const m = new MemoryTier(50_000);
  for (let i = 0; i < 10_000; i++) {
    m.set(`k${i}`, vec(768, i));
    assert.ok(m.bytes <= 50_000, `${m.bytes} bytes after ${i + 1}`);
  }
  assert.equal(m.get('k9999')?.[0], 9999);
  const before = m.bytes;
  m.set('k9999', vec(768, 1));
  assert.equal(m.bytes, before);
  m.set('huge', vec(100_000, 1));
  assert.equal(m.get('huge'), undefined, 'an entry over the whole bound is not kept');
  m.clear();
  assert.deepEqual([m.entries, m.bytes], [0, 0]);
});

test('replacing an entry keeps the count and the bytes; looking up a missing key adds nothing', () => {
  const m = new MemoryTier(10 * (vec(8, 0).byteLength + 120));
  for (let i = 0; i < 5; i++) m.set(`k${i}`, vec(8, i));
  const [entries, bytes] = [m.entries, m.bytes];
  m.set('k2', vec(8, 42));
  assert.deepEqual([m.entries, m.bytes], [entries, bytes]);
  assert.equal(m.get('k2')?.[0], 42);
  assert.equal(m.get('nothing'), undefined);
  assert.deepEqual([m.entries, m.bytes], [entries, bytes]);
});
