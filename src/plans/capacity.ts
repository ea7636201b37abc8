import { V, type CapacityPoint, type CapacityVerdict, type StepResult, type StepSpec } from '../contract.js';
import type { Plan } from './plan.js';
import { tasksNeeded } from './tasks.js';
import { analyzeCloses } from './sustain.js';

export interface CapacityPlanOptions {
  /** The same ladder serves `capacity` and `sustain` (whose steps hold for minutes with heartbeats). */
  kind?: 'capacity' | 'sustain';
  points: number[]; // ascending
  threshold: number; // 0..1
  safetyFactor: number; // 0..1
  refine: boolean;
  precision: number; // bracket width relative to the last passing count
  targetConnections?: number;
  /** Every field of a step but its index and session count. */
  step: Omit<StepSpec, 'v' | 'plan' | 'index' | 'sessions'>;
}

/**
 * The progressive ladder: run each point until one falls below the threshold; then, with
 * `refine`, bisect between the last passing and the first failing count.
 */
export class CapacityPlan implements Plan<CapacityVerdict> {
  constructor(private readonly o: CapacityPlanOptions) {}

  first(): StepSpec {
    return this.spec(0, this.o.points[0]);
  }

  next(done: StepResult[]): StepSpec | null {
    const last = done[done.length - 1];
    if (!last || last.aborted) return null;
    const ladderDone = done.filter((r) => !this.isRefinement(r, done));
    const ladderFailed = ladderDone.some((r) => !this.passed(r));
    if (!ladderFailed && ladderDone.length < this.o.points.length) {
      return this.spec(done.length, this.o.points[ladderDone.length]);
    }
    if (!this.o.refine) return null;
    const b = this.bracket(done);
    if (!b) return null;
    const mid = Math.floor((b.lo + b.hi) / 2);
    if (mid <= b.lo || b.hi - b.lo <= Math.max(1, this.o.precision * b.lo)) return null;
    return this.spec(done.length, mid);
  }

  verdict(done: StepResult[]): CapacityVerdict {
    const points: CapacityPoint[] = done.map((r) => ({
      sessions: r.sessions,
      successful: r.successful,
      rate: rate(r),
      passed: this.passed(r),
      refinement: this.isRefinement(r, done),
    }));
    const passing = points.filter((p) => p.passed);
    // The most sessions actually held at once in a passing step: an honest capacity figure even
    // when a passing step lost a few sessions.
    const maxReliable = passing.length > 0 ? Math.max(...passing.map((p) => p.successful)) : null;
    const b = this.bracket(done);
    const v: CapacityVerdict = {
      threshold: this.o.threshold,
      safetyFactor: this.o.safetyFactor,
      points,
      maxReliable,
      firstFailing: b ? b.hi : null,
      safeLimit: maxReliable === null ? null : Math.floor(maxReliable * this.o.safetyFactor + 1e-9),
      refined: this.o.refine && b !== null && this.next(done) === null && points.some((p) => p.refinement),
    };
    if (this.o.kind === 'sustain') {
      v.closes = done.map((r) => analyzeCloses(r.earlyCloses ?? [], r.spec.heartbeat?.intervalMs ?? null));
    }
    if (this.o.targetConnections !== undefined) {
      v.targetConnections = this.o.targetConnections;
      if (maxReliable) v.tasksNeeded = tasksNeeded(this.o.targetConnections, maxReliable, 0.2);
    }
    return v;
  }

  passed(r: StepResult): boolean {
    return !r.aborted && rate(r) >= this.o.threshold - 1e-12;
  }

  /** Last passing count and the lowest failing count above it. */
  private bracket(done: StepResult[]): { lo: number; hi: number } | null {
    let lo = 0;
    for (const r of done) if (this.passed(r) && r.sessions > lo) lo = r.sessions;
    let hi = Infinity;
    for (const r of done)
      if (!this.passed(r) && !r.aborted && r.sessions > lo && r.sessions < hi) hi = r.sessions;
    return lo > 0 && hi !== Infinity ? { lo, hi } : null;
  }

  private isRefinement(r: StepResult, done: StepResult[]): boolean {
    return done.indexOf(r) >= this.ladderLength(done);
  }

  /** How many of the done steps are ladder points: they run first, until one fails. */
  private ladderLength(done: StepResult[]): number {
    for (let i = 0; i < done.length && i < this.o.points.length; i++) {
      if (!this.passed(done[i])) return i + 1;
    }
    return Math.min(done.length, this.o.points.length);
  }

  private spec(index: number, sessions: number): StepSpec {
    return { ...this.o.step, v: V, plan: this.o.kind ?? 'capacity', index, sessions };
  }
}

export function rate(r: StepResult): number {
  return r.sessions > 0 ? r.successful / r.sessions : 0;
}

export const CAPACITY_PRESETS = {
  aws: {
    points: [10, 50, 100, 200, 500, 1000, 2000, 5000],
    threshold: 0.8,
    stepTimeoutMs: 60_000,
    pauseMs: 2_000,
  },
  ecs: {
    points: [10, 25, 50, 100, 200, 500, 1000, 2000, 5000, 10000],
    threshold: 0.75,
    stepTimeoutMs: 90_000,
    pauseMs: 3_000,
  },
} as const;
export type CapacityPreset = keyof typeof CAPACITY_PRESETS;
