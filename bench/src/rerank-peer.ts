// transformers.js reranking in its own process, as its documentation shows for cross-encoders
// (AutoTokenizer with text_pair, AutoModelForSequenceClassification, sigmoid of the logits), on
// the same model files: load, then `runs` calls of one query against the passages. Prints one
// JSON object.
//
//   node build/bench/src/rerank-peer.js MODEL_DIR JOB_JSON

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { usableCores } from '../../src/cpu.js';
import { PROJECT_ROOT } from '../../test/helpers/fixtures.js';

interface Tf {
  env: { localModelPath: string; allowRemoteModels: boolean };
  AutoTokenizer: { from_pretrained(name: string): Promise<(q: string[], o: object) => unknown> };
  AutoModelForSequenceClassification: { from_pretrained(name: string, o: object): Promise<(inputs: unknown) => Promise<{ logits: { sigmoid(): { tolist(): number[][] } } }>> };
}

const peers = createRequire(join(PROJECT_ROOT, 'bench', 'peers', 'package.json'));
const [modelDir, jobFile] = process.argv.slice(2);
const job = JSON.parse(readFileSync(jobFile, 'utf8')) as { query: string; passages: string[]; runs: number };

// The thread count its onnxruntime would pick on a machine with this many cores (see peer-child.ts).
const ortPath = createRequire(peers.resolve('@huggingface/transformers')).resolve('onnxruntime-node');
const ortMod = (await import(pathToFileURL(ortPath).href)) as { InferenceSession?: { create: (m: unknown, o?: object) => Promise<unknown> }; default?: { InferenceSession: { create: (m: unknown, o?: object) => Promise<unknown> } } };
const sessions = ortMod.InferenceSession ?? ortMod.default!.InferenceSession;
const create = sessions.create.bind(sessions);
sessions.create = (m, o) => create(m, { intraOpNumThreads: usableCores(), ...o });

const t0 = performance.now();
const tf = (await import(pathToFileURL(peers.resolve('@huggingface/transformers')).href)) as Tf;
tf.env.localModelPath = dirname(modelDir);
tf.env.allowRemoteModels = false;
const tokenizer = await tf.AutoTokenizer.from_pretrained(basename(modelDir));
const model = await tf.AutoModelForSequenceClassification.from_pretrained(basename(modelDir), { dtype: 'q8' });
const score = async (): Promise<number[]> => {
  const inputs = tokenizer(job.passages.map(() => job.query), { text_pair: job.passages, padding: true, truncation: true });
  return (await model(inputs)).logits.sigmoid().tolist().map((r) => r[0]);
};
const first = await score();
const loadMs = performance.now() - t0;
const lat: number[] = [];
for (let i = 0; i < job.runs; i++) {
  const t = performance.now();
  await score();
  lat.push(performance.now() - t);
}
lat.sort((a, b) => a - b);
const status = readFileSync('/proc/self/status', 'utf8');
console.log(JSON.stringify({ loadMs, p50: lat[Math.floor(lat.length / 2)], p95: lat[Math.min(lat.length - 1, Math.floor(lat.length * 0.95))], peakRssMB: Number(/^VmHWM:\s+(\d+)/m.exec(status)?.[1] ?? 0) / 1024, scores: first }));
