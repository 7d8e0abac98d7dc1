// `npm run bench:request -- --vs OTHER/dist/bin/main.js`: the embedding request path of this
// build against another, in the same run, e5-base-shaped int8, one core, no embedding cache:
// one short query's latency (p50, p95 of 200 sequential requests) and throughput (640 passages,
// 32 a request, 4 at a time), alternating builds round by round. Each build serves from its own
// prepared folder (builds of another prepared format would remake each other's).
//
//   node build/bench/src/request-path.js --vs OTHER/dist/bin/main.js [--rounds N]

import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { multilingualPassages } from '../../test/helpers/gettext.js';
import { CACHE_DIR } from '../../test/helpers/fixtures.js';
import { preparedFixture } from '../../test/helpers/models.js';
import { BIN, spawnServe } from '../../test/helpers/serve-process.js';
import { hasTaskset, machineInfo, writeResult } from './machine.js';
import { median, ortosLoad, pct } from './http-load.js';

const PIN = hasTaskset() ? ['taskset', '-c', '0'] : [];

async function main(): Promise<void> {
  const get = (flag: string): string | undefined => (process.argv.includes(flag) ? process.argv[process.argv.indexOf(flag) + 1] : undefined);
  const other = get('--vs');
  if (other === undefined) throw new Error('--vs OTHER/dist/bin/main.js is required: this compares two builds');
  const rounds = Number(get('--rounds') ?? 3);
  const { modelDir } = await preparedFixture('e5-base', 'int8');
  const otherPrepared = join(CACHE_DIR, 'prepared-other-build');
  execFileSync(process.execPath, [other, 'prepare', '--model-dir', modelDir, '--prepared-dir', otherPrepared], { stdio: 'ignore' });
  const passages = multilingualPassages(640, 50, 2000, 11).map((p) => `passage: ${p}`);
  const builds: Array<[string, string, string[]]> = [['this build', BIN, []], ['other build', other, ['--prepared-dir', otherPrepared]]];
  const figures: Record<string, { p50: number[]; p95: number[]; passagesPerSec: number[] }> = Object.fromEntries(builds.map(([n]) => [n, { p50: [], p95: [], passagesPerSec: [] }]));
  for (let r = 0; r < rounds; r++) {
    for (const [name, bin, extra] of builds) {
      const s = await spawnServe(['--model-dir', modelDir, '--threads', '1', '--max-queue-wait', '600s', '--cache-memory-mb', '0', ...extra], {}, PIN, bin);
      try {
        await s.waitFor('model ready', 120_000);
        const lat: number[] = [];
        for (let i = 0; i < 220; i++) {
          const t = performance.now();
          const res = await fetch(`${s.url}/v1/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ input: `query: как разбудить сервис номер ${i}?` }) });
          await res.arrayBuffer();
          if (i >= 20) lat.push(performance.now() - t);
        }
        const load = await ortosLoad(s.url, passages, 32, 4);
        figures[name].p50.push(+pct(lat, 0.5).toFixed(2));
        figures[name].p95.push(+pct(lat, 0.95).toFixed(2));
        figures[name].passagesPerSec.push(+load.textsPerSec.toFixed(1));
        console.log(name, 'round', r + 1, 'p50', pct(lat, 0.5).toFixed(2), 'ms', 'passages/s', load.textsPerSec.toFixed(1));
      } finally {
        s.child.kill('SIGTERM');
        await s.exited;
      }
    }
  }
  const summary = Object.fromEntries(Object.entries(figures).map(([k, v]) => [k, { ...v, medianP50: median(v.p50), medianPassagesPerSec: median(v.passagesPerSec) }]));
  const machine = machineInfo();
  console.log(`wrote ${writeResult('request-path', machine, { machine, pinned: PIN.length > 0, other, summary })}`);
}

await main();
