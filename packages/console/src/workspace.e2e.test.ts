import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Browser, launchBrowser, screenshot, seriousAccessibilityViolations } from '../../server/src/test/browser.ts';
import { actors, call, text } from '../../server/src/test/rest-client.ts';
import { storageMode } from '../../server/src/test/test-database.ts';
import { ADMIN_PASSWORD, startTestServer, type TestServer } from '../../server/src/test/test-server.ts';

const AGENT_PASSWORD = 'a-long-password';

/** Polls until `check` passes (for state that arrives over REST, not on the page). */
async function eventually(check: () => Promise<void>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

describe(`the agent workspace in Chromium (${storageMode})`, () => {
  let t: TestServer;
  let a: ReturnType<typeof actors>;
  let browser: Browser;
  let admin: string;
  let agent: { id: string; email: string; token: string };

  beforeAll(async () => {
    t = await startTestServer({ listen: true });
    a = actors(t);
    admin = await a.adminToken();
    const email = `ada-${Math.random().toString(36).slice(2, 8)}@parley.test`;
    const created = await call(t.server.app, 'createUser', { token: admin, body: { email, name: 'Ada Lovelace', role: 'agent', password: AGENT_PASSWORD } });
    expect(created.status).toBe(201);
    const login = await call(t.server.app, 'login', { body: { email, password: AGENT_PASSWORD } });
    agent = { id: created.body.id, email, token: login.body.accessToken };
    const greet = await call(t.server.app, 'createCannedResponse', {
      token: admin,
      body: { scope: 'account', shortcut: 'greet', title: 'Greeting', text: 'Hello! Thanks for reaching out, how can I help?' },
    });
    expect(greet.status).toBe(201);
    const size = await call(t.server.app, 'createCannedResponse', {
      token: agent.token,
      body: { shortcut: 'size', title: 'Size help', text: 'Which size do you usually wear?' },
    });
    expect(size.status).toBe(201);
    browser = await launchBrowser();
  }, 60_000);

  afterAll(async () => {
    // Timed, so a slow teardown on a loaded machine says which part was slow.
    let started = performance.now();
    await browser?.close();
    const browserMs = performance.now() - started;
    started = performance.now();
    await t?.close();
    const serverMs = performance.now() - started;
    if (browserMs + serverMs > 10_000) console.warn(`[workspace e2e] slow teardown: browser ${Math.round(browserMs)} ms, server ${Math.round(serverMs)} ms`);
  }, 120_000);

  const signIn = async (page: Page, email: string, password: string) => {
    // Pages share the browser profile: forget the session an earlier test kept.
    await page.goto(`${t.baseUrl}/`);
    await page.evaluate(() => localStorage.clear());
    await page.reload();
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Inbox' }).waitFor();
  };

  it('serves the console under /console/ with a redirect from /, SPA fallback and long-cached assets', async () => {
    const root = await fetch(`${t.baseUrl}/`, { redirect: 'manual' });
    expect(root.status).toBe(302);
    expect(root.headers.get('location')).toBe('/console/');
    const deep = await fetch(`${t.baseUrl}/console/conversations/abc`);
    expect(deep.status).toBe(200);
    expect(deep.headers.get('cache-control')).toBe('no-cache');
    const html = await deep.text();
    const asset = /src="(\/console\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(asset).toBeDefined();
    const js = await fetch(`${t.baseUrl}${asset}`);
    expect(js.status).toBe(200);
    expect(js.headers.get('cache-control')).toContain('immutable');
    expect(js.headers.get('content-type')).toContain('javascript');
    expect((await fetch(`${t.baseUrl}/console/assets/missing-123.js`)).status).toBe(404);
    expect((await fetch(`${t.baseUrl}/console/..%2f..%2fpackage.json`)).status).toBe(404);
  });

  it('signs in, shows the login errors, and keeps the session across a reload', async () => {
    const page = await browser.newPage();
    await page.goto(`${t.baseUrl}/`);
    await page.getByRole('heading', { name: 'Sign in to your workspace' }).waitFor();
    await screenshot(page, 'console-login');
    expect(await seriousAccessibilityViolations(page)).toEqual([]);

    await page.getByLabel('Email').fill(agent.email);
    await page.getByLabel('Password').fill('wrong-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').getByText('INVALID_CREDENTIALS').waitFor();
    await screenshot(page, 'console-login-error');

    await page.getByLabel('Password').fill(AGENT_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Inbox' }).waitFor();
    await page.reload();
    await page.getByRole('heading', { name: 'Inbox' }).waitFor();
    expect(await page.getByText('Ada Lovelace').count()).toBeGreaterThan(0);
    await page.close();
  });

  it('lets an agent answer a consumer live: canned response by shortcut, quick replies, an internal note, close', { timeout: 90_000 }, async () => {
    const page = await browser.newPage();
    await signIn(page, agent.email, AGENT_PASSWORD);
    await page.getByText('No open conversations assigned to you').waitFor();
    await screenshot(page, 'console-inbox-empty');

    // A consumer writes while the agent looks at the inbox: it appears without a reload.
    const consumer = await a.consumer();
    const conversationId = await a.conversation(consumer.token);
    await call(t.server.app, 'sendEvent', { token: consumer.token, params: { conversationId }, body: text('Hi, do you have the rain jacket in blue?') });
    const row = page.locator('.conv-row', { hasText: 'rain jacket in blue' });
    await row.waitFor({ timeout: 10_000 });
    await screenshot(page, 'console-inbox-queue');

    // Take it (routing may already have given it to the agent: then there is no Take button).
    const take = row.getByRole('button', { name: /Take the conversation/ });
    if (await take.count()) await take.click();
    else await row.locator('a').click();
    await page.getByRole('textbox', { name: 'Reply to the consumer' }).waitFor();

    // A canned response by its shortcut: "/gre", Tab.
    const composer = page.getByRole('textbox', { name: 'Reply to the consumer' });
    await composer.fill('/gre');
    await page.getByRole('listbox', { name: 'Canned responses' }).waitFor();
    await screenshot(page, 'console-canned-menu');
    await composer.press('Tab');
    await expect.poll(() => composer.inputValue()).toBe('Hello! Thanks for reaching out, how can I help?');
    await composer.press('Enter');
    await page.locator('.msg-right', { hasText: 'Thanks for reaching out' }).waitFor();

    // A message with quick replies.
    await page.getByRole('button', { name: 'Quick replies' }).click();
    for (const reply of ['Blue', 'Black']) {
      await page.getByLabel('New quick reply').fill(reply);
      await page.getByLabel('New quick reply').press('Enter');
    }
    await composer.fill('Which colour would you like?');
    await screenshot(page, 'console-quick-replies');
    await composer.press('Enter');
    await page.locator('.msg-right', { hasText: 'Which colour would you like?' }).locator('.qr-chip', { hasText: 'Black' }).waitFor();

    // An internal note: visibly distinct, never in the consumer's view.
    await page.getByRole('button', { name: 'Internal note', exact: true }).click();
    await page.getByRole('textbox', { name: 'Internal note' }).fill('VIP customer, offer free shipping');
    await page.getByRole('textbox', { name: 'Internal note' }).press('Enter');
    await page.locator('.msg-note', { hasText: 'VIP customer' }).waitFor();
    await page.getByRole('button', { name: 'Reply', exact: true }).click();

    await eventually(async () => {
      const seen = await call(t.server.app, 'listEvents', { token: consumer.token, params: { conversationId }, query: { fromSeq: 0, limit: 500 } });
      const texts = seen.body.items.flatMap((e) => (e.type === 'content' && e.content.contentType === 'text/plain' ? [e.content.message] : []));
      expect(texts).toContain('Hello! Thanks for reaching out, how can I help?');
      expect(texts).not.toContain('VIP customer, offer free shipping');
      expect(JSON.stringify(seen.body)).not.toContain('VIP customer');
      const withReplies = seen.body.items.find((e) => e.type === 'content' && e.content.contentType === 'text/plain' && e.content.message === 'Which colour would you like?');
      expect(withReplies?.type === 'content' && withReplies.content.quickReplies?.replies.map((r) => r.title)).toEqual(['Blue', 'Black']);
      // The agent had the conversation on screen: the consumer's message is marked read.
      expect(seen.body.items.some((e) => e.type === 'accept_status' && e.status === 'read' && e.originator.id === agent.id)).toBe(true);
    });

    // The consumer picks a quick reply and reads the answers: both show up live.
    await call(t.server.app, 'sendEvent', { token: consumer.token, params: { conversationId }, body: text('Blue') });
    await page.locator('.msg-left .msg-text', { hasText: /^Blue$/ }).waitFor();
    const lastAgentMessage = await call(t.server.app, 'listEvents', { token: consumer.token, params: { conversationId } });
    await call(t.server.app, 'sendReceipt', { token: consumer.token, params: { conversationId }, body: { status: 'read', sequences: [lastAgentMessage.body.lastSequence] } });
    await page.locator('.msg-status', { hasText: 'Read' }).first().waitFor();
    await screenshot(page, 'console-conversation');
    expect(await seriousAccessibilityViolations(page)).toEqual([]);

    await page.getByRole('button', { name: 'Close', exact: true }).click();
    await page.getByText('This conversation is closed').waitFor();
    const closed = await call(t.server.app, 'getConversation', { token: admin, params: { conversationId } });
    expect(closed.body.state).toBe('closed');
    await page.close();
  });

  it('has no serious accessibility violations on the inbox with conversations in it', async () => {
    const consumer = await a.consumer();
    const conversationId = await a.conversation(consumer.token);
    await call(t.server.app, 'sendEvent', { token: consumer.token, params: { conversationId }, body: text('Is the store open on Sunday?') });
    const page = await browser.newPage();
    await signIn(page, agent.email, AGENT_PASSWORD);
    await page.locator('.conv-row', { hasText: 'open on Sunday' }).waitFor();
    expect(await seriousAccessibilityViolations(page)).toEqual([]);
    await page.keyboard.press('?');
    await page.getByRole('dialog', { name: 'Keyboard shortcuts' }).waitFor();
    await screenshot(page, 'console-shortcuts');
    await page.keyboard.press('Escape');
    await page.close();
  });

  it('opens the admin pages: users, API keys (create shows the secret once, revoke), canned responses, widget snippet', { timeout: 90_000 }, async () => {
    const page = await browser.newPage();
    await signIn(page, t.adminEmail, ADMIN_PASSWORD);

    await page.getByRole('link', { name: 'Users & roles' }).click();
    await page.getByRole('cell', { name: agent.email }).waitFor();
    await screenshot(page, 'console-admin-users');
    expect(await seriousAccessibilityViolations(page)).toEqual([]);

    await page.getByRole('link', { name: 'API keys' }).click();
    await page.getByText('No API keys yet').waitFor();
    await page.getByRole('button', { name: 'Create key' }).first().click();
    await page.getByRole('dialog').getByLabel('Name').fill('CRM integration');
    await page.getByRole('dialog').getByRole('button', { name: 'Create key' }).click();
    const secret = await page.getByTestId('api-key-secret').textContent();
    expect(secret).toMatch(/^pak_/);
    await page.getByRole('cell', { name: 'CRM integration' }).waitFor();
    await screenshot(page, 'console-admin-api-keys');
    expect((await call(t.server.app, 'me', { token: secret ?? '' })).status).toBe(200);
    await page.getByRole('button', { name: 'Revoke' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Revoke key' }).click();
    await page.getByText('revoked', { exact: true }).waitFor();
    expect((await call(t.server.app, 'me', { token: secret ?? '' })).status).toBe(401);

    await page.getByRole('link', { name: 'Canned responses' }).click();
    await page.getByText('/greet').waitFor();
    await page.getByRole('button', { name: 'New shared canned response' }).click();
    await page.getByRole('dialog').getByLabel('Shortcut').fill('returns');
    await page.getByRole('dialog').getByLabel('Title').fill('Returns');
    await page.getByRole('dialog').getByLabel('Text', { exact: true }).fill('You can return any item within 30 days.');
    await page
      .getByRole('dialog')
      .getByLabel(/Quick replies/)
      .fill('Start a return\nNo thanks');
    await page.getByRole('dialog').getByRole('button', { name: 'Save' }).click();
    await page.getByRole('cell', { name: '/returns', exact: true }).waitFor();
    await page.getByRole('button', { name: 'Edit /returns' }).click();
    await page.getByRole('dialog').getByLabel('Title').fill('Returns policy');
    await page.getByRole('dialog').getByRole('button', { name: 'Save' }).click();
    await page.getByRole('cell', { name: 'Returns policy', exact: true }).waitFor();
    await screenshot(page, 'console-admin-canned');
    await page.getByRole('button', { name: 'Delete /returns' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('cell', { name: '/returns', exact: true }).waitFor({ state: 'detached' });
    const listed = await call(t.server.app, 'listCannedResponses', { token: admin });
    expect(listed.body.items.map((c) => c.shortcut)).not.toContain('returns');

    await page.getByRole('link', { name: 'Widget' }).click();
    const snippet = await page.getByTestId('embed-snippet').textContent();
    expect(snippet).toContain(`data-widget-key="${t.widgetKey}"`);
    expect(snippet).toContain(`${t.baseUrl}/widget.js`);
    await screenshot(page, 'console-admin-widget');

    await page.getByRole('link', { name: 'Skills & capacity' }).click();
    await page.getByRole('heading', { name: 'Skills & capacity' }).waitFor();
    await page.locator('.card').first().waitFor();
    await screenshot(page, 'console-admin-routing');

    await page.getByRole('link', { name: 'Live view' }).click();
    await page.getByRole('heading', { name: 'Live view' }).waitFor();
    await page.waitForTimeout(300);
    await screenshot(page, 'console-live');
    await page.close();
  });
});
