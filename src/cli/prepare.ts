import { modelConfig, truthy, type Env, type Flags, type ModelConfigOptions } from '../config.js';
import { ensurePrepared } from '../prepare/ensure.js';
import { MODEL_HELP, MODEL_OPTIONS, parse, type Options } from './args.js';
import { log } from './log.js';

export const PREPARE_HELP = `usage: ortos-embed prepare [options]

Downloads the model if needed, compiles its tokenizer and pre-optimizes its ONNX graph
(weights saved as an external file that is memory-mapped at start), and records the
result in a manifest. Safe to run again: it does nothing when the prepared form is current.
"serve" and "embed" prepare by themselves when needed; run this at image-build time to
keep it off the start-up path.

  --force              prepare again even if the prepared form is current
  --prepack            also save onnxruntime's packed weights for this CPU: the model loads
                       faster on this machine (and on any with the same CPU model and flags;
                       others use the portable graph); about +30% disk (env PREPACK=1)

${MODEL_HELP}`;

export const PREPARE_OPTIONS = { ...MODEL_OPTIONS, force: { type: 'boolean' }, prepack: { type: 'boolean' } } satisfies Options;

/** Everything prepare reads from its flags and the environment, validated once. */
export function prepareSettings(flags: Flags, env: Env): { model: ModelConfigOptions; force: boolean; prepack: boolean } {
  return { model: modelConfig(flags, env), force: flags.force === true, prepack: flags.prepack === true || truthy(env.PREPACK) };
}

export async function prepareCommand(argv: string[], env: Env): Promise<number> {
  const { flags } = parse(argv, PREPARE_OPTIONS, 'prepare');
  if (flags.help) {
    console.log(PREPARE_HELP);
    return 0;
  }
  const { model, force, prepack } = prepareSettings(flags, env);
  const ready = await ensurePrepared(model, log, { force, prepack });
  if (ready.prepared.reused) log(`already prepared: ${ready.prepared.dir}`);
  console.log(ready.prepared.dir);
  return 0;
}
