// Wake benchmark: spawn the production command (`ortos-embed serve`) and time it to the
// first successful /v1/embeddings answer, pinned to one core, from a cold page cache when
// running as root. The request is sent as soon as the port accepts, as Fly's proxy does.
//
//   node build/bench/src/wake.js [--model-dir DIR] [--dtype int8|q4|fp32] [--runs N] [--vs OTHER/dist/bin/main.js]
//
// With --vs, another build's bin is woken the same way, alternating run by run.

import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { cpuFingerprint } from '../../src/cpu.js';
import { cachedFixture } from '../../test/fixture-models/generate.js';
import type { Dtype } from '../../src/model/layout.js';
import { readManifest } from '../../src/model/manifest.js';
import { defaultPreparedDir } from '../../src/prepare/prepare.js';
import { PROJECT_ROOT } from '../../test/helpers/fixtures.js';
import { BIN } from '../../test/helpers/serve-process.js';
import { dropCaches, hasTaskset, machineInfo, writeResult } from './machine.js';

export interface WakeRun {
  firstResponseMs: number;
  listeningMs: number | null;
  modelReadyMs: number | null;
  peakRssMB: number;
  readMiB: number | null;
  cold: boolean;
}

export function tryConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

export function post(port: number, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/v1/embeddings', method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

function procStatus(pid: number, field: string): number | null {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

function readBytes(pid: number): number | null {
  try {
    const m = /^read_bytes:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

export async function wakeOnce(modelDir: string, port: number, cold: boolean, extraArgs: string[] = [], bin = BIN): Promise<WakeRun> {
  const didDrop = cold ? dropCaches() : false;
  const args = [bin, 'serve', '--model-dir', modelDir, '--host', '127.0.0.1', '--port', String(port), '--threads', '1', ...extraArgs];
  const cmd = hasTaskset() ? ['taskset', '-c', '0', process.execPath, ...args] : [process.execPath, ...args];
  const t0 = performance.now();
  const child = spawn(cmd[0], cmd.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  while (!(await tryConnect(port))) await new Promise((r) => setTimeout(r, 2));
  const status = await post(port, JSON.stringify({ input: 'query: как разбудить сервис быстрее?' }));
  const firstResponseMs = performance.now() - t0;
  if (status !== 200) throw new Error(`first request answered ${status}`);
  // taskset execs node in place, so the child's pid is node's.
  const pid = child.pid as number;
  const hwm = procStatus(pid, 'VmHWM');
  const read = readBytes(pid);
  child.kill('SIGTERM');
  await new Promise((r) => child.on('exit', r));
  const logs = out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
  const at = (msg: string): number | null => {
    const v = logs.find((l) => l.msg === msg)?.sinceStartMs;
    return typeof v === 'number' ? v : null;
  };
  return { firstResponseMs, listeningMs: at('listening'), modelReadyMs: at('model ready'), peakRssMB: (hwm ?? 0) / 1024, readMiB: read === null ? null : read / 2 ** 20, cold: didDrop };
}

function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const get = (n: string): string | undefined => (args.includes(n) ? args[args.indexOf(n) + 1] : undefined);
  const modelDir = get('--model-dir') ?? cachedFixture('e5-base', 'int8');
  const runs = Number(get('--runs') ?? 5);
  const dtype = (get('--dtype') ?? 'int8') as Dtype;
  const extra = ['--dtype', dtype];
  // One run to prepare (not timed), then the measured ones.
  await wakeOnce(modelDir, 18181, false, extra);
  const machine = machineInfo();
  const manifest = readManifest(defaultPreparedDir(modelDir, dtype));
  const prepacked = manifest?.prepacked?.cpu === cpuFingerprint();
  const other = get('--vs');
  const results: Record<string, WakeRun[]> = other ? { cold: [], 'cold, other build': [], warm: [], 'warm, other build': [] } : { cold: [], warm: [] };
  for (const mode of ['cold', 'warm'] as const) {
    for (let i = 0; i < runs; i++) {
      results[mode].push(await wakeOnce(modelDir, 18181, mode === 'cold', extra));
      if (other) results[`${mode}, other build`].push(await wakeOnce(modelDir, 18181, mode === 'cold', extra, other));
    }
  }
  const coldAvailable = results.cold.every((r) => r.cold);
  console.log(`wake: ortos-embed serve --dtype ${dtype} → first /v1/embeddings answer, ${modelDir}, ${runs} runs each, median [min–max]`);
  console.log(`${machine.taskset ? 'pinned to one core (taskset -c 0)' : 'NOT pinned: taskset missing'}; packed weights: ${prepacked ? 'yes' : 'no'}; ` +
    `cold page cache: ${coldAvailable ? 'yes (dropped before each run)' : 'NOT available (needs root): the "cold" rows are warm'}`);
  console.log('| mode | first answer (ms) | listening (ms) | model ready (ms) | peak RSS (MB) | read from disk (MiB) |');
  console.log('|---|---|---|---|---|---|');
  for (const [mode, rs] of Object.entries(results)) {
    const col = (f: (r: WakeRun) => number | null, digits = 0): string => {
      const xs = rs.map(f).filter((x): x is number => x !== null);
      return xs.length ? `${median(xs).toFixed(digits)} [${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)}]` : 'n/a';
    };
    console.log(`| ${mode} | ${col((r) => r.firstResponseMs)} | ${col((r) => r.listeningMs)} | ${col((r) => r.modelReadyMs)} | ${col((r) => r.peakRssMB)} | ${col((r) => r.readMiB)} |`);
  }
  const file = writeResult(`wake${dtype === 'int8' ? '' : `-${dtype}`}${prepacked ? '-prepacked' : ''}`, machine, { machine, modelDir: modelDir.replace(PROJECT_ROOT + '/', ''), dtype, prepacked, coldAvailable, other: other ?? null, runs: results });
  console.log(`written ${file}`);
}

if (process.argv[1]?.endsWith('wake.js')) await main();
