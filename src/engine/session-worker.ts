// The inference thread: loads onnxruntime, picks the graph this CPU runs exactly, owns the
// session and runs it, so that a model run (a 512-token e5-base input takes ~0.25 s on one
// core) never holds the event loop that answers /health and other requests. onnxruntime-node's
// `run` is synchronous on the calling thread (its backend wraps the native call in
// setImmediate), so it needs a thread of its own. Protocol: see threaded-session.ts.

import { join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { readManifest } from '../model/manifest.js';
import { chooseGraph } from './graph-choice.js';
import type { Int8Choice, Int8Weights } from './int8-kernels.js';
import { OnnxSession, ort, type SessionMemory } from './onnx-session.js';

export interface WorkerLoad {
  preparedDir: string;
  int8Weights: Int8Weights;
  threads: number;
  memory?: SessionMemory;
}

export interface ForwardRequest {
  id: number;
  ids: BigInt64Array;
  mask: BigInt64Array;
  rows: number;
  cols: number;
  embeds?: Float32Array;
}

export type WorkerReply =
  | { kind: 'graph'; graph: string; int8: Int8Choice | null }
  | { kind: 'ready'; inputs: string[]; outputs: string[]; graph: string; int8: Int8Choice | null }
  | { kind: 'failed'; message: string }
  | { kind: 'forward'; id: number; hidden: Float32Array; dim: number }
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
  const session = await OnnxSession.load(join(load.preparedDir, graph), { threads: load.threads, memory: load.memory });
  port.postMessage({ kind: 'ready', inputs: session.io.inputs, outputs: session.io.outputs, graph, int8 } satisfies WorkerReply);
  port.on('message', (msg: ForwardRequest | 'release') => {
    if (msg === 'release') {
      void session.release().then(() => port.close());
      return;
    }
    session.forward(msg.ids, msg.mask, msg.rows, msg.cols, msg.embeds).then(
      ({ hidden, dim }) => {
        const reply: WorkerReply = { kind: 'forward', id: msg.id, hidden, dim };
        try {
          port.postMessage(reply, [hidden.buffer as ArrayBuffer]);
        } catch {
          port.postMessage(reply); // a buffer onnxruntime keeps cannot be moved: copied instead
        }
      },
      (e: unknown) => port.postMessage({ kind: 'error', id: msg.id, message: (e as Error).message ?? String(e) } satisfies WorkerReply),
    );
  });
} catch (e) {
  port.postMessage({ kind: 'failed', message: (e as Error).message ?? String(e) } satisfies WorkerReply);
}
