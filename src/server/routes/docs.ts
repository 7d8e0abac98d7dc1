// /openapi.json and /docs, a page that renders it with swagger-ui (its files are copied into
// dist/docs-ui at build time and served from there: no CDN). The document's code is imported
// on the first request for it, so none of this is on the wake path. Open without the API key
// only with --docs-open.

import { createReadStream, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ortosVersion } from '../../version.js';
import type { ServeConfig } from '../../settings/serve.js';
import { sendJson } from '../http-io.js';
import type { RerankService } from '../../service/rerank-service.js';
import type { EmbeddingService } from '../../service/embedding-service.js';
import type { Route } from './route.js';

export const DOCS_ASSETS: Record<string, string> = { 'swagger-ui.css': 'text/css; charset=utf-8', 'swagger-ui-bundle.js': 'text/javascript; charset=utf-8' };

let assets: string | null | undefined;

/** dist/docs-ui, found from this module whether it runs bundled (dist/bin) or compiled (build/src). */
function assetsDir(): string | null {
  if (assets !== undefined) return assets;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5 && assets === undefined; i++, dir = dirname(dir)) {
    if (existsSync(join(dir, 'docs-ui', 'swagger-ui-bundle.js'))) assets = join(dir, 'docs-ui');
    else if (existsSync(join(dir, 'dist', 'docs-ui', 'swagger-ui-bundle.js'))) assets = join(dir, 'dist', 'docs-ui');
  }
  assets ??= null;
  return assets;
}

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>ortos-embed API</title>
<link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
<div id="ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script>window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#ui', deepLinking: true, defaultModelsExpandDepth: 0 });</script>
</body>
</html>
`;

export function docsRoutes(cfg: ServeConfig, service: EmbeddingService, keyRequired: boolean, reranker?: RerankService): Record<string, Route> {
  const open = cfg.docsOpen;
  let doc: Promise<Record<string, unknown>> | null = null;
  const routes: Record<string, Route> = {
    '/openapi.json': {
      method: 'GET',
      open,
      openWith: '--docs-open',
      handler: async ({ res }) => {
        doc ??= import('../openapi.js').then(async ({ openApiDocument }) => {
          const model = await service.model().catch(() => null);
          return openApiDocument({ version: ortosVersion(), model: model?.name ?? 'the model', dimensions: model?.dimensions ?? 768, maxTokens: model?.maxTokens ?? 512, prompts: model?.rules.prompts ?? {}, keyRequired, reranker: reranker?.name });
        });
        sendJson(res, 200, await doc);
      },
    },
    '/docs': {
      method: 'GET',
      open,
      openWith: '--docs-open',
      handler: async ({ res }) => {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(PAGE) });
        res.end(PAGE);
      },
    },
  };
  for (const [name, type] of Object.entries(DOCS_ASSETS)) {
    routes[`/docs/${name}`] = {
      method: 'GET',
      open,
      openWith: '--docs-open',
      handler: async ({ res }) => {
        const dir = assetsDir();
        if (dir === null) {
          sendJson(res, 404, { error: { message: 'the docs page\'s files are missing (dist/docs-ui): rebuild with npm run build', type: 'not_found_error', code: 'not_found', param: null } });
          return;
        }
        res.writeHead(200, { 'content-type': type, 'cache-control': 'public, max-age=86400' });
        await new Promise<void>((resolve, reject) => createReadStream(join(dir, name)).on('error', reject).on('end', resolve).pipe(res));
      },
    };
  }
  return routes;
}
