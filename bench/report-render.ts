// The HTML report of a 100,000-point load history: its size, the time to render it to HTML, and
// the time headless Chromium takes from opening the file to every chart drawn (goal: under 2 s).
//   node dist/bench/report-render.js [rows]
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { LoadFindings } from '../src/contract.js';
import { renderReport } from '../src/report/html/writer.js';
import { chartsDrawn, launchChromium, openReport } from '../test/helpers/browser.js';
import { runAgainstTarget } from './lib.js';

const ROWS = Number(process.argv[2] ?? 100_000);

// A real (short) load run, its measured history repeated to ROWS seconds.
const { result } = await runAgainstTarget(
  'load',
  ['--connections', '20', '--groups', '10', '--rate', '100', '--duration', '4s', '--ramp-up', '0'],
  { auth: 'none' },
);
const f = result.steps[0].ext!.load as LoadFindings;
const measured = f.history.filter((r) => r.t > 0);
f.history = Array.from({ length: ROWS }, (_, i) => ({ ...measured[i % measured.length], t: i + 1 }));

const dir = mkdtempSync(path.join(tmpdir(), 'holdline-bench-report-'));
const file = path.join(dir, 'load-100k.html');
const t0 = performance.now();
const html = renderReport(result, 'load-100k.json');
const renderMs = performance.now() - t0;
writeFileSync(file, html);

const { browser, close } = await launchChromium();
const runs: number[] = [];
let points: Record<string, number> = {};
try {
  for (let i = 0; i < 3; i++) {
    const r = await openReport(browser, file);
    if (r.errors.length > 0 || r.requests.length > 0)
      throw new Error(`errors ${r.errors} requests ${r.requests}`);
    points = await chartsDrawn(r.page);
    runs.push(r.renderMs);
    await r.page.close();
  }
} finally {
  await close();
}
const best = Math.min(...runs);
console.log(
  JSON.stringify(
    {
      historyRows: ROWS,
      fileBytes: statSync(file).size,
      renderHtmlMs: Math.round(renderMs),
      chromiumOpenToDrawnMs: runs.map((ms) => Math.round(ms)),
      chromiumBestMs: Math.round(best),
      goalMet: best < 2000,
      loadRatePoints: points['load-rate'],
      loadLatencyPoints: points['load-latency'],
    },
    null,
    2,
  ),
);
