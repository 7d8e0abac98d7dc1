import { EmbeddingCache } from '../cache/embedding-cache.js';
import { needsRanges, OUTPUT_DTYPES } from '../vectors/compact.js';
import { cpuInfo } from '../cpu.js';
import { INSTRUCTION } from '../model/rules.js';
import { Pipeline } from '../pipeline/pipeline.js';
import { ensurePrepared } from '../prepare/ensure.js';
import { startApp, type App } from '../server/app.js';
import { ENGINE_HELP, ENGINE_TABLE, engineConfig, type EngineConfigOptions } from '../settings/engine.js';
import { HUB_TABLE, MODEL_HELP, MODEL_TABLE, modelConfig, type ModelConfigOptions } from '../settings/model.js';
import { HTTP_TABLE, LIFECYCLE_TABLE, LIMITS_TABLE, SERVE_HELP_SECTIONS, serveConfig, type ServeConfig } from '../settings/serve.js';
import { CACHE_TABLE } from '../settings/cache.js';
import { RERANK_HELP, RERANK_TABLE, rerankConfig, type RerankConfig } from '../settings/rerank.js';
import { helpOf, optionsOf, readAll, type Env, type Flags, type Values } from '../settings/setting.js';
import { createLogger } from '../server/logger.js';
import { parse, type Options } from './args.js';

export const SERVE_HELP = `usage: ortos-embed serve [options]

Serves embeddings over HTTP. The port is bound first and the model loads in the
background; requests that arrive meanwhile wait and succeed.

Routes: POST /v1/embeddings (OpenAI); POST /embed, /embed_all, /similarity, /tokenize,
        /decode (TEI); with a reranker, POST /rerank (TEI) and /v1/rerank (Cohere, Jina);
        GET /v1/models, /health (open), /ready, /info, /metrics (Prometheus),
        /openapi.json and /docs (the API, rendered)

${SERVE_HELP_SECTIONS}

Embedding cache (a request sent with "Cache-Control: no-store" skips it, "no-cache"
recomputes; sizes in MiB):
${helpOf(CACHE_TABLE)}

${MODEL_HELP}

${RERANK_HELP}

${ENGINE_HELP}

Exit codes: 0 after a signal or idle exit, 2 for bad options, 1 if the port cannot be bound.
A model that fails to load does not end the process: /health answers 503 with the reason.`;

export const SERVE_OPTIONS = optionsOf(MODEL_TABLE, HUB_TABLE, ENGINE_TABLE, HTTP_TABLE, LIMITS_TABLE, LIFECYCLE_TABLE, CACHE_TABLE, RERANK_TABLE) satisfies Options;

/** Everything serve reads from its flags and the environment, validated once. */
export function serveSettings(flags: Flags, env: Env): { cfg: ServeConfig; model: ModelConfigOptions; engine: EngineConfigOptions; cache: Values<typeof CACHE_TABLE>; reranker: RerankConfig | undefined } {
  const model = modelConfig(flags, env);
  return { cfg: serveConfig(flags, env), model, engine: engineConfig(flags, env), cache: readAll(CACHE_TABLE, flags, env), reranker: rerankConfig(flags, env, model) };
}

export async function serveCommand(argv: string[], env: Env): Promise<number> {
  const { flags, helped } = parse(argv, SERVE_OPTIONS, 'serve', SERVE_HELP);
  if (helped) return 0;
  const { cfg, model, engine, cache: cacheCfg, reranker } = serveSettings(flags, env);
  const log = createLogger(cfg.logLevel, undefined, cfg.logFormat === 'auto' ? (process.stdout.isTTY ? 'pretty' : 'json') : cfg.logFormat);
  const cache = await EmbeddingCache.open({
    memoryBytes: cacheCfg.cacheMemoryMb * 2 ** 20,
    dir: cacheCfg.cacheDir,
    diskBytes: cacheCfg.cacheDiskMb * 2 ** 20,
    log: (level, message, fields) => log[level](message, fields),
  });
  let pipeline: Pipeline | null = null;
  let origin: { repo?: string; revision?: string } = {};
  let app: App;
  const exit = (code: number): void => {
    process.exitCode = code;
    // Let stdout flush, then leave even if a stray handle would keep the loop alive.
    setImmediate(() => process.exit(code));
  };
  app = await startApp({
    cfg,
    reranker: reranker === undefined ? undefined : {
      name: reranker.model.modelDir ?? reranker.model.model.repo,
      preload: reranker.preload,
      // Its own prepared folder and inference thread; the instruction is the embedder's alone.
      load: async () => Pipeline.load((await ensurePrepared(reranker.model, (m) => log.info(m.trim()))).prepared.dir, { ...engine, instruction: undefined }),
    },
    batchTokens: engine.batchTokens,
    log,
    exit,
    cache,
    load: async (early) => {
      const ready = await ensurePrepared(model, (m) => log.info(m.trim()));
      origin = ready.origin;
      pipeline = await Pipeline.load(ready.prepared.dir, engine, early);
      if (engine.instruction !== undefined && !Object.values(pipeline.rules.prompts).some((p) => p.includes(INSTRUCTION))) {
        log.warn('INSTRUCTION / --instruction is set, but this model takes no instruction: it is not used', { model: pipeline.name });
      }
      return pipeline;
    },
    info: () => {
      const m = pipeline?.manifest;
      const cpu = cpuInfo();
      return {
        model_id: origin.repo ?? pipeline?.name ?? cfg.servedName ?? null,
        ...(m?.config.randomWeights ? { random_weights: true } : {}),
        revision: origin.revision ?? m?.origin.revision ?? null,
        dtype: m?.dtype ?? model.dtype ?? null,
        quantization: m?.quantization ?? null,
        dimensions: pipeline?.dimensions ?? null,
        max_input_tokens: pipeline?.maxTokens ?? null,
        // The model's rules, and where each came from (its files or the built-in table).
        pooling: pipeline?.rules.pooling ?? null,
        prompts: pipeline?.rules.prompts ?? null,
        default_prompt: pipeline?.rules.defaultPrompt ?? null,
        ...(pipeline?.rules.defaultInstruction !== undefined ? { default_instruction: pipeline.rules.defaultInstruction } : {}),
        rules_from: pipeline?.rules.from ?? null,
        // output_dtype: int8/uint8 need the ranges calibrated at prepare.
        output_dtypes: m === undefined ? null : m.calibration !== undefined ? OUTPUT_DTYPES : OUTPUT_DTYPES.filter((d) => !needsRanges(d)),
        calibration: m?.calibration !== undefined ? { vectors: m.calibration.vectors, normalized: m.calibration.normalized } : null,
        threads: engine.threads,
        batch_tokens: engine.batchTokens,
        // Which int8 kernels run and why: u8×s8 saturates on x86 without VNNI.
        int8: pipeline?.int8 ? { weights: pipeline.int8.weights, kernels: pipeline.int8.weights === 'u8' ? 'u8u8' : 'u8s8', exact: pipeline.int8.exact, reason: pipeline.int8.reason } : null,
        cpu_flags: cpu.flags.join(' '),
      };
    },
  });
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals): void => {
    if (++signals > 1) {
      log.warn('second signal: exiting now', { signal: sig });
      exit(1);
      return;
    }
    void app.shutdown(sig).then(() => exit(0));
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return new Promise<number>(() => {
    // Runs until a signal or the idle timer calls exit().
  });
}
