// `npm run bench:index`: `ortos-embed embed --input … --output …` on 20,000 gettext passages in
// many languages, the e5-base-shaped int8 model in-process, pinned to one core: wall time, rows
// and tokens per second; then the same job again on a filled --cache-dir (a corpus re-indexed
// unchanged); and the progress bar as a terminal shows it (through `script`'s pseudo-terminal).

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tokenizer } from '../../src/tokenizer/tokenizer.js';
import { readTokenizerFile } from '../../src/tokenizer/binary-file.js';
import { multilingualSample } from '../../test/helpers/gettext.js';
import { preparedFixture } from '../../test/helpers/models.js';
import { BIN } from '../../test/helpers/serve-process.js';
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
    const result = { machine, rows: ROWS, tokens, noCache: row(plain.ms), fillingCache: row(filling.ms), fromCache: { ...row(again.ms), sameOutput: same } };
    console.log(`no cache: ${(plain.ms / 1000).toFixed(1)} s, ${(ROWS / (plain.ms / 1000)).toFixed(0)} rows/s, ${(tokens / (plain.ms / 1000)).toFixed(0)} tokens/s`);
    console.log(`filling a --cache-dir: ${(filling.ms / 1000).toFixed(1)} s; the same job again from it: ${(again.ms / 1000).toFixed(1)} s (output identical: ${same})`);
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
