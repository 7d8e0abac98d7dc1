// A 512 MB machine: the e5-base-shaped int8 model served inside a 512 MB memory cgroup,
// sent the largest inputs allowed. The padded-token budget bounds activation memory, so
// nothing is OOM-killed however large the requests are.

import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { preparedFixture } from '../helpers/models.js';
import { spawnServe } from '../helpers/serve-process.js';
import { skipOrFail } from '../helpers/skip.js';

const ROOT = '/sys/fs/cgroup/memory';

test('e5-base int8 in a 512 MB memory cgroup survives max-length batches without an OOM kill', async (t) => {
  if (process.getuid?.() !== 0 || !existsSync(join(ROOT, 'memory.limit_in_bytes'))) {
    skipOrFail(t, 'needs root and the cgroup v1 memory controller; not available here');
    return;
  }
  const { modelDir } = await preparedFixture('e5-base', 'int8');
  const group = join(ROOT, `ortos-test-${process.pid}`);
  mkdirSync(group);
  try {
    writeFileSync(join(group, 'memory.limit_in_bytes'), String(512 * 2 ** 20));
    // The queue's wait limit would rightly refuse the second request on a slow runner; this
    // test is about memory, so it is lifted.
    const s = await spawnServe(['--model-dir', modelDir, '--threads', '2', '--max-queue-wait', '10m'], {}, ['sh', '-c', `echo $$ > ${group}/cgroup.procs && exec "$0" "$@"`]);
    try {
      await s.waitFor('model ready', 60_000);
      const longest = Array.from({ length: 8 }, (_, i) => `passage: ${i} ` + 'длинный многоязычный текст с разными словами '.repeat(80));
      const mixed = [...longest, ...Array.from({ length: 24 }, (_, i) => `query: вопрос ${i}`)];
      const answers = await Promise.all([0, 1].map(() =>
        fetch(`${s.url}/v1/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ input: mixed }) })));
      for (const a of answers) {
        assert.equal(a.status, 200);
        assert.equal(a.headers.get('x-truncated-inputs'), '8');
      }
      const peak = Number(readFileSync(join(group, 'memory.max_usage_in_bytes'), 'utf8')) / 2 ** 20;
      const oom = readFileSync(join(group, 'memory.oom_control'), 'utf8');
      console.log(`512 MB cgroup: peak usage ${peak.toFixed(0)} MB (page cache included), ${oom.replace(/\n/g, ', ')}`);
      assert.equal(s.child.exitCode, null, 'still running');
      assert.doesNotMatch(oom, /oom_kill [1-9]/);
    } finally {
      s.child.kill('SIGTERM');
      await s.exited;
    }
  } finally {
    rmdirSync(group);
  }
});
