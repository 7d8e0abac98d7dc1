// The model, run on a thread of its own (session-worker.ts): a batch of token ids in, per row its
// pooled vector (or its token vectors) out, as Embedder.run gives them, with the whole run (word
// embeddings, session, pooling) off the event loop. Both ways by transfer, not copy.

import { Worker } from 'node:worker_threads';
import { keepOnnxruntimeQuiet } from '../settings/environment.js';
import type { Int8Choice } from './int8-kernels.js';
import type { ModelIo } from './onnx-session.js';
import type { RunRequest, WorkerLoad, WorkerReply } from './session-worker.js';

export class ThreadedSession {
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (v: Float32Array[]) => void; reject: (e: Error) => void }>();
  private stopped: Error | null = null;
  private released = false;
  private readonly lost: Array<(why: Error) => void> = [];

  private constructor(
    private readonly worker: Worker,
    readonly io: ModelIo,
  ) {
    worker.on('message', (m: WorkerReply) => {
      if (m.kind !== 'run' && m.kind !== 'error') return;
      const p = this.pending.get(m.id);
      this.pending.delete(m.id);
      if (this.pending.size === 0) worker.unref();
      if (m.kind === 'run') p?.resolve(Array.from({ length: m.offsets.length - 1 }, (_, r) => m.data.subarray(m.offsets[r], m.offsets[r + 1])));
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

  /**
   * One model run of these inputs as one padded batch: per input, in input order, its pooled
   * vector (not normalized), or where `tokens[i]` is set all its token vectors back to back
   * (see Embedder.run); for a cross-encoder, each pair's logits (`types`: its token types).
   * The vectors are views into one buffer that came from the thread.
   */
  run(inputs: readonly number[][], tokens: readonly boolean[] | null, types: readonly number[][] | null = null): Promise<Float32Array[]> {
    if (this.stopped) return Promise.reject(this.stopped);
    const id = this.nextId++;
    const lengths = Int32Array.from(inputs, (row) => row.length);
    const ids = new Int32Array(lengths.reduce((a, n) => a + n, 0));
    const typeIds = types === null ? null : new Uint8Array(ids.length);
    let at = 0;
    inputs.forEach((row, r) => {
      ids.set(row, at);
      typeIds?.set((types as number[][])[r], at);
      at += row.length;
    });
    const request: RunRequest = { id, ids, lengths, tokens: tokens === null ? null : Uint8Array.from(tokens, (t) => (t ? 1 : 0)), types: typeIds };
    const transfer = [ids.buffer, lengths.buffer, ...(request.tokens ? [request.tokens.buffer] : []), ...(typeIds ? [typeIds.buffer] : [])] as ArrayBuffer[];
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
