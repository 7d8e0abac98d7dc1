// The onnxruntime session, run on a thread of its own (session-worker.ts): the same surface as
// OnnxSession (forward, io, release) for the embedder, with the model run off the event loop.
// Inputs go to the thread by transfer, the hidden state comes back the same way.

import { Worker } from 'node:worker_threads';
import { keepOnnxruntimeQuiet } from '../settings/environment.js';
import type { Int8Choice } from './int8-kernels.js';
import type { Forward, ModelIo, ModelSession } from './onnx-session.js';
import type { ForwardRequest, WorkerLoad, WorkerReply } from './session-worker.js';

export class ThreadedSession implements ModelSession {
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (f: Forward) => void; reject: (e: Error) => void }>();
  private stopped: Error | null = null;
  private released = false;
  private readonly lost: Array<(why: Error) => void> = [];

  private constructor(
    private readonly worker: Worker,
    readonly io: ModelIo,
  ) {
    worker.on('message', (m: WorkerReply) => {
      if (m.kind !== 'forward' && m.kind !== 'error') return;
      const p = this.pending.get(m.id);
      this.pending.delete(m.id);
      if (this.pending.size === 0) worker.unref();
      if (m.kind === 'forward') p?.resolve({ hidden: m.hidden, dim: m.dim });
      else p?.reject(new Error(m.message));
    });
    const stop = (why: Error): void => {
      if (this.stopped === null && !this.released) for (const l of this.lost) l(why);
      this.stopped ??= why;
      for (const p of this.pending.values()) p.reject(why);
      this.pending.clear();
    };
    worker.on('error', (e: Error) => stop(new Error(`the inference thread failed: ${e.message}`)));
    worker.on('exit', (code) => stop(new Error(`the inference thread stopped (exit code ${code})`)));
    // An idle thread does not keep the process alive (a command that is done exits without
    // releasing the session first); one with work in hand does. After the listeners: adding a
    // 'message' listener refs the thread again.
    worker.unref();
  }

  /** Starts the thread, which picks the graph for this CPU and opens its session. */
  /** `onGraph`: the graph chosen for this CPU, as soon as the thread knows it (before the session is open). */
  static load(preparedDir: string, opts: Omit<WorkerLoad, 'preparedDir'>, onGraph?: (graph: string, int8: Int8Choice | null) => void): Promise<{ session: ThreadedSession; graph: string; int8: Int8Choice | null }> {
    keepOnnxruntimeQuiet(); // the thread shares this process's C environment
    // Beside this file: dist/engine/ when run from the compiled tree, dist/bin/ in the bundle.
    const worker = new Worker(new URL('./session-worker.js', import.meta.url), { workerData: { preparedDir, ...opts } satisfies WorkerLoad });
    return new Promise((resolve, reject) => {
      const early = (e: Error): void => reject(new Error(`the inference thread could not start: ${e.message}`));
      worker.once('error', early);
      const first = (m: WorkerReply): void => {
        if (m.kind === 'graph') {
          onGraph?.(m.graph, m.int8);
          return;
        }
        worker.off('message', first);
        worker.off('error', early);
        if (m.kind === 'ready') resolve({ session: new ThreadedSession(worker, { inputs: m.inputs, outputs: m.outputs }), graph: m.graph, int8: m.int8 });
        else {
          void worker.terminate();
          reject(new Error(m.kind === 'failed' ? m.message : `unexpected first message from the inference thread: ${m.kind}`));
        }
      };
      worker.on('message', first);
    });
  }

  /** Whether the graph takes the looked-up word embeddings as an input (prepared format 3). */
  get takesEmbeddings(): boolean {
    return this.io.inputs.includes('inputs_embeds');
  }

  /** As OnnxSession.forward; the arrays passed in are moved to the thread (unusable after). */
  forward(ids: BigInt64Array, mask: BigInt64Array, rows: number, cols: number, embeds?: Float32Array): Promise<Forward> {
    if (this.stopped) return Promise.reject(this.stopped);
    const id = this.nextId++;
    const request: ForwardRequest = { id, ids, mask, rows, cols, embeds };
    const transfer = [ids.buffer, mask.buffer, ...(embeds ? [embeds.buffer] : [])] as ArrayBuffer[];
    return new Promise((resolve, reject) => {
      if (this.pending.size === 0) this.worker.ref();
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage(request, transfer);
    });
  }

  onLost(listener: (why: Error) => void): void {
    this.lost.push(listener);
  }

  async release(): Promise<void> {
    if (this.stopped) return;
    this.released = true;
    const exited = new Promise<void>((r) => this.worker.once('exit', () => r()));
    this.worker.ref();
    this.worker.postMessage('release');
    await exited;
  }
}
