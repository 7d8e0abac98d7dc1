// The long overload run (not part of `npm test`): the e5-base-shaped int8 model, default
// limits, 64 connections for 60 s of mixed single and 32-text requests. Prints and writes
// statuses, latency, peak RSS and how fast latency returns to normal afterwards.
//
//   npm run soak [-- --seconds 60 --connections 64]

import { machineInfo, writeResult } from './machine.js';
import { flood, medianLatency, procMemMB } from '../../test/helpers/load.js';
import { preparedFixture } from '../../test/helpers/models.js';
import { spawnServe } from '../../test/helpers/serve-process.js';

const args = process.argv.slice(2);
const get = (n: string, d: number): number => (args.includes(n) ? Number(args[args.indexOf(n) + 1]) : d);
const seconds = get('--seconds', 60);
const connections = get('--connections', 64);

const { modelDir } = await preparedFixture('e5-base', 'int8');
const s = await spawnServe(['--model-dir', modelDir]);
await s.waitFor('model ready', 60_000);
const single = JSON.stringify({ input: 'query: сколько стоит доставка?' });
const batch32 = JSON.stringify({ input: Array.from({ length: 32 }, (_, i) => `passage: документ ${i}: доставка занимает от двух до семи рабочих дней`) });
const send = (): Promise<Response> => fetch(`${s.url}/v1/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: single });
const before = await medianLatency(send, 20);
const r = await flood(s.url, { connections, seconds, bodies: [single, batch32] });
const mem = procMemMB(s.child.pid as number);
const t0 = performance.now();
let after = await medianLatency(send, 5);
while (after > before * 1.5 + 5 && performance.now() - t0 < 30_000) after = await medianLatency(send, 5);
const recoveryMs = performance.now() - t0;
s.child.kill('SIGTERM');
const exit = await s.exited;
const result = { machine: machineInfo(), modelDir: 'e5-base-shaped int8 fixture', connections, seconds, ...r, peakRssMB: mem.hwm, singleMedianBeforeMs: before, singleMedianAfterMs: after, recoveryMs, exitCode: exit };
console.log(JSON.stringify(result, null, 2));
writeResult('soak', result.machine, result);
