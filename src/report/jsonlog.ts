import type {
  IntervalSnapshot,
  LatencySummary,
  RunInfo,
  RunResult,
  StepResult,
  StepSpec,
} from '../contract.js';
import type { Out, Reporter } from './reporter.js';

// NDJSON on stdout for log pipelines: one object per run event, with `event` and `time` (epoch ms)
// first. Histograms stay in the result file; lines carry their summaries only.

export interface JsonLogOptions {
  /** Also one line per interval snapshot (about one a second); off by default. */
  intervals?: boolean;
  now?: () => number;
}

export class JsonLogReporter implements Reporter {
  private readonly intervals: boolean;
  private readonly now: () => number;

  constructor(
    private readonly out: Out,
    o: JsonLogOptions = {},
  ) {
    this.intervals = o.intervals ?? false;
    this.now = o.now ?? Date.now;
  }

  runStart(info: RunInfo): void {
    this.line({
      event: 'run-start',
      time: info.startedAt,
      id: info.id,
      command: info.command,
      target: info.target,
      config: info.config,
      host: info.host,
    });
  }

  stepStart(spec: StepSpec): void {
    this.line({
      event: 'step-start',
      time: this.now(),
      step: spec.index,
      sessions: spec.sessions,
      connectConcurrency: spec.connectConcurrency,
      stepTimeoutMs: spec.stepTimeoutMs,
    });
  }

  interval(s: IntervalSnapshot): void {
    if (!this.intervals) return;
    this.line({
      event: 'interval',
      time: s.t1,
      step: s.step,
      worker: s.worker,
      active: s.active,
      pending: s.pending,
      counters: s.counters,
      failures: s.failures,
      health: s.health,
    });
  }

  stepEnd(r: StepResult): void {
    this.line({
      event: 'step-end',
      time: r.startedAt + r.durationMs,
      step: r.spec.index,
      sessions: r.sessions,
      successful: r.successful,
      established: r.established,
      failed: r.failed,
      successRate: r.sessions > 0 ? r.successful / r.sessions : 0,
      durationMs: r.durationMs,
      aborted: r.aborted,
      workers: r.workers,
      failures: r.failures,
      phases: compactPhases(r.phases),
      generator: r.generator,
    });
  }

  runEnd(r: RunResult): void {
    this.line({
      event: 'run-end',
      time: r.endedAt,
      id: r.info.id,
      steps: r.steps.length,
      verdict: r.verdict,
      interrupted: r.interrupted,
      diagnosis: r.diagnosis,
      exitCode: r.exitCode,
    });
  }

  private line(o: Record<string, unknown>): void {
    this.out.write(JSON.stringify(o) + '\n');
  }
}

function compactPhases(
  phases: Record<string, LatencySummary>,
): Record<string, Pick<LatencySummary, 'count' | 'p50' | 'p95' | 'p99' | 'max'>> {
  const out: Record<string, Pick<LatencySummary, 'count' | 'p50' | 'p95' | 'p99' | 'max'>> = {};
  for (const [name, p] of Object.entries(phases)) {
    out[name] = { count: p.count, p50: p.p50, p95: p.p95, p99: p.p99, max: p.max };
  }
  return out;
}
