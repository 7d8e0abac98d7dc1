import { ensurePrepared } from '../prepare/ensure.js';
import { HUB_TABLE, MODEL_HELP, MODEL_TABLE, modelConfig, type ModelConfigOptions } from '../settings/model.js';
import { helpOf, onOff, optionsOf, readAll, type Env, type Flags } from '../settings/setting.js';
import { RERANK_HELP, RERANK_TABLE, rerankConfig, type RerankConfig } from '../settings/rerank.js';
import { parse, type Options } from './args.js';

const PREPARE_TABLE = {
  force: onOff('force', undefined, 'prepare again even if the prepared form is current'),
  prepack: onOff('prepack', 'PREPACK', `also save onnxruntime's packed weights for this CPU: the model loads
faster on this machine (and on any with the same CPU model and flags; others
use the portable graph); about +30% disk`),
};
import { log } from './log.js';

export const PREPARE_HELP = `usage: ortos-embed prepare [options]

Downloads the model if needed, compiles its tokenizer and pre-optimizes its ONNX graph
(weights saved as an external file that is memory-mapped at start), and records the
result in a manifest. Safe to run again: it does nothing when the prepared form is current.
With a reranker named (--rerank, --rerank-model, --rerank-model-dir), prepares it too and
prints its folder on a second line.
"serve" and "embed" prepare by themselves when needed; run this at image-build time to
keep it off the start-up path.

${helpOf(PREPARE_TABLE)}

${MODEL_HELP}

${RERANK_HELP}`;

export const PREPARE_OPTIONS = optionsOf(MODEL_TABLE, HUB_TABLE, PREPARE_TABLE, RERANK_TABLE) satisfies Options;

/** Everything prepare reads from its flags and the environment, validated once. */
export function prepareSettings(flags: Flags, env: Env): { model: ModelConfigOptions; force: boolean; prepack: boolean; reranker: RerankConfig | undefined } {
  const model = modelConfig(flags, env);
  return { model, ...readAll(PREPARE_TABLE, flags, env), reranker: rerankConfig(flags, env, model) };
}

export async function prepareCommand(argv: string[], env: Env): Promise<number> {
  const { flags, helped } = parse(argv, PREPARE_OPTIONS, 'prepare', PREPARE_HELP);
  if (helped) return 0;
  const { model, force, prepack, reranker } = prepareSettings(flags, env);
  const ready = await ensurePrepared(model, log, { force, prepack });
  if (ready.prepared.reused) log(`already prepared: ${ready.prepared.dir}`);
  console.log(ready.prepared.dir);
  if (reranker !== undefined) {
    const r = await ensurePrepared(reranker.model, log, { force, prepack });
    if (r.prepared.reused) log(`reranker already prepared: ${r.prepared.dir}`);
    console.log(r.prepared.dir);
  }
  return 0;
}
