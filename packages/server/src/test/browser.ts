import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { type BrowserContext, chromium, type Page } from 'playwright-core';

/** Debian's Chromium: browser tests never use a downloaded browser. */
export const CHROMIUM_PATH = process.env.PARLEY_CHROMIUM_PATH ?? '/usr/bin/chromium';

const CHROMIUM_FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** Where browser tests save screenshots: kept as build artefacts by CI. */
export const SCREENSHOT_DIR = path.resolve(import.meta.dirname, '../../../../.tmp/screenshots');

export interface Browser {
  context: BrowserContext;
  newPage(options?: { viewport?: { width: number; height: number } }): Promise<Page>;
  close(): Promise<void>;
}

/** A headless Chromium with a fresh profile folder, removed again on close. */
export async function launchBrowser(options: { viewport?: { width: number; height: number }; isMobile?: boolean; hasTouch?: boolean } = {}): Promise<Browser> {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_FLAGS,
    viewport: options.viewport ?? { width: 1280, height: 800 },
    ...(options.isMobile !== undefined ? { isMobile: options.isMobile } : {}),
    ...(options.hasTouch !== undefined ? { hasTouch: options.hasTouch } : {}),
  });
  return {
    context,
    async newPage(pageOptions = {}) {
      const page = await context.newPage();
      if (pageOptions.viewport) await page.setViewportSize(pageOptions.viewport);
      return page;
    },
    async close() {
      // A Chromium that does not exit within the time (seen once on a loaded CI machine) is killed: a test's
      // teardown must not hang on the browser.
      const closed = await Promise.race([context.close().then(() => true), new Promise<false>((resolve) => setTimeout(() => resolve(false), 15_000).unref())]);
      if (!closed) {
        try {
          execFileSync('pkill', ['-9', '-f', profile]);
        } catch {
          // Nothing left to kill.
        }
      }
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Saves a full-page screenshot under .tmp/screenshots/<name>.png and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

export interface AxeViolation {
  id: string;
  impact: 'minor' | 'moderate' | 'serious' | 'critical' | null;
  description: string;
  nodes: { target: unknown[]; html: string }[];
}

const axeSource = () => fs.readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/**
 * Runs axe-core in the page (optionally on one element, e.g. the widget's host) and returns the serious and critical
 * violations. axe looks inside open shadow roots.
 */
export async function seriousAccessibilityViolations(page: Page, include?: string): Promise<AxeViolation[]> {
  await page.addScriptTag({ content: axeSource() });
  const result = await page.evaluate(async (selector) => {
    const axe = (window as unknown as { axe: { run(context: unknown, options: unknown): Promise<{ violations: unknown[] }> } }).axe;
    return axe.run(selector ? { include: [[selector]] } : document, { resultTypes: ['violations'] });
  }, include ?? null);
  return (result.violations as AxeViolation[]).filter((v) => v.impact === 'serious' || v.impact === 'critical');
}
