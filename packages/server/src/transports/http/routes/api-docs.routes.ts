import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** The documents `npm run docs:generate` writes from the contract (CI fails when they are stale). */
export const API_DOCS_DIR = path.resolve(import.meta.dirname, '../../../../../../docs/api');
/** Swagger UI's prebuilt bundle, from the `swagger-ui-dist` package: nothing is fetched from a CDN. */
const SWAGGER_UI_DIR = path.dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));

export const DOCS_PAGE = '/docs';
const ASSETS = `${DOCS_PAGE}/assets`;

/** The files of swagger-ui-dist the page uses; nothing else of the package is reachable. */
const SWAGGER_FILES: Record<string, string> = {
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'swagger-ui.css': 'text/css; charset=utf-8',
  'favicon-32x32.png': 'image/png',
  'favicon-16x16.png': 'image/png',
};

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Parley API reference</title>
<link rel="icon" type="image/png" href="${ASSETS}/favicon-32x32.png">
<link rel="stylesheet" href="${ASSETS}/swagger-ui.css">
<link rel="stylesheet" href="${ASSETS}/parley-docs.css">
</head>
<body>
<header class="parley-docs-bar">
  <strong>Parley API</strong>
  <nav>
    <a href="/v1/openapi.json">OpenAPI 3.1 (REST)</a>
    <a href="/v1/asyncapi.json">AsyncAPI 3.0 (WebSocket /v1/ws)</a>
  </nav>
</header>
<main id="swagger-ui"></main>
<script src="${ASSETS}/swagger-ui-bundle.js"></script>
<script src="${ASSETS}/parley-docs.js"></script>
</body>
</html>
`;

/** Kept out of the page so the Content-Security-Policy can forbid inline scripts. */
const INIT_SCRIPT = `window.ui = SwaggerUIBundle({
  url: '/v1/openapi.json',
  dom_id: '#swagger-ui',
  deepLinking: true,
  docExpansion: 'list',
  filter: true,
  displayRequestDuration: true,
  persistAuthorization: false,
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis],
  layout: 'BaseLayout',
});
`;

const PAGE_CSS = `body { margin: 0; font-family: system-ui, sans-serif; }
.parley-docs-bar { display: flex; gap: 1.5rem; align-items: center; padding: 0.75rem 1.5rem; background: #1f2a44; color: #fff; }
.parley-docs-bar nav { display: flex; gap: 1rem; }
.parley-docs-bar a { color: #cfe0ff; }
`;

/**
 * The page allows only this origin: the reference works offline and cannot leak a pasted token to a third party.
 * Swagger UI sets style attributes, hence `'unsafe-inline'` for styles (never for scripts).
 */
const CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

interface Asset {
  body: Buffer;
  gzipped: Buffer;
  etag: string;
  contentType: string;
}

function asset(body: Buffer | string, contentType: string): Asset {
  const buffer = Buffer.isBuffer(body) ? body : Buffer.from(body);
  return { body: buffer, gzipped: gzipSync(buffer), etag: `"${createHash('sha256').update(buffer).digest('base64url').slice(0, 27)}"`, contentType };
}

function send(request: FastifyRequest, reply: FastifyReply, file: Asset, cacheControl: string): FastifyReply {
  reply.header('content-type', file.contentType).header('cache-control', cacheControl).header('etag', file.etag).header('x-content-type-options', 'nosniff').header('vary', 'accept-encoding');
  if (request.headers['if-none-match'] === file.etag) return reply.code(304).send();
  const gzip = /\bgzip\b/.test(String(request.headers['accept-encoding'] ?? '')) && file.contentType !== 'image/png';
  if (gzip) reply.header('content-encoding', 'gzip');
  return reply.send(gzip ? file.gzipped : file.body);
}

/**
 * The API documentation, public and cacheable: `GET /v1/openapi.json` and `GET /v1/asyncapi.json` (the generated
 * documents of `docs/api`), and `GET /docs`, an interactive reference (Swagger UI, bundled from npm; ADR 11). Files
 * are read once, on first use, and kept in memory with their gzipped form.
 */
export function registerApiDocsRoutes(app: FastifyInstance, docsDir: string = API_DOCS_DIR): void {
  const cache = new Map<string, Promise<Asset>>();
  const load = (key: string, read: () => Promise<Asset>): Promise<Asset> => {
    let pending = cache.get(key);
    if (!pending) {
      pending = read();
      cache.set(key, pending);
      // A failed read (say, docs not generated) is retried next time rather than remembered.
      pending.catch(() => cache.delete(key));
    }
    return pending;
  };
  const document = (name: string) => load(name, async () => asset(await fs.readFile(path.join(docsDir, name)), 'application/json; charset=utf-8'));

  for (const name of ['openapi.json', 'asyncapi.json']) {
    app.get(`/v1/${name}`, async (request, reply) => {
      reply.header('access-control-allow-origin', '*');
      return send(request, reply, await document(name), 'public, max-age=300');
    });
  }

  app.get(DOCS_PAGE, async (request, reply) => {
    reply.header('content-security-policy', CSP).header('referrer-policy', 'no-referrer').header('x-frame-options', 'DENY');
    return send(request, reply, await load('page', async () => asset(PAGE, 'text/html; charset=utf-8')), 'no-cache');
  });
  app.get(`${DOCS_PAGE}/`, async (_request, reply) => reply.redirect(DOCS_PAGE, 301));
  app.get(`${ASSETS}/:file`, async (request, reply) => {
    const { file } = request.params as { file: string };
    if (file === 'parley-docs.js') return send(request, reply, await load(file, async () => asset(INIT_SCRIPT, 'text/javascript; charset=utf-8')), 'no-cache');
    if (file === 'parley-docs.css') return send(request, reply, await load(file, async () => asset(PAGE_CSS, 'text/css; charset=utf-8')), 'no-cache');
    const contentType = SWAGGER_FILES[file];
    if (!contentType) {
      return reply
        .code(404)
        .header('cache-control', 'no-store')
        .send({ error: { code: 'ROUTE_NOT_FOUND', message: `No file ${ASSETS}/${file}`, retryable: false } });
    }
    return send(request, reply, await load(file, async () => asset(await fs.readFile(path.join(SWAGGER_UI_DIR, file)), contentType)), 'public, max-age=86400');
  });
}
