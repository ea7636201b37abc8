import type { CapacityVerdict, RunResult, SuiteResult, SuiteVerdict, SustainOutcome } from '../contract.js';

export { SUITE_V } from '../contract.js';
export type {
  StageStatus,
  SuiteEnvStage,
  SuitePlanStage,
  SuiteResult,
  SuiteSustainStage,
  SuiteVerdict,
  SustainOutcome,
} from '../contract.js';

// `holdline suite`: env check, capacity ladder, sustain at the safe limit, plan. The shape of its
// combined result and the pure decisions between stages (what to sustain, what to plan with, the
// verdict). No I/O here: the command runs the stages and writes the file.

/** What the sustained stage holds: the safe limit, or why there is nothing to hold. */
export function sustainPoint(capacity: RunResult<CapacityVerdict>): { sessions: number } | { skip: string } {
  const v = capacity.verdict;
  if (capacity.interrupted) return { skip: 'interrupted during the capacity ladder' };
  if (!v || v.maxReliable === null)
    return { skip: 'the capacity ladder found no reliable count: nothing to sustain' };
  if (v.safeLimit === null || v.safeLimit < 1)
    return { skip: `the safe limit of ~${v.maxReliable} connections rounds down to 0` };
  return { sessions: v.safeLimit };
}

/** What the sustained run showed; null when it measured nothing. */
export function sustainOutcome(r: RunResult<CapacityVerdict>): SustainOutcome | null {
  const step = r.steps[0];
  if (!step || step.aborted) return null;
  const held = step.successful;
  const passed = r.verdict?.maxReliable !== null && r.verdict?.maxReliable !== undefined;
  return {
    sessions: step.sessions,
    established: step.established,
    held,
    closedEarly: step.counters.closedEarly,
    neverOpened: step.sessions - step.established,
    passed,
    verdict: !passed ? 'failed' : held === step.sessions ? 'held' : 'lost',
  };
}

/** The per-task figure the plan uses: what the sustained test held, with a word when that is less than asked. */
export function perTaskFromSustain(o: SustainOutcome): { perTask: number; note?: string } | { skip: string } {
  if (o.held < 1)
    return { skip: `none of the ${o.sessions} sustained connections lasted: nothing to plan with` };
  if (o.held === o.sessions) return { perTask: o.held };
  const lost = [
    o.closedEarly > 0 ? `${o.closedEarly} closed early` : '',
    o.neverOpened > 0 ? `${o.neverOpened} never opened` : '',
  ].filter((s) => s !== '');
  const other = o.sessions - o.held - o.closedEarly - o.neverOpened;
  if (other > 0) lost.push(`${other} failed otherwise`);
  return {
    perTask: o.held,
    note:
      `The sustained test lost ${o.sessions - o.held} of ${o.sessions} connections (${lost.join(', ')}): ` +
      `planning with the ${o.held} that held.`,
  };
}

/** The verdict over every stage; `minCapacity` as for `capacity`. */
export function suiteVerdict(r: SuiteResult, minCapacity?: number): SuiteVerdict {
  const problems: string[] = [];
  const cv = r.capacity?.verdict ?? null;
  const maxReliable = cv?.maxReliable ?? null;
  if (r.error) problems.push(`stopped by an error: ${r.error}`);
  if (r.interrupted) problems.push('interrupted: the stages after the interruption did not run');
  if (r.capacity && !r.capacity.interrupted && maxReliable === null) {
    problems.push(`capacity: no point reached ${pct(cv?.threshold ?? 0)} successful sessions`);
  }
  if (maxReliable !== null && minCapacity !== undefined && maxReliable < minCapacity) {
    problems.push(`capacity: ~${maxReliable} connections is below --min-capacity ${minCapacity}`);
  }
  const outcome = r.sustain?.outcome ?? null;
  if (outcome && !outcome.passed) {
    const threshold = r.sustain?.result?.verdict?.threshold ?? 0;
    problems.push(
      `sustain: ${outcome.held} of ${outcome.sessions} connections lasted the hold (below ${pct(threshold)})`,
    );
  }
  // A skipped stage is a problem of its own only when nothing before it explains it.
  if (problems.length === 0 && r.sustain?.status === 'skipped' && r.sustain.reason)
    problems.push(`sustain skipped: ${r.sustain.reason}`);
  if (problems.length === 0 && r.plan?.status === 'skipped' && r.plan.reason)
    problems.push(`plan skipped: ${r.plan.reason}`);
  const done = r.plan?.status === 'done';
  return {
    passed: problems.length === 0 && done,
    maxReliable,
    limitAbove: maxReliable !== null && cv?.firstFailing === null,
    safeLimit: cv?.safeLimit ?? null,
    sustain: outcome ? outcome.verdict : 'not-run',
    perTask: r.plan?.perTask ?? null,
    tasks: done ? r.plan!.rows.map((row) => ({ target: row.target, tasks: row.tasks })) : [],
    problems,
  };
}

/** 130 when interrupted, 0 when the suite passed, 1 otherwise (user errors exit 2 before this). */
export function suiteExitCode(r: SuiteResult, v: SuiteVerdict): number {
  if (r.interrupted) return 130;
  return v.passed ? 0 : 1;
}

function pct(f: number): string {
  return `${Number((f * 100).toFixed(1))}%`;
}
