import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

/** Debian's chromium, headless, with nothing of its own on the network. */
export async function launchChromium(): Promise<{ browser: BrowserContext; close: () => Promise<void> }> {
  // A new, empty profile (playwright passes it as --user-data-dir).
  const profile = mkdtempSync(path.join(tmpdir(), 'holdline-chromium-'));
  const browser = await chromium.launchPersistentContext(profile, {
    headless: true,
    executablePath: '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return {
    browser,
    close: async () => {
      await browser.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

export interface OpenedReport {
  page: Page;
  /** Console errors and uncaught page errors. */
  errors: string[];
  /** Every request other than the report file itself. */
  requests: string[];
  /** ms from navigation to every chart drawn. */
  renderMs: number;
}

/** Opens a report file and waits until its script has drawn every chart. */
export async function openReport(
  browser: BrowserContext,
  file: string,
  viewport = { width: 1100, height: 900 },
): Promise<OpenedReport> {
  const page = await browser.newPage();
  await page.setViewportSize(viewport);
  const errors: string[] = [];
  const requests: string[] = [];
  const url = pathToFileURL(file).href;
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('request', (r) => {
    if (r.url() !== url) requests.push(r.url());
  });
  const t0 = performance.now();
  await page.goto(url);
  await page.waitForSelector('body[data-drawn]');
  const renderMs = performance.now() - t0;
  return { page, errors, requests, renderMs };
}

/** Each chart on the page and the data points it drew. */
export async function chartsDrawn(page: Page): Promise<Record<string, number>> {
  return page.$$eval('.chart', (els) =>
    Object.fromEntries(
      els.map((el) => [
        el.getAttribute('data-chart') ?? '',
        el.querySelector('canvas') ? Number(el.getAttribute('data-points') ?? 0) : 0,
      ]),
    ),
  );
}
