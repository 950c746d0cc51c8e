import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTwilioSimulator, type TwilioSimulator } from '../../server/src/connectors/twilio/simulator.ts';
import { type Browser, launchBrowser, screenshot, seriousAccessibilityViolations } from '../../server/src/test/browser.ts';
import { actors, call } from '../../server/src/test/rest-client.ts';
import { storageMode } from '../../server/src/test/test-database.ts';
import { ADMIN_PASSWORD, startTestServer, type TestServer } from '../../server/src/test/test-server.ts';

const ACCOUNT_SID = `AC${'7'.repeat(32)}`;
const AUTH_TOKEN = 'twilio-auth-token-for-the-console-test';
const BRAND_NUMBER = '+15550001111';
const CONSUMER_NUMBER = '+15557654321';

describe(`the Channels admin page in Chromium (${storageMode})`, () => {
  let t: TestServer;
  let sim: TwilioSimulator;
  let browser: Browser;
  let admin: string;

  beforeAll(async () => {
    t = await startTestServer({ listen: true });
    sim = await startTwilioSimulator({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN });
    admin = await actors(t).adminToken();
    expect((await call(t.server.app, 'createSkill', { token: admin, body: { name: 'Texting' } })).status).toBe(201);
    browser = await launchBrowser({ viewport: { width: 1440, height: 900 } });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await sim?.close();
    await t?.close();
  }, 120_000);

  const signIn = async (page: Page) => {
    await page.goto(`${t.baseUrl}/console/`);
    await page.evaluate(() => localStorage.clear());
    await page.reload();
    await page.getByLabel('Email').fill(t.adminEmail);
    await page.getByLabel('Password').fill(ADMIN_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Inbox' }).waitFor();
  };

  it('lets an admin add an SMS channel, copy its webhook URL, edit it without seeing its credentials, and send a test message', { timeout: 120_000 }, async () => {
    const page = await browser.newPage();
    await signIn(page);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Channels' }).click();
    await page.getByRole('heading', { name: 'Channels', level: 1 }).waitFor();
    await page.getByText('No channels yet').waitFor();

    // Create: SMS is the first kind; its settings, its credentials, a skill, and the simulator as the API.
    await page.getByRole('button', { name: 'Add channel' }).click();
    const dialog = page.getByRole('dialog', { name: 'Add a channel' });
    expect(await dialog.getByRole('radio', { name: /^SMS/ }).isChecked()).toBe(true);
    await dialog.getByLabel('Name').fill('Support line');
    await dialog.getByLabel('Twilio phone number').fill(BRAND_NUMBER);
    await dialog.getByLabel('Account SID').fill(ACCOUNT_SID);
    const token = dialog.getByLabel('Auth token');
    expect(await token.getAttribute('type')).toBe('password');
    await token.fill(AUTH_TOKEN);
    await dialog.getByLabel('Default skill').selectOption({ label: 'Texting' });
    await dialog.getByLabel('Greeting').fill('Thanks for calling Acme! Reply here and we will help you by text.');
    await dialog.getByText('Advanced').click();
    await dialog.getByLabel('API base URL').fill(sim.url);
    expect(await seriousAccessibilityViolations(page)).toEqual([]);
    await screenshot(page, 'console-channels-create');
    await dialog.getByRole('button', { name: 'Add channel' }).click();
    await dialog.waitFor({ state: 'detached' });

    const [channel] = (await call(t.server.app, 'listChannels', { token: admin })).body.items;
    expect(channel).toMatchObject({ kind: 'sms', name: 'Support line', enabled: true, apiBaseUrl: sim.url, settings: { kind: 'sms', phoneNumber: BRAND_NUMBER, accountSid: ACCOUNT_SID } });
    const webhookUrl = `${t.baseUrl}${channel?.inboundWebhookPath}`;

    // Listed, with the URL to give Twilio (also in the notice shown after creating).
    await page.getByRole('status').filter({ hasText: 'Support line is set up' }).getByText(webhookUrl).waitFor();
    const row = page.getByRole('row').filter({ hasText: 'Support line' });
    await row.getByText(webhookUrl).waitFor();
    await row.getByText(BRAND_NUMBER).waitFor();
    await row.getByText('Texting').waitFor();
    await row.getByText('SMS', { exact: true }).waitFor();
    await row.getByText('enabled').waitFor();
    expect(await row.getByRole('button', { name: 'Copy URL' }).count()).toBe(1);
    expect(await page.content()).not.toContain(AUTH_TOKEN);
    expect(await seriousAccessibilityViolations(page)).toEqual([]);
    await screenshot(page, 'console-channels-list');

    // Edit: the credentials are not shown; leaving them empty keeps the stored ones.
    await row.getByRole('button', { name: 'Edit Support line' }).click();
    const edit = page.getByRole('dialog', { name: 'Edit Support line' });
    const storedToken = edit.getByLabel('Auth token');
    expect(await storedToken.inputValue()).toBe('');
    await edit.getByText('Stored encrypted; leave empty to keep.').waitFor();
    expect(await edit.getByLabel('Twilio phone number').inputValue()).toBe(BRAND_NUMBER);
    expect(await edit.getByLabel('API base URL').inputValue()).toBe(sim.url);
    expect(await page.content()).not.toContain(AUTH_TOKEN);
    await edit.getByLabel('Name').fill('Texting line');
    await edit.getByRole('button', { name: 'Save' }).click();
    await edit.waitFor({ state: 'detached' });
    const texting = page.getByRole('row').filter({ hasText: 'Texting line' });
    await texting.waitFor();

    // A test message reaches the simulated Twilio with the kept credentials; the provider's id is shown.
    await texting.getByRole('button', { name: 'Test message' }).click();
    const test = page.getByRole('dialog', { name: /Send a test message/ });
    await test.getByLabel('To (phone number)').fill(CONSUMER_NUMBER);
    await test.getByLabel('Text').fill('Hello from the console test');
    await test.getByRole('button', { name: 'Send test message' }).click();
    const sent = await sim.nextSent(10_000);
    expect(sent).toMatchObject({ from: BRAND_NUMBER, to: CONSUMER_NUMBER, body: 'Hello from the console test' });
    expect(await test.getByTestId('provider-message-id').textContent()).toBe(sent.sid);
    expect(await seriousAccessibilityViolations(page)).toEqual([]);
    await screenshot(page, 'console-channels-test-message');

    // The provider's refusal, with its own code.
    sim.failNextSends(1, { status: 400, code: 21211, message: "The 'To' number is not a valid phone number." });
    await test.getByRole('button', { name: 'Send test message' }).click();
    const refusal = test.getByRole('alert');
    await refusal.getByText(/Twilio refused the message/).waitFor();
    expect(await refusal.getByTestId('provider-code').textContent()).toBe('21211');
    await screenshot(page, 'console-channels-test-message-refused');
    await test.getByRole('button', { name: 'Done' }).click();

    // Disable, then delete after confirming.
    await texting.getByRole('button', { name: 'Disable' }).click();
    await texting.getByText('disabled').waitFor();
    expect((await call(t.server.app, 'getChannel', { token: admin, params: { channelId: channel?.id ?? '' } })).body.enabled).toBe(false);
    await texting.getByRole('button', { name: 'Delete Texting line' }).click();
    await page.getByRole('dialog', { name: 'Delete channel' }).getByRole('button', { name: 'Delete channel' }).click();
    await page.getByText('No channels yet').waitFor();
    expect((await call(t.server.app, 'listChannels', { token: admin })).body.items).toEqual([]);
  });

  it('shows a connector channel its secret once, and asks for Meta credentials whole with a generated verify token', { timeout: 60_000 }, async () => {
    const page = await browser.newPage();
    await signIn(page);
    await page.goto(`${t.baseUrl}/console/admin/channels`);
    await page.getByRole('heading', { name: 'Channels', level: 1 }).waitFor();

    await page.getByRole('button', { name: 'Add channel' }).click();
    let dialog = page.getByRole('dialog', { name: 'Add a channel' });
    await dialog.getByRole('radio', { name: /^Connector API/ }).check();
    await dialog.getByLabel('Name').fill('Partner chat');
    await dialog.getByLabel("Partner's endpoint").fill('https://partner.example/parley');
    await dialog.getByRole('button', { name: 'Add channel' }).click();
    const secret = await page.getByTestId('connector-secret').textContent();
    expect(secret).toMatch(/^pcs_/);
    await screenshot(page, 'console-channels-connector-secret');
    await page.reload();
    await page.getByRole('row').filter({ hasText: 'Partner chat' }).waitFor();
    expect(await page.getByTestId('connector-secret').count()).toBe(0);

    await page.getByRole('button', { name: 'Add channel' }).click();
    dialog = page.getByRole('dialog', { name: 'Add a channel' });
    await dialog.getByRole('radio', { name: /^WhatsApp/ }).check();
    await dialog.getByLabel('Name').fill('WhatsApp support');
    await dialog.getByLabel('Phone number id').fill('1098765432');
    await dialog.getByLabel('Phone number', { exact: true }).fill('+15550002222');
    await dialog.getByLabel('App secret').fill('whatsapp-app-secret');
    await dialog.getByLabel('Access token').fill('whatsapp-access-token');
    await dialog.getByRole('button', { name: 'Generate' }).click();
    expect(await dialog.getByLabel('Verify token').inputValue()).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(await seriousAccessibilityViolations(page)).toEqual([]);
    await screenshot(page, 'console-channels-create-whatsapp');
    await dialog.getByRole('button', { name: 'Add channel' }).click();
    await dialog.waitFor({ state: 'detached' });

    // Editing, one credential typed alone cannot be saved: they are replaced together.
    await page.getByRole('button', { name: 'Edit WhatsApp support' }).click();
    const edit = page.getByRole('dialog', { name: 'Edit WhatsApp support' });
    await edit.getByLabel('Access token').fill('a-new-access-token');
    await edit.getByText('fill in every field').waitFor();
    await screenshot(page, 'console-channels-edit-partial-credentials');
    expect(await edit.getByRole('button', { name: 'Save' }).isDisabled()).toBe(true);
    await edit.getByLabel('Access token').fill('');
    expect(await edit.getByRole('button', { name: 'Save' }).isDisabled()).toBe(false);
    await edit.getByRole('button', { name: 'Cancel' }).click();
  });
});
