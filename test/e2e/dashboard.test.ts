import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import { launchChromium } from '../helpers/browser.js';
import { runCli } from '../helpers/cli.js';
import { outDir } from '../helpers/results.js';
import { startTarget, type TestTarget } from '../helpers/target.js';

let browser: BrowserContext;
let closeBrowser: () => Promise<void>;
let target: TestTarget;

before(async () => {
  ({ browser, close: closeBrowser } = await launchChromium());
  target = await startTarget({ auth: 'none' });
});
after(async () => {
  await closeBrowser?.();
  await target?.close();
});

const figure = (page: Page, id: string): Promise<number> =>
  page.$eval(`#${id}`, (el) => Number(el.textContent));

test('--dashboard: two tabs opened during a run see the numbers move; the page closes with the run', async () => {
  let announce: (url: string) => void;
  const url = new Promise<string>((resolve) => (announce = resolve));
  // 30 sessions started 10 a second: a run of about 4 s, an interval snapshot every second.
  const run = runCli(
    ['run', target.wsUrl, '-n', '30', '--connect-rate', '10', '--max-duration', '1s'].concat([
      '--dashboard',
      '--no-progress',
      '--out',
      outDir('dash'),
    ]),
    {
      onTtyStderr: (chunk) => {
        const m = /dashboard: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(chunk);
        if (m) announce(m[1]);
      },
    },
  );
  const page = await url;
  const tabs = [await browser.newPage(), await browser.newPage()];
  for (const tab of tabs) await tab.goto(page);
  const first = await Promise.all(tabs.map((tab) => figure(tab, 'updates')));
  // Each tab must see two more interval updates and more sessions started than when it opened.
  await Promise.all(
    tabs.map(async (tab, i) => {
      const startedAtOpen = await figure(tab, 'started');
      await tab.waitForFunction(
        ([n, s]) =>
          Number(document.getElementById('updates')!.textContent) >= n + 2 &&
          Number(document.getElementById('started')!.textContent) > s,
        [first[i], startedAtOpen],
        { timeout: 15_000 },
      );
    }),
  );
  const r = await run;
  assert.equal(r.code, 0, r.stdout + r.stderr);
  for (const tab of tabs) {
    await tab.waitForSelector('body[data-ended]');
    assert.equal(await tab.$eval('#state', (el) => el.textContent), 'run ended: exit 0');
    assert.equal(await figure(tab, 'started'), 30, 'every session started, as the result says');
  }
  await assert.rejects(fetch(page), 'the dashboard server is closed after the run');
  for (const tab of tabs) await tab.close();
});
