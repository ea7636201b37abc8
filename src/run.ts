import { randomBytes } from 'node:crypto';
import { V, type RunInfo, type RunResult, type StepResult, type TimelineRow } from './contract.js';
import type { Fleet } from './fleet/fleet.js';
import type { Plan } from './plans/plan.js';
import type { Reporter } from './report/reporter.js';
import { Redactor } from './report/redact.js';
import { timelineRow } from './run-timeline.js';

export interface RunOptions {
  info: Omit<RunInfo, 'v' | 'id' | 'startedAt'> & { id?: string };
  pauseMs: number;
  signal: AbortSignal;
  /** One-line explanations of what was seen, computed from the steps (e.g. nothing listening). */
  diagnose?: (steps: StepResult[]) => string[];
  exitCode: (verdict: unknown, steps: StepResult[], interrupted: boolean) => number;
  /** Hides secrets in everything reporters get and in the result returned (default: built-in names only). */
  redact?: Redactor;
  /**
   * Outputs judged over the finished result before reporters see it (thresholds, the command
   * line): they may add their findings and raise the exit code.
   */
  finish?: (result: RunResult) => void;
}

/** `2025-01-31T12-00-00-000Z-a1b2c3`: sorts by time, unique enough for file names. */
export function newRunId(): string {
  return `${new Date().toISOString().replace(/[:.]/g, '-')}-${randomBytes(3).toString('hex')}`;
}

/**
 * Steps a plan on a fleet, feeding every event to the reporters. The plan sees the steps as run;
 * reporters and the caller get them redacted, here and only here, so no output holds a secret.
 */
export async function runPlan<V>(
  plan: Plan<V>,
  fleet: Fleet,
  reporters: Reporter[],
  o: RunOptions,
): Promise<RunResult<V>> {
  const redact = o.redact ?? new Redactor();
  const info: RunInfo = redact.info({
    ...o.info,
    v: V,
    id: o.info.id ?? newRunId(),
    startedAt: Date.now(),
  });
  for (const r of reporters) r.runStart?.(info);
  const steps: StepResult[] = [];
  const shown: StepResult[] = [];
  const timeline: TimelineRow[] = [];
  let spec = o.signal.aborted ? null : plan.first();
  while (spec) {
    const shownSpec = redact.spec(spec);
    for (const r of reporters) r.stepStart?.(shownSpec);
    const result = await fleet.runStep(
      spec,
      (snap) => {
        timeline.push(timelineRow(snap, info.startedAt));
        for (const r of reporters) r.interval?.(snap);
      },
      o.signal,
    );
    steps.push(result);
    const clean = redact.result(result);
    shown.push(clean);
    for (const r of reporters) r.stepEnd?.(clean);
    if (o.signal.aborted) break;
    spec = plan.next(steps);
    if (spec && o.pauseMs > 0) await pause(o.pauseMs, o.signal);
    if (o.signal.aborted) break;
  }
  const interrupted = o.signal.aborted;
  // Verdicts and diagnoses quote error samples: they are made from the redacted steps.
  const verdict = shown.length > 0 ? plan.verdict(shown) : null;
  const result: RunResult<V> = redact.run(
    {
      v: V,
      info,
      steps: shown,
      verdict,
      endedAt: Date.now(),
      interrupted,
      diagnosis: o.diagnose ? o.diagnose(shown) : [],
      exitCode: o.exitCode(verdict, shown, interrupted),
      timeline,
    },
    shown,
  );
  o.finish?.(result);
  for (const r of reporters) await r.runEnd?.(result);
  return result;
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
