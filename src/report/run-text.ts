import type { LatencySummary, RunResult, RunVerdict, StepResult, StepSpec } from '../contract.js';
import type { Out, Reporter } from './reporter.js';
import { diagnosisLines } from './terminal.js';
import { bytes, grouped, millis, percent, seconds, share } from './duration.js';

// `holdline run` in the terminal: one block once the step is done. Pure rendering of the step
// result and the plan's verdict; every figure was computed before it got here.

export interface RunTextOptions {
  out: Out;
  target: string;
}

const PHASES = ['dns', 'connect', 'tls', 'upgrade', 'first_message', 'session', 'close'];

/** The whole report of one run, as lines. */
export function runSummary(r: StepResult, v: RunVerdict | null, target: string): string[] {
  const out: string[] = [];
  const name = r.spec.scenario.name ? ` (${r.spec.scenario.name})` : '';
  out.push(`Run of ${grouped(r.sessions)} sessions${name} against ${target}: ${seconds(runMs(r))}`);
  out.push('');
  const failed = Object.entries(r.failures)
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  out.push(
    `Sessions    ${grouped(r.successful)} ok · ${grouped(r.failed)} failed` +
      (failed.length > 0 ? ` (${failed.map(([c, n]) => `${c} ${grouped(n)}`).join(', ')})` : '') +
      ` · ${grouped(r.established)} established`,
  );
  for (const [code] of failed) {
    const sample = r.errorSamples.find((s) => s.code === code && s.detail !== '');
    if (sample) out.push(`              ${code}: ${oneLine(sample.detail)}`);
  }
  const c = r.counters;
  if (c.msgsSent > 0 || c.msgsRecv > 0) {
    out.push(
      `Messages    sent ${grouped(c.msgsSent)} · received ${grouped(c.msgsRecv)} · ` +
        `unanswered ${grouped(c.msgsUnanswered ?? 0)}`,
    );
  }
  const m = r.phases.message;
  if (m && m.count > 0) {
    out.push(
      `Latency     ${latencyLine(m)}  (${grouped(m.count)} replies, from the intended send time or the write, whichever came first)`,
    );
  }
  const phases = PHASES.filter((p) => (r.phases[p]?.count ?? 0) > 0);
  const http = Object.keys(r.phases).filter((p) => p.startsWith('http:'));
  if (phases.length + http.length > 0) {
    out.push('Phases (ms)        p50      p95      p99      max');
    for (const p of [...http, ...phases]) {
      const s = r.phases[p];
      out.push(
        `  ${p.padEnd(15)}${millis(s.p50).padStart(7)}  ${millis(s.p95).padStart(7)}  ` +
          `${millis(s.p99).padStart(7)}  ${millis(s.max).padStart(7)}`,
      );
    }
  }
  if (v) out.push(...costLines(v));
  return out;
}

function latencyLine(s: LatencySummary): string {
  return (
    `p50 ${millis(s.p50)} · p95 ${millis(s.p95)} · p99 ${millis(s.p99)} · ` +
    `p99.9 ${millis(s.p999)} · max ${millis(s.max)} ms`
  );
}

function costLines(v: RunVerdict): string[] {
  const k = v.cost;
  const parts = [`peak RSS ${bytes(k.peakRssBytes)}`];
  if (k.rssPerSessionBytes !== null)
    parts.push(`${(k.rssPerSessionBytes / 1024).toFixed(1)} KiB per held session`);
  const cpu = [`CPU ${(k.cpuMs / 1000).toFixed(2)} s`];
  if (k.cpuPerSessionMs !== null) cpu.push(`${k.cpuPerSessionMs.toFixed(3)} ms per opened session`);
  if (k.cpuPerMessageUs !== null) cpu.push(`${k.cpuPerMessageUs.toFixed(1)} µs per message sent`);
  return [
    `Generator   ${parts.join(' · ')}`,
    `            ${cpu.join(' · ')}`,
    `            event-loop delay max ${k.maxEldMs.toFixed(0)} ms · ` +
      (k.saturated ? 'SATURATED: these figures measure this machine, not the target' : 'not saturated'),
  ];
}

function verdictLine(v: RunVerdict): string {
  const got = `${percent(v.rate)}% of sessions succeeded`;
  return v.passed
    ? `[OK] ${got} (threshold ${share(v.threshold)})`
    : `[FAIL] ${got}, below the threshold of ${share(v.threshold)}`;
}

function runMs(r: StepResult): number {
  return r.durationMs + (r.holdMs ?? 0);
}

function oneLine(s: string): string {
  const flat = s.replace(/\s+/g, ' ').trim();
  return flat.length > 100 ? `${flat.slice(0, 99)}…` : flat;
}

/** Prints the plan of the run, then one summary at the end. */
export class RunTextReporter implements Reporter {
  constructor(private readonly o: RunTextOptions) {}

  stepStart(spec: StepSpec): void {
    const rate = spec.connectRate ? ` at ${grouped(spec.connectRate)}/s` : '';
    this.o.out.write(`Running ${grouped(spec.sessions)} sessions${rate} against ${this.o.target}\n`);
  }

  runEnd(result: RunResult): void {
    const v = result.verdict as RunVerdict | null;
    const r = result.steps[0];
    const out: string[] = [];
    if (result.interrupted) out.push('Interrupted: results so far.');
    if (r) out.push(...runSummary(r, v, this.o.target));
    if (v) out.push('', verdictLine(v));
    const d = diagnosisLines(result.diagnosis);
    if (d) out.push('', d);
    this.o.out.write(out.join('\n') + '\n');
  }
}
