// One peer library in its own process, for the benchmark: load the model from a hub-layout
// folder, embed one text (wake), then the memory and throughput phases. Prints one JSON
// object. Peers run in-process (no HTTP): the report says so.
//
//   node build/bench/src/peer-child.js transformers|fastembed MODEL_DIR TEXTS_JSON

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { usableCores } from '../../src/cpu.js';
import { PROJECT_ROOT } from '../../test/helpers/fixtures.js';

type Embed = (texts: string[]) => Promise<number>;

const peersRequire = createRequire(join(PROJECT_ROOT, 'bench', 'peers', 'package.json'));
const importPeer = async <T>(name: string): Promise<T> => (await import(pathToFileURL(peersRequire.resolve(name)).href)) as T;

function status(field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(readFileSync('/proc/self/status', 'utf8'));
  return Number(m?.[1] ?? 0) / 1024;
}

function readMiB(): number {
  const m = /^read_bytes:\s+(\d+)/m.exec(readFileSync('/proc/self/io', 'utf8'));
  return Number(m?.[1] ?? 0) / 2 ** 20;
}

interface OrtSessionClass {
  create: (model: unknown, options?: Record<string, unknown>) => Promise<unknown>;
}

/**
 * The peers' onnxruntime gets the thread count it would pick on a machine with this many
 * cores. Left to itself it counts the host's cores and pins a worker thread to a core
 * outside `taskset -c 0` (seen here: 2 cores busy, 12 ms instead of 18 ms per query), which
 * a one-vCPU machine would not give it. ortos-embed does the same on its own (--threads
 * defaults to the usable cores).
 */
async function oneMachineThreads(peer: string): Promise<void> {
  // The onnxruntime the peer itself resolves: fastembed carries an older one of its own, and
  // two versions of the native library cannot share a process.
  const ortPath = createRequire(peersRequire.resolve(peer)).resolve('onnxruntime-node');
  const mod = (await import(pathToFileURL(ortPath).href)) as { InferenceSession?: OrtSessionClass; default?: { InferenceSession: OrtSessionClass } };
  const sessions = mod.InferenceSession ?? mod.default!.InferenceSession;
  const create = sessions.create.bind(sessions);
  const cores = usableCores();
  sessions.create = (model, options) => create(model, { intraOpNumThreads: cores, ...options });
}

async function load(impl: string, modelDir: string): Promise<Embed> {
  await oneMachineThreads(impl === 'transformers' ? '@huggingface/transformers' : 'fastembed');
  if (impl === 'transformers') {
    interface Tf {
      env: { localModelPath: string; allowRemoteModels: boolean };
      pipeline: (task: string, model: string, opts: object) => Promise<(t: string[], o: object) => Promise<{ dims: number[] }>>;
    }
    const tf = await importPeer<Tf>('@huggingface/transformers');
    tf.env.localModelPath = dirname(modelDir);
    tf.env.allowRemoteModels = false;
    const extractor = await tf.pipeline('feature-extraction', basename(modelDir), { dtype: 'q8' });
    return async (texts) => (await extractor(texts, { pooling: 'mean', normalize: true })).dims[0];
  }
  interface Fe {
    EmbeddingModel: { CUSTOM: string };
    FlagEmbedding: { init(o: object): Promise<{ embed(t: string[], batch: number): AsyncGenerator<number[][]> }> };
  }
  const fe = await importPeer<Fe>('fastembed');
  const model = await fe.FlagEmbedding.init({ model: fe.EmbeddingModel.CUSTOM, modelAbsoluteDirPath: modelDir, modelName: 'onnx/model_tti.onnx', maxLength: 512, showDownloadProgress: false });
  return async (texts) => {
    let n = 0;
    for await (const batch of model.embed(texts, texts.length)) n += batch.length;
    return n;
  };
}

function percentiles(xs: number[]): { p50: number; p95: number; p99: number } {
  const s = xs.slice().sort((a, b) => a - b);
  const at = (q: number): number => s[Math.min(s.length - 1, Math.floor(q * s.length))];
  return { p50: at(0.5), p95: at(0.95), p99: at(0.99) };
}

const [impl, modelDir, textsFile, limit, mode] = process.argv.slice(2);
const texts = (JSON.parse(readFileSync(textsFile, 'utf8')) as string[]).slice(0, limit ? Number(limit) : undefined);
const embed = await load(impl, modelDir);
await embed(['query: как разбудить сервис быстрее?']);
const wake = { firstEmbeddingMs: performance.now(), hwmMB: status('VmHWM'), readMiB: readMiB() };
if (mode === 'wake') {
  process.stdout.write(JSON.stringify({ texts: 1, wake }));
  process.exit(0);
}
for (let i = 0; i < 200; i++) await embed([`query: вопрос номер ${i}`]);
const after200 = status('VmHWM');
const grouping: Record<string, { callsPerSec: number; textsPerSec: number; p50: number; p95: number; p99: number }> = {};
for (const per of [1, 32]) {
  const lat: number[] = [];
  const t0 = performance.now();
  for (let i = 0; i < texts.length; i += per) {
    const t = performance.now();
    await embed(texts.slice(i, i + per));
    lat.push(performance.now() - t);
  }
  const s = (performance.now() - t0) / 1000;
  grouping[String(per)] = { callsPerSec: lat.length / s, textsPerSec: texts.length / s, ...percentiles(lat) };
}
const after20x32 = status('VmHWM');
process.stdout.write(JSON.stringify({ texts: texts.length, wake, memory: { afterWakeMB: wake.hwmMB, after200SinglesMB: after200, afterBatchesMB: after20x32 }, grouping }));
