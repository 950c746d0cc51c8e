import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Browser, launchBrowser, SCREENSHOT_DIR } from '../../../test/browser.ts';
import { storageMode } from '../../../test/test-database.ts';
import { startTestServer, type TestServer } from '../../../test/test-server.ts';
import { API_DOCS_DIR } from './api-docs.routes.ts';

/**
 * The API documentation Parley serves: the generated OpenAPI and AsyncAPI documents, and the interactive reference
 * at /docs in Debian's Chromium, which must load nothing from outside the server. Screenshots: .tmp/screenshots/api-docs*.png.
 */
describe(`API documentation served by Parley (${storageMode})`, () => {
  let t: TestServer;
  let browser: Browser;
  beforeAll(async () => {
    t = await startTestServer({ listen: true });
    browser = await launchBrowser({ viewport: { width: 1280, height: 900 } });
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it('serves the generated OpenAPI and AsyncAPI documents, public and cacheable', async () => {
    for (const name of ['openapi.json', 'asyncapi.json']) {
      const response = await fetch(`${t.baseUrl}/v1/${name}`);
      expect(response.status, name).toBe(200);
      expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
      expect(response.headers.get('cache-control')).toBe('public, max-age=300');
      expect(await response.text()).toBe(fs.readFileSync(path.join(API_DOCS_DIR, name), 'utf8'));
      const etag = response.headers.get('etag') ?? '';
      expect(etag).toMatch(/^".+"$/);
      expect((await fetch(`${t.baseUrl}/v1/${name}`, { headers: { 'if-none-match': etag } })).status).toBe(304);
    }
    const openapi = (await (await fetch(`${t.baseUrl}/v1/openapi.json`)).json()) as { openapi: string };
    expect(openapi.openapi).toMatch(/^3\.1\./);
  });

  it('serves only the Swagger UI files the page uses', async () => {
    const bundle = await fetch(`${t.baseUrl}/docs/assets/swagger-ui-bundle.js`);
    expect(bundle.status).toBe(200);
    expect(bundle.headers.get('content-encoding')).toBe('gzip'); // fetch asks for it
    expect((await fetch(`${t.baseUrl}/docs/assets/package.json`)).status).toBe(404);
    expect((await fetch(`${t.baseUrl}/docs/assets/..%2F..%2Fpackage.json`)).status).toBe(404);
  });

  it('shows an interactive reference at /docs that lists the endpoints, tries one, and loads nothing from elsewhere', async () => {
    const page = await browser.newPage();
    const foreign: string[] = [];
    const errors: string[] = [];
    page.on('request', (request) => {
      if (!request.url().startsWith(t.baseUrl) && !request.url().startsWith('data:')) foreign.push(request.url());
    });
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
    page.on('pageerror', (error) => errors.push(error.message));

    const shot = (name: string) => {
      fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
      return page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}.png`) });
    };
    const response = await page.goto(`${t.baseUrl}/docs`);
    expect(response?.headers()['content-security-policy']).toContain("script-src 'self'");
    await page.locator('.opblock').first().waitFor();
    expect(await page.locator('.opblock').count()).toBeGreaterThan(40);
    await expect.poll(() => page.locator('.opblock-summary-path').allInnerTexts()).toEqual(expect.arrayContaining(['/v1/conversations', '/v1/api-keys/{id}', '/oauth/token']));
    expect(await page.getByRole('heading', { name: /Parley REST API/ }).count()).toBe(1);
    expect(await page.locator('.errors-wrapper').count(), 'Swagger UI found no fault in the document').toBe(0);
    await shot('api-docs');
    await page.locator('#operations-tag-conversations').scrollIntoViewIfNeeded();
    await shot('api-docs-endpoints');

    // Try GET /v1/me without credentials: the page calls the server and shows its 401.
    const me = page.locator('#operations-me-me');
    await me.locator('.opblock-summary').click();
    await me.getByRole('button', { name: 'Try it out' }).click();
    await me.getByRole('button', { name: 'Execute' }).click();
    await expect.poll(() => me.locator('.live-responses-table tbody .response-col_status').allInnerTexts()).toEqual([expect.stringContaining('401')]);

    // The Authorize dialog offers the API key, user token and OAuth client credentials schemes.
    await page
      .getByRole('button', { name: /Authorize/ })
      .first()
      .click();
    await expect.poll(() => page.locator('.auth-container h4').allInnerTexts()).toEqual(expect.arrayContaining([expect.stringContaining('oauth2'), expect.stringContaining('apiKey')]));
    await page.locator('.modal-ux .close-modal').click();
    await me.locator('.live-responses-table').scrollIntoViewIfNeeded();
    await shot('api-docs-try-it');
    expect(foreign).toEqual([]);
    expect(errors.filter((e) => !e.includes('401'))).toEqual([]);
  });
});
