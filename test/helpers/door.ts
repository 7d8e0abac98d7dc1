// Texts through the service's one door (service/embedding-service.ts) over an already loaded
// model, as the CLI calls it: the tests' reference vectors take the same path as every request.

import type { Pipeline } from '../../src/pipeline/pipeline.js';
import { EmbeddingService, type Embedded } from '../../src/service/embedding-service.js';

export interface TextOptions {
  prompt?: string;
  normalize: boolean;
  truncate: boolean;
  direction?: 'left' | 'right';
}

/** Embeds `texts` in one request; `onBatch` sees each model run. */
export function embedTexts(model: Pipeline, texts: readonly string[], opts: TextOptions, onBatch?: (rows: number, paddedTokens: number) => void): Promise<Embedded<Float32Array>> {
  const door = EmbeddingService.over(model, { embedded: () => {}, batch: (rows, padded) => onBatch?.(rows, padded) });
  return door.embed({ texts }, { direction: 'right', ...opts });
}
