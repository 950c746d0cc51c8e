import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { exportSPKI, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTwilioSimulator, type TwilioSimulator } from '../../connectors/twilio/simulator.ts';
import { type Browser, launchBrowser, SCREENSHOT_DIR } from '../../test/browser.ts';
import { actors, call, text } from '../../test/rest-client.ts';
import { storageMode } from '../../test/test-database.ts';
import { startTestServer, type TestServer } from '../../test/test-server.ts';
import { WsTestClient } from '../../test/ws-test-client.ts';
import { until } from '../../test/until.ts';

const ISSUER = 'https://shop.example';
const ACCOUNT_SID = `AC${'2'.repeat(32)}`;
const AUTH_TOKEN = 'twilio-token-for-the-e2e-test';
const PHONE = '+14445550123';
const BRAND_NUMBER = '+15550009999';

/**
 * One person, two channels: a shopper signed in on the brand's site writes from the web widget (in Chromium), and
 * later texts the brand from the phone number the brand's token vouches for. The agent sees one consumer with both
 * conversations.
 */
describe(`the same consumer on the web and by SMS (${storageMode})`, () => {
  let t: TestServer;
  let sim: TwilioSimulator;
  let browser: Browser;
  let shop: http.Server | undefined;

  beforeAll(async () => {
    t = await startTestServer({ listen: true });
    sim = await startTwilioSimulator({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    shop?.close();
    await sim?.close();
    await t?.close();
  });

  it('links the web conversation and the SMS conversation to one consumer, for the agent to see together', async () => {
    const a = actors(t);
    const app = t.server.app;
    const admin = await a.adminToken();
    const keys = await generateKeyPair('ES256');
    expect((await call(app, 'updateAccount', { token: admin, body: { consumerAuth: { issuer: ISSUER, publicKeyPem: await exportSPKI(keys.publicKey) } } })).status).toBe(200);
    const skill = (await call(app, 'createSkill', { token: admin, body: { name: 'Everything' } })).body.id;
    await call(app, 'updateRoutingSettings', { token: admin, body: { defaultSkillId: skill } });
    const ann = await a.createUser(admin, 'agent', 'Ann');
    await call(app, 'updateAgentRouting', { token: admin, params: { userId: ann.id }, body: { skillIds: [skill], maxConversations: 5 } });
    const ws = await WsTestClient.connect(t.baseUrl);
    expect((await ws.request({ type: 'auth', token: ann.token })).ok).toBe(true);
    await call(app, 'setMyState', { token: ann.token, body: { state: 'online' } });
    const channel = (
      await call(app, 'createChannel', {
        token: admin,
        body: {
          name: 'Texts',
          defaultSkillId: skill,
          apiBaseUrl: sim.url,
          settings: { kind: 'sms', phoneNumber: BRAND_NUMBER, accountSid: ACCOUNT_SID },
          credentials: { kind: 'sms', authToken: AUTH_TOKEN },
        },
      })
    ).body.channel;

    // The brand's site signs its shopper in and gives the widget a token with their phone number.
    const brandToken = await new SignJWT({ name: 'Grace', phone_number: PHONE })
      .setProtectedHeader({ alg: 'ES256' })
      .setIssuer(ISSUER)
      .setSubject('customer-42')
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(keys.privateKey);
    // The brand's own site, on another origin (a real local server: Chromium treats an intercepted page as public and
    // would refuse its connections to a loopback address).
    shop = http.createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      response.end(`<!doctype html><html lang="en"><head><title>Shop</title></head><body><h1>My account</h1>
<script>window.parley = { brandToken: () => ${JSON.stringify(brandToken)} };</script>
<script src="${t.baseUrl}/widget.js" data-widget-key="${t.widgetKey}" async></script></body></html>`);
    });
    await new Promise<void>((resolve) => shop?.listen(0, '127.0.0.1', resolve));
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${(shop.address() as AddressInfo).port}/`);
    const widget = page.locator('parley-widget');
    await widget.locator('.pw-launcher').click();
    const composer = page.getByRole('textbox', { name: 'Message' });
    await composer.fill('Hello from the website');
    await composer.press('Enter');

    const webConversation = await until(
      async () => (await call(app, 'listConversations', { token: ann.token, query: { scope: 'mine', state: 'open' } })).body.items,
      (items) => items.length === 1,
      'the web conversation to reach Ann',
      10_000,
    );
    const web = webConversation[0];
    expect(web?.channel).toBe('web');
    await call(app, 'sendEvent', { token: ann.token, params: { conversationId: web?.id ?? '' }, body: text('Hi Grace, your order ships today.') });
    await page.getByRole('log', { name: 'Conversation' }).getByText('Hi Grace, your order ships today.').waitFor();
    fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
    await page.screenshot({ path: path.join(SCREENSHOT_DIR, 'channels-web-before-sms.png') });
    expect((await call(app, 'closeConversation', { token: ann.token, params: { conversationId: web?.id ?? '' } })).status).toBe(200);

    // Later, away from the computer, Grace texts the brand.
    const answer = await sim.sendSms({ from: PHONE, to: BRAND_NUMBER, body: 'Me again, by text: can I change the address?', webhookUrl: `${t.baseUrl}${channel.inboundWebhookPath}` });
    expect(answer.status).toBe(200);
    const smsConversation = await until(
      async () => (await call(app, 'listConversations', { token: ann.token, query: { scope: 'mine', state: 'open' } })).body.items,
      (items) => items.length === 1 && items[0]?.channel === 'sms',
      'the SMS conversation to reach Ann',
      10_000,
    );
    const sms = smsConversation[0];
    expect(sms?.consumerId).toBe(web?.consumerId);

    // Ann looks at the consumer: one authenticated person, both conversations.
    const consumer = await call(app, 'getConsumer', { token: ann.token, params: { consumerId: sms?.consumerId ?? '' } });
    expect(consumer.status).toBe(200);
    expect(consumer.body.consumer).toMatchObject({ authenticated: true, externalId: 'customer-42' });
    expect(consumer.body.conversations.map((c: { channel: string }) => c.channel).sort()).toEqual(['sms', 'web']);

    // Her answer goes back by SMS.
    await call(app, 'sendEvent', { token: ann.token, params: { conversationId: sms?.id ?? '' }, body: text('Of course, send me the new address.') });
    const sent = await sim.nextSent(5_000);
    expect(sent).toMatchObject({ to: PHONE, from: BRAND_NUMBER });
    expect(sent.body).toContain('Of course, send me the new address.');
    ws.socket.close();
  });
});
