// The calibration of int8 and uint8 vectors: the prepared model embeds the built-in sample under
// each of its prompts (queries and passages both get quantized), and the per-dimension ranges of
// those normalized vectors go into the manifest. Done once here, not per request or per batch,
// so that a text's compact vector is the same in every answer, on every Machine, and from the
// cache (as sentence-transformers recommends: ranges from calibration embeddings, not from the
// embeddings being quantized).

import { usableCores } from '../cpu.js';
import { Pipeline } from '../pipeline/pipeline.js';
import { EmbeddingService } from '../service/embedding-service.js';
import { rangesOf, type Calibration } from '../vectors/compact.js';
import { CALIBRATION_TEXTS } from './calibration-texts.js';

export async function calibrate(preparedDir: string, texts: readonly string[] = CALIBRATION_TEXTS): Promise<Calibration> {
  const pipeline = await Pipeline.load(preparedDir, { threads: usableCores(), batchTokens: 256 });
  try {
    const door = EmbeddingService.over(pipeline);
    const names = Object.keys(pipeline.rules.prompts);
    const vectors: Float32Array[] = [];
    for (const prompt of names.length > 0 ? names : [undefined]) {
      const r = await door.embed({ texts }, { prompt, normalize: true, truncate: true, direction: 'right', cache: 'bypass' });
      vectors.push(...r.vectors);
    }
    return rangesOf(vectors);
  } finally {
    await pipeline.close();
  }
}
