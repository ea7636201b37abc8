import type { CapacityVerdict, HeartbeatSpec, RunResult, StepResult } from '../contract.js';
import { CapacityPlan } from '../plans/capacity.js';
import { diagnose } from '../plans/diagnose.js';
import type { Reporter } from '../report/reporter.js';
import { redactConfig } from '../report/redact.js';
import { runPlan } from '../run.js';
import { makeReporters, useColor, type CommonOptions } from './common.js';
import { prepareRun } from './prepare.js';
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

/** The ladder both `capacity` and `sustain` run: prepare, plan, run, exit code. */
export async function runLadder(
  url: string | undefined,
  o: CommonOptions,
  s: LadderSettings,
  io: CliIO,
): Promise<number> {
  const ctx = await prepareRun({ url, o, io, maxSessions: s.points[s.points.length - 1] });
  try {
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
    const { reporters } = makeReporters(s.kind, o, io, text);
    const result: RunResult<CapacityVerdict> = await runPlan(plan, ctx.fleet, reporters, {
      info: {
        command: s.kind,
        target: ctx.target.label,
        config: redactConfig({ url, ...o, ...s.config }) as Record<string, unknown>,
        host: ctx.hostFacts,
      },
      pauseMs: s.pauseMs,
      signal: io.signal,
      diagnose: (steps) => diagnose(steps, ctx.target),
      exitCode: (verdict, _steps, interrupted) => {
        if (interrupted) return 130;
        const v = verdict as CapacityVerdict | null;
        if (!v || v.maxReliable === null) return 1;
        if (s.minCapacity !== undefined && v.maxReliable < s.minCapacity) return 1;
        return 0;
      },
    });
    return result.exitCode;
  } finally {
    await ctx.close();
  }
}
