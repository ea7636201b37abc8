import type { CompareRow } from '../thresholds/compare.js';
import { metricText } from './metric-text.js';

const MARK: Record<CompareRow['verdict'], string> = {
  same: '',
  better: 'better',
  worse: 'worse',
  regression: 'REGRESSION',
  'n/a': '',
};

function change(r: CompareRow): string {
  if (r.change === null) return r.base === null || r.next === null ? '—' : 'new';
  const pct = r.change * 100;
  return `${pct > 0 ? '+' : ''}${pct.toFixed(1)}%`;
}

function cells(r: CompareRow): string[] {
  return [r.metric, metricText(r.unit, r.base), metricText(r.unit, r.next), change(r), MARK[r.verdict]];
}

const HEAD = ['metric', 'base', 'new', 'change', ''];

/** A plain-text table, columns aligned. */
export function compareText(
  rows: CompareRow[],
  o: { base: string; next: string; maxRegression: number },
): string {
  const table = [HEAD, ...rows.map(cells)];
  const widths = HEAD.map((_, i) => Math.max(...table.map((r) => r[i].length)));
  const line = (r: string[]): string =>
    r
      .map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i])))
      .join('  ')
      .trimEnd();
  return [
    `base: ${o.base}`,
    `new:  ${o.next}`,
    '',
    ...table.map(line),
    '',
    summary(rows, o.maxRegression),
  ].join('\n');
}

/** The same table in Markdown, for a pull-request comment. */
export function compareMarkdown(
  rows: CompareRow[],
  o: { base: string; next: string; maxRegression: number },
): string {
  const esc = (s: string): string => s.replace(/\|/g, '\\|');
  const line = (r: string[]): string => `| ${r.map(esc).join(' | ')} |`;
  return [
    `**holdline compare**: \`${esc(o.base)}\` → \`${esc(o.next)}\``,
    '',
    line(HEAD),
    `|${HEAD.map((_, i) => (i === 0 ? ' --- ' : ' ---: ')).join('|')}|`,
    ...rows.map((r) => line(cells(r).map((c, i) => (i === 4 && c === 'REGRESSION' ? '**REGRESSION**' : c)))),
    '',
    summary(rows, o.maxRegression),
  ].join('\n');
}

function summary(rows: CompareRow[], max: number): string {
  const bad = rows.filter((r) => r.verdict === 'regression');
  return bad.length === 0
    ? `No regression past ${Number((max * 100).toFixed(1))}%.`
    : `${bad.length} regression${bad.length === 1 ? '' : 's'} past ${Number((max * 100).toFixed(1))}%: ${bad.map((r) => r.metric).join(', ')}`;
}
