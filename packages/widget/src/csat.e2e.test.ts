import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Browser, launchBrowser, SCREENSHOT_DIR, seriousAccessibilityViolations } from '../../server/src/test/browser.ts';
import { actors, call, text } from '../../server/src/test/rest-client.ts';
import { storageMode } from '../../server/src/test/test-database.ts';
import { startTestServer, type TestServer } from '../../server/src/test/test-server.ts';

/**
 * The CSAT survey and conversions in the widget, in Chromium against a real server: the agent closes, the survey
 * appears above the composer, the consumer picks 5 and writes a comment, and the page reports a purchase through
 * `window.parley.conversion`. Screenshots go to .tmp/screenshots/widget-csat-*.png.
 */

async function shot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, `widget-csat-${name}.png`), animations: 'disabled' });
}

const widget = (page: Page) => page.locator('parley-widget');
const survey = (page: Page) => page.getByRole('group', { name: 'How would you rate this conversation?' });

async function conversationOf(page: Page): Promise<string> {
  const handle = await page.waitForFunction(() => {
    const state = (window as unknown as { parley?: { widget?: { state: { conversations: { id: string }[] } } } }).parley?.widget?.state;
    return state?.conversations.at(-1)?.id;
  });
  return (await handle.jsonValue()) as string;
}

describe(`the CSAT survey and conversions in the widget (${storageMode})`, () => {
  let t: TestServer;
  let admin: string;
  let agent: { id: string; token: string };
  const browsers: Browser[] = [];

  beforeAll(async () => {
    t = await startTestServer({ listen: true });
    const a = actors(t);
    admin = await a.adminToken();
    agent = await a.createUser(admin, 'agent', 'Anna');
    const settings = { primaryColor: '#2f5d62', greeting: 'Welcome to Northwind! Ask us about sizes, orders or repairs.', position: 'bottom-right', title: 'Northwind Outfitters' };
    expect((await call(t.server.app, 'updateWidgetSettings', { token: admin, body: settings })).status).toBe(200);
  });
  afterAll(async () => {
    for (const browser of browsers) await browser.close();
    await t?.close();
  });

  it('asks for a rating when the agent closes, stores the 5 and the comment, and reports a purchase attributed to the conversation', async () => {
    const browser = await launchBrowser();
    browsers.push(browser);
    const page = await browser.newPage({ viewport: { width: 1000, height: 760 } });
    page.on('pageerror', (error) => {
      throw error;
    });
    await page.goto(`${t.baseUrl}/demo`);
    await widget(page).locator('.pw-launcher').click();
    const composer = page.getByRole('textbox', { name: 'Message' });
    await composer.fill('Is the Harbour jacket waterproof?');
    await composer.press('Enter');
    const conversationId = await conversationOf(page);
    await expect.poll(async () => (await call(t.server.app, 'takeConversation', { token: agent.token, params: { conversationId } })).status).toBe(200);
    await call(t.server.app, 'sendEvent', { token: agent.token, params: { conversationId }, body: text('Yes, fully taped seams. Anything else?') });
    expect((await call(t.server.app, 'closeConversation', { token: agent.token, params: { conversationId } })).status).toBe(200);

    await survey(page).waitFor();
    expect(await seriousAccessibilityViolations(page), 'the widget with the survey').toEqual([]);
    const send = widget(page).locator('.pw-survey').getByRole('button', { name: 'Send rating' });
    expect(await send.isDisabled()).toBe(true);
    // A pointer picks the visible choice (its label); assistive technology sees a radio group.
    await survey(page).locator('label', { hasText: '5' }).click();
    expect(await survey(page).getByRole('radio', { name: '5 – Excellent' }).isChecked()).toBe(true);
    await page.getByRole('textbox', { name: 'Anything to add? (optional)' }).fill('Anna knew everything about the jacket.');
    expect(await send.isEnabled()).toBe(true);
    await shot(page, 'survey');
    await send.click();
    await expect.poll(() => widget(page).getByRole('status').filter({ hasText: 'Thank you for your feedback!' }).count()).toBe(1);
    await shot(page, 'thanks');

    const stored = await call(t.server.app, 'getCsat', { token: admin, params: { conversationId } });
    expect(stored.body).toMatchObject({ status: 'answered', response: { score: 5, comment: 'Anna knew everything about the jacket.', agentId: agent.id, channel: 'web' } });

    // The shop's thank-you page reports the order.
    const reported = await page.evaluate(() =>
      (window as unknown as { parley: { conversion(c: object): Promise<{ id: string; attributed: boolean }> } }).parley.conversion({
        type: 'purchase',
        value: 189.5,
        currency: 'EUR',
        orderId: 'NW-1001',
      }),
    );
    expect(reported.attributed).toBe(true);
    const conversions = await call(t.server.app, 'listConversions', { token: admin, query: {} });
    expect(conversions.body.items).toMatchObject([{ id: reported.id, type: 'purchase', value: 189.5, currency: 'EUR', externalId: 'NW-1001', attribution: { conversationId, agentId: agent.id } }]);

    // After a reload the answered survey is not asked again.
    await page.reload();
    await widget(page).locator('.pw-launcher').click();
    await expect.poll(() => widget(page).locator('.pw-rows').textContent()).toContain('Yes, fully taped seams.');
    expect(await widget(page).locator('.pw-survey').count()).toBe(0);
  });

  it('lets the consumer skip the survey, and does not ask again on this device', async () => {
    const browser = await launchBrowser();
    browsers.push(browser);
    const page = await browser.newPage();
    await page.goto(`${t.baseUrl}/demo`);
    await widget(page).locator('.pw-launcher').click();
    const composer = page.getByRole('textbox', { name: 'Message' });
    await composer.fill('Do you ship to Norway?');
    await composer.press('Enter');
    const conversationId = await conversationOf(page);
    await expect.poll(async () => (await call(t.server.app, 'takeConversation', { token: agent.token, params: { conversationId } })).status).toBe(200);
    await call(t.server.app, 'closeConversation', { token: agent.token, params: { conversationId } });
    await survey(page).waitFor();
    await widget(page).locator('.pw-survey').getByRole('button', { name: 'Skip' }).click();
    expect(await widget(page).locator('.pw-survey').count()).toBe(0);
    await page.reload();
    await widget(page).locator('.pw-launcher').click();
    await expect.poll(() => widget(page).locator('.pw-rows').textContent()).toContain('Do you ship to Norway?');
    await page.waitForTimeout(300);
    expect(await widget(page).locator('.pw-survey').count()).toBe(0);
    expect((await call(t.server.app, 'getCsat', { token: admin, params: { conversationId } })).body.status).toBe('pending');
  });
});
