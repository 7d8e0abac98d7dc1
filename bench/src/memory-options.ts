// What onnxruntime's memory features cost in resident memory: the e5-base-shaped int8 model
// run in-process (one child process per setting, pinned to one core) on the load the memory
// target is stated for: 640 multilingual passages of 50–2000 characters, 32 per call. Each
// child reports its peak RSS after the first query and after the load, and the load's rate.
// Settings alternate over two rounds so a drift of the machine shows up as a spread.
//
//   npm run bench:memory

import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SERVING_MEMORY, type SessionMemory } from '../../src/engine/onnx-session.js';
import { Pipeline } from '../../src/pipeline/pipeline.js';
import { CACHE_DIR } from '../../test/helpers/fixtures.js';
import { multilingualPassages } from '../../test/helpers/gettext.js';
import { procMemMB } from '../../test/helpers/load.js';
import { preparedFixture } from '../../test/helpers/models.js';
import { hasTaskset, machineInfo, writeResult } from './machine.js';
import { embedTexts } from '../../test/helpers/door.js';

const SETTINGS: SessionMemory[] = [
  { pattern: true, arena: true },
  { pattern: false, arena: true },
  { pattern: true, arena: false },
  { pattern: false, arena: false },
];

interface ChildResult {
  afterWakeMB: number;
  afterPassagesMB: number;
  residentAfterMB: number;
  passagesPerSec: number;
}

async function child(memory: SessionMemory, passagesFile: string): Promise<ChildResult> {
  const { preparedDir } = await preparedFixture('e5-base', 'int8');
  const pipe = await Pipeline.load(preparedDir, { threads: 1, batchTokens: 256, memory });
  await embedTexts(pipe, ['привет'], { prompt: 'query', truncate: true, normalize: true });
  const afterWakeMB = procMemMB(process.pid).hwm;
  // Made by the parent: reading the gettext catalogs here would weigh more than the model.
  const passages = JSON.parse(readFileSync(passagesFile, 'utf8')) as string[];
  const t0 = performance.now();
  for (let i = 0; i < passages.length; i += 32) await embedTexts(pipe, passages.slice(i, i + 32), { prompt: 'passage', truncate: true, normalize: true });
  const passagesPerSec = passages.length / ((performance.now() - t0) / 1000);
  const after = procMemMB(process.pid);
  const result = { afterWakeMB, afterPassagesMB: after.hwm, residentAfterMB: after.rss, passagesPerSec };
  await pipe.close();
  return result;
}

async function main(): Promise<void> {
  await preparedFixture('e5-base', 'int8'); // made once here, not inside a measured child
  const passagesFile = join(CACHE_DIR, 'bench-passages-640.json');
  writeFileSync(passagesFile, JSON.stringify(multilingualPassages(640, 50, 2000, 7)));
  const pin = hasTaskset() ? ['taskset', '-c', '0'] : [];
  const runs: Array<SessionMemory & ChildResult & { serving: boolean }> = [];
  for (let round = 0; round < 2; round++) {
    for (const memory of SETTINGS) {
      const argv = [...pin, process.execPath, process.argv[1], '--child', JSON.stringify(memory), passagesFile];
      const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
      if (r.status !== 0) throw new Error(`child ${JSON.stringify(memory)} exited ${r.status}`);
      const out = JSON.parse(r.stdout) as ChildResult;
      const serving = memory.pattern === SERVING_MEMORY.pattern && memory.arena === SERVING_MEMORY.arena;
      runs.push({ ...memory, ...out, serving });
      console.log(`memory pattern ${memory.pattern ? 'on ' : 'off'}, arena ${memory.arena ? 'on ' : 'off'}${serving ? ' (serving)' : '          '}: ` +
        `peak RSS after wake ${out.afterWakeMB.toFixed(1)} MB, after 640 passages ${out.afterPassagesMB.toFixed(1)} MB (resident then ${out.residentAfterMB.toFixed(1)}), ${out.passagesPerSec.toFixed(2)} passages/s`);
    }
  }
  const machine = machineInfo();
  const file = writeResult('memory-options', machine, { machine, pinned: pin.length > 0, mode: 'in-process, e5-base-shaped int8 (random weights), batch budget 256 tokens, 640 passages of 50–2000 characters, 32 per call', runs });
  console.log(`\nwritten: ${file}`);
}

const at = process.argv.indexOf('--child');
if (at >= 0) {
  process.stdout.write(JSON.stringify(await child(JSON.parse(process.argv[at + 1]) as SessionMemory, process.argv[at + 2])));
} else {
  await main();
}
