import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { BrowserContext } from 'playwright-core';
import { runCli } from '../helpers/cli.js';
import { chartsDrawn, launchChromium, openReport } from '../helpers/browser.js';
import { onlyResult, outDir } from '../helpers/results.js';
import { startTarget, type TestTarget } from '../helpers/target.js';

// Real runs, small and quick, rendered in headless Chromium: no console error, no request, and
// every chart that applies drawn with data points. Screenshots go to test-screenshots/.

const SHOTS = fileURLToPath(new URL('../../../test-screenshots/', import.meta.url));
let browser: BrowserContext;
let closeBrowser: () => Promise<void>;
let target: TestTarget;
let idleTarget: TestTarget;

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  ({ browser, close: closeBrowser } = await launchChromium());
  target = await startTarget({ auth: 'none' });
  // An idle timeout like a load balancer's, so the sustained run has premature closes to chart.
  idleTarget = await startTarget({ auth: 'none', idleTimeoutMs: 1500 });
});

after(async () => {
  await closeBrowser?.();
  await target?.close();
  await idleTarget?.close();
});

function htmlIn(dir: string): string {
  const files = readdirSync(dir).filter((f) => f.endsWith('.html'));
  assert.equal(files.length, 1, `one report in ${dir}: ${files.join(', ')}`);
  return path.join(dir, files[0]);
}

async function checkReport(name: string, dir: string, expected: string[]): Promise<string> {
  const file = htmlIn(dir);
  const html = readFileSync(file, 'utf8');
  assert.doesNotMatch(html, /<(script|link|img)[^>]+(src|href)=/i, 'nothing loaded from elsewhere');
  const r = await openReport(browser, file);
  try {
    const drawn = await chartsDrawn(r.page);
    assert.deepEqual(r.errors, [], 'no console error');
    assert.deepEqual(r.requests, [], 'no network request');
    for (const id of expected) {
      assert.ok(
        (drawn[id] ?? 0) > 0,
        `${name}: chart ${id} drawn with data points (drawn: ${JSON.stringify(drawn)})`,
      );
    }
    await r.page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
    await r.page.setViewportSize({ width: 390, height: 800 });
    await r.page.waitForTimeout(250); // the page redraws its charts 100 ms after a resize
    await r.page.screenshot({ path: path.join(SHOTS, `${name}-phone.png`), fullPage: true });
    return html;
  } finally {
    await r.page.close();
  }
}

/** A run of the CLI into a fresh --out, without progress lines. */
async function quickRun(
  prefix: string,
  args: string[],
): Promise<{ out: string; code: number; text: string }> {
  const out = outDir(prefix);
  const r = await runCli([...args, '--no-progress', '--out', out]);
  return { out, code: r.code, text: r.stdout + r.stderr };
}

const OVER_TIME = ['activity', 'generator', 'generator-rss'];

test('capacity report: curve, phase timings per point, activity, generator and target health', async () => {
  const r = await quickRun('html-cap', [
    'capacity',
    target.wsUrl,
    ...['--points', '5,20,40', '--hold', '1500ms', '--pause', '0'],
    ...['--target-metrics', `${target.url}/metrics`],
  ]);
  assert.equal(r.code, 0, r.text);
  const res = onlyResult(r.out);
  assert.ok((res.timeline ?? []).length >= 3, 'a timeline row per interval');
  const server = res.targetMetrics!;
  assert.equal(server.failures, 0, server.lastError ?? '');
  assert.ok(
    server.samples.some((s) => (s.connections ?? 0) > 0),
    'the target counted the open sessions',
  );
  assert.ok(server.samples.some((s) => s.cpuPct !== null && (s.rssBytes ?? 0) > 0));
  const charts = [
    'capacity-curve',
    'phase-connect',
    'phase-upgrade',
    ...OVER_TIME,
    'target-server',
    'target-memory',
  ];
  await checkReport('capacity', r.out, charts);
});

test('sustain report: premature closes by time since open, with the idle-timeout finding', async () => {
  const r = await quickRun('html-sus', [
    'sustain',
    idleTarget.wsUrl,
    '--points',
    '10',
    '--duration',
    '3s',
    '--heartbeat',
    '0',
  ]);
  assert.equal(r.code, 1, 'every connection closed early: no point held');
  const res = onlyResult(r.out);
  assert.equal((res.steps[0].earlyCloses ?? []).length, 10, 'the idle timeout closed every connection');
  const html = await checkReport('sustain-closes', r.out, [
    'capacity-curve',
    'close-ages',
    'phases',
    ...OVER_TIME,
  ]);
  assert.match(html, /idle timeout/);
});

test('sustain report: heartbeat round trips over time', async () => {
  const r = await quickRun('html-hb', [
    'sustain',
    target.wsUrl,
    ...[
      '--points',
      '10',
      '--duration',
      '2500ms',
      '--heartbeat',
      '500ms',
      '--heartbeat-kind',
      'ping',
      '--expect-reply',
    ],
  ]);
  assert.equal(r.code, 0, r.text);
  await checkReport('sustain-heartbeat', r.out, ['capacity-curve', 'heartbeat-rtt', ...OVER_TIME]);
});

test('load report: messages per second and latency over time', async () => {
  const r = await quickRun('html-load', [
    'load',
    target.wsUrl,
    ...['--connections', '10', '--groups', '5', '--rate', '50', '--duration', '3s', '--ramp-up', '0'],
  ]);
  assert.equal(r.code, 0, r.text);
  await checkReport('load', r.out, ['load-rate', 'load-latency', 'phases', ...OVER_TIME]);
});

test('broadcast report: delivery map and spread per code', async () => {
  // No URL: the reference target in a child process, which publishes codes.
  const r = await quickRun('html-bc', ['broadcast', '20', '5', '1500ms']);
  assert.equal(r.code, 0, r.text);
  await checkReport('broadcast', r.out, ['delivery-map', 'delivery-spread', 'phases', ...OVER_TIME]);
});
