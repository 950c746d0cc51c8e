import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Browser, launchBrowser, SCREENSHOT_DIR, screenshot, seriousAccessibilityViolations } from '../../server/src/test/browser.ts';
import { actors, call } from '../../server/src/test/rest-client.ts';
import { storageMode } from '../../server/src/test/test-database.ts';
import { ADMIN_PASSWORD, startTestServer, type TestServer } from '../../server/src/test/test-server.ts';

describe(`the bots admin page in Chromium (${storageMode})`, () => {
  let t: TestServer;
  let browser: Browser;

  beforeAll(async () => {
    t = await startTestServer({ listen: true });
    const admin = await actors(t).adminToken();
    const skill = await call(t.server.app, 'createSkill', { token: admin, body: { name: 'Orders' } });
    expect(skill.status).toBe(201);
    browser = await launchBrowser({ viewport: { width: 1440, height: 900 } });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  }, 120_000);

  const signIn = async (page: Page) => {
    await page.goto(`${t.baseUrl}/`);
    await page.evaluate(() => localStorage.clear());
    await page.reload();
    await page.getByLabel('Email').fill(t.adminEmail);
    await page.getByLabel('Password').fill(ADMIN_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Inbox' }).waitFor();
  };

  it('lets an admin build a flow bot that collects an order number, try it in the preview, and save it', { timeout: 120_000 }, async () => {
    const page = await browser.newPage();
    await signIn(page);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Bots' }).click();
    await page.getByRole('heading', { name: 'Bots', level: 1 }).waitFor();
    await page.getByText('No bots yet').waitFor();
    await page.getByRole('link', { name: 'New bot' }).click();
    await page.getByRole('heading', { name: 'New bot', level: 1 }).waitFor();

    const settings = page.locator('section', { has: page.getByRole('heading', { name: 'Settings' }) });
    await settings.getByLabel('Name').fill('Order helper');
    await settings.getByRole('checkbox', { name: 'Orders' }).check();

    // The preview greets at once with the starter definition.
    const preview = page.getByRole('log', { name: 'Preview conversation' });
    await preview.getByText('Hi! How can I help you today?').waitFor();

    // An intent that collects the order number.
    await page.getByRole('button', { name: 'Add intent' }).click();
    const intent = page.locator('details.intent').first();
    await intent.getByLabel('Name').fill('Track my order');
    await expect.poll(() => intent.getByLabel('Id').inputValue()).toBe('track_my_order');
    await intent.getByLabel('Add a phrase').fill('where is my order');
    await intent.getByLabel('Add a phrase').press('Enter');
    await intent.getByLabel('Add a phrase').fill('parcel');
    await intent.getByRole('button', { name: 'Add', exact: true }).click();
    await intent.getByRole('listitem').filter({ hasText: 'parcel' }).waitFor();

    // The answer is still empty: the preview's error shows at that field.
    await page.getByRole('button', { name: 'Restart' }).click();
    await intent.locator('.field-invalid').getByLabel('Answer text').waitFor();
    await expect.poll(() => intent.getByLabel('Answer text').getAttribute('aria-invalid')).toBe('true');
    await intent.getByLabel('Answer text').scrollIntoViewIfNeeded();
    await screenshot(page, 'console-bots-flow-validation');

    await intent.getByLabel('Answer text').fill('I can check that for you.');
    await intent.getByRole('button', { name: 'Add a field' }).click();
    await intent.getByLabel('Field', { exact: true }).fill('order_number');
    await intent.getByLabel('Question').fill('What is your order number?');
    await intent.getByLabel('Pattern (optional regular expression)').fill('#?(\\d{5,8})');
    await intent.getByLabel('Said when it does not fit (optional)').fill('Order numbers have 5 to 8 digits.');
    await intent.getByLabel('Said once every field is collected (optional)').fill('Thanks! Order {order_number} is on its way.');

    // The greeting offers it as a quick reply.
    const greeting = page.locator('section', { has: page.getByRole('heading', { name: 'Greeting', exact: true }) });
    await greeting.getByRole('button', { name: 'Add a quick reply' }).click();
    await expect.poll(() => greeting.getByLabel('Button').inputValue()).toBe('Track my order');

    // Greeting → quick reply → a wrong order number → the right one.
    await page.getByRole('button', { name: 'Restart' }).click();
    await preview.getByRole('button', { name: 'Track my order' }).click();
    await preview.getByText('What is your order number?').waitFor();
    const composer = page.getByRole('textbox', { name: 'Message as the consumer' });
    await composer.fill('no idea');
    await composer.press('Enter');
    await preview.getByText('Order numbers have 5 to 8 digits.').waitFor();
    await composer.fill('It is #123456');
    await composer.press('Enter');
    await preview.getByText('Thanks! Order 123456 is on its way.').waitFor();
    await preview.getByText('Sets order_number = 123456').waitFor();
    await screenshot(page, 'console-bots-flow-editor');
    await page.locator('.page').evaluate((el) => el.scrollTo(0, 0));
    await screenshot(page, 'console-bots-flow-editor-top');
    await page.locator('.flow-preview').screenshot({ path: path.join(SCREENSHOT_DIR, 'console-bots-flow-preview.png') });
    expect(await seriousAccessibilityViolations(page)).toEqual([]);

    // Save: the list shows the bot and its secrets, once.
    await page.getByRole('button', { name: 'Create bot' }).click();
    await page.getByRole('heading', { name: 'Bots', level: 1 }).waitFor();
    const row = page.getByRole('row', { name: /Order helper/ });
    await row.waitFor();
    await expect.poll(() => row.textContent()).toMatch(/Flow \(built in\).*Orders.*enabled/);
    expect(await page.getByTestId('bot-secret').textContent()).toMatch(/\S{16,}/);
    expect(await page.getByTestId('bot-signing-secret').textContent()).toMatch(/\S{16,}/);
    await page.getByRole('heading', { name: 'Last 7 days' }).waitFor();
    await page.getByText('Conversations handled').waitFor();
    await screenshot(page, 'console-bots-list');
    expect(await seriousAccessibilityViolations(page)).toEqual([]);

    // What was saved is the definition that was previewed.
    const admin = await actors(t).adminToken();
    const listed = await call(t.server.app, 'listBots', { token: admin });
    const bot = listed.body.items.find((b) => b.name === 'Order helper');
    expect(bot?.delivery).toBe('flow');
    expect(bot?.flow?.greeting.choices).toEqual([{ title: 'Track my order', intentId: 'track_my_order' }]);
    expect(bot?.flow?.intents[0]).toMatchObject({ id: 'track_my_order', phrases: ['where is my order', 'parcel'], collect: [{ field: 'order_number', pattern: '#?(\\d{5,8})' }] });

    // Editing it opens the editor with the saved definition; disabling it from the list.
    await row.getByRole('button', { name: 'Disable Order helper' }).click();
    await expect.poll(() => row.textContent()).toMatch(/disabled/);
    await row.getByRole('link', { name: 'Order helper' }).click();
    await page.getByRole('heading', { name: 'Order helper', level: 1 }).waitFor();
    await page.getByRole('log', { name: 'Preview conversation' }).getByRole('button', { name: 'Track my order' }).waitFor();
    await page.close();
  });
});
