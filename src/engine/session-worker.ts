// The inference thread: loads onnxruntime, picks the graph this CPU runs exactly, owns the
// session, the word-embedding rows and the embedder, and runs whole batches (lookup, the
// session, pooling), so that a model run (a 512-token e5-base input takes ~0.25 s on one core)
// never holds the event loop that answers /health and other requests, and only token ids go in
// and pooled vectors come out: the big arrays of a run (the looked-up embeddings and the last
// hidden state, 29 MB each for 32 long passages) stay on this thread. onnxruntime-node's `run`
// is synchronous on the calling thread (its backend wraps the native call in setImmediate), so
// it needs a thread of its own. Protocol: see threaded-session.ts.

import { join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { readManifest } from '../model/manifest.js';
import { Embedder } from './embedder.js';
import { Scorer } from './scorer.js';
import { EmbeddingRows } from './embedding-rows.js';
import { chooseGraph } from './graph-choice.js';
import type { Int8Choice, Int8Weights } from './int8-kernels.js';
import { OnnxSession, ort, type SessionMemory } from './onnx-session.js';

export interface WorkerLoad {
  preparedDir: string;
  int8Weights: Int8Weights;
  threads: number;
  batchTokens: number;
  memory?: SessionMemory;
}

/**
 * One batch: the rows' ids back to back, each row's length, which rows want token vectors, and
 * (for a cross-encoder's pairs) each token's type, laid out as the ids.
 */
export interface RunRequest {
  id: number;
  ids: Int32Array;
  lengths: Int32Array;
  tokens: Uint8Array | null;
  types: Uint8Array | null;
}

export type WorkerReply =
  | { kind: 'graph'; graph: string; int8: Int8Choice | null }
  | { kind: 'ready'; inputs: string[]; outputs: string[]; graph: string; int8: Int8Choice | null }
  | { kind: 'failed'; message: string }
  /** Per row, in row order, its vector (or token vectors) back to back in `data`, from `offsets[r]` to `offsets[r + 1]`. */
  | { kind: 'run'; id: number; data: Float32Array; offsets: Int32Array }
  | { kind: 'error'; id: number; message: string };

const port = parentPort;
if (port === null) throw new Error('session-worker.js runs as a worker thread');
const load = workerData as WorkerLoad;

try {
  const manifest = readManifest(load.preparedDir);
  if (manifest === null) throw new Error(`${load.preparedDir} holds no prepared model (run "ortos-embed prepare")`);
  const { graph, int8 } = await chooseGraph(manifest, load.int8Weights, ort);
  // Known long before the session is open: the embedding cache can answer with it meanwhile.
  port.postMessage({ kind: 'graph', graph, int8 } satisfies WorkerReply);
  const rowsPromise = manifest.embeddings ? EmbeddingRows.open(join(load.preparedDir, manifest.embeddings.file), manifest.embeddings.table) : Promise.resolve(undefined);
  const session = await OnnxSession.load(join(load.preparedDir, graph), { threads: load.threads, memory: load.memory });
  const rows = await rowsPromise;
  const embedder = new Embedder(session, { batchTokens: load.batchTokens, padId: manifest.config.padId, pooling: manifest.rules.pooling, rows });
  const scorer = session.task === 'rerank' ? new Scorer(session, manifest.config.padId, rows) : null;
  port.postMessage({ kind: 'ready', inputs: session.io.inputs, outputs: session.io.outputs, graph, int8 } satisfies WorkerReply);
  port.on('message', (msg: RunRequest | 'release') => {
    if (msg === 'release') {
      void Promise.all([session.release(), rows?.close()]).then(() => port.close());
      return;
    }
    const inputs: number[][] = [];
    const types: number[][] | null = msg.types === null ? null : [];
    let at = 0;
    for (const n of msg.lengths) {
      inputs.push(Array.from(msg.ids.subarray(at, at + n)));
      types?.push(Array.from((msg.types as Uint8Array).subarray(at, at + n)));
      at += n;
    }
    const run = scorer !== null ? scorer.run(inputs, types) : embedder.run(inputs, msg.tokens === null ? null : Array.from(msg.tokens, (t) => t === 1));
    run.then(
      (vectors) => {
        const offsets = new Int32Array(vectors.length + 1);
        vectors.forEach((v, r) => (offsets[r + 1] = offsets[r] + v.length));
        const data = new Float32Array(offsets[vectors.length]);
        vectors.forEach((v, r) => data.set(v, offsets[r]));
        port.postMessage({ kind: 'run', id: msg.id, data, offsets } satisfies WorkerReply, [data.buffer, offsets.buffer]);
      },
      (e: unknown) => port.postMessage({ kind: 'error', id: msg.id, message: (e as Error).message ?? String(e) } satisfies WorkerReply),
    );
  });
} catch (e) {
  port.postMessage({ kind: 'failed', message: (e as Error).message ?? String(e) } satisfies WorkerReply);
}
