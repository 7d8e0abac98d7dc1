// Prepared fixture models for tests, built once per checkout under .cache/.

import { cachedFixture, type FixtureSize } from '../fixtures/generate.js';
import type { FixtureDtype } from '../fixtures/xlmr-graph.js';
import { resolveModelDir } from '../model/layout.js';
import { defaultPreparedDir, prepareModel } from '../prepare/prepare.js';

export interface PreparedFixture {
  modelDir: string;
  preparedDir: string;
}

export async function preparedFixture(size: FixtureSize, dtype: FixtureDtype): Promise<PreparedFixture> {
  const modelDir = cachedFixture(size, dtype);
  const files = resolveModelDir(modelDir, dtype);
  const prepared = await prepareModel(files, defaultPreparedDir(modelDir, dtype), {}, () => {});
  return { modelDir, preparedDir: prepared.dir };
}
