import type { CapacityVerdict, CloseAnalysis, RunResult, StepResult, StepSpec } from '../contract.js';
import type { Out, Reporter } from './reporter.js';
import { diagnosisLines } from './terminal.js';
import { millis, percent, seconds } from './duration.js';

export interface SustainTextOptions {
  out: Out;
  passed: (r: StepResult) => boolean;
  /** Premature-close analysis of a step, from the plan layer. */
  analyze: (r: StepResult) => CloseAnalysis;
  target: string;
  warnings: string[];
}

/** `[OK]   500 connections:   495/  500 successful ( 99.0%) | Avg heartbeats: 4.0 | Duration: 125.67s` */
export function sustainStepLine(r: StepResult, passed: boolean): string {
  const rate = r.sessions > 0 ? r.successful / r.sessions : 0;
  const avg = r.established > 0 ? r.counters.heartbeats / r.established : 0;
  const line =
    `${passed ? '[OK]  ' : '[FAIL]'} ${String(r.sessions).padStart(5)} connections: ` +
    `${String(r.successful).padStart(5)}/${String(r.sessions).padStart(5)} successful (${percent(rate).padStart(5)}%)` +
    ` | Avg heartbeats: ${avg.toFixed(1)} | Duration: ${seconds(r.durationMs + (r.holdMs ?? 0))}`;
  return r.aborted ? `${line}  (interrupted)` : line;
}

/** Setup, early closes and heartbeat round trips of one step. */
export function sustainStepDetail(r: StepResult, a: CloseAnalysis): string[] {
  const out: string[] = [];
  if (r.setup) {
    const first = r.spec.scenario.http[0]?.name;
    const what = first === 'token' ? 'tokens' : 'HTTP step sequences';
    out.push(`  Generated ${r.setup.completed}/${r.sessions} ${what} in ${seconds(r.setup.durationMs)}`);
  }
  const rtt = r.phases.heartbeat_rtt;
  if (rtt && rtt.count > 0) {
    out.push(
      `  Heartbeat round trip: p50 ${millis(rtt.p50)} ms · p95 ${millis(rtt.p95)} ms · p99 ${millis(rtt.p99)} ms · max ${millis(rtt.max)} ms`,
    );
  }
  if (a.count > 0) {
    const classes = Object.entries(a.byClass)
      .sort((x, y) => y[1] - x[1])
      .map(([c, n]) => `${c} ${n}`)
      .join(', ');
    out.push(`  Closed early: ${a.count} (${classes})`);
    if (a.ages) {
      out.push(
        `    time since open: min ${seconds(a.ages.minMs)} · median ${seconds(a.ages.p50Ms)} · max ${seconds(a.ages.maxMs)}`,
      );
      for (const b of a.buckets) {
        out.push(
          `    ${seconds(b.fromMs).padStart(8)} – ${seconds(b.toMs).padEnd(8)} ${String(b.count).padStart(6)}`,
        );
      }
    }
    if (a.advice) out.push(`  ${a.advice}`);
  }
  return out;
}

/** The sustained-connection table, in the form ALB users know. */
export class SustainTextReporter implements Reporter {
  constructor(private readonly o: SustainTextOptions) {}

  runStart(): void {
    this.o.out.write(`Testing ${this.o.target}\n`);
    for (const w of this.o.warnings) this.o.out.write(`warning: ${w}\n`);
  }

  stepStart(spec: StepSpec): void {
    const hb = spec.heartbeat;
    const beat = hb
      ? `heartbeat ${hb.kind === 'ping' ? 'ping' : 'message'} every ${seconds(hb.intervalMs)}`
      : 'no heartbeat';
    this.o.out.write(`\n${spec.sessions} sustained connections for ${seconds(spec.holdMs)}, ${beat}\n`);
  }

  stepEnd(r: StepResult): void {
    const lines = [sustainStepLine(r, this.o.passed(r)), ...sustainStepDetail(r, this.o.analyze(r))];
    this.o.out.write(lines.join('\n') + '\n');
  }

  runEnd(result: RunResult): void {
    const v = result.verdict as CapacityVerdict | null;
    const out: string[] = [];
    if (result.interrupted) out.push('', 'Interrupted: results so far.');
    out.push('', `Sustained connections of ${this.o.target}`);
    for (const r of result.steps) out.push(sustainStepLine(r, this.o.passed(r)));
    out.push('');
    if (!v || v.maxReliable === null) {
      out.push(`[FAIL] No point held at least ${percent(v?.threshold ?? 0)}% of its connections to the end.`);
    } else {
      out.push(`[OK] Maximum reliable concurrent connections: ~${v.maxReliable}`);
      out.push(`  Recommendation: Use ${v.safeLimit} as safe limit for ALB`);
      out.push('  This should match ALB ActiveConnectionCount metric');
    }
    const d = diagnosisLines(result.diagnosis);
    if (d) out.push('', d);
    this.o.out.write(out.join('\n') + '\n');
  }
}
