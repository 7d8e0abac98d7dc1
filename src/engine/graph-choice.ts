// Which prepared graph runs on this CPU: for int8, the one whose integer products are exact here
// (int8-kernels.ts); packed weights only where they were made, for the same weights. Decided on
// the inference thread, which is the only one that loads onnxruntime.

import { cpuFingerprint } from '../cpu.js';
import { PREPARED_FILES, type Manifest } from '../model/manifest.js';
import { chooseInt8Weights, int8Kernels, type Int8Choice, type Int8Weights } from './int8-kernels.js';
import type { OrtModule } from './onnx-session.js';

export interface GraphChoice {
  /** The graph file, relative to the prepared folder. */
  graph: string;
  /** For int8 models: which weights run here, and why. */
  int8: Int8Choice | null;
}

export async function chooseGraph(manifest: Manifest, setting: Int8Weights, ort: () => Promise<OrtModule>): Promise<GraphChoice> {
  let int8: Int8Choice | null = null;
  let graph: string = PREPARED_FILES.model;
  if (manifest.u8) {
    int8 = chooseInt8Weights(setting, await int8Kernels(await ort()));
    if (int8.weights === 'u8') graph = manifest.u8.model;
  }
  const p = manifest.prepacked;
  if (p && p.cpu === cpuFingerprint() && (p.weights ?? 's8') === (int8?.weights ?? 's8')) graph = p.model;
  return { graph, int8 };
}
