import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Browser, launchBrowser, screenshot, seriousAccessibilityViolations } from '../../server/src/test/browser.ts';
import { actors, call } from '../../server/src/test/rest-client.ts';
import { storageMode } from '../../server/src/test/test-database.ts';
import { ADMIN_PASSWORD, startTestServer, type TestServer } from '../../server/src/test/test-server.ts';

/**
 * The whole product in two browsers: a consumer on the brand's page (the widget on /demo) and an agent in the
 * workspace, with routing deciding who gets the conversation.
 */
describe(`a consumer and an agent, each in a real browser (${storageMode})`, () => {
  let t: TestServer;
  let consumerBrowser: Browser;
  let agentBrowser: Browser;
  let managerBrowser: Browser;
  const agentEmail = `ruth-${Math.random().toString(36).slice(2, 8)}@parley.test`;
  const AGENT_PASSWORD = 'a-long-password';

  beforeAll(async () => {
    t = await startTestServer({ listen: true });
    const admin = await actors(t).adminToken();
    // Sales rings one agent at a time; it is what the widget's conversations get by default.
    const sales = await call(t.server.app, 'createSkill', { token: admin, body: { name: 'Sales', routingMode: 'ring', ringTimeoutSeconds: 120 } });
    expect(sales.status).toBe(201);
    expect((await call(t.server.app, 'updateRoutingSettings', { token: admin, body: { defaultSkillId: sales.body.id } })).status).toBe(200);
    const agent = await call(t.server.app, 'createUser', { token: admin, body: { email: agentEmail, name: 'Ruth', role: 'agent', password: AGENT_PASSWORD } });
    expect((await call(t.server.app, 'updateAgentRouting', { token: admin, params: { userId: agent.body.id }, body: { skillIds: [sales.body.id], maxConversations: 4 } })).status).toBe(200);
    const canned = await call(t.server.app, 'createCannedResponse', {
      token: admin,
      body: { scope: 'account', shortcut: 'welcome', title: 'Welcome', text: 'Welcome to Northwind! I can help with that.' },
    });
    expect(canned.status).toBe(201);
    [consumerBrowser, agentBrowser, managerBrowser] = await Promise.all([launchBrowser(), launchBrowser(), launchBrowser()]);
  }, 90_000);

  afterAll(async () => {
    await Promise.all([consumerBrowser?.close(), agentBrowser?.close(), managerBrowser?.close()]);
    await t?.close();
  });

  const signIn = async (page: Page, email: string, password: string) => {
    await page.goto(`${t.baseUrl}/console/`);
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Inbox' }).waitFor();
  };
  const widget = (page: Page) => page.locator('parley-widget');
  const widgetLog = (page: Page) => page.getByRole('log', { name: 'Conversation' });

  it('routes the consumer’s first message to the online agent, who answers with a canned response and quick replies; the pick, a note and a reload behave', { timeout: 150_000 }, async () => {
    // The agent signs in and goes online from the workspace.
    const agentPage = await agentBrowser.newPage();
    await signIn(agentPage, agentEmail, AGENT_PASSWORD);
    // The pill is a button once the agent's state has loaded; a click on the placeholder before that opens nothing.
    await agentPage.locator('button.state-pill').click();
    await agentPage.getByRole('radio', { name: 'Online' }).check();
    await agentPage.getByRole('button', { name: 'Set state' }).click();
    await agentPage.locator('.state-pill.state-online').waitFor();

    // The consumer opens the widget on the brand's page and writes.
    const shop = await consumerBrowser.newPage();
    await shop.goto(`${t.baseUrl}/demo`);
    await widget(shop).locator('.pw-launcher').click();
    const message = shop.getByRole('textbox', { name: 'Message' });
    await message.fill('Hello, is the Harbour jacket waterproof?');
    await message.press('Enter');

    // Routing rings the agent, who accepts in the workspace.
    const offer = agentPage.getByRole('alertdialog', { name: 'Incoming conversation' });
    await offer.waitFor({ timeout: 15_000 });
    await screenshot(agentPage, 'journey-agent-offer');
    await offer.getByRole('button', { name: 'Accept' }).click();
    const row = agentPage.locator('.conv-row', { hasText: 'Harbour jacket' });
    await row.waitFor();
    await row.locator('a').click();
    const composer = agentPage.getByRole('textbox', { name: 'Reply to the consumer' });
    await composer.waitFor();

    // A canned response by its shortcut, then a question with quick replies.
    await composer.fill('/wel');
    await agentPage.getByRole('listbox', { name: 'Canned responses' }).waitFor();
    await composer.press('Tab');
    await expect.poll(() => composer.inputValue()).toBe('Welcome to Northwind! I can help with that.');
    await composer.press('Enter');
    await agentPage.getByRole('button', { name: 'Quick replies' }).click();
    for (const reply of ['Yes, tell me more', 'No thanks']) {
      await agentPage.getByLabel('New quick reply').fill(reply);
      await agentPage.getByLabel('New quick reply').press('Enter');
    }
    await composer.fill('It is fully waterproof. Shall I check your size?');
    await composer.press('Enter');

    // The consumer sees the agent's name and both messages, and picks a quick reply.
    await expect.poll(() => widgetLog(shop).innerText(), { timeout: 10_000 }).toContain('Welcome to Northwind! I can help with that.');
    await expect.poll(() => widget(shop).locator('.pw-subtitle').innerText()).toContain('Ruth');
    const suggestions = shop.getByRole('group', { name: 'Suggested replies' });
    await suggestions.getByRole('button', { name: 'Yes, tell me more' }).waitFor();
    await screenshot(shop, 'journey-consumer-quick-replies');
    await suggestions.getByRole('button', { name: 'Yes, tell me more' }).click();
    await agentPage.locator('.msg-left .msg-text', { hasText: 'Yes, tell me more' }).waitFor({ timeout: 10_000 });

    // An internal note stays with the agents.
    await agentPage.getByRole('button', { name: 'Internal note', exact: true }).click();
    await agentPage.getByRole('textbox', { name: 'Internal note' }).fill('Likely buyer: offer the 10% code');
    await agentPage.getByRole('textbox', { name: 'Internal note' }).press('Enter');
    await agentPage.locator('.msg-note', { hasText: 'Likely buyer' }).waitFor();
    await agentPage.getByRole('button', { name: 'Reply', exact: true }).click();
    await composer.fill('Great, what size do you wear?');
    await composer.press('Enter');
    await screenshot(agentPage, 'journey-agent-conversation');

    // The consumer reloads the page: the whole history is there, the note is not.
    await expect.poll(() => widgetLog(shop).innerText(), { timeout: 10_000 }).toContain('Great, what size do you wear?');
    await shop.reload();
    await widget(shop).locator('.pw-launcher').click();
    await expect
      .poll(() => widgetLog(shop).innerText(), { timeout: 10_000 })
      .toMatch(/Hello, is the Harbour jacket waterproof\?[\s\S]*Welcome to Northwind[\s\S]*fully waterproof[\s\S]*Yes, tell me more[\s\S]*what size do you wear/);
    expect(await widgetLog(shop).innerText()).not.toContain('Likely buyer');
    expect(await shop.content()).not.toContain('Likely buyer');
    await screenshot(shop, 'journey-consumer-after-reload');
    expect(await seriousAccessibilityViolations(shop)).toEqual([]);
  });

  it('shows the manager the agent’s load and the skill’s queue live', { timeout: 60_000 }, async () => {
    const page = await managerBrowser.newPage();
    await signIn(page, t.adminEmail, ADMIN_PASSWORD);
    await page.getByRole('link', { name: /Live/ }).first().click();
    const ruth = page.getByRole('row', { name: /Ruth/ }).first();
    await ruth.waitFor();
    await expect.poll(() => ruth.innerText()).toMatch(/1\s*\/\s*4/);
    await screenshot(page, 'journey-manager-live');
    expect(await seriousAccessibilityViolations(page)).toEqual([]);
  });
});
