// `npm run bench:index`: `ortos-embed embed --input … --output …` on 20,000 gettext passages in
// many languages, the e5-base-shaped int8 model in-process, pinned to one core: wall time, rows
// and tokens per second; then the same job again on a filled --cache-dir (a corpus re-indexed
// unchanged); against one `serve` (--url) and against two behind HAProxy (least connections),
// each service pinned to its own core; and the progress bar as a terminal shows it (through
// `script`'s pseudo-terminal).

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tokenizer } from '../../src/tokenizer/tokenizer.js';
import { readTokenizerFile } from '../../src/tokenizer/binary-file.js';
import { multilingualSample } from '../../test/helpers/gettext.js';
import { preparedFixture } from '../../test/helpers/models.js';
import { spawn } from 'node:child_process';
import { BIN, spawnServe } from '../../test/helpers/serve-process.js';
import { hasTaskset, machineInfo, writeResult } from './machine.js';

const ROWS = 20_000;

function timed(args: string[]): { ms: number; stderr: string } {
  const cmd = hasTaskset() ? ['taskset', '-c', '0', process.execPath, BIN, ...args] : [process.execPath, BIN, ...args];
  const t0 = performance.now();
  const r = spawnSync(cmd[0], cmd.slice(1), { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`embed failed: ${r.stderr}`);
  return { ms: performance.now() - t0, stderr: r.stderr };
}

async function main(): Promise<void> {
  const machine = machineInfo();
  const { modelDir, preparedDir } = await preparedFixture('e5-base', 'int8');
  const work = mkdtempSync(join(tmpdir(), 'ortos-bench-index-'));
  try {
    const texts = multilingualSample(ROWS + 2000, 21).filter((t) => t.trim() !== '').slice(0, ROWS);
    const input = join(work, 'corpus.jsonl');
    writeFileSync(input, texts.map((t, i) => JSON.stringify({ id: `doc-${i}`, text: t })).join('\n') + '\n');
    const tok = new Tokenizer(readTokenizerFile(join(preparedDir, 'tokenizer.bin')).data);
    const tokens = texts.reduce((n, t) => n + tok.encode(`passage: ${t}`, { maxLength: 512 }).ids.length, 0);
    const base = ['embed', '--model-dir', modelDir, '--threads', '1', '--input', input, '--id-field', 'id', '--input-type', 'passage'];
    console.log(`${ROWS} passages, ${tokens} tokens …`);
    const plain = timed([...base, '--output', join(work, 'plain.jsonl'), '--cache-memory-mb', '0']);
    const cacheDir = join(work, 'cache');
    const filling = timed([...base, '--output', join(work, 'fill.jsonl'), '--cache-dir', cacheDir]);
    const again = timed([...base, '--output', join(work, 'again.jsonl'), '--cache-dir', cacheDir]);
    const same = readFileSync(join(work, 'fill.jsonl')).equals(readFileSync(join(work, 'again.jsonl')));
    const row = (ms: number): Record<string, number> => ({ seconds: ms / 1000, rowsPerSec: ROWS / (ms / 1000), tokensPerSec: tokens / (ms / 1000) });
    const result: Record<string, unknown> = { machine, rows: ROWS, tokens, noCache: row(plain.ms), fillingCache: row(filling.ms), fromCache: { ...row(again.ms), sameOutput: same } };
    console.log(`no cache: ${(plain.ms / 1000).toFixed(1)} s, ${(ROWS / (plain.ms / 1000)).toFixed(0)} rows/s, ${(tokens / (plain.ms / 1000)).toFixed(0)} tokens/s`);
    console.log(`filling a --cache-dir: ${(filling.ms / 1000).toFixed(1)} s; the same job again from it: ${(again.ms / 1000).toFixed(1)} s (output identical: ${same})`);
    // Over HTTP: one service, then two behind HAProxy, each on its own core.
    const remote: Record<string, unknown> = {};
    if (spawnSync('haproxy', ['-v']).status === 0) {
      const serveArgs = ['--model-dir', modelDir, '--threads', '1', '--cache-memory-mb', '0', '--max-queue-wait', '10m'];
      const a = await spawnServe(serveArgs, {}, ['taskset', '-c', '0']);
      const b = await spawnServe(serveArgs, {}, ['taskset', '-c', '1']);
      await Promise.all([a.waitFor('model ready', 120_000), b.waitFor('model ready', 120_000)]);
      const cfg = join(work, 'haproxy.cfg');
      writeFileSync(cfg, ['defaults', '  mode http', '  timeout connect 2s', '  timeout client 120s', '  timeout server 120s', 'frontend in', '  bind 127.0.0.1:18195', '  default_backend s',
        'backend s', '  balance leastconn', `  server a ${new URL(a.url).host}`, `  server b ${new URL(b.url).host}`, ''].join('\n'));
      const proxy = spawn('haproxy', ['-f', cfg, '-db'], { stdio: 'ignore' });
      await new Promise((r) => setTimeout(r, 500));
      try {
        const viaUrl = (url: string, name: string, concurrency: number): number => {
          const t0 = performance.now();
          const r = spawnSync(process.execPath, [BIN, 'embed', '--input', input, '--id-field', 'id', '--input-type', 'passage', '--output', join(work, `${name}.jsonl`), '--url', url, '--concurrency', String(concurrency)], { encoding: 'utf8' });
          if (r.status !== 0) throw new Error(`embed --url failed: ${r.stderr}`);
          return performance.now() - t0;
        };
        const one = viaUrl(a.url, 'one', 4);
        const two = viaUrl('http://127.0.0.1:18195', 'two', 8);
        const equal = readFileSync(join(work, 'one.jsonl')).equals(readFileSync(join(work, 'two.jsonl')));
        Object.assign(remote, { oneService: row(one), twoBehindHaproxy: row(two), speedup: one / two, sameOutput: equal });
        console.log(`--url, one service: ${(one / 1000).toFixed(1)} s (${(tokens / (one / 1000)).toFixed(0)} tokens/s); two behind HAProxy: ${(two / 1000).toFixed(1)} s (${(tokens / (two / 1000)).toFixed(0)} tokens/s), ${(one / two).toFixed(2)}×; outputs identical: ${equal} (int8 vectors depend slightly on their batch-mates)`);
      } finally {
        proxy.kill('SIGTERM');
        for (const s2 of [a, b]) {
          s2.child.kill('SIGTERM');
          await s2.exited;
        }
      }
    } else {
      console.log('--url runs: skipped (no haproxy)');
    }
    Object.assign(result, { remote });

    // The bar as a terminal shows it: a short job under a pseudo-terminal, its last redraw.
    const small = join(work, 'small.jsonl');
    writeFileSync(small, readFileSync(input, 'utf8').split('\n').slice(0, 2000).join('\n') + '\n');
    const tty = execFileSync('script', ['-qec', [process.execPath, BIN, 'embed', '--model-dir', modelDir, '--threads', '1', '--input', small, '--id-field', 'id', '--input-type', 'passage', '--output', join(work, 'tty.jsonl')].map((a) => `'${a}'`).join(' '), '/dev/null'], { encoding: 'utf8' });
    const redraws = tty.split('\r').map((l) => l.trim()).filter((l) => l.startsWith('['));
    console.log(`progress bar (${redraws.length} redraws), one mid-way: ${redraws[Math.floor(redraws.length / 2)] ?? 'none'}`);
    console.log(`written ${writeResult('index-corpus', machine, { ...result, progressBar: redraws[Math.floor(redraws.length / 2)] ?? null })}`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
