// The two tiers together: which exist, hits and misses counted, and copies in and out (the
// door normalizes what it gets in place), also for a vector promoted from disk to memory.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { EmbeddingCache } from '../../src/cache/embedding-cache.js';
import { modelIdentity } from '../../src/cache/identity.js';

const log = (): void => {};
const identity = modelIdentity('a'.repeat(64), 'onnx/model.onnx');

test('no tier asked for: not enabled; each tier only when asked for', async () => {
  const none = await EmbeddingCache.open({ memoryBytes: 0, diskBytes: 1 << 20, log });
  assert.deepEqual([none.enabled, none.memory, none.disk], [false, null, null]);
  const memory = await EmbeddingCache.open({ memoryBytes: 1 << 20, diskBytes: 1 << 20, log });
  assert.deepEqual([memory.enabled, memory.memory !== null, memory.disk], [true, true, null]);
});

test('hits and misses are counted; what comes out is a copy, from memory and when promoted from disk', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ortos-cache-'));
  try {
    const first = await EmbeddingCache.open({ memoryBytes: 1 << 20, dir, diskBytes: 1 << 20, log });
    const v = Float32Array.from([1, 2, 3]);
    assert.deepEqual(first.lookup(identity, [[0, 5, 2], [0, 6, 2]]), [undefined, undefined]);
    first.store(identity, [[0, 5, 2]], [v]);
    v[0] = 99;
    const [got] = first.lookup(identity, [[0, 5, 2]]);
    assert.deepEqual(Array.from(got ?? []), [1, 2, 3], 'stored as a copy');
    got?.fill(0);
    assert.deepEqual(Array.from(first.lookup(identity, [[0, 5, 2]])[0] ?? []), [1, 2, 3], 'handed out as a copy');
    assert.deepEqual([first.hits, first.misses], [2, 2]);
    first.close();
    // A new process: the memory tier is empty, the vector comes from disk and is promoted.
    const second = await EmbeddingCache.open({ memoryBytes: 1 << 20, dir, diskBytes: 1 << 20, log });
    const [fromDisk] = second.lookup(identity, [[0, 5, 2]]);
    assert.equal(second.memory?.entries, 1, 'promoted to memory');
    fromDisk?.fill(7);
    assert.deepEqual(Array.from(second.lookup(identity, [[0, 5, 2]])[0] ?? []), [1, 2, 3], 'the promoted copy is not the one handed out');
    assert.deepEqual([second.hits, second.misses], [2, 0]);
    assert.equal(second.lookup(modelIdentity('b'.repeat(64), 'onnx/model.onnx'), [[0, 5, 2]])[0], undefined, 'another model: a miss');
    second.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
