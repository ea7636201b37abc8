import { Command, Option } from 'commander';
import { CAPACITY_PRESETS, type CapacityPreset } from '../../plans/capacity.js';
import { CapacityTextReporter } from '../../report/capacity-text.js';
import { addCommonOptions, type CommonOptions } from '../common.js';
import { runLadder } from '../ladder.js';
import { parseCount, parseCountList, parseDuration, parseFraction } from '../parse.js';
import type { CliIO } from '../io.js';

interface CapacityOptions extends CommonOptions {
  preset: CapacityPreset;
  points?: number[];
  threshold?: number;
  stepTimeout?: number;
  pause?: number;
  hold: number;
  safetyFactor: number;
  targetConnections?: number;
  refine: boolean;
  precision: number;
  minCapacity?: number;
}

export function capacityCommand(io: CliIO): Command {
  const cmd = new Command('capacity')
    .description('progressive ladder of concurrent sessions: maximum reliable count and a safe limit')
    .argument('[url]', 'WebSocket URL to test (default: start the built-in reference target)')
    .addOption(
      new Option('--preset <name>', 'test points, threshold, timeout and pause of a known program')
        .choices(Object.keys(CAPACITY_PRESETS))
        .default('aws'),
    )
    .option(
      '--points <list>',
      'session counts to test, e.g. 10,50,100 (preset aws: 10,50,100,200,500,1000,2000,5000)',
      parseCountList,
    )
    .option(
      '--threshold <fraction>',
      'success rate a point needs to pass, 0.8 or 80% (aws 80%, ecs 75%)',
      parseFraction,
    )
    .option(
      '--step-timeout <duration>',
      'deadline for establishing a point (aws 60s, ecs 90s)',
      parseDuration,
    )
    .option('--pause <duration>', 'pause between points (aws 2s, ecs 3s)', parseDuration)
    .option(
      '--hold <duration>',
      'how long established sessions stay open before the point is measured',
      parseDuration,
      1000,
    )
    .option('--safety-factor <fraction>', 'safe limit = this × maximum reliable', parseFraction, 0.8)
    .option(
      '--target-connections <n>',
      'also say how many tasks of this capacity serve N connections (20% buffer)',
      parseCount,
    )
    .option('--refine', 'bisect between the last passing and first failing point', false)
    .option(
      '--precision <fraction>',
      'stop refining when the bracket is within this fraction',
      parseFraction,
      0.05,
    )
    .option('--min-capacity <n>', 'exit 1 unless the maximum reliable count reaches N', parseCount);
  addCommonOptions(cmd, { connectConcurrency: 200 });
  cmd.action(async (url: string | undefined, o: CapacityOptions) => {
    io.exit.code = await runCapacity(url, o, io);
  });
  return cmd;
}

export async function runCapacity(url: string | undefined, o: CapacityOptions, io: CliIO): Promise<number> {
  const preset = CAPACITY_PRESETS[o.preset];
  const points = o.points ?? [...preset.points];
  const threshold = o.threshold ?? preset.threshold;
  const stepTimeoutMs = o.stepTimeout ?? preset.stepTimeoutMs;
  const pauseMs = o.pause ?? preset.pauseMs;
  return runLadder(
    url,
    o,
    {
      kind: 'capacity',
      points,
      threshold,
      stepTimeoutMs,
      pauseMs,
      holdMs: o.hold,
      safetyFactor: o.safetyFactor,
      refine: o.refine,
      precision: o.precision,
      targetConnections: o.targetConnections,
      minCapacity: o.minCapacity,
      text: (a) => new CapacityTextReporter(io.stdout, a.passed, a.target, a.color),
      config: { points, threshold, stepTimeoutMs, pauseMs },
    },
    io,
  );
}
