import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Browser, launchBrowser, screenshot, seriousAccessibilityViolations } from '../../server/src/test/browser.ts';
import { actors, call, text } from '../../server/src/test/rest-client.ts';
import { storageMode } from '../../server/src/test/test-database.ts';
import { ADMIN_PASSWORD, startTestServer, type TestServer } from '../../server/src/test/test-server.ts';

describe(`the Webhooks admin page in Chromium (${storageMode})`, () => {
  let t: TestServer;
  let browser: Browser;
  let receiver: http.Server;
  let receiverUrl: string;
  let failingUrl: string;

  beforeAll(async () => {
    t = await startTestServer({ listen: true, env: { WEBHOOK_RETRY_BASE_MS: '20', WEBHOOK_DISABLE_AFTER_FAILURES: '3', WEBHOOK_DISABLE_MIN_FAILING_MS: '0' } });
    receiver = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(req.url?.startsWith('/broken') ? 500 : 204).end());
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const { port } = receiver.address() as AddressInfo;
    receiverUrl = `http://127.0.0.1:${port}/crm/parley`;
    failingUrl = `http://127.0.0.1:${port}/broken`;
    browser = await launchBrowser({ viewport: { width: 1360, height: 900 } });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
  }, 120_000);

  it('creates an endpoint showing its secret once, lists deliveries with replay, and shows why a failing one was disabled', async () => {
    const a = actors(t);
    const admin = await a.adminToken();
    const broken = await call(t.server.app, 'createWebhook', { token: admin, body: { url: failingUrl, eventTypes: ['conversation.message'], description: 'Old analytics' } });
    expect(broken.status).toBe(201);

    const page = await browser.newPage();
    await page.goto(`${t.baseUrl}/console/`);
    await page.getByLabel('Email').fill(t.adminEmail);
    await page.getByLabel('Password').fill(ADMIN_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Inbox' }).waitFor();
    await page.getByRole('link', { name: 'Webhooks' }).click();
    await page.getByRole('heading', { name: 'Webhooks' }).waitFor();

    await page.getByRole('button', { name: 'Add endpoint' }).click();
    await page.getByLabel('Endpoint URL').fill(receiverUrl);
    await page.getByLabel('Description').fill('CRM sync');
    await page.getByLabel('Assigned to an agent or a bot').check();
    await page.getByRole('dialog').getByRole('button', { name: 'Add endpoint' }).click();
    const secret = await page.getByTestId('webhook-secret').textContent();
    expect(secret).toMatch(/^whsec_/);

    // Traffic: one conversation, delivered to the CRM and failing at the broken endpoint until it is disabled.
    const consumer = await a.consumer();
    const conversationId = await a.conversation(consumer.token);
    for (const m of ['Hi, where is my order?', 'Order 1234', 'Thanks']) await call(t.server.app, 'sendEvent', { token: consumer.token, params: { conversationId }, body: text(m) });
    const deadline = Date.now() + 15_000;
    while ((await call(t.server.app, 'getWebhook', { token: admin, params: { id: broken.body.subscription.id } })).body.status !== 'disabled') {
      if (Date.now() > deadline) throw new Error('the failing endpoint was not disabled');
      await new Promise((r) => setTimeout(r, 100));
    }

    await page.reload();
    await page.getByRole('alert').filter({ hasText: 'is disabled' }).waitFor();
    const crmRow = page.getByRole('row').filter({ hasText: 'CRM sync' });
    await crmRow.getByRole('button', { name: 'Deliveries' }).click();
    await page.getByRole('heading', { name: 'Deliveries' }).waitFor();
    await page.getByText('delivered').first().waitFor();
    expect(await page.getByRole('button', { name: 'Replay' }).count()).toBeGreaterThanOrEqual(4);
    await page.getByRole('button', { name: 'Replay' }).first().click();
    await page.getByText('replay', { exact: true }).first().waitFor();
    expect(await seriousAccessibilityViolations(page)).toEqual([]);
    await screenshot(page, 'console-webhooks');
  });
});
