import { Command } from 'commander';
import type { RunResult } from '../../contract.js';
import { diagnose } from '../../plans/diagnose.js';
import { RUN_DEFAULTS, RunPlan, type RunVerdict } from '../../plans/run.js';
import { RunTextReporter } from '../../report/run-text.js';
import { runPlan } from '../../run.js';
import { addCommonOptions, makeReporters, type CommonOptions } from '../common.js';
import { parseCount, parseDuration } from '../parse.js';
import { prepareRun } from '../prepare.js';
import type { CliIO } from '../io.js';

interface RunOptions extends CommonOptions {
  sessions: number;
  maxDuration: number;
  stepTimeout?: number;
}

export function runCommand(io: CliIO): Command {
  const cmd = new Command('run')
    .description(
      'run N sessions of a scenario once: sessions ok/failed, messages, latency, and what the generator cost',
    )
    .argument('[url]', 'WebSocket URL to test (default: start the built-in reference target)')
    .requiredOption('-n, --sessions <n>', 'how many sessions to run', parseCount)
    .option(
      '--max-duration <duration>',
      "how long sessions may run after the last one opened; the scenario's session: block ends them sooner",
      parseDuration,
      RUN_DEFAULTS.maxDurationMs,
    )
    .option(
      '--step-timeout <duration>',
      'deadline for establishing every session (default: the ramp at --connect-rate plus 60s)',
      parseDuration,
    );
  addCommonOptions(cmd, {
    connectConcurrency: 200,
    thresholdRate: `a share (80%): sessions that must succeed for exit 0 (default ${RUN_DEFAULTS.threshold * 100}%)`,
  });
  cmd.action(async (url: string | undefined, o: RunOptions) => {
    io.exit.code = await runOnce(url, o, io);
  });
  return cmd;
}

export async function runOnce(url: string | undefined, o: RunOptions, io: CliIO): Promise<number> {
  const ctx = await prepareRun({ url, o, io, maxSessions: o.sessions });
  try {
    const plan = new RunPlan({
      sessions: o.sessions,
      connectConcurrency: o.connectConcurrency,
      connectRate: o.connectRate,
      stepTimeoutMs: o.stepTimeout,
      maxDurationMs: o.maxDuration,
      threshold: o.threshold?.rate ?? RUN_DEFAULTS.threshold,
      scenario: ctx.target.scenario,
      scenarioModule: ctx.target.scenarioModule,
      localAddresses: o.localAddress,
    });
    const text = new RunTextReporter({ out: io.stdout, target: ctx.target.label });
    const { reporters, signal, finish } = makeReporters('run', o, io, text);
    const result: RunResult<RunVerdict> = await runPlan(plan, ctx.fleet, reporters, {
      redact: ctx.redact,
      info: {
        command: 'run',
        target: ctx.target.label,
        config: { url, ...o } as Record<string, unknown>,
        host: ctx.hostFacts,
      },
      pauseMs: 0,
      signal,
      finish,
      diagnose: (steps) => diagnose(steps, ctx.target),
      exitCode: (verdict, _steps, interrupted) => {
        if (interrupted) return 130;
        return (verdict as RunVerdict | null)?.passed ? 0 : 1;
      },
    });
    return result.exitCode;
  } finally {
    await ctx.close();
  }
}
