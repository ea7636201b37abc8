import { Command } from 'commander';
import { CapacityTextReporter } from '../../report/capacity-text.js';
import {
  addCapacityOptions,
  addCommonOptions,
  capacityLadder,
  type CapacityFlags,
  type CommonOptions,
} from '../common.js';
import { runLadder } from '../ladder.js';
import { parseCount } from '../parse.js';
import type { CliIO } from '../io.js';

interface CapacityOptions extends CommonOptions, CapacityFlags {
  targetConnections?: number;
}

export function capacityCommand(io: CliIO): Command {
  const cmd = new Command('capacity')
    .description('progressive ladder of concurrent sessions: maximum reliable count and a safe limit')
    .argument('[url]', 'WebSocket URL to test (default: start the built-in reference target)');
  addCapacityOptions(cmd).option(
    '--target-connections <n>',
    'also say how many tasks of this capacity serve N connections (20% buffer)',
    parseCount,
  );
  addCommonOptions(cmd, {
    connectConcurrency: 200,
    thresholdRate: 'a share (80%): success rate a point needs (aws 80%, ecs 75%)',
  });
  cmd.action(async (url: string | undefined, o: CapacityOptions) => {
    io.exit.code = await runCapacity(url, o, io);
  });
  return cmd;
}

export async function runCapacity(url: string | undefined, o: CapacityOptions, io: CliIO): Promise<number> {
  const { points, threshold, stepTimeoutMs, pauseMs } = capacityLadder(o);
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
