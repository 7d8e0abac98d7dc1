// `npm run bench:cache`: what the embedding cache buys and costs, e5-base-shaped int8 model,
// one core, through the HTTP API:
//
// 1. One repeated short query: p50 of a hit against the same query computed (no-store).
// 2. Re-embedding a 2,000-passage corpus of which 10% changed: with a persistent cache filled by
//    the first pass, against the same pass without a cache.
// 3. A cold start with a warm persistent cache on a 16 MiB/s volume (root: loop device, cgroup
//    blkio throttle, page cache dropped): the first answer to a cached query, against when the
//    model is ready.
// 4. Wake and RSS after wake: no cache, the in-memory cache, and an empty persistent cache too,
//    alternating run by run.
//
//   node build/bench/src/cache.js [--runs N] [--only query|corpus|volume|wake]

import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { multilingualSample } from '../../test/helpers/gettext.js';
import { preparedFixture } from '../../test/helpers/models.js';
import { BIN, spawnServe, type ServeProcess } from '../../test/helpers/serve-process.js';
import { hasTaskset, machineInfo, writeResult } from './machine.js';
import { median, ortosLoad, pct } from './http-load.js';
import { LoopDisk, Sandbox, unavailable } from './throttled-disk.js';
import { tryConnect, wakeOnce, type WakeRun } from './wake.js';

const PIN = hasTaskset() ? ['taskset', '-c', '0'] : [];
const MiB = 2 ** 20;

async function serve(modelDir: string, extra: string[]): Promise<ServeProcess> {
  const s = await spawnServe(['--model-dir', modelDir, '--threads', '1', '--max-queue-wait', '600s', ...extra], {}, PIN);
  await s.waitFor('model ready', 120_000);
  return s;
}

async function stop(s: ServeProcess): Promise<void> {
  s.child.kill('SIGTERM');
  await s.exited;
}

async function oneQuery(url: string, headers: Record<string, string>, n: number): Promise<{ p50: number; p95: number }> {
  const lat: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    const r = await fetch(`${url}/v1/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: '{"input":"query: как дела?"}' });
    await r.arrayBuffer();
    lat.push(performance.now() - t);
  }
  return { p50: pct(lat, 0.5), p95: pct(lat, 0.95) };
}

async function main(): Promise<void> {
  const runs = Number(process.argv[process.argv.indexOf('--runs') + 1] || 5);
  const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : null;
  const part = (name: string): boolean => only === null || only === name;
  const machine = machineInfo();
  const { modelDir, preparedDir } = await preparedFixture('e5-base', 'int8');
  const work = mkdtempSync(join(tmpdir(), 'ortos-bench-cache-'));
  const result: Record<string, unknown> = { machine };
  try {
    // 1. One repeated short query.
    if (part('query')) {
    console.log('one repeated query …');
    const s = await serve(modelDir, []);
    await oneQuery(s.url, {}, 20);
    const computed = await oneQuery(s.url, { 'cache-control': 'no-store' }, 200);
    const hit = await oneQuery(s.url, {}, 200);
    await stop(s);
    result.repeatedQuery = { computed, hit };
    console.log(`one repeated query over HTTP: p50 ${hit.p50.toFixed(2)} ms from the cache, ${computed.p50.toFixed(2)} ms computed (p95 ${hit.p95.toFixed(2)} / ${computed.p95.toFixed(2)})`);
    }

    // 2. A corpus re-embedded with 10% of its passages changed.
    if (part('corpus')) {
    console.log('re-embedding a corpus …');
    const corpus = multilingualSample(2000, 11).map((t) => `passage: ${t}`);
    const dir = join(work, 'corpus-cache');
    const first = await serve(modelDir, ['--cache-memory-mb', '0', '--cache-dir', dir]);
    const filling = await ortosLoad(first.url, corpus, 32, 1);
    await stop(first);
    const secs = (f: { textsPerSec: number }): number => corpus.length / f.textsPerSec;
    const rows: Array<Record<string, number>> = [];
    // Requests of 32 (a common client batch) and of 128; each size changes its own 10%.
    for (const per of [32, 128]) {
      const changed = corpus.map((t, i) => (i % 10 === 3 ? `${t} (изменено, ${per})` : t));
      const none = await serve(modelDir, ['--cache-memory-mb', '0']);
      const without = await ortosLoad(none.url, changed, per, 1);
      await stop(none);
      // A new process: the vectors come from the persistent tier, as after a redeploy.
      const again = await serve(modelDir, ['--cache-memory-mb', '0', '--cache-dir', dir]);
      const withCache = await ortosLoad(again.url, changed, per, 1);
      await stop(again);
      rows.push({ perRequest: per, withoutCacheS: secs(without), withCacheS: secs(withCache), speedup: secs(without) / secs(withCache) });
      console.log(`2,000 passages, 10% changed, ${per} per request: ${secs(withCache).toFixed(2)} s with the cache (a new process on its directory), ${secs(without).toFixed(2)} s without: ${(secs(without) / secs(withCache)).toFixed(1)}×`);
    }
    console.log(`the first pass, which filled the cache: ${secs(filling).toFixed(2)} s`);
    result.corpus = { passages: corpus.length, changedShare: 0.1, firstPassS: secs(filling), runs: rows };
    }

    // 3. Cold start on a throttled volume with a warm persistent cache.
    const why = part('volume') ? unavailable() : 'not asked for';
    if (why) {
      console.log(`cold start on a 16 MiB/s volume: skipped (${why})`);
      result.slowVolume = { skipped: why };
    } else {
      console.log('cold start on a 16 MiB/s volume …');
      const volume = LoopDisk.create(work, 'volume', 1200);
      try {
        execFileSync('cp', ['-r', preparedDir, join(volume.mnt, 'e5')]);
        const cacheDir = join(volume.mnt, 'cache');
        const warm = await spawnServe(['--prepared-dir', join(volume.mnt, 'e5'), '--threads', '1', '--cache-dir', cacheDir], { HF_HUB_OFFLINE: '1' });
        await warm.waitFor('model ready', 120_000);
        await fetch(`${warm.url}/v1/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"input":"query: как разбудить сервис быстрее?"}' });
        await stop(warm);
        const rows: Array<Record<string, unknown>> = [];
        for (let i = 0; i < 3; i++) {
          const box = Sandbox.create([{ disk: volume, bytesPerSecond: 16 * MiB, iops: 4000 }], 512);
          const port = 18193;
          let modelReadyMs = 0;
          try {
            const t0 = performance.now();
            const r = await box.run(process.execPath, [BIN, 'serve', '--prepared-dir', join(volume.mnt, 'e5'), '--host', '127.0.0.1', '--port', String(port), '--threads', '1', '--cache-dir', cacheDir, '--load-timeout', '120s'], { HF_HUB_OFFLINE: '1' }, async () => {
              while (!(await tryConnect(port))) await new Promise((res) => setTimeout(res, 2));
              const a = await fetch(`http://127.0.0.1:${port}/v1/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"input":"query: как разбудить сервис быстрее?"}' });
              const cachedAnswer = a.status === 200 && a.headers.get('x-cached-inputs') === '1';
              const answeredAt = performance.now() - t0;
              for (;;) {
                const ready = await fetch(`http://127.0.0.1:${port}/ready`);
                if (ready.status === 200) break;
                await new Promise((res) => setTimeout(res, 5));
              }
              modelReadyMs = performance.now() - t0;
              rows.push({ cachedAnswer, firstAnswerMs: Math.round(answeredAt) });
              return cachedAnswer;
            });
            Object.assign(rows[rows.length - 1], { modelReadyMs: Math.round(modelReadyMs), ok: r.ok, fromVolumeMiB: Math.round(box.bytesRead(volume) / MiB) });
            console.log(JSON.stringify(rows[rows.length - 1]));
          } finally {
            box.destroy();
          }
        }
        result.slowVolume = rows;
      } finally {
        volume.destroy();
      }
    }

    // 4. Wake: no cache, the in-memory cache (the default), and an empty persistent cache too.
    if (part('wake')) {
    console.log('wake …');
    const modes: Array<[string, () => string[]]> = [
      ['no cache', () => ['--cache-memory-mb', '0']],
      ['in-memory cache (default)', () => []],
      ['in-memory + empty --cache-dir', () => ['--cache-dir', mkdtempSync(join(work, 'empty-'))]],
    ];
    const wakes: Record<string, { cold: WakeRun[]; warm: WakeRun[] }> = Object.fromEntries(modes.map(([m]) => [m, { cold: [], warm: [] }]));
    for (const [, args] of modes) await wakeOnce(modelDir, 18194, false, args());
    for (let i = 0; i < runs; i++) for (const [m, args] of modes) wakes[m].cold.push(await wakeOnce(modelDir, 18194, true, args()));
    for (let i = 0; i < runs; i++) for (const [m, args] of modes) wakes[m].warm.push(await wakeOnce(modelDir, 18194, false, args()));
    console.log('| cache | wake, cold (ms) | wake, warm (ms) | peak RSS after wake (MB) |');
    console.log('|---|---|---|---|');
    for (const [m] of modes) {
      const w = wakes[m];
      console.log(`| ${m} | ${median(w.cold.map((r) => r.firstResponseMs)).toFixed(0)} | ${median(w.warm.map((r) => r.firstResponseMs)).toFixed(0)} | ${median(w.warm.map((r) => r.peakRssMB)).toFixed(0)} |`);
    }
    result.wake = wakes;
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  console.log(`written ${writeResult('cache', machine, result)}`);
}

await main();
