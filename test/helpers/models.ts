// Prepared fixture models for tests, built once per checkout under .cache/.

import { cachedFixture, type FixtureSize } from '../fixture-models/generate.js';
import type { FixtureDtype } from '../fixture-models/xlmr-graph.js';
import { resolveModelDir } from '../../src/model/layout.js';
import { defaultPreparedDir, prepareModel } from '../../src/prepare/prepare.js';

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
