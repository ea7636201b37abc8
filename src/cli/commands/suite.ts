import { Command, InvalidArgumentError, Option } from 'commander';
import { addCapacityOptions, addCommonOptions, addHeartbeatOptions, addSizingOptions } from '../common.js';
import { parseDuration } from '../parse.js';
import { runSuite, SUITE_DEFAULTS, type SuiteOptions } from '../suite.js';
import type { CliIO } from '../io.js';

const HELP = `
Stages, each printed as its own command prints it, then a summary:
  1/4 env       this host for the planned run: what stands in the way (full snapshot in the result)
  2/4 capacity  the ladder of \`holdline capacity\`: maximum reliable count, safe limit
  3/4 sustain   the safe limit held for --sustain-duration with heartbeats, as \`holdline sustain\`
  4/4 plan      tasks for every --target from what the sustained test held, as \`holdline plan\`

One combined result, <out>/suite-<id>.json ({v, kind: "suite", env, capacity, sustain, plan,
verdict}), rewritten after every step: a failure or Ctrl-C keeps the stages already measured.

Exit status: 0 every stage ran and every threshold held; 1 no reliable capacity, a failed
sustained test, --min-capacity not reached or nothing to plan with; 2 bad usage; 130 interrupted.

Example:
  holdline suite wss://chat.example.com/ws --target 10000,50000 --cluster prod --service chat
`;

export function suiteCommand(io: CliIO): Command {
  const cmd = new Command('suite')
    .description('env check, capacity ladder, sustained test at the safe limit and a task plan, in one run')
    .argument('[url]', 'WebSocket URL to test (default: start the built-in reference target)');
  addCapacityOptions(cmd).addOption(
    new Option('--sustain-duration <duration>', 'how long the sustained stage holds the safe limit')
      .argParser(parsePositiveDuration)
      .default(SUITE_DEFAULTS.sustainDurationMs, '20s'),
  );
  addHeartbeatOptions(cmd, {
    heartbeatHelp:
      'heartbeat interval per sustained connection (0: none; default: 30s, or a quarter of --sustain-duration when shorter)',
  });
  addSizingOptions(cmd, { defaultTargets: SUITE_DEFAULTS.targets }).option(
    '--json',
    'print the combined result as JSON on stdout instead of the text reports',
  );
  addCommonOptions(cmd, {
    connectConcurrency: 200,
    thresholdRate: 'a share (80%): success rate a point needs (aws 80%, ecs 75%)',
  });
  cmd.addHelpText('after', HELP);
  cmd.action(async (url: string | undefined, o: SuiteOptions) => {
    io.exit.code = await runSuite(url, o, io);
  });
  return cmd;
}

function parsePositiveDuration(raw: string): number {
  const ms = parseDuration(raw);
  if (ms <= 0) throw new InvalidArgumentError('Expected a duration above 0, such as 20s or 2m.');
  return ms;
}
