// The real process killed with SIGKILL in the middle of a burst that fills its persistent
// cache, then started again on the same directory: every answer equals a fresh computation by a
// service without a cache (the fp32 fixture: batch-invariant, so the vectors computed in the
// killed process's batches equal those computed alone).

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { preparedFixture } from '../helpers/models.js';
import { spawnServe, type ServeProcess } from '../helpers/serve-process.js';

async function embed(s: ServeProcess, input: string): Promise<{ body: string; cached: number }> {
  const r = await fetch(`${s.url}/v1/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ input, encoding_format: 'base64' }) });
  assert.equal(r.status, 200);
  return { body: await r.text(), cached: Number(r.headers.get('x-cached-inputs') ?? 0) };
}

test('kill -9 during a burst of cache writes, then a restart: every answer equals a fresh computation', { timeout: 300_000 }, async () => {
  const { modelDir } = await preparedFixture('tiny', 'fp32');
  const dir = mkdtempSync(join(tmpdir(), 'ortos-cache-'));
  const args = ['--model-dir', modelDir, '--dtype', 'fp32', '--threads', '1', '--max-queue-wait', '10m'];
  const texts = Array.from({ length: 2000 }, (_, i) => `текст номер ${i} для проверки кеша`);
  const running: ServeProcess[] = [];
  try {
    const first = await spawnServe([...args, '--cache-dir', dir, '--cache-memory-mb', '0']);
    running.push(first);
    await first.waitFor('model ready');
    // Killed from the callback of the 150th answer: answers come a batch at a time, so a poll
    // could come too late on a fast machine; later batches are still queued then.
    let answered = 0;
    const burst = texts.map((t) => embed(first, t).then(() => {
      if (++answered === 150) first.child.kill('SIGKILL');
    }, () => {}));
    await first.exited;
    await Promise.allSettled(burst);
    assert.ok(answered < texts.length, `killed mid-burst: ${answered} of ${texts.length} answered`);

    const again = await spawnServe([...args, '--cache-dir', dir, '--cache-memory-mb', '0']);
    running.push(again);
    const plain = await spawnServe([...args, '--cache-memory-mb', '0']);
    running.push(plain);
    await Promise.all([again.waitFor('model ready'), plain.waitFor('model ready')]);
    let fromCache = 0;
    for (const t of texts) {
      const got = await embed(again, t);
      fromCache += got.cached;
      assert.equal(got.body, (await embed(plain, t)).body, t);
    }
    assert.ok(fromCache > 0, 'the killed process had stored vectors that the new one served');
    assert.ok(!again.logs.some((l) => /damaged|checksum/.test(String(l.msg))), 'nothing was damaged');
  } finally {
    for (const s of running) {
      s.child.kill('SIGTERM');
      await s.exited;
    }
    rmSync(dir, { recursive: true, force: true });
  }
});
