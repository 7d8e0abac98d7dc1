// The route table: OpenAI's, TEI's, the status routes and the API docs. Each handler
// validates, calls the service and shapes the answer; nothing else.

import type { ServeConfig } from '../settings/serve.js';
import type { Metrics } from './metrics.js';
import { docsRoutes } from './routes/docs.js';
import { openAiRoutes } from './routes/openai.js';
import type { Route } from './routes/route.js';
import { statusRoutes } from './routes/status.js';
import { teiRoutes } from './routes/tei.js';
import type { EmbeddingService } from '../service/embedding-service.js';
import type { RerankService } from '../service/rerank-service.js';
import { rerankRoutes } from './routes/rerank.js';

export function buildRoutes(cfg: ServeConfig, service: EmbeddingService, metrics: Metrics, info: () => Record<string, unknown>, reranker?: RerankService): Map<string, Route> {
  const servedName = (): string => cfg.servedName ?? (service.state.status === 'ready' ? service.state.model.name : String(info().model_id ?? 'embedding model'));
  return new Map(Object.entries({
    ...openAiRoutes(cfg, service),
    ...teiRoutes(cfg, service),
    ...rerankRoutes(cfg, service, reranker, servedName),
    ...statusRoutes(cfg, service, metrics, info, reranker),
    ...docsRoutes(cfg, service, cfg.apiKey !== undefined, reranker),
  }));
}
