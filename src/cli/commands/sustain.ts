import { Command } from 'commander';
import { SUSTAIN_DEFAULTS } from '../../plans/sustain.js';
import {
  addCommonOptions,
  addHeartbeatOptions,
  heartbeatFrom,
  type CommonOptions,
  type HeartbeatFlags,
} from '../common.js';
import { runLadder, sustainText } from '../ladder.js';
import { parseCount, parseCountList, parseDuration, parseFraction } from '../parse.js';
import type { CliIO } from '../io.js';

interface SustainOptions extends CommonOptions, HeartbeatFlags {
  points: number[];
  duration: number;
  heartbeat: number;
  stepTimeout: number;
  pause: number;
  safetyFactor: number;
  minCapacity?: number;
}

export function sustainCommand(io: CliIO): Command {
  const d = SUSTAIN_DEFAULTS;
  const cmd = new Command('sustain')
    .description('hold sessions open for minutes with heartbeats: which close early, when and why')
    .argument('[url]', 'WebSocket URL to test (default: start the built-in reference target)')
    .option('--points <list>', 'connection counts to test', parseCountList, [...d.points])
    .option(
      '--duration <duration>',
      'how long every point holds its connections',
      parseDuration,
      d.durationMs,
    );
  addHeartbeatOptions(cmd, { heartbeatMs: d.heartbeatMs })
    .option('--step-timeout <duration>', 'deadline for establishing a point', parseDuration, d.stepTimeoutMs)
    .option('--pause <duration>', 'pause between points', parseDuration, d.pauseMs)
    .option('--safety-factor <fraction>', 'safe limit = this × maximum reliable', parseFraction, 0.8)
    .option('--min-capacity <n>', 'exit 1 unless the maximum reliable count reaches N', parseCount);
  addCommonOptions(cmd, {
    connectConcurrency: 200,
    thresholdRate: `a share (80%): connections that must last to the end (default ${d.threshold * 100}%)`,
  });
  cmd.action(async (url: string | undefined, o: SustainOptions) => {
    io.exit.code = await runSustain(url, o, io);
  });
  return cmd;
}

export async function runSustain(url: string | undefined, o: SustainOptions, io: CliIO): Promise<number> {
  const { heartbeat, warning } = heartbeatFrom(o, o.heartbeat);
  return runLadder(
    url,
    o,
    {
      kind: 'sustain',
      points: o.points,
      threshold: o.threshold?.rate ?? SUSTAIN_DEFAULTS.threshold,
      stepTimeoutMs: o.stepTimeout,
      pauseMs: o.pause,
      holdMs: o.duration,
      safetyFactor: o.safetyFactor,
      refine: false,
      precision: 0.05,
      minCapacity: o.minCapacity,
      heartbeat,
      text: sustainText(io, heartbeat, warning),
      config: { durationMs: o.duration, heartbeat },
    },
    io,
  );
}
