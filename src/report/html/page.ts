// A self-contained HTML report: styles, chart library, page script and data inlined, so the file
// opens with no network, on a phone as on a desk, and prints.
import type { BroadcastVerdict, CapacityVerdict, RunResult, SuiteResult } from '../../contract.js';
import { chartLibrary } from './assets.js';
import { broadcastCharts } from './charts-broadcast.js';
import { capacityCurve, closeAgeChart, phaseCharts } from './charts-ladder.js';
import { loadCharts } from './charts-load.js';
import { targetMetricCharts, timelineCharts } from './charts-timeline.js';
import { CLIENT_JS } from './client.js';
import { badge, esc, hostLine, thresholdTable, verdictLines, warningLines } from './header.js';
import type { Chart, Section } from './spec.js';

const CSS = `
:root{--fg:#1b1f23;--muted:#5f6b76;--line:#d8dee4;--ok:#2e7d32;--bad:#c62828;--warn:#ef6c00}
*{box-sizing:border-box}
body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:#f6f8fa}
main{max-width:1100px;margin:0 auto;padding:12px}
header,section{background:#fff;border:1px solid var(--line);border-radius:8px;padding:12px 16px;margin:0 0 12px}
h1{font-size:1.3em;margin:0 0 6px}h2{font-size:1.1em;margin:14px 0 6px}h3{font-size:1em;margin:0 0 4px}
.badge{display:inline-block;padding:1px 10px;border-radius:12px;color:#fff;font-weight:600;font-size:.85em;vertical-align:middle}
.badge.ok{background:var(--ok)}.badge.bad{background:var(--bad)}.badge.warn{background:var(--warn)}
.head{font-size:1.1em;font-weight:600;margin:6px 0}
dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:8px 0}dt{color:var(--muted)}dd{margin:0;overflow-wrap:anywhere}
code{font:13px ui-monospace,SFMono-Regular,Menlo,monospace;overflow-wrap:anywhere}
ul{margin:4px 0;padding-left:20px}.warnings li{color:#8a4b00}
table{border-collapse:collapse;width:100%;font-size:.92em}td,th{border-bottom:1px solid var(--line);padding:3px 6px;text-align:left}
tr.bad td{color:var(--bad);font-weight:600}
.chart{margin:14px 0 18px;break-inside:avoid;page-break-inside:avoid}
.chart .note{color:var(--muted);font-size:.88em;margin:0 0 4px}
.plot{width:100%;overflow-x:auto}
.u-legend{font-size:12px}.u-legend .u-series th{font-weight:normal}
details{margin-top:8px}pre{white-space:pre-wrap;font-size:12px;overflow-wrap:anywhere}
footer{color:var(--muted);font-size:.85em;text-align:center;margin:8px 0 24px}
@media (max-width:600px){body{font-size:14px}main{padding:6px}header,section{padding:10px}dl{grid-template-columns:1fr}dt{margin-top:4px}}
@media print{body{background:#fff}main{max-width:none;padding:0}header,section{border:none;padding:0 0 8px}details{display:none}}
`;

export interface ReportPage {
  title: string;
  header: string;
  sections: Section[];
  footer: string;
}

/** The charts of one run, each where it applies. */
export function runSections(r: RunResult, prefix = ''): Section[] {
  const sections: Section[] = [];
  const cmd = r.info.command;
  if (cmd === 'capacity' || cmd === 'sustain') {
    const charts: Chart[] = [];
    const curve = capacityCurve(r as RunResult<CapacityVerdict>);
    if (curve) charts.push(curve);
    const closes = closeAgeChart(r as RunResult<CapacityVerdict>);
    if (closes) charts.push(closes);
    sections.push({ title: cmd === 'sustain' ? 'Sustained connections' : 'Capacity', charts });
  }
  if (cmd === 'load') sections.push({ title: 'Messages', charts: loadCharts(r) });
  if (cmd === 'broadcast')
    sections.push({ title: 'Delivery', charts: broadcastCharts(r as RunResult<BroadcastVerdict>) });
  sections.push({ title: 'Session phases', charts: phaseCharts(r) });
  sections.push({ title: 'Over time', charts: [...timelineCharts(r), ...targetMetricCharts(r)] });
  return sections
    .filter((s) => s.charts.length > 0)
    .map((s) => ({
      title: prefix + s.title,
      charts: s.charts.map((c) => ({
        ...c,
        id: prefix ? `${prefix.replace(/\W+/g, '-').toLowerCase()}${c.id}` : c.id,
      })),
    }));
}

function facts(rows: [string, string][]): string {
  return `<dl>${rows.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${v}</dd>`).join('')}</dl>`;
}

function list(items: string[], cls = ''): string {
  return items.length === 0
    ? ''
    : `<ul class="${cls}">${items.map((i) => `<li>${esc(i)}</li>`).join('')}</ul>`;
}

/** Header of one run's report. */
export function runHeader(r: RunResult, resultFile?: string): string {
  const v = verdictLines(r);
  const warnings = warningLines(r);
  const when = new Date(r.info.startedAt).toISOString().replace('T', ' ').slice(0, 19);
  return (
    `<h1>holdline ${esc(r.info.command)} ${badge(r.exitCode, r.interrupted)}</h1>` +
    `<div class="head">${esc(v.head)}</div>${list(v.lines)}` +
    facts([
      ['command', `<code>${esc(r.info.commandLine ?? `holdline ${r.info.command}`)}</code>`],
      ['target', `<code>${esc(r.info.target)}</code>`],
      [
        'when',
        `${esc(when)} UTC · ${((r.endedAt - r.info.startedAt) / 1000).toFixed(1)} s · exit ${r.exitCode}`,
      ],
      ['host', esc(hostLine(r.info.host))],
      ['steps', String(r.steps.length)],
      ...(resultFile ? ([['result', `<code>${esc(resultFile)}</code>`]] as [string, string][]) : []),
    ]) +
    thresholdTable(r.thresholds) +
    (warnings.length > 0 ? `<h2>Warnings</h2>${list(warnings, 'warnings')}` : '')
  );
}

export function runPage(r: RunResult, resultFile?: string): ReportPage {
  return {
    title: `holdline ${r.info.command} · ${r.info.target}`,
    header: runHeader(r, resultFile),
    sections: runSections(r),
    footer: configBlock(r.info.config),
  };
}

export function suitePage(s: SuiteResult, resultFile?: string): ReportPage {
  const v = s.verdict;
  const head = v
    ? v.passed
      ? `Every stage ran and every threshold held: ${v.maxReliable ?? '—'} reliable, safe limit ${v.safeLimit ?? '—'}, sustain ${v.sustain}.`
      : 'The suite failed.'
    : 'No verdict: the suite did not finish.';
  const header =
    `<h1>holdline suite ${badge(s.exitCode, s.interrupted)}</h1><div class="head">${esc(head)}</div>` +
    list(v?.problems ?? []) +
    facts([
      ['target', `<code>${esc(s.target)}</code>`],
      [
        'when',
        `${esc(new Date(s.startedAt).toISOString().replace('T', ' ').slice(0, 19))} UTC · exit ${s.exitCode}`,
      ],
      ...(s.capacity
        ? ([['command', `<code>${esc(s.capacity.info.commandLine ?? 'holdline suite')}</code>`]] as [
            string,
            string,
          ][])
        : []),
      ...(s.capacity ? ([['host', esc(hostLine(s.capacity.info.host))]] as [string, string][]) : []),
      ...(resultFile ? ([['result', `<code>${esc(resultFile)}</code>`]] as [string, string][]) : []),
    ]) +
    (s.env && s.env.preflight.length + s.env.warnings.length > 0
      ? `<h2>Warnings</h2>${list([...s.env.preflight, ...s.env.warnings], 'warnings')}`
      : '') +
    (s.error ? `<h2>Error</h2>${list([s.error], 'warnings')}` : '');
  const sections = [
    ...(s.capacity ? runSections(s.capacity, 'Capacity stage: ') : []),
    ...(s.sustain?.result ? runSections(s.sustain.result, 'Sustain stage: ') : []),
  ];
  const stages = [s.capacity, s.sustain?.result].filter((r): r is RunResult<CapacityVerdict> => !!r);
  return {
    title: `holdline suite · ${s.target}`,
    header:
      header +
      stages
        .map((r) => `<h2>${esc(r.info.command)} stage</h2>${runHeader(r).replace(/<h1>[\s\S]*?<\/h1>/, '')}`)
        .join(''),
    sections,
    footer: configBlock(s.config),
  };
}

function configBlock(config: Record<string, unknown>): string {
  return `<details><summary>Configuration (redacted)</summary><pre>${esc(JSON.stringify(config, null, 2))}</pre></details>`;
}

/** Inlined JSON must not end the script element it sits in. */
function scriptJson(data: unknown): string {
  return JSON.stringify(data)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

export function renderPage(p: ReportPage): string {
  const lib = chartLibrary();
  const charts: Record<string, Chart> = {};
  const body = p.sections
    .map(
      (s) =>
        `<section><h2>${esc(s.title)}</h2>${s.charts
          .map((c) => {
            charts[c.id] = c;
            return `<div class="chart" id="chart-${esc(c.id)}" data-chart="${esc(c.id)}"><h3>${esc(c.title)}</h3>${c.note ? `<p class="note">${esc(c.note)}</p>` : ''}<div class="plot"></div></div>`;
          })
          .join('')}</section>`,
    )
    .join('');
  return (
    `<!doctype html><html lang="en"><head><meta charset="utf-8">` +
    `<meta name="viewport" content="width=device-width,initial-scale=1">` +
    `<title>${esc(p.title)}</title><style>${lib.css}${CSS}</style></head><body><main>` +
    `<header>${p.header}${p.footer}</header>${body}` +
    `<footer>holdline report · self-contained: opens without network access</footer></main>` +
    `<script type="application/json" id="holdline-data">${scriptJson({ charts })}</script>` +
    `<script>${lib.js.replace(/<\/script/gi, '<\\/script')}</script><script>${CLIENT_JS}</script></body></html>\n`
  );
}
