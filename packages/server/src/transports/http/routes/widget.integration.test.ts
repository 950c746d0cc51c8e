import { DEFAULT_WIDGET_SETTINGS } from '@parley/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { actors, call } from '../../../test/rest-client.ts';
import { storageMode } from '../../../test/test-database.ts';
import { startTestServer, type TestServer } from '../../../test/test-server.ts';
import { demoPage } from './web-widget.routes.ts';

const SETTINGS = { primaryColor: '#2f5d62', greeting: 'Welcome to Northwind!', position: 'bottom-left', locale: 'fr', title: 'Northwind Outfitters' } as const;

describe(`widget settings and public widget config (${storageMode})`, () => {
  let t: TestServer;
  let admin: string;
  let manager: string;
  let agent: string;

  beforeAll(async () => {
    t = await startTestServer();
    const a = actors(t);
    admin = await a.adminToken();
    manager = (await a.createUser(admin, 'manager')).token;
    agent = (await a.createUser(admin, 'agent')).token;
  });
  afterAll(() => t.close());

  const app = () => t.server.app;

  it('answers the defaults before anything was saved, to admins and managers', async () => {
    for (const token of [admin, manager]) {
      const r = await call(app(), 'getWidgetSettings', { token });
      expect(r.status).toBe(200);
      expect(r.body).toEqual(DEFAULT_WIDGET_SETTINGS);
    }
  });

  it('refuses agents (403), consumers (403) and callers without credentials (401)', async () => {
    expect((await call(app(), 'getWidgetSettings', { token: agent })).body.error?.code).toBe('FORBIDDEN');
    const consumer = await actors(t).consumer();
    expect((await call(app(), 'getWidgetSettings', { token: consumer.token })).status).toBe(403);
    expect((await call(app(), 'getWidgetSettings')).status).toBe(401);
    expect((await call(app(), 'updateWidgetSettings', { token: manager, body: SETTINGS })).body.error?.code).toBe('FORBIDDEN');
    expect((await call(app(), 'updateWidgetSettings', { token: agent, body: SETTINGS })).status).toBe(403);
  });

  it('validates settings: a colour as #rrggbb, a known position, no unknown fields, a non-empty greeting', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ ...SETTINGS, primaryColor: 'red' }, 'body.primaryColor'],
      [{ ...SETTINGS, primaryColor: '#12345' }, 'body.primaryColor'],
      [{ ...SETTINGS, position: 'top-left' }, 'body.position'],
      [{ ...SETTINGS, greeting: '   ' }, 'body.greeting'],
      [{ ...SETTINGS, locale: 'French!' }, 'body.locale'],
      [{ ...SETTINGS, css: 'body{}' }, 'body.css'],
      [{ primaryColor: '#2f5d62' }, 'body.greeting'],
    ];
    for (const [body, path] of cases) {
      const r = await call(app(), 'updateWidgetSettings', { token: admin, body });
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error?.code).toBe('VALIDATION_FAILED');
      expect(((r.body.error?.details?.issues ?? []) as Array<{ path: string }>).map((i) => i.path)).toContain(path);
    }
    expect((await call(app(), 'getWidgetSettings', { token: admin })).body).toEqual(DEFAULT_WIDGET_SETTINGS);
  });

  it('replaces the settings (admins); what was left out is gone', async () => {
    const saved = await call(app(), 'updateWidgetSettings', { token: admin, body: SETTINGS });
    expect(saved.status).toBe(200);
    expect(saved.body).toEqual(SETTINGS);
    expect((await call(app(), 'getWidgetSettings', { token: manager })).body).toEqual(SETTINGS);
    const { locale: _locale, title: _title, ...rest } = SETTINGS;
    const replaced = await call(app(), 'updateWidgetSettings', { token: admin, body: rest });
    expect(replaced.body).toEqual(rest);
  });

  it('gives the public config by widget key, without credentials and without secrets', async () => {
    await call(app(), 'updateWidgetSettings', { token: admin, body: SETTINGS });
    const r = await call(app(), 'getWidgetConfig', { query: { widgetKey: t.widgetKey } });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ accountName: expect.any(String), settings: SETTINGS });
    expect(JSON.stringify(r.body)).not.toContain(t.widgetKey);
    expect(r.headers['cache-control']).toMatch(/max-age/);
  });

  it('answers NOT_FOUND for an unknown widget key and VALIDATION_FAILED without one', async () => {
    const unknown = await call(app(), 'getWidgetConfig', { query: { widgetKey: 'pwk_not-a-real-key-000' } });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error?.code).toBe('NOT_FOUND');
    const missing = await call(app(), 'getWidgetConfig');
    expect(missing.status).toBe(400);
    expect(missing.body.error?.code).toBe('VALIDATION_FAILED');
  });

  it('lets brand pages call the API from their origin: preflights answered, any origin allowed (bearer tokens only)', async () => {
    const preflight = await app().inject({
      method: 'OPTIONS',
      url: '/v1/conversations',
      headers: { origin: 'https://shop.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
    });
    expect(preflight.statusCode).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe('*');
    expect(String(preflight.headers['access-control-allow-methods'])).toContain('POST');
    expect(preflight.headers['access-control-allow-headers']).toBe('authorization, content-type');
    const config = await app().inject({ method: 'GET', url: `/v1/widget/config?widgetKey=${t.widgetKey}`, headers: { origin: 'https://shop.example' } });
    expect(config.headers['access-control-allow-origin']).toBe('*');
    const sameOrigin = await app().inject({ method: 'GET', url: `/v1/widget/config?widgetKey=${t.widgetKey}` });
    expect(sameOrigin.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('serves the demo page with the first account’s widget key, and ignores a malformed key in the query', async () => {
    const page = await app().inject({ method: 'GET', url: '/demo' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.body).toContain(`data-widget-key="${t.widgetKey}"`);
    const hostile = await app().inject({ method: 'GET', url: `/demo?widgetKey=${encodeURIComponent('pwk_x"><script>alert(1)</script>')}` });
    expect(hostile.body).not.toContain('alert(1)');
    expect(hostile.body).toContain(`data-widget-key="${t.widgetKey}"`);
    expect((await app().inject({ method: 'GET', url: '/demo/products/0.svg' })).headers['content-type']).toBe('image/svg+xml');
    expect((await app().inject({ method: 'GET', url: '/demo/products/9.svg' })).statusCode).toBe(404);
  });

  it('explains on the demo page how to get an account when there is none', () => {
    const html = demoPage(undefined);
    expect(html).toContain('No account yet');
    expect(html).not.toContain('<script src="/widget.js"');
  });
});
