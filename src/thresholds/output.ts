// The thresholds engine is one more output over the run (as k6's is): it watches intervals and
// steps for `:abort` rules, and judges every rule over the finished result. Plans never see it.
import type {
  IntervalSnapshot,
  RunInfo,
  RunResult,
  StepResult,
  ThresholdAbort,
  ThresholdResult,
} from '../contract.js';
import { EXIT } from '../errors.js';
import type { Reporter } from '../report/reporter.js';
import { metricText } from '../report/metric-text.js';
import { holds, type ThresholdRule } from './rules.js';

/** Metrics an interval can judge while a step runs (the others wait for the step's end). */
const RUNNING = new Set(['errors', 'failed']);

export class ThresholdOutput implements Reporter {
  private info: RunInfo | null = null;
  private readonly steps: StepResult[] = [];
  private started = 0;
  private failed = 0;
  private abortedBy: ThresholdAbort | null = null;

  /**
   * @param stop aborted when an `:abort` rule breaks
   * @param userStopped whether the user stopped the run (Ctrl-C), apart from an abort rule
   */
  constructor(
    private readonly rules: readonly ThresholdRule[],
    private readonly stop: AbortController,
    private readonly userStopped: () => boolean,
  ) {}

  runStart(info: RunInfo): void {
    this.info = info;
  }

  interval(s: IntervalSnapshot): void {
    this.started += s.counters.started;
    this.failed += s.counters.failed;
    for (const rule of this.rules) {
      if (!rule.abort || !RUNNING.has(rule.metric.name)) continue;
      const value =
        rule.metric.name === 'failed' ? this.failed : this.started > 0 ? this.failed / this.started : null;
      if (value !== null) this.check(rule, value, s.t1);
    }
  }

  stepEnd(r: StepResult): void {
    this.steps.push(r);
    if (!this.info) return;
    const soFar: RunResult = {
      v: r.v,
      info: this.info,
      steps: this.steps,
      verdict: null,
      endedAt: Date.now(),
      interrupted: false,
      diagnosis: [],
      exitCode: 0,
    };
    for (const rule of this.rules) {
      if (!rule.abort) continue;
      const value = rule.metric.value(soFar);
      if (value !== null) this.check(rule, value, Date.now());
    }
  }

  /** Records every rule's value and outcome in the result and raises its exit code. */
  finish(result: RunResult): void {
    const judged: ThresholdResult[] = this.rules.map((rule) => {
      const value = rule.metric.value(result);
      return {
        expr: rule.expr,
        metric: rule.metric.name,
        op: rule.op,
        limit: rule.limit,
        unit: rule.metric.unit,
        abort: rule.abort,
        value,
        passed: value !== null && holds(value, rule.op, rule.limit),
      };
    });
    result.thresholds = judged;
    result.abortedBy = this.abortedBy;
    if (this.abortedBy && !this.userStopped()) {
      // Stopped by a rule, not by the user: a failed run, not an interrupted one.
      result.interrupted = false;
      result.exitCode = EXIT.failed;
    } else if (judged.some((t) => !t.passed) && result.exitCode === EXIT.ok) {
      result.exitCode = EXIT.failed;
    }
  }

  private check(rule: ThresholdRule, value: number, at: number): void {
    if (this.abortedBy || holds(value, rule.op, rule.limit)) return;
    const atMs = Math.max(0, at - (this.info?.startedAt ?? at));
    this.abortedBy = {
      expr: rule.expr,
      reason: `${rule.expr} broke at ${metricText(rule.metric.unit, value)} after ${(atMs / 1000).toFixed(1)} s: the run stopped early`,
      atMs,
    };
    this.stop.abort();
  }
}
