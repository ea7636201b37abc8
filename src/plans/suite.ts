import type { CapacityVerdict, HeartbeatSpec, RunResult } from '../contract.js';
import type { TaskRow } from './tasks.js';

// `holdline suite`: env check, capacity ladder, sustain at the safe limit, plan. The shape of its
// combined result and the pure decisions between stages (what to sustain, what to plan with, the
// verdict). No I/O here: the command runs the stages and writes the file.

export const SUITE_V = 1 as const;

export interface SuiteEnvStage {
  /** The full host snapshot, as `holdline env --json` prints it. */
  facts: Record<string, unknown>;
  /** The run the preflight judged: the most sessions open at once, and where they go. */
  planned: { sessions: number; target: string };
  /** What is wrong on this host for the planned run, one line each (empty: nothing). */
  preflight: string[];
  /** Titles of the host advice marked as warnings (the reasons and fixes are in `facts.advice`). */
  warnings: string[];
}

export type StageStatus = 'running' | 'done' | 'skipped' | 'interrupted' | 'error';

export interface SustainOutcome {
  /** Connections asked for: the safe limit. */
  sessions: number;
  established: number;
  /** Open and healthy at the end of the hold. */
  held: number;
  closedEarly: number;
  neverOpened: number;
  /** `held` reached the threshold. */
  passed: boolean;
  /** held: every connection lasted; lost: some did not, within the threshold; failed: below it. */
  verdict: 'held' | 'lost' | 'failed';
}

export interface SuiteSustainStage {
  status: StageStatus;
  /** Why it did not run (skipped, interrupted). */
  reason?: string;
  /** The safe limit found by capacity: the connections held. */
  sessions: number | null;
  durationMs: number;
  heartbeat: HeartbeatSpec | null;
  /** The sustained run, as `holdline sustain` saves it (partial while it runs). */
  result: RunResult<CapacityVerdict> | null;
  outcome: SustainOutcome | null;
}

export interface SuitePlanStage {
  status: StageStatus;
  reason?: string;
  /** Connections per task: what the sustained test held. */
  perTask: number | null;
  perTaskFrom: 'sustain';
  /** Said when the sustained test lost connections and the plan uses fewer than the safe limit. */
  note?: string;
  buffer: number;
  rows: TaskRow[];
  commands: string[];
}

export interface SuiteVerdict {
  /** Every stage ran and every threshold held. */
  passed: boolean;
  maxReliable: number | null;
  /** Every capacity point passed: the real limit is above maxReliable. */
  limitAbove: boolean;
  safeLimit: number | null;
  sustain: SustainOutcome['verdict'] | 'not-run';
  perTask: number | null;
  tasks: { target: number; tasks: number }[];
  /** Why `passed` is false, one line each. */
  problems: string[];
}

export interface SuiteResult {
  v: typeof SUITE_V;
  kind: 'suite';
  id: string;
  /** What was tested, redacted. */
  target: string;
  startedAt: number;
  endedAt: number;
  config: Record<string, unknown>;
  env: SuiteEnvStage | null;
  /** The ladder, as `holdline capacity` saves it (partial while it runs). */
  capacity: RunResult<CapacityVerdict> | null;
  sustain: SuiteSustainStage | null;
  plan: SuitePlanStage | null;
  verdict: SuiteVerdict | null;
  interrupted: boolean;
  /** An unexpected failure that stopped the suite; the stages before it are kept. */
  error: string | null;
  /** 130 until the suite ends, so a file left by a killed run says it did not finish. */
  exitCode: number;
}

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
