// How the model runs: threads, the padded-token budget per run, the int8 weights, the default
// instruction of instruct models.

import { usableCores } from '../cpu.js';
import { INT8_WEIGHTS, type Int8Weights } from '../engine/int8-kernels.js';
import type { SessionMemory } from '../engine/onnx-session.js';
import { choice, helpOf, integer, readAll, text, type Env, type Flags } from './setting.js';

export const ENGINE_TABLE = {
  threads: integer('threads', 'THREADS', 'N', usableCores(), 1, 256, 'onnxruntime threads (usable cores by default, a container CPU quota included)'),
  batchTokens: integer('batch-tokens', 'BATCH_TOKENS', 'N', 256, 16, 4096, 'padded tokens per model run'),
  int8Weights: choice('int8-weights', 'INT8_WEIGHTS', 'W', INT8_WEIGHTS, 'auto', `auto: the int8 graph whose integer products are exact on this CPU: int8
weights where u8×s8 kernels are exact (VNNI, ARM), uint8 weights elsewhere
(x86 without VNNI, where u8×s8 saturates). s8 or u8 force one, for measurements`),
  instruction: text('instruction', 'INSTRUCTION', 'TEXT', `for instruction-following models (multilingual-e5-large-instruct): the
task written before queries that give none (default the model card's
"Given a web search query, retrieve relevant passages that answer the query")`),
};

export const ENGINE_HELP = `Engine:\n${helpOf(ENGINE_TABLE)}`;

export interface EngineConfigOptions {
  threads: number;
  /** Padded tokens per session run. */
  batchTokens: number;
  /** int8 graphs: auto (exact on every CPU; the default), or forced int8 (s8) or uint8 (u8) weights, for measurements. */
  int8Weights?: Int8Weights;
  /** The task for instruct models' queries when a request gives none (else the model's default). */
  instruction?: string;
  /** onnxruntime's memory features, for benchmarks (the serving default otherwise). */
  memory?: SessionMemory;
}

export function engineConfig(flags: Flags, env: Env): EngineConfigOptions {
  return readAll(ENGINE_TABLE, flags, env);
}
