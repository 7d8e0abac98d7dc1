import { engineConfig, modelConfig, type EngineConfigOptions, type Env, type Flags, type ModelConfigOptions } from '../config.js';
import { cpuInfo } from '../cpu.js';
import { INSTRUCTION } from '../model/rules.js';
import { Pipeline } from '../pipeline/pipeline.js';
import { ensurePrepared } from '../prepare/ensure.js';
import { startApp, type App } from '../server/app.js';
import { serveConfig, type ServeConfig } from '../server/config.js';
import { createLogger } from '../server/logger.js';
import { ENGINE_HELP, ENGINE_OPTIONS, MODEL_HELP, MODEL_OPTIONS, parse, type Options } from './args.js';

export const SERVE_HELP = `usage: ortos-embed serve [options]

Serves embeddings over HTTP. The port is bound first and the model loads in the
background; requests that arrive meanwhile wait and succeed.

Routes: POST /v1/embeddings (OpenAI); POST /embed, /embed_all, /similarity, /tokenize,
        /decode (TEI); GET /health (open), /ready, /info, /metrics (Prometheus),
        /openapi.json and /docs (the API, rendered)

HTTP (flags win over environment variables):
  --host H                 address to bind (env HOST; default 0.0.0.0)
  --port P                 port (env PORT; default 8080)
  --api-key K              require the key on every route but /health, as "Authorization:
                           Bearer K", "Authorization: K" or "api-key: K" (env API_KEY; at
                           least 8 characters; needed unless bound to loopback)
  --insecure-no-auth       allow a non-loopback address without a key (env INSECURE_NO_AUTH=1)
  --metrics-open           serve /metrics without the key (env METRICS_OPEN=1)
  --docs-open              serve /docs and /openapi.json without the key (env DOCS_OPEN=1)
  --token-ids M            how /v1/embeddings reads arrays of token ids (env TOKEN_IDS):
                           cl100k_base (default: OpenAI's ids, what LangChain and other OpenAI
                           clients send, decoded to text), model (this model's own ids), or
                           reject (400). TEI's routes always take the model's own ids
  --cors-origins A,B|*     allow browser requests from these origins (env CORS_ORIGINS; default none)
  --served-model-name N    "model" in OpenAI answers (env SERVED_MODEL_NAME)

Limits:
  --max-body-bytes N       request body size (env MAX_BODY_BYTES; default 2097152)
  --max-inputs N           inputs per request (env MAX_INPUTS; default 512)
  --max-chars N            characters (or token ids) per input (env MAX_CHARS; default 32768)
  --max-token-vectors N    token vectors one /embed_all request may ask for, in all
                           (env MAX_TOKEN_VECTORS; default 2048)
  --max-queued-inputs N    inputs waiting in the queue before 429 (env MAX_QUEUED_INPUTS; default 2048)
  --max-queue-wait D       429 when the queued work would take longer than this, measured from
                           the model's recent speed (env MAX_QUEUE_WAIT; default 5s)

Lifecycle:
  --load-timeout D         how long a request waits for the model (env LOAD_TIMEOUT; default 120s)
  --grace D                time to finish in-flight requests on SIGTERM/SIGINT (env GRACE; default 10s)
  --request-timeout D      a request's headers and body must arrive within this (env REQUEST_TIMEOUT; default 30s)
  --headers-timeout D      its headers within this (env HEADERS_TIMEOUT; default 10s)
  --idle-exit D            exit 0 after this long without requests (env IDLE_EXIT; default off)
  --log-level L            debug, info, warn or error (env LOG_LEVEL; default info)

Durations: 500ms, 30s, 5m, 1h.

${MODEL_HELP}

${ENGINE_HELP}

Exit codes: 0 after a signal or idle exit, 2 for bad options, 1 if the port cannot be bound.
A model that fails to load does not end the process: /health answers 503 with the reason.`;

export const SERVE_OPTIONS = {
    ...MODEL_OPTIONS,
    ...ENGINE_OPTIONS,
    host: { type: 'string' },
    port: { type: 'string' },
    'api-key': { type: 'string' },
    'insecure-no-auth': { type: 'boolean' },
    'metrics-open': { type: 'boolean' },
  'docs-open': { type: 'boolean' },
  'token-ids': { type: 'string' },
  'max-token-vectors': { type: 'string' },
    'cors-origins': { type: 'string' },
    'served-model-name': { type: 'string' },
    'max-body-bytes': { type: 'string' },
    'max-inputs': { type: 'string' },
    'max-chars': { type: 'string' },
    'max-queued-inputs': { type: 'string' },
    'max-queue-wait': { type: 'string' },
    'load-timeout': { type: 'string' },
    grace: { type: 'string' },
    'request-timeout': { type: 'string' },
    'headers-timeout': { type: 'string' },
    'idle-exit': { type: 'string' },
    'log-level': { type: 'string' },
  } satisfies Options;

/** Everything serve reads from its flags and the environment, validated once. */
export function serveSettings(flags: Flags, env: Env): { cfg: ServeConfig; model: ModelConfigOptions; engine: EngineConfigOptions } {
  return { cfg: serveConfig(flags, env), model: modelConfig(flags, env), engine: engineConfig(flags, env) };
}

export async function serveCommand(argv: string[], env: Env): Promise<number> {
  const { flags } = parse(argv, SERVE_OPTIONS, 'serve');
  if (flags.help) {
    console.log(SERVE_HELP);
    return 0;
  }
  const { cfg, model, engine } = serveSettings(flags, env);
  const log = createLogger(cfg.logLevel);
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
    batchTokens: engine.batchTokens,
    log,
    exit,
    load: async () => {
      const ready = await ensurePrepared(model, (m) => log.info(m.trim()));
      origin = ready.origin;
      pipeline = await Pipeline.load(ready.prepared.dir, engine);
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
