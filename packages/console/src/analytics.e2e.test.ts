import fs from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Principal } from '../../server/src/core/principal.ts';
import { type Browser, launchBrowser, screenshot, seriousAccessibilityViolations } from '../../server/src/test/browser.ts';
import { actors, call, text } from '../../server/src/test/rest-client.ts';
import { storageMode } from '../../server/src/test/test-database.ts';
import { ADMIN_PASSWORD, startTestServer, type TestServer } from '../../server/src/test/test-server.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The console scrolls inside `.page`: the window grows to the page's content, so the screenshot shows all of it. */
async function screenshotWhole(page: Page, name: string): Promise<void> {
  const height = await page.evaluate(() => {
    const inner = document.querySelector('.page');
    return Math.ceil((inner?.scrollHeight ?? 0) + (inner?.getBoundingClientRect().top ?? 0));
  });
  await page.setViewportSize({ width: 1360, height: Math.max(900, Math.min(height + 8, 4000)) });
  await sleep(300);
  await screenshot(page, name);
  await page.setViewportSize({ width: 1360, height: 900 });
}

/**
 * The supervisors' pages with real figures: conversations are started, answered, closed and rated through the API,
 * then the live view, the analytics report (with its CSV) and transcript search are looked at in Chromium.
 */
describe(`live view, analytics and search in Chromium (${storageMode})`, () => {
  let t: TestServer;
  let browser: Browser;
  let page: Page;
  let admin: string;
  const agents: Record<string, { id: string; token: string }> = {};
  const connections: string[] = [];
  let refundConversation = '';

  const app = () => t.server.app;
  const ok = async <T extends { status: number; body: unknown }>(response: Promise<T>, status = 200): Promise<T> => {
    const r = await response;
    expect(r.status, JSON.stringify(r.body)).toBe(status);
    return r;
  };

  beforeAll(async () => {
    t = await startTestServer({ listen: true });
    const a = actors(t);
    admin = await a.adminToken();
    const skill = async (name: string, extra: Record<string, unknown> = {}) => (await ok(call(app(), 'createSkill', { token: admin, body: { name, ...extra } }), 201)).body.id;
    const billing = await skill('Billing', { responseTargetSeconds: 10 });
    const support = await skill('Support', { responseTargetSeconds: 10 });
    const accountId = t.accountId;
    for (const [name, skills, max] of [
      ['Ada', [billing, support], 2],
      ['Bruno', [support], 2],
      ['Chiara', [billing], 2],
    ] as const) {
      const user = await a.createUser(admin, 'agent', name);
      agents[name] = user;
      await ok(call(app(), 'updateAgentRouting', { token: admin, params: { userId: user.id }, body: { skillIds: [...skills], maxConversations: max } }));
      // A live connection, as the workspace's socket would open (presence).
      const principal: Principal = { kind: 'user', userId: user.id, accountId, role: 'agent', name };
      const connectionId = crypto.randomUUID();
      await t.server.services.routing.connectionOpened(principal, connectionId);
      connections.push(connectionId);
    }

    // Consumers write while nobody is online, so they wait a little before an agent gets them.
    const conversations: { token: string; id: string; topic: string }[] = [];
    const topics = [
      { skillId: billing, device: 'desktop_web', message: 'I was charged twice, can I get a refund?', topic: 'refund' },
      { skillId: billing, device: 'mobile_web', message: 'Where is my invoice for November?', topic: 'invoice' },
      { skillId: support, channel: 'in_app', message: 'The app crashes when I open my orders.', topic: 'crash' },
      { skillId: support, device: 'desktop_web', message: 'My parcel never arrived, I want a refund.', topic: 'refund' },
      { skillId: billing, device: 'mobile_web', message: 'How do I change my card?', topic: 'card' },
      { skillId: support, device: 'mobile_web', message: 'Can I return shoes after 30 days?', topic: 'return' },
      { skillId: support, device: 'desktop_web', message: 'Do you ship to Canada?', topic: 'shipping' },
      { skillId: billing, device: 'desktop_web', message: 'Is there a student discount?', topic: 'discount' },
    ] as const;
    for (const topic of topics) {
      const consumer = await a.consumer();
      const { message, topic: name, ...body } = topic;
      const id = (await ok(call(app(), 'startConversation', { token: consumer.token, body }))).body.conversation.id;
      await ok(call(app(), 'sendEvent', { token: consumer.token, params: { conversationId: id }, body: text(message) }), 201);
      conversations.push({ token: consumer.token, id, topic: name });
    }
    await sleep(2_500);
    for (const name of ['Ada', 'Bruno']) await ok(call(app(), 'setMyState', { token: agents[name]?.token, body: { state: 'online' } }));
    await ok(call(app(), 'setMyState', { token: agents['Chiara']?.token, body: { state: 'away', reason: 'Lunch' } }));
    await t.server.services.routing.settle();
    await sleep(1_500);

    // Agents answer what they hold; three conversations are closed and rated.
    let closed = 0;
    for (const c of conversations) {
      const summary = (await ok(call(app(), 'getConversation', { token: admin, params: { conversationId: c.id } }))).body;
      const holder = Object.values(agents).find((ag) => ag.id === summary.assignedAgentId);
      if (!holder) continue;
      await ok(
        call(app(), 'sendEvent', {
          token: holder.token,
          params: { conversationId: c.id },
          body: text(c.topic === 'refund' ? 'Sorry about that: your refund is on its way.' : 'Thanks for asking, let me check.'),
        }),
        201,
      );
      if (c.topic === 'refund' && !refundConversation) refundConversation = c.id;
      if (closed < 3 && c.topic !== 'refund') {
        closed++;
        await ok(call(app(), 'sendEvent', { token: c.token, params: { conversationId: c.id }, body: text('Great, thank you!') }), 201);
        await ok(call(app(), 'closeConversation', { token: holder.token, params: { conversationId: c.id } }));
        const rated = await call(app(), 'submitCsat', { token: c.token, params: { conversationId: c.id }, body: { score: closed === 2 ? 4 : 5 } });
        expect(rated.status, JSON.stringify(rated.body)).toBe(201);
      }
    }
    await ok(
      call(app(), 'sendEvent', {
        token: agents['Ada']?.token,
        params: { conversationId: refundConversation },
        body: { ...text('Refund approved by finance, ticket R-1042.'), audience: 'agents_and_managers' },
      }),
      201,
    );
    await t.server.services.routing.settle();
    // Past the 10-second response target, the sweep (the server's timer, driven by the test) flags who still waits.
    await sleep(7_000);
    await t.server.services.routing.sweep();

    browser = await launchBrowser({ viewport: { width: 1360, height: 900 } });
    page = await browser.newPage();
    await page.goto(`${t.baseUrl}/`);
    await page.getByLabel('Email').fill(t.adminEmail);
    await page.getByLabel('Password').fill(ADMIN_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Inbox' }).waitFor();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  }, 60_000);

  it('shows the live view with waits, open conversations, load and messages per minute, and follows changes by itself', { timeout: 60_000 }, async () => {
    await page.getByRole('link', { name: 'Live view' }).click();
    await page.getByRole('heading', { name: 'Live view' }).waitFor();
    const kpi = (label: string) => page.locator('.kpi', { has: page.locator('.kpi-label', { hasText: new RegExp(`^${label}$`) }) }).locator('.kpi-value');
    // Eight started, three closed: five open, Ada and Bruno hold four (their capacity), one waits.
    await expect.poll(() => kpi('Open conversations').textContent()).toBe('5');
    expect(await kpi('Agents online / away').textContent()).toBe('2 / 1');
    expect(Number(await kpi('Messages / minute').textContent())).toBeGreaterThan(0);
    // Five open for four places: at least one consumer waits beyond the target.
    expect(Number(await kpi('Breached').textContent())).toBeGreaterThan(0);

    // A new consumer writes: the page follows without a reload (pushed `live` frames).
    const consumer = await actors(t).consumer();
    const id = (await ok(call(app(), 'startConversation', { token: consumer.token, body: {} }))).body.conversation.id;
    await ok(call(app(), 'sendEvent', { token: consumer.token, params: { conversationId: id }, body: text('Anyone there?') }), 201);
    await t.server.services.routing.settle();
    await expect.poll(() => kpi('Open conversations').textContent(), { timeout: 10_000 }).toBe('6');
    expect(Number(await kpi('Waiting').textContent())).toBeGreaterThan(0);
    await page.getByRole('cell', { name: 'Billing' }).waitFor();
    await screenshotWhole(page, 'console-live-figures');
    expect(await seriousAccessibilityViolations(page)).toEqual([]);
  });

  it('shows the report of today with real figures, charts, breakdowns and its CSV', { timeout: 60_000 }, async () => {
    await page.getByRole('link', { name: 'Analytics' }).click();
    await page.getByRole('heading', { name: 'Analytics' }).waitFor();
    await page.getByRole('button', { name: 'Today' }).click();
    const kpi = (label: string) => page.locator('.kpi', { has: page.locator('.kpi-label', { hasText: new RegExp(`^${label}$`) }) }).locator('.kpi-value');
    await expect.poll(() => kpi('Conversations started').textContent(), { timeout: 10_000 }).toBe('9');
    expect(await kpi('Closed').textContent()).toBe('3');
    expect(await kpi('Median wait').textContent()).toMatch(/^\d+s$/);
    await page.locator('.chart-canvas canvas').first().waitFor();
    // Conversations, wait and first response per hour, and the CSAT card's average score per hour.
    await page.getByText('Average score per hour').waitFor();
    expect(await page.locator('.chart-canvas canvas').count()).toBe(4);
    await page.getByRole('cell', { name: 'Ada' }).waitFor();
    await page.locator('#analytics-skills').locator('xpath=../..').getByRole('cell', { name: 'Support' }).waitFor();
    await page.locator('#analytics-channels').locator('xpath=../..').getByRole('cell', { name: 'In-app' }).waitFor();

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download CSV' }).click()]);
    expect(download.suggestedFilename()).toMatch(/^parley-report-\d{4}-\d{2}-\d{2}-to-\d{4}-\d{2}-\d{2}\.csv$/);
    const path = await download.path();
    const csv = fs.readFileSync(path, 'utf8');
    expect(csv.split('\n').length).toBeGreaterThan(2);

    await screenshotWhole(page, 'console-analytics');
    expect(await seriousAccessibilityViolations(page)).toEqual([]);
  });

  it('finds messages with highlighted words and opens the conversation at the message', { timeout: 60_000 }, async () => {
    await page.getByRole('link', { name: 'Search' }).click();
    await page.getByRole('heading', { name: 'Search' }).waitFor();
    await page.getByLabel('Words to find').fill('refund');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await page.locator('.search-hit').first().waitFor();
    // Two consumers asked, one agent answered (the other refund was answered too), plus the internal note.
    expect(await page.locator('.search-hit').count()).toBeGreaterThanOrEqual(4);
    expect((await page.locator('.search-snippet mark').allTextContents()).map((m) => m.toLowerCase())).toContain('refund');
    await page.getByText('Internal note').first().waitFor();
    await screenshotWhole(page, 'console-search');
    expect(await seriousAccessibilityViolations(page)).toEqual([]);

    const note = page.locator('.search-hit', { hasText: 'ticket R-1042' });
    await note.click();
    await page.waitForURL(new RegExp(`/console/conversations/${refundConversation}#seq-\\d+$`));
    await page.locator('.msg-target', { hasText: 'ticket R-1042' }).waitFor();
    await screenshot(page, 'console-search-opened');

    // Back: the same search again (it is kept in the URL).
    await page.goBack();
    await page.waitForURL(/\/console\/search\?q=refund$/);
    await page.locator('.search-hit', { hasText: 'ticket R-1042' }).waitFor();
    expect(await page.getByLabel('Words to find').inputValue()).toBe('refund');
  });
});
