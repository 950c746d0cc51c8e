import fs from 'node:fs';
import path from 'node:path';
import type { EndpointBody } from '@parley/protocol';
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Browser, launchBrowser, SCREENSHOT_DIR, seriousAccessibilityViolations } from '../../server/src/test/browser.ts';
import { actors, call } from '../../server/src/test/rest-client.ts';
import { storageMode } from '../../server/src/test/test-database.ts';
import { startTestServer, type TestServer } from '../../server/src/test/test-server.ts';

/**
 * The consumer widget in Debian's Chromium against a real server: the demo page, an agent answering through the
 * REST API, receipts, history after a reload, the unread badge and title notice, hostile page CSS, a phone, a
 * dropped network, the keyboard and axe-core. Screenshots go to .tmp/screenshots/widget-*.png.
 */

const NORTHWIND = { primaryColor: '#2f5d62', greeting: 'Welcome to Northwind! Ask us about sizes, orders or repairs.', position: 'bottom-right', title: 'Northwind Outfitters' } as const;

type SendBody = EndpointBody<'sendEvent'>;

async function shot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, `widget-${name}.png`), animations: 'disabled' });
}

const widget = (page: Page) => page.locator('parley-widget');
const launcher = (page: Page) => widget(page).locator('.pw-launcher');
const composer = (page: Page) => page.getByRole('textbox', { name: 'Message' });
const log = (page: Page) => page.getByRole('log', { name: 'Conversation' });
/** The text a person sees (Playwright's innerText: hidden and screen-reader-only text left out). */
// biome-ignore lint/performance/useDomNodeTextContent: Playwright's Locator.innerText, not the DOM property
const seen = (locator: Locator) => locator.innerText();
const ownStatuses = (page: Page) =>
  widget(page)
    .locator('.pw-own [data-status]')
    .evaluateAll((nodes) => nodes.map((n) => n.getAttribute('data-status')));

async function write(page: Page, text: string): Promise<void> {
  await composer(page).fill(text);
  await composer(page).press('Enter');
}

/** The consumer's current conversation, as the widget knows it. */
async function conversationOf(page: Page): Promise<string> {
  const handle = await page.waitForFunction(() => {
    const state = (window as unknown as { parley?: { widget?: { state: { conversations: { id: string }[] } } } }).parley?.widget?.state;
    return state?.conversations.at(-1)?.id;
  });
  return (await handle.jsonValue()) as string;
}

describe(`consumer widget in Chromium (${storageMode})`, () => {
  let t: TestServer;
  let a: ReturnType<typeof actors>;
  let admin: string;
  let agent: { id: string; token: string };
  const browsers: Browser[] = [];

  const openBrowser = async (options: Parameters<typeof launchBrowser>[0] = {}) => {
    const browser = await launchBrowser(options);
    browsers.push(browser);
    return browser;
  };
  const openDemo = async (browser: Browser, viewport?: { width: number; height: number }): Promise<Page> => {
    const page = await browser.newPage(viewport ? { viewport } : {});
    page.on('pageerror', (error) => {
      throw error;
    });
    await page.goto(`${t.baseUrl}/demo`);
    await launcher(page).waitFor();
    return page;
  };

  const api = {
    send: async (conversationId: string, body: Omit<SendBody, 'clientMessageId'> & { clientMessageId?: string }, token = agent.token) => {
      const r = await call(t.server.app, 'sendEvent', { token, params: { conversationId }, body: { clientMessageId: crypto.randomUUID(), ...body } });
      expect(r.status, JSON.stringify(r.body)).toBe(201);
      return r.body;
    },
    text: (conversationId: string, message: string, extra: { quickReplies?: unknown; audience?: 'all' | 'agents_and_managers' } = {}) =>
      api.send(conversationId, {
        event: { type: 'content', content: { contentType: 'text/plain', message, ...(extra.quickReplies ? { quickReplies: extra.quickReplies } : {}) } },
        ...(extra.audience ? { audience: extra.audience } : {}),
      } as SendBody),
    receipt: async (conversationId: string, status: 'accept' | 'read', sequences: number[]) => {
      const r = await call(t.server.app, 'sendReceipt', { token: agent.token, params: { conversationId }, body: { status, sequences } });
      expect(r.status, JSON.stringify(r.body)).toBe(201);
    },
    take: async (conversationId: string) => {
      const r = await call(t.server.app, 'takeConversation', { token: agent.token, params: { conversationId } });
      expect([200, 409], JSON.stringify(r.body)).toContain(r.status);
    },
    /** Every event of the conversation, as an agent sees it (internal notes included). */
    events: async (conversationId: string) => {
      const r = await call(t.server.app, 'listEvents', { token: admin, params: { conversationId }, query: { fromSeq: 0, limit: 500 } });
      expect(r.status).toBe(200);
      return r.body.items;
    },
  };
  const consumerTexts = async (conversationId: string) =>
    (await api.events(conversationId)).flatMap((e) =>
      e.type === 'content' && e.originator.role === 'consumer' && e.content.contentType === 'text/plain' ? [{ text: e.content.message, sequence: e.sequence }] : [],
    );

  beforeAll(async () => {
    t = await startTestServer({ listen: true });
    a = actors(t);
    admin = await a.adminToken();
    agent = await a.createUser(admin, 'agent', 'Anna');
    const r = await call(t.server.app, 'updateWidgetSettings', { token: admin, body: NORTHWIND });
    expect(r.status).toBe(200);
  });
  afterAll(async () => {
    for (const browser of browsers) await browser.close();
    await t?.close();
  });

  it('serves the bundle as JavaScript with cache headers, and a demo page with the script tag and widget key', async () => {
    const js = await fetch(`${t.baseUrl}/widget.js`);
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(js.headers.get('cache-control')).toMatch(/max-age=\d+/);
    const etag = js.headers.get('etag');
    expect(etag).toBeTruthy();
    expect((await fetch(`${t.baseUrl}/widget.js`, { headers: { 'if-none-match': etag ?? '' } })).status).toBe(304);
    const demo = await (await fetch(`${t.baseUrl}/demo`)).text();
    expect(demo).toContain(`<script src="/widget.js" data-widget-key="${t.widgetKey}" async></script>`);
    expect(demo).toContain('Northwind Outfitters');
  });

  it('lets a consumer write, shows the agent by name with quick replies and a card, receipts, never internal notes, and the whole history after a reload', async () => {
    const browser = await openBrowser();
    const page = await openDemo(browser);
    expect(await seriousAccessibilityViolations(page), 'demo page with the widget closed').toEqual([]);

    await launcher(page).click();
    await expect.poll(() => page.getByRole('dialog', { name: 'Northwind Outfitters' }).isVisible()).toBe(true);
    await expect.poll(() => seen(log(page))).toContain(NORTHWIND.greeting);
    await write(page, 'Hi! Does the Harbour rain jacket run small?');
    const conversationId = await conversationOf(page);
    await expect.poll(() => ownStatuses(page)).toEqual(['sent']);

    await api.take(conversationId);
    await expect.poll(() => seen(log(page))).toContain('Anna joined the conversation');
    await expect.poll(() => seen(widget(page).locator('.pw-subtitle'))).toBe('You are chatting with Anna');

    const [first] = await consumerTexts(conversationId);
    if (!first) throw new Error('the consumer message is not stored');
    await api.receipt(conversationId, 'accept', [first.sequence]);
    await expect.poll(() => ownStatuses(page)).toEqual(['delivered']);
    await api.receipt(conversationId, 'read', [first.sequence]);
    await expect.poll(() => ownStatuses(page)).toEqual(['read']);

    await api.text(conversationId, 'Customer asked about sizing twice before: offer the fit guide.', { audience: 'agents_and_managers' });
    await api.text(conversationId, 'It runs true to size. Which size do you usually wear?', {
      quickReplies: {
        type: 'quickReplies',
        itemsPerRow: 8,
        replies: ['S', 'M', 'L'].map((size) => ({ type: 'button', title: `Size ${size}`, click: { actions: [{ type: 'publishText', text: `I usually wear ${size}` }] } })),
      },
    });
    await expect.poll(() => seen(log(page))).toContain('It runs true to size.');
    const row = widget(page).locator('.pw-their', { hasText: 'It runs true to size.' });
    expect(await seen(row.locator('.pw-author'))).toBe('Anna');
    const quick = page.getByRole('group', { name: 'Suggested replies' });
    await expect.poll(() => quick.getByRole('button').allInnerTexts()).toEqual(['Size S', 'Size M', 'Size L']);

    // The consumer's accept and read receipts reach the server for the agent's message.
    await expect
      .poll(async () => (await api.events(conversationId)).filter((e) => e.type === 'accept_status' && e.originator.role === 'consumer').map((e) => (e.type === 'accept_status' ? e.status : '')))
      .toEqual(expect.arrayContaining(['accept', 'read']));

    await quick.getByRole('button', { name: 'Size M' }).click();
    await expect.poll(async () => (await consumerTexts(conversationId)).map((m) => m.text)).toEqual(['Hi! Does the Harbour rain jacket run small?', 'I usually wear M']);
    await expect.poll(() => quick.isVisible()).toBe(false);

    await api.send(conversationId, {
      event: {
        type: 'rich_content',
        fallbackText: 'Harbour rain jacket, size M: €149',
        content: {
          type: 'vertical',
          elements: [
            { type: 'image', url: `${t.baseUrl}/demo/products/0.svg`, caption: 'Harbour rain jacket' },
            { type: 'text', text: 'Harbour rain jacket · size M', style: { bold: true } },
            { type: 'text', text: '€149 · in stock, ships tomorrow' },
            { type: 'button', title: 'Add to my bag', click: { actions: [{ type: 'publishText', text: 'Please add it to my bag' }] } },
            { type: 'button', title: 'Size guide', click: { actions: [{ type: 'link', uri: `${t.baseUrl}/demo` }] } },
          ],
        },
      },
    });
    const card = page.getByRole('group', { name: 'Harbour rain jacket, size M: €149' });
    await card.getByRole('button', { name: 'Add to my bag' }).click();
    await expect.poll(async () => (await consumerTexts(conversationId)).map((m) => m.text)).toContain('Please add it to my bag');
    await api.text(conversationId, 'Done! It is in your bag.');
    await expect.poll(() => seen(log(page))).toContain('Done! It is in your bag.');
    await shot(page, 'open-desktop');
    expect(await seriousAccessibilityViolations(page, 'parley-widget'), 'the open widget').toEqual([]);
    expect(await seen(log(page))).not.toContain('fit guide');

    // Typing from the agent shows, by name.
    const typing = await call(t.server.app, 'sendChatState', { token: agent.token, params: { conversationId }, body: { chatState: 'composing' } });
    expect(typing.status).toBe(204);
    await expect.poll(() => seen(widget(page).locator('.pw-typing'))).toBe('Anna is typing…');

    await page.reload();
    await launcher(page).waitFor();
    await launcher(page).click();
    const history = [
      'Hi! Does the Harbour rain jacket run small?',
      'Anna joined the conversation',
      'It runs true to size.',
      'I usually wear M',
      'Harbour rain jacket · size M',
      'Please add it to my bag',
      'Done! It is in your bag.',
    ];
    await expect.poll(() => seen(log(page))).toContain('Done! It is in your bag.');
    const text = await seen(log(page));
    const positions = history.map((line) => text.indexOf(line));
    expect(positions.every((p) => p >= 0)).toBe(true);
    expect([...positions].sort((x, y) => x - y)).toEqual(positions);
    expect(text).not.toContain('fit guide');
    expect(await widget(page).locator('.pw-own').count()).toBe(3);
  });

  it('shows an unread badge and a page-title notice for a reply that arrives while closed, and clears both on open', async () => {
    const browser = await openBrowser();
    const page = await openDemo(browser);
    const title = await page.title();
    await launcher(page).click();
    await write(page, 'Is my order NW-1042 on its way?');
    const conversationId = await conversationOf(page);
    await expect.poll(() => ownStatuses(page)).toEqual(['sent']);
    await page.keyboard.press('Escape');
    await expect.poll(() => page.getByRole('dialog').isVisible()).toBe(false);

    await api.take(conversationId);
    await api.text(conversationId, 'It left our warehouse this morning and arrives Thursday.');
    await expect.poll(() => seen(widget(page).locator('.pw-badge'))).toBe('1');
    await expect.poll(() => page.title()).toBe(`(1) New message – ${title}`);
    expect(await launcher(page).getAttribute('aria-label')).toBe('Open chat, 1 unread message');
    await shot(page, 'closed-badge');
    expect(await seriousAccessibilityViolations(page, 'parley-widget'), 'the closed widget with a badge').toEqual([]);

    // Coming back later (a new page view) still shows what arrived meanwhile.
    await page.reload();
    await expect.poll(() => seen(widget(page).locator('.pw-badge'))).toBe('1');

    await launcher(page).click();
    await expect.poll(() => widget(page).locator('.pw-badge').isVisible()).toBe(false);
    await expect.poll(() => page.title()).toBe(title);
    await expect.poll(async () => (await api.events(conversationId)).some((e) => e.type === 'accept_status' && e.originator.role === 'consumer' && e.status === 'read')).toBe(true);
  });

  it('stays visible and usable on a page with hostile CSS', async () => {
    const browser = await openBrowser();
    const page = await browser.newPage();
    const hostile = `
      * { all: unset !important; font-size: 40px !important; display: none; }
      html, body { display: block !important; }
      div, span, section, p, a, button, form, textarea, input, header, footer, main, ul, li, img { display: none !important; color: red !important; font-family: Impact !important; }
      button { display: none !important; }
      body > * { position: static !important; z-index: -1 !important; opacity: 0.1 !important; transform: scale(3) !important; }`;
    // Added to the page itself, as a brand's own stylesheet would be (a rewritten response would lose the page's origin).
    await page.addInitScript((css) => {
      document.addEventListener('DOMContentLoaded', () => {
        const style = document.createElement('style');
        style.textContent = css;
        document.head.append(style);
      });
    }, hostile);
    await page.goto(`${t.baseUrl}/demo`);
    await launcher(page).waitFor();
    const box = await launcher(page).boundingBox();
    expect(box?.width).toBe(60);
    expect(box?.height).toBe(60);
    await launcher(page).click();
    await expect.poll(() => composer(page).isVisible()).toBe(true);
    await write(page, 'Hello from a page with hostile CSS');
    await expect.poll(() => ownStatuses(page)).toEqual(['sent']);
    const fontSize = await widget(page)
      .locator('.pw-own .pw-bubble')
      .evaluate((el) => getComputedStyle(el).fontSize);
    expect(fontSize).toBe('15px');
    await shot(page, 'hostile-css');
  });

  it('is a full-screen sheet on a phone-sized screen', async () => {
    const browser = await openBrowser({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    const page = await openDemo(browser);
    await launcher(page).click();
    const dialog = page.getByRole('dialog', { name: 'Northwind Outfitters' });
    await expect.poll(() => dialog.isVisible()).toBe(true);
    // Polled: the sheet slides in for 0.2 s.
    await expect.poll(() => dialog.boundingBox()).toEqual({ x: 0, y: 0, width: 390, height: 844 });
    expect(await launcher(page).isVisible()).toBe(false);
    await write(page, 'Do you have the Fjord sweater in green?');
    await expect.poll(() => ownStatuses(page)).toEqual(['sent']);
    await shot(page, 'phone-sheet');
    expect(await seriousAccessibilityViolations(page, 'parley-widget'), 'the phone sheet').toEqual([]);
    await widget(page).locator('.pw-header button').click();
    await expect.poll(() => launcher(page).isVisible()).toBe(true);
  });

  it('shows messages written offline as pending, then sends them once and in order when the network is back', async () => {
    const browser = await openBrowser();
    const page = await openDemo(browser);
    await launcher(page).click();
    await write(page, 'Before the tunnel');
    const conversationId = await conversationOf(page);
    await expect.poll(() => ownStatuses(page)).toEqual(['sent']);

    await browser.context.setOffline(true);
    const offline = ['In the tunnel: one', 'In the tunnel: two', 'In the tunnel: three'];
    for (const text of offline) await write(page, text);
    await expect.poll(() => ownStatuses(page)).toEqual(['sent', 'sending', 'sending', 'sending']);
    await expect.poll(() => widget(page).locator('.pw-banner').isVisible()).toBe(true);
    await shot(page, 'offline-pending');
    expect((await consumerTexts(conversationId)).map((m) => m.text)).toEqual(['Before the tunnel']);

    await browser.context.setOffline(false);
    await expect.poll(() => ownStatuses(page), { timeout: 30_000 }).toEqual(['sent', 'sent', 'sent', 'sent']);
    await expect.poll(() => widget(page).locator('.pw-banner').isVisible()).toBe(false);
    const stored = await consumerTexts(conversationId);
    expect(stored.map((m) => m.text)).toEqual(['Before the tunnel', ...offline]);
    expect(new Set(stored.map((m) => m.sequence)).size).toBe(stored.length);
  });

  it('works by keyboard: Tab reaches the launcher, the window takes focus in a sensible order, Escape closes it and focus returns to the launcher', async () => {
    const browser = await openBrowser();
    const page = await openDemo(browser);
    const focused = () => page.evaluate(() => document.querySelector('parley-widget')?.shadowRoot?.activeElement?.getAttribute('aria-label') ?? null);
    let reached = false;
    for (let i = 0; i < 30 && !reached; i++) {
      await page.keyboard.press('Tab');
      reached = (await focused()) === 'Open chat';
    }
    expect(reached, 'Tab reaches the launcher').toBe(true);
    await page.keyboard.press('Enter');
    await expect.poll(focused).toBe('Message');
    await page.keyboard.press('Tab');
    const order = [await focused()];
    for (let i = 0; i < 4; i++) {
      await page.keyboard.press('Shift+Tab');
      order.push(await focused());
    }
    expect(order).toEqual(['Send', 'Message', 'Attach a file', 'Conversation', 'Close chat']);
    await page.keyboard.press('Escape');
    await expect.poll(() => page.getByRole('dialog').isVisible()).toBe(false);
    await expect.poll(focused).toBe('Open chat');
  });

  it('takes its colour, position and language from the account settings', async () => {
    const r = await call(t.server.app, 'updateWidgetSettings', { token: admin, body: { ...NORTHWIND, primaryColor: '#f2c94c', position: 'bottom-left', locale: 'fr' } });
    expect(r.status).toBe(200);
    const browser = await openBrowser();
    const page = await openDemo(browser);
    const button = page.getByRole('button', { name: 'Ouvrir la discussion' });
    await button.waitFor();
    const box = await button.boundingBox();
    expect(box?.x).toBeLessThan(100);
    // A light brand colour gets dark text on it.
    expect(await launcher(page).evaluate((el) => getComputedStyle(el).color)).toBe('rgb(0, 0, 0)');
    await button.click();
    await expect.poll(() => page.getByPlaceholder('Écrivez un message…').isVisible()).toBe(true);
    expect(await seriousAccessibilityViolations(page, 'parley-widget'), 'a light brand colour, in French').toEqual([]);
    await shot(page, 'settings-fr-left');
  });
});
