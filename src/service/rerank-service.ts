// The door to a reranker (a cross-encoder), for the HTTP routes and the CLI alike: a query and
// passages in; each (query, passage) pair joined by the tokenizer's pair template and cut as
// sentence-transformers' CrossEncoder cuts it (tokenizer/pair.ts); runs in the embedder's queue,
// taking turns with embedding requests; each pair's score out, through the model's activation
// (sigmoid for one label) unless raw logits are asked for. The reranker loads on its first
// request, so the embedder's wake never pays for it, unless it is preloaded.

import { ServiceError } from '../core/errors.js';
import { ModelHost, type ModelState } from '../core/model-host.js';
import { TimeSlices } from '../core/time-slices.js';
import type { Pipeline } from '../pipeline/pipeline.js';
import type { EmbeddingService } from './embedding-service.js';

export interface RerankOptions {
  /** Cut pairs longer than the model's limit (else 413). */
  truncate: boolean;
  direction: 'left' | 'right';
  /** The logits as they are, without the activation. */
  raw: boolean;
}

export interface Reranked {
  /** Per passage, in the order sent. */
  scores: number[];
  tokens: number;
  /** Pairs that were cut to fit. */
  truncated: number;
  model: string;
}

export const RERANK_MODEL = 'rerank';

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

export class RerankService {
  private readonly host: ModelHost<Pipeline>;
  private started = false;
  private readonly submit: (ids: readonly number[][], types: readonly number[][], signal?: AbortSignal) => Promise<Float32Array[]>;

  constructor(
    /** What the model is called before it loads (its repo or folder). */
    readonly name: string,
    private readonly load: () => Promise<Pipeline>,
    queue: EmbeddingService,
    loadTimeoutMs: number,
    private readonly observer: { reranked(pairs: number, tokens: number, truncated: number): void } = { reranked: () => {} },
  ) {
    this.host = new ModelHost<Pipeline>(loadTimeoutMs);
    this.submit = queue.shareQueue(RERANK_MODEL, async (ids, types) => (await this.host.get()).score(ids, types ?? ids.map((r) => r.map(() => 0))));
  }

  /** Starts loading the model, once (the first request, or --rerank-preload). */
  start(onDone?: (state: ModelState<Pipeline>) => void): void {
    if (this.started) return;
    this.started = true;
    this.host.start(async () => {
      const model = await this.load();
      if (model.task !== 'rerank') {
        await model.close();
        throw new Error(`${model.name} is an embedding model, not a cross-encoder (a *ForSequenceClassification architecture)`);
      }
      model.onLost((why) => this.host.fail(why.message));
      return model;
    }, onDone);
  }

  /** Not asked for yet (not loading), loading, ready or failed. */
  get state(): ModelState<Pipeline> | { status: 'idle' } {
    return this.started ? this.host.state : { status: 'idle' };
  }

  async close(): Promise<void> {
    if (this.host.state.status === 'ready') await this.host.state.model.close();
  }

  async rerank(query: string, texts: readonly string[], opts: RerankOptions, signal?: AbortSignal): Promise<Reranked> {
    this.start();
    const model = await this.host.get(signal);
    const max = model.maxTokens;
    const ids: number[][] = [];
    const types: number[][] = [];
    let truncated = 0;
    let tokens = 0;
    // Pair by pair, letting other requests in: up to 2 MB of passages are tokenized here.
    const slices = new TimeSlices();
    const withQuery = model.tokenizer.pairsWith(query, max, opts.direction);
    for (const [i, text] of texts.entries()) {
      await slices.next();
      const pair = withQuery(text);
      if (pair.cut.a + pair.cut.b > 0) {
        if (!opts.truncate) {
          throw new ServiceError('too_large', `the query and this text are more than ${max} tokens together, the reranker's limit; send truncate: true to cut the longer of the two`, 'input_too_long', undefined, { input: i });
        }
        truncated++;
      }
      ids.push(pair.ids);
      types.push(pair.typeIds);
      tokens += pair.ids.length;
    }
    const logits = await this.submit(ids, types, signal);
    const activation = opts.raw ? 'identity' : model.rules.activation ?? 'sigmoid';
    const scores = logits.map((l) => (activation === 'sigmoid' ? sigmoid(l[0]) : l[0]));
    this.observer.reranked(texts.length, tokens, truncated);
    return { scores, tokens, truncated, model: model.name };
  }
}
