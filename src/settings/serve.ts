// `serve`'s own settings: the HTTP side, the limits, the lifecycle.

import { ConfigError } from './errors.js';
import { choice, duration, helpOf, integer, onOff, readAll, text, type Env, type Flags, type Setting } from './setting.js';

/** How /v1/embeddings reads arrays of token ids (--token-ids). */
export type TokenIdsMode = 'cl100k_base' | 'model' | 'reject';
export const TOKEN_IDS_MODES: readonly TokenIdsMode[] = ['cl100k_base', 'model', 'reject'];
const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;

export const HTTP_TABLE = {
  host: { ...text('host', 'HOST', 'H', 'address to bind', '0.0.0.0'), read: (raw: string | undefined) => raw ?? '0.0.0.0' } satisfies Setting<string>,
  port: integer('port', 'PORT', 'P', 8080, 0, 65535, 'port'),
  apiKey: {
    ...text('api-key', 'API_KEY', 'K', `require the key on every route but /health, as "Authorization: Bearer K",
"Authorization: K" or "api-key: K" (at least 8 characters; needed unless bound
to loopback)`),
    read(raw: string | undefined): string | undefined {
      if (raw !== undefined && raw.length < 8) throw new ConfigError('the API key must be at least 8 characters');
      return raw;
    },
  } satisfies Setting<string | undefined>,
  insecureNoAuth: onOff('insecure-no-auth', 'INSECURE_NO_AUTH', 'allow a non-loopback address without a key'),
  metricsOpen: onOff('metrics-open', 'METRICS_OPEN', 'serve /metrics without the key'),
  docsOpen: onOff('docs-open', 'DOCS_OPEN', 'serve /docs and /openapi.json without the key'),
  tokenIds: choice('token-ids', 'TOKEN_IDS', 'M', TOKEN_IDS_MODES, 'cl100k_base', `how /v1/embeddings reads arrays of token ids: cl100k_base (OpenAI's ids, what
LangChain and other OpenAI clients send, decoded to text), model (this model's
own ids), or reject (400). TEI's routes always take the model's own ids`),
  corsOrigins: {
    ...text('cors-origins', 'CORS_ORIGINS', 'A,B|*', 'allow browser requests from these origins', 'none'),
    read: (raw: string | undefined) => (raw ? raw.split(',').map((s) => s.trim()).filter(Boolean) : []),
  } satisfies Setting<string[]>,
  servedName: text('served-model-name', 'SERVED_MODEL_NAME', 'N', '"model" in OpenAI answers (default: the model\'s own name)'),
};

export const LIMITS_TABLE = {
  maxBodyBytes: integer('max-body-bytes', 'MAX_BODY_BYTES', 'N', 2 * 1024 * 1024, 1024, 64 * 1024 * 1024, 'request body size'),
  maxInputs: integer('max-inputs', 'MAX_INPUTS', 'N', 512, 1, 100_000, 'inputs per request'),
  maxChars: integer('max-chars', 'MAX_CHARS', 'N', 32_768, 1, 10_000_000, 'characters (or token ids) per input'),
  maxTokenVectors: integer('max-token-vectors', 'MAX_TOKEN_VECTORS', 'N', 2048, 1, 1_000_000, 'token vectors one /embed_all request may ask for, in all'),
  maxQueuedInputs: integer('max-queued-inputs', 'MAX_QUEUED_INPUTS', 'N', 2048, 1, 1_000_000, 'inputs waiting in the queue before 429'),
  maxQueueWaitMs: duration('max-queue-wait', 'MAX_QUEUE_WAIT', '5s', `429 when the queued work would take longer than this, measured from the
model's recent speed`),
};

export const LIFECYCLE_TABLE = {
  loadTimeoutMs: duration('load-timeout', 'LOAD_TIMEOUT', '120s', 'how long a request waits for the model'),
  graceMs: duration('grace', 'GRACE', '10s', 'time to finish in-flight requests on SIGTERM/SIGINT'),
  requestTimeoutMs: duration('request-timeout', 'REQUEST_TIMEOUT', '30s', 'a request\'s headers and body must arrive within this'),
  headersTimeoutMs: duration('headers-timeout', 'HEADERS_TIMEOUT', '10s', 'its headers within this'),
  idleExitMs: duration('idle-exit', 'IDLE_EXIT', 'off', 'exit 0 after this long without requests', true),
  logLevel: choice('log-level', 'LOG_LEVEL', 'L', LOG_LEVELS, 'info', 'debug, info, warn or error'),
  logFormat: choice('log-format', 'LOG_FORMAT', 'F', ['auto', 'json', 'pretty'] as const, 'auto',
    'json (one object a line, pino\'s fields, for log tooling), pretty (a readable line), or auto: pretty on a terminal, json otherwise'),
};

export const SERVE_HELP_SECTIONS = `HTTP (flags win over environment variables):
${helpOf(HTTP_TABLE)}

Limits:
${helpOf(LIMITS_TABLE)}

Lifecycle:
${helpOf(LIFECYCLE_TABLE)}

Durations: 500ms, 30s, 5m, 1h.`;

type HttpValues = ReturnType<typeof readHttp>;
const readHttp = (flags: Flags, env: Env) => ({ ...readAll(HTTP_TABLE, flags, env), ...readAll(LIMITS_TABLE, flags, env), ...readAll(LIFECYCLE_TABLE, flags, env) });

export type ServeConfig = HttpValues;

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\./.test(host);
}

export function serveConfig(flags: Flags, env: Env): ServeConfig {
  const cfg = readHttp(flags, env);
  if (cfg.apiKey === undefined && !isLoopback(cfg.host) && !cfg.insecureNoAuth) {
    throw new ConfigError(`refusing to listen on ${cfg.host} without an API key: set --api-key (or API_KEY), ` +
      'bind --host 127.0.0.1, or pass --insecure-no-auth if something in front of this service checks access');
  }
  return cfg;
}
