import { randomBytes } from 'node:crypto';
import { V, type RunInfo, type RunResult, type StepResult, type TimelineRow } from './contract.js';
import type { Fleet } from './fleet/fleet.js';
import type { Plan } from './plans/plan.js';
import type { Reporter } from './report/reporter.js';
import { timelineRow } from './run-timeline.js';

export interface RunOptions {
  info: Omit<RunInfo, 'v' | 'id' | 'startedAt'> & { id?: string };
  pauseMs: number;
  signal: AbortSignal;
  /** One-line explanations of what was seen, computed from the steps (e.g. nothing listening). */
  diagnose?: (steps: StepResult[]) => string[];
  exitCode: (verdict: unknown, steps: StepResult[], interrupted: boolean) => number;
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

/** Steps a plan on a fleet, feeding every event to the reporters. */
export async function runPlan<V>(
  plan: Plan<V>,
  fleet: Fleet,
  reporters: Reporter[],
  o: RunOptions,
): Promise<RunResult<V>> {
  const info: RunInfo = {
    ...o.info,
    v: V,
    id: o.info.id ?? newRunId(),
    startedAt: Date.now(),
  };
  for (const r of reporters) r.runStart?.(info);
  const steps: StepResult[] = [];
  const timeline: TimelineRow[] = [];
  let spec = o.signal.aborted ? null : plan.first();
  while (spec) {
    for (const r of reporters) r.stepStart?.(spec);
    const result = await fleet.runStep(
      spec,
      (snap) => {
        timeline.push(timelineRow(snap, info.startedAt));
        for (const r of reporters) r.interval?.(snap);
      },
      o.signal,
    );
    steps.push(result);
    for (const r of reporters) r.stepEnd?.(result);
    if (o.signal.aborted) break;
    spec = plan.next(steps);
    if (spec && o.pauseMs > 0) await pause(o.pauseMs, o.signal);
    if (o.signal.aborted) break;
  }
  const interrupted = o.signal.aborted;
  const verdict = steps.length > 0 ? plan.verdict(steps) : null;
  const result: RunResult<V> = {
    v: V,
    info,
    steps,
    verdict,
    endedAt: Date.now(),
    interrupted,
    diagnosis: o.diagnose ? o.diagnose(steps) : [],
    exitCode: o.exitCode(verdict, steps, interrupted),
    timeline,
  };
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
