import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { HttpDeps } from '../http-deps.ts';

/** The widget bundle `npm run build` writes (packages/widget/dist/widget.js). */
export const WIDGET_BUNDLE_PATH = path.resolve(import.meta.dirname, '../../../../../widget/dist/widget.js');

interface Bundle {
  mtimeMs: number;
  body: Buffer;
  etag: string;
}

/**
 * Serves the consumer widget (`GET /widget.js`) and a demo brand page with the widget on it (`GET /demo`). The bundle
 * is read from disk and kept in memory until the file changes (a rebuild is served without a restart). Brands embed
 * the unversioned URL for good, so caches keep it five minutes and then revalidate with the ETag.
 */
export function registerWebWidgetRoutes(app: FastifyInstance, { services }: HttpDeps, bundlePath: string = WIDGET_BUNDLE_PATH): void {
  let cached: Bundle | undefined;
  const loadBundle = async (): Promise<Bundle | undefined> => {
    const stat = await fs.stat(bundlePath).catch(() => undefined);
    if (!stat) return undefined;
    if (cached?.mtimeMs !== stat.mtimeMs) {
      const body = await fs.readFile(bundlePath);
      cached = { mtimeMs: stat.mtimeMs, body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"` };
    }
    return cached;
  };

  app.get('/widget.js', async (request, reply) => {
    reply.header('content-type', 'text/javascript; charset=utf-8');
    reply.header('x-content-type-options', 'nosniff');
    const bundle = await loadBundle();
    if (!bundle) {
      request.log.error({ bundlePath }, 'the widget bundle is missing: run `npm run build`');
      return reply.code(503).header('cache-control', 'no-store').send('console.error("Parley: the widget is not built on this server (run `npm run build`).");\n');
    }
    reply.header('cache-control', 'public, max-age=300, stale-while-revalidate=86400');
    reply.header('etag', bundle.etag);
    reply.header('access-control-allow-origin', '*');
    if (request.headers['if-none-match'] === bundle.etag) return reply.code(304).send();
    return reply.send(bundle.body);
  });

  app.get('/demo', async (request, reply) => {
    reply.header('content-type', 'text/html; charset=utf-8');
    reply.header('cache-control', 'no-store');
    const requested = (request.query as Record<string, unknown> | undefined)?.widgetKey;
    const widgetKey = typeof requested === 'string' && /^pwk_[A-Za-z0-9_-]{8,120}$/.test(requested) ? requested : (await services.accounts.oldest())?.widgetKey;
    return reply.send(demoPage(widgetKey));
  });

  app.get('/demo/products/:file', async (request, reply) => {
    const match = /^(\d)\.svg$/.exec((request.params as { file: string }).file);
    const product = match ? products[Number(match[1])] : undefined;
    if (!product) return reply.code(404).header('content-type', 'text/plain; charset=utf-8').send('Not found');
    return reply.header('content-type', 'image/svg+xml').header('cache-control', 'public, max-age=86400').send(productImage(product));
  });
}

const productImage = (p: (typeof products)[number]) =>
  `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100" width="400" height="400"><rect width="100" height="100" fill="#f1ede6"/><path d="${p.shape}" fill="${p.colour}"/></svg>`;

const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const products = [
  { name: 'Harbour rain jacket', price: '€149', colour: '#2f5d62', shape: 'M30 20 L50 12 L70 20 L78 44 L66 48 L66 88 L34 88 L34 48 L22 44 Z' },
  { name: 'Fjord wool sweater', price: '€89', colour: '#a4502f', shape: 'M28 22 L50 14 L72 22 L80 50 L68 52 L68 88 L32 88 L32 52 L20 50 Z' },
  { name: 'Trail daypack 22 L', price: '€74', colour: '#3d4a7a', shape: 'M32 24 Q50 8 68 24 L72 86 Q50 92 28 86 Z' },
  { name: 'Ridge hiking boots', price: '€165', colour: '#6b4f2c', shape: 'M24 30 L46 30 L48 62 L80 70 L80 84 L20 84 Z' },
];

/** A small shop page, as a brand's site would be, with the one script tag that embeds the widget. */
export function demoPage(widgetKey: string | undefined): string {
  const snippet = widgetKey ? `<script src="/widget.js" data-widget-key="${escapeHtml(widgetKey)}" async></script>` : '';
  const notice = widgetKey
    ? ''
    : `<div class="notice" role="alert"><strong>No account yet.</strong> Start Parley once (<code>npm start</code>) to create the first account, or open <code>/demo?widgetKey=pwk_…</code> with an account's widget key.</div>`;
  const cards = products
    .map(
      (p, i) => `<li class="card">
          <img src="/demo/products/${i}.svg" alt="${escapeHtml(p.name)}" width="400" height="400">
          <h3>${escapeHtml(p.name)}</h3>
          <p class="price">${p.price}</p>
          <button type="button">Add to bag</button>
        </li>`,
    )
    .join('\n        ');
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Northwind Outfitters – outdoor clothing</title>
  <link rel="icon" href="data:,">
  <style>
    :root { --ink: #1d2521; --muted: #55605a; --accent: #2f5d62; }
    * { box-sizing: border-box; }
    body { margin: 0; font: 16px/1.5 Georgia, 'Times New Roman', serif; color: var(--ink); background: #fbfaf7; }
    header { display: flex; align-items: center; justify-content: space-between; padding: 18px 32px; border-bottom: 1px solid #e4dfd5; background: #fff; }
    .logo { font: 700 22px/1 Georgia, serif; letter-spacing: .04em; color: var(--accent); text-decoration: none; }
    nav a { margin-left: 22px; color: var(--ink); text-decoration: none; font-family: system-ui, sans-serif; font-size: 15px; }
    .hero { padding: 64px 32px 48px; background: linear-gradient(120deg, #2f5d62, #5e8b7e); color: #fff; }
    .hero h1 { margin: 0 0 8px; font-size: 40px; font-weight: 400; }
    .hero p { margin: 0; max-width: 560px; font-size: 18px; }
    main { padding: 32px; max-width: 1100px; margin: 0 auto; }
    h2 { font-weight: 400; font-size: 26px; }
    ul.grid { list-style: none; padding: 0; display: grid; grid-template-columns: repeat(auto-fill, minmax(220px, 1fr)); gap: 24px; }
    .card { background: #fff; border: 1px solid #e4dfd5; border-radius: 8px; padding: 16px; font-family: system-ui, sans-serif; }
    .card img { width: 100%; height: auto; border-radius: 6px; display: block; }
    .card h3 { font-size: 16px; margin: 12px 0 4px; }
    .price { margin: 0 0 12px; color: var(--muted); }
    .card button { width: 100%; padding: 10px; border: 0; border-radius: 6px; background: var(--accent); color: #fff; font-size: 15px; cursor: pointer; }
    .notice { margin: 24px 32px 0; padding: 16px; border-radius: 8px; background: #fff4d6; border: 1px solid #e8c96a; font-family: system-ui, sans-serif; }
    @media (max-width: 600px) {
      header { flex-wrap: wrap; gap: 8px; padding: 14px 16px; }
      nav a { margin: 0 14px 0 0; }
      .hero { padding: 36px 16px 28px; }
      .hero h1 { font-size: 30px; }
      main, footer { padding: 16px; }
      ul.grid { grid-template-columns: 1fr 1fr; gap: 12px; }
    }
    footer { padding: 32px; color: var(--muted); font: 14px/1.5 system-ui, sans-serif; border-top: 1px solid #e4dfd5; margin-top: 48px; }
  </style>
</head>
<body>
  <header>
    <a class="logo" href="/demo">Northwind Outfitters</a>
    <nav aria-label="Shop"><a href="/demo">Women</a><a href="/demo">Men</a><a href="/demo">Gear</a><a href="/demo">Stores</a></nav>
  </header>
  ${notice}
  <section class="hero">
    <h1>Made for the long way round</h1>
    <p>Weatherproof layers and sturdy gear, repaired for free for life. Questions about sizing or an order? Chat with us.</p>
  </section>
  <main>
    <h2>New this season</h2>
    <ul class="grid">
        ${cards}
    </ul>
  </main>
  <footer>Northwind Outfitters is a demo shop served by Parley at <code>/demo</code>. The chat button in the corner is the Parley widget, embedded with one script tag.</footer>
  ${snippet}
</body>
</html>
`;
}
