import type { SuiteResult, SustainOutcome } from '../contract.js';
import { grouped, share } from './duration.js';

// `holdline suite` for the terminal: stage headings and the combined summary. Pure: the combined
// result in, text out; every figure comes from the stages.

/** `== 2/4 capacity: ladder of concurrent sessions ==` */
export function stageHeading(n: number, title: string): string {
  return `== ${n}/4 ${title} ==\n`;
}

/** `20s`, `1.5s`, `2m`. */
export function duration(ms: number): string {
  if (ms >= 60_000 && ms % 60_000 === 0) return `${ms / 60_000}m`;
  const s = ms / 1000;
  return `${Number.isInteger(s) ? s : Number(s.toFixed(2))}s`;
}

const LABEL = 19;
const row = (label: string, value: string): string => `  ${`${label}:`.padEnd(LABEL)}${value}`;
const cont = (value: string): string => `  ${' '.repeat(LABEL)}${value}`;

export function sustainLine(o: SustainOutcome, durationMs: number): string {
  const lasted = `${grouped(o.held)} of ${grouped(o.sessions)} connections open for ${duration(durationMs)}`;
  if (o.verdict === 'held') return `held: ${lasted}`;
  const lost = [
    o.closedEarly > 0 ? `${grouped(o.closedEarly)} closed early` : '',
    o.neverOpened > 0 ? `${grouped(o.neverOpened)} never opened` : '',
  ].filter((s) => s !== '');
  const why = lost.length > 0 ? ` (${lost.join(', ')})` : '';
  return o.verdict === 'lost' ? `closed early: ${lasted}${why}` : `failed: only ${lasted}${why}`;
}

/** The summary after the four stages (or after the stage the suite stopped in). */
export function suiteSummary(r: SuiteResult, o: { file: string }): string {
  const v = r.verdict;
  const cv = r.capacity?.verdict ?? null;
  const out = [`== suite summary: ${r.target} ==`];
  if (!v) return `${out[0]}\n  no verdict: the suite did not finish\n`;

  if (v.maxReliable === null) {
    out.push(
      row(
        'Maximum reliable',
        r.capacity?.interrupted && !cv
          ? 'not measured (interrupted)'
          : `none: no point reached ${share(cv?.threshold ?? 0)} successful sessions`,
      ),
    );
  } else {
    const above = v.limitAbove ? ' (every point passed: the real limit is higher)' : '';
    out.push(row('Maximum reliable', `~${grouped(v.maxReliable)} connections${above}`));
  }
  if (v.safeLimit !== null && cv) {
    out.push(row('Safe limit', `${grouped(v.safeLimit)} (${share(cv.safetyFactor)} of maximum reliable)`));
  }

  const s = r.sustain;
  if (s?.outcome) {
    const hb = s.heartbeat ? `, heartbeat every ${duration(s.heartbeat.intervalMs)}` : ', no heartbeat';
    out.push(row('Sustain', sustainLine(s.outcome, s.durationMs) + hb));
  } else if (s?.status === 'interrupted' || (!s && r.interrupted)) {
    out.push(row('Sustain', 'interrupted before it measured anything'));
  } else {
    out.push(row('Sustain', `not run${s?.reason ? ` (${s.reason})` : ''}`));
  }

  const p = r.plan;
  if (p?.status === 'done' && p.perTask !== null) {
    out.push(row('Per task', `${grouped(p.perTask)} connections (held by the sustained test)`));
    if (p.note) out.push(cont(p.note));
    p.rows.forEach((t, i) => {
      const what = `${grouped(t.target)} connections → ${t.tasks} ${t.tasks === 1 ? 'task' : 'tasks'}`;
      out.push(i === 0 ? row('Tasks needed', `${what} (${share(p.buffer)} buffer)`) : cont(what));
      out.push(cont(`  ${p.commands[i]}`));
    });
  } else {
    const why = p?.reason ?? (r.interrupted ? 'interrupted' : r.error ? 'stopped by an error' : '');
    out.push(row('Tasks needed', `not planned${why ? ` (${why})` : ''}`));
  }

  const verdict = r.interrupted ? 'INTERRUPTED' : v.passed ? 'PASS' : 'FAIL';
  out.push(row('Verdict', verdict));
  for (const problem of v.problems) out.push(cont(`- ${problem}`));
  if (o.file) out.push(row('Result', o.file));
  return `${out.join('\n')}\n`;
}
