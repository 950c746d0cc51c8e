import fs from 'node:fs/promises';
import path from 'node:path';
import type { FastifyInstance, FastifyReply } from 'fastify';

/** Where `npm run build` puts the console (packages/console/dist). */
export const CONSOLE_DIST_DIR = path.resolve(import.meta.dirname, '../../../../../console/dist');
export const CONSOLE_BASE = '/console/';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

/** Vite names every asset under assets/ with a content hash: it never changes, so caches keep it for a year. */
const IMMUTABLE = 'public, max-age=31536000, immutable';

/**
 * Serves the agent workspace and admin console, a single-page app built by Vite, under `/console/`. Files of the build
 * are sent as they are (hashed assets cached for good); any other path under `/console/` is a client route and gets
 * `index.html` (never cached, so a new build is picked up at the next load). `/` redirects to the console. A small
 * handler rather than a static plugin: one folder, no directory listings, and nothing that could shadow `/widget.js`
 * or `/demo`.
 */
export function registerConsoleRoutes(app: FastifyInstance, distDir: string = CONSOLE_DIST_DIR): void {
  const root = path.resolve(distDir);

  const sendFile = async (reply: FastifyReply, file: string, cacheControl: string) => {
    const body = await fs.readFile(file);
    return reply
      .header('content-type', CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream')
      .header('cache-control', cacheControl)
      .header('x-content-type-options', 'nosniff')
      .send(body);
  };

  const sendIndex = async (reply: FastifyReply) => {
    const index = path.join(root, 'index.html');
    const exists = await fs.stat(index).catch(() => undefined);
    if (!exists) {
      return reply
        .code(503)
        .header('content-type', 'text/html; charset=utf-8')
        .header('cache-control', 'no-store')
        .send('<!doctype html><title>Parley</title><p>The console is not built on this server: run <code>npm run build</code>, then reload.</p>');
    }
    reply.header('referrer-policy', 'no-referrer').header('x-frame-options', 'DENY');
    return sendFile(reply, index, 'no-cache');
  };

  app.get('/', async (_request, reply) => reply.redirect(CONSOLE_BASE, 302));
  app.get('/console', async (_request, reply) => reply.redirect(CONSOLE_BASE, 301));
  app.get('/console/*', async (request, reply) => {
    const raw = (request.params as { '*'?: string })['*'] ?? '';
    let relative: string;
    try {
      relative = decodeURIComponent(raw.split('?')[0] ?? '');
    } catch {
      return reply.code(400).send({ error: { code: 'VALIDATION_FAILED', message: 'Malformed path', retryable: false } });
    }
    const file = path.resolve(root, relative);
    const inside = file.startsWith(root + path.sep);
    if (inside && relative !== '' && relative !== 'index.html') {
      const stat = await fs.stat(file).catch(() => undefined);
      if (stat?.isFile()) return sendFile(reply, file, relative.startsWith('assets/') ? IMMUTABLE : 'public, max-age=300');
    }
    // A missing file (a stale hashed asset, a typo) is a 404, not the app: browsers would otherwise parse HTML as JS.
    if (path.extname(relative) !== '') {
      return reply
        .code(404)
        .header('cache-control', 'no-store')
        .send({ error: { code: 'ROUTE_NOT_FOUND', message: `No file ${CONSOLE_BASE}${relative}`, retryable: false } });
    }
    return sendIndex(reply);
  });
}
