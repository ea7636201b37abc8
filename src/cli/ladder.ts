import type { CapacityVerdict, HeartbeatSpec, RunResult, StepResult } from '../contract.js';
import { CapacityPlan } from '../plans/capacity.js';
import { diagnose } from '../plans/diagnose.js';
import { analyzeCloses } from '../plans/sustain.js';
import type { Reporter } from '../report/reporter.js';
import { SustainTextReporter } from '../report/sustain-text.js';
import { runPlan } from '../run.js';
import { makeReporters, useColor, type CommonOptions } from './common.js';
import { prepareRun, type RunContext } from './prepare.js';
import type { CliIO } from './io.js';

export interface LadderSettings {
  kind: 'capacity' | 'sustain';
  points: number[];
  threshold: number;
  stepTimeoutMs: number;
  pauseMs: number;
  holdMs: number;
  safetyFactor: number;
  refine: boolean;
  precision: number;
  targetConnections?: number;
  minCapacity?: number;
  heartbeat?: HeartbeatSpec;
  /** The command's own text reporter. */
  text: (a: { passed: (r: StepResult) => boolean; target: string; color: boolean }) => Reporter;
  /** Everything the user asked for, recorded (redacted) in the result. */
  config: Record<string, unknown>;
}

/** The text reporter of a sustained ladder (`sustain`, and the suite's sustain stage). */
export function sustainText(
  io: CliIO,
  heartbeat: HeartbeatSpec | undefined,
  warning: string | null,
): LadderSettings['text'] {
  const hbMs = heartbeat ? heartbeat.intervalMs : null;
  return (a) =>
    new SustainTextReporter({
      out: io.stdout,
      passed: a.passed,
      analyze: (r) => analyzeCloses(r.earlyCloses ?? [], hbMs),
      target: a.target,
      warnings: warning ? [warning] : [],
    });
}

/** The ladder both `capacity` and `sustain` run: prepare, plan, run, exit code. */
export async function runLadder(
  url: string | undefined,
  o: CommonOptions,
  s: LadderSettings,
  io: CliIO,
): Promise<number> {
  const ctx = await prepareRun({ url, o, io, maxSessions: s.points[s.points.length - 1] });
  try {
    return (await ladderOn(ctx, url, o, s, io)).exitCode;
  } finally {
    await ctx.close();
  }
}

/**
 * One ladder on a prepared target and fleet. By default the result goes to its own file in --out
 * and the text to stdout; `suite` passes its own result recorder and may keep stdout for itself.
 */
export async function ladderOn(
  ctx: RunContext,
  url: string | undefined,
  o: CommonOptions,
  s: LadderSettings,
  io: CliIO,
  own?: { result: Reporter; id: string; quiet: boolean },
): Promise<RunResult<CapacityVerdict>> {
  const plan = new CapacityPlan({
    kind: s.kind,
    points: s.points,
    threshold: s.threshold,
    safetyFactor: s.safetyFactor,
    refine: s.refine,
    precision: s.precision,
    targetConnections: s.targetConnections,
    step: {
      connectConcurrency: o.connectConcurrency,
      connectRate: o.connectRate,
      stepTimeoutMs: s.stepTimeoutMs,
      holdMs: s.holdMs,
      heartbeat: s.heartbeat,
      scenario: ctx.target.scenario,
      scenarioModule: ctx.target.scenarioModule,
      localAddresses: o.localAddress,
    },
  });
  const text = s.text({ passed: (r) => plan.passed(r), target: ctx.target.label, color: useColor(o, io) });
  const { reporters, signal, finish } = makeReporters(s.kind, o, io, own?.quiet ? null : text, own?.result);
  return runPlan(plan, ctx.fleet, reporters, {
    redact: ctx.redact,
    info: {
      ...(own ? { id: own.id } : {}),
      command: s.kind,
      target: ctx.target.label,
      config: { url, ...o, ...s.config } as Record<string, unknown>,
      host: ctx.hostFacts,
    },
    pauseMs: s.pauseMs,
    signal,
    finish,
    diagnose: (steps) => diagnose(steps, ctx.target),
    exitCode: (verdict, _steps, interrupted) =>
      ladderExitCode(verdict as CapacityVerdict | null, interrupted, s.minCapacity),
  });
}

/** 130 interrupted; 1 without a passing point or under --min-capacity; 0 otherwise. */
export function ladderExitCode(
  v: CapacityVerdict | null,
  interrupted: boolean,
  minCapacity: number | undefined,
): number {
  if (interrupted) return 130;
  if (!v || v.maxReliable === null) return 1;
  if (minCapacity !== undefined && v.maxReliable < minCapacity) return 1;
  return 0;
}
