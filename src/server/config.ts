// `serve` settings, validated once: flags > environment > defaults.

import { ConfigError, intIn, oneOf, pick, truthy, type Env, type Flags } from '../config.js';

/** How /v1/embeddings reads arrays of token ids (--token-ids). */
export type TokenIdsMode = 'cl100k_base' | 'model' | 'reject';
export const TOKEN_IDS_MODES: readonly TokenIdsMode[] = ['cl100k_base', 'model', 'reject'];

export interface ServeConfig {
  host: string;
  port: number;
  apiKey?: string;
  insecureNoAuth: boolean;
  metricsOpen: boolean;
  /** /docs and /openapi.json without the key. */
  docsOpen: boolean;
  /** How /v1/embeddings reads arrays of token ids. */
  tokenIds: TokenIdsMode;
  corsOrigins: string[];
  maxBodyBytes: number;
  maxInputs: number;
  maxChars: number;
  /** Token vectors one /embed_all request may ask for, in all. */
  maxTokenVectors: number;
  maxQueuedInputs: number;
  maxQueueWaitMs: number;
  loadTimeoutMs: number;
  graceMs: number;
  /** Whole request (headers and body) must arrive within this; slow or endless bodies are cut. */
  requestTimeoutMs: number;
  headersTimeoutMs: number;
  /** 0 = off. */
  idleExitMs: number;
  /** The model name in OpenAI answers when the request names none (default: the model's own name). */
  servedName?: string;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
}

/**
 * "300ms", "30s", "5m" or "1h". A bare number is refused: "--idle 5" could mean seconds or
 * minutes, and a wrong guess is silent.
 */
export function parseDuration(name: string, raw: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(raw.trim());
  if (!m) {
    const bare = /^\d+(\.\d+)?$/.test(raw.trim());
    throw new ConfigError(`${name} must be a duration with a unit, like 500ms, 30s, 5m or 1h, got "${raw}"${bare ? ` (seconds? write ${raw.trim()}s)` : ''}`);
  }
  const n = Number(m[1]);
  return Math.round(n * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2]]!);
}

function flag(flags: Flags, name: string, env: Env, envName: string): boolean {
  return flags[name] === true || truthy(env[envName]);
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\./.test(host);
}

export function serveConfig(flags: Flags, env: Env): ServeConfig {
  const host = pick(flags, 'host', env, 'HOST') ?? '0.0.0.0';
  const apiKey = pick(flags, 'api-key', env, 'API_KEY');
  const insecureNoAuth = flag(flags, 'insecure-no-auth', env, 'INSECURE_NO_AUTH');
  if (apiKey === undefined && !isLoopback(host) && !insecureNoAuth) {
    throw new ConfigError(`refusing to listen on ${host} without an API key: set --api-key (or API_KEY), ` +
      'bind --host 127.0.0.1, or pass --insecure-no-auth if something in front of this service checks access');
  }
  if (apiKey !== undefined && apiKey.length < 8) throw new ConfigError('the API key must be at least 8 characters');
  const cors = pick(flags, 'cors-origins', env, 'CORS_ORIGINS');
  const idle = pick(flags, 'idle-exit', env, 'IDLE_EXIT');
  const level = pick(flags, 'log-level', env, 'LOG_LEVEL') ?? 'info';
  if (!['debug', 'info', 'warn', 'error'].includes(level)) throw new ConfigError(`--log-level must be debug, info, warn or error, got "${level}"`);
  return {
    host,
    port: intIn('--port', pick(flags, 'port', env, 'PORT'), 8080, 0, 65535),
    apiKey,
    insecureNoAuth,
    metricsOpen: flag(flags, 'metrics-open', env, 'METRICS_OPEN'),
    docsOpen: flag(flags, 'docs-open', env, 'DOCS_OPEN'),
    tokenIds: oneOf('--token-ids', pick(flags, 'token-ids', env, 'TOKEN_IDS'), TOKEN_IDS_MODES, 'cl100k_base'),
    corsOrigins: cors ? cors.split(',').map((s) => s.trim()).filter(Boolean) : [],
    maxBodyBytes: intIn('--max-body-bytes', pick(flags, 'max-body-bytes', env, 'MAX_BODY_BYTES'), 2 * 1024 * 1024, 1024, 64 * 1024 * 1024),
    maxInputs: intIn('--max-inputs', pick(flags, 'max-inputs', env, 'MAX_INPUTS'), 512, 1, 100_000),
    maxChars: intIn('--max-chars', pick(flags, 'max-chars', env, 'MAX_CHARS'), 32_768, 1, 10_000_000),
    maxTokenVectors: intIn('--max-token-vectors', pick(flags, 'max-token-vectors', env, 'MAX_TOKEN_VECTORS'), 2048, 1, 1_000_000),
    maxQueuedInputs: intIn('--max-queued-inputs', pick(flags, 'max-queued-inputs', env, 'MAX_QUEUED_INPUTS'), 2048, 1, 1_000_000),
    maxQueueWaitMs: parseDuration('--max-queue-wait', pick(flags, 'max-queue-wait', env, 'MAX_QUEUE_WAIT') ?? '5s'),
    loadTimeoutMs: parseDuration('--load-timeout', pick(flags, 'load-timeout', env, 'LOAD_TIMEOUT') ?? '120s'),
    graceMs: parseDuration('--grace', pick(flags, 'grace', env, 'GRACE') ?? '10s'),
    requestTimeoutMs: parseDuration('--request-timeout', pick(flags, 'request-timeout', env, 'REQUEST_TIMEOUT') ?? '30s'),
    headersTimeoutMs: parseDuration('--headers-timeout', pick(flags, 'headers-timeout', env, 'HEADERS_TIMEOUT') ?? '10s'),
    idleExitMs: idle === undefined || idle === '0' || idle === 'off' ? 0 : parseDuration('--idle-exit', idle),
    servedName: pick(flags, 'served-model-name', env, 'SERVED_MODEL_NAME'),
    logLevel: level as ServeConfig['logLevel'],
  };
}
