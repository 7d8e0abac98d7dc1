// `npm run bench:output`: what each output format of `embed --output` costs to write and to keep,
// for 20,000 e5-base-sized vectors (768 dimensions) in each type: seconds to write through the
// job's own sinks (a checkpoint every 64 rows, as the job does), bytes on disk, and hyparquet-
// writer's import time (it is loaded only for Parquet). Vectors are random: the figures are about
// the formats, not the model.
//
//   node build/bench/src/output-formats.js [--rows N]

import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSink } from '../../src/corpus/sinks/open-sink.js';
import { idsPathOf } from '../../src/corpus/sinks/npy-sink.js';
import type { OutputFormat } from '../../src/corpus/sinks/sink.js';
import { compactVector, Quantizer, rangesOf, type OutputDtype } from '../../src/vectors/compact.js';
import { machineInfo, writeResult } from './machine.js';

async function main(): Promise<void> {
  const rows = process.argv.includes('--rows') ? Number(process.argv[process.argv.indexOf('--rows') + 1]) : 20_000;
  const dim = 768;
  let seed = 7;
  const rnd = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32) * 2 - 1;
  const vectors = Array.from({ length: rows }, () => {
    const v = Float32Array.from({ length: dim }, rnd);
    const n = Math.hypot(...v);
    return v.map((x) => x / n);
  });
  const q = new Quantizer(rangesOf(vectors.slice(0, 500)));
  const t0 = performance.now();
  await import('hyparquet-writer');
  const importMs = performance.now() - t0;
  const work = mkdtempSync(join(tmpdir(), 'ortos-bench-output-'));
  const table: Array<Record<string, unknown>> = [];
  try {
    for (const dtype of ['float', 'int8', 'ubinary'] as OutputDtype[]) {
      const typed = vectors.map((v) => compactVector(v, dtype, q));
      for (const format of ['jsonl', 'npy', 'parquet'] as OutputFormat[]) {
        const output = join(work, `${dtype}.${format}`);
        const t = performance.now();
        const sink = openSink(format, { output, dtype, lineIds: true }, { outputBytes: 0, idsBytes: 0, width: 0 });
        for (let i = 0; i < rows; i += 64) {
          sink.append(typed.slice(i, i + 64).map((vector, k) => ({ id: i + k + 1, vector })));
          sink.sync();
        }
        await sink.finish();
        sink.discardStaging?.();
        sink.close();
        const seconds = (performance.now() - t) / 1000;
        const bytes = statSync(output).size + (format === 'npy' ? statSync(idsPathOf(output)).size : 0);
        table.push({ dtype, format, seconds: +seconds.toFixed(2), MiB: +(bytes / 2 ** 20).toFixed(1), bytesPerVector: Math.round(bytes / rows) });
        console.log(dtype, format, seconds.toFixed(2), 's', (bytes / 2 ** 20).toFixed(1), 'MiB');
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const machine = machineInfo();
  console.log(`wrote ${writeResult('output-formats', machine, { machine, rows, dim, hyparquetWriterImportMs: +importMs.toFixed(1), table })}`);
}

await main();
