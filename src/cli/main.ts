import { setFlagsFromString } from 'node:v8';
import { Command, CommanderError } from 'commander';
import { HoldlineError, UserError, EXIT } from '../errors.js';
import type { CliIO } from './io.js';
import { VERSION } from '../version.js';

type MakeCommand = (io: CliIO) => Command;

/**
 * Every command, loaded on demand: `holdline run` loads its own modules only, not the target
 * server, Redis client or HTTP client of the others (half a second of CPU and ~20 MB of RSS that
 * a load generator would otherwise spend before its first session).
 */
const COMMANDS: Record<string, () => Promise<MakeCommand>> = {
  capacity: async () => (await import('./commands/capacity.js')).capacityCommand,
  sustain: async () => (await import('./commands/sustain.js')).sustainCommand,
  broadcast: async () => (await import('./commands/broadcast.js')).broadcastCommand,
  load: async () => (await import('./commands/load.js')).loadCommand,
  run: async () => (await import('./commands/run.js')).runCommand,
  target: async () => (await import('./commands/target.js')).targetCommand,
  env: async () => (await import('./commands/env.js')).envCommand,
  plan: async () => (await import('./commands/plan.js')).planCommand,
  suite: async () => (await import('./commands/suite.js')).suiteCommand,
  init: async () => (await import('./commands/init.js')).initCommand,
  report: async () => (await import('./commands/report.js')).reportCommand,
  compare: async () => (await import('./commands/compare.js')).compareCommand,
};

/** The program with the command `argv` names (every command for help, version or a typo). */
export async function buildProgram(io: CliIO, argv: readonly string[] = []): Promise<Command> {
  const name = argv.find((a) => !a.startsWith('-'));
  const load =
    name !== undefined && Object.hasOwn(COMMANDS, name) ? [COMMANDS[name]] : Object.values(COMMANDS);
  const makers = await Promise.all(load.map((l) => l()));
  const program = new Command('holdline')
    .description('Capacity and load tester for WebSocket and Server-Sent Events services')
    .version(VERSION)
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    })
    .exitOverride();
  for (const make of makers) {
    const cmd = make(io);
    cmd.exitOverride();
    cmd.configureOutput({
      writeOut: (s: string) => io.stdout.write(s),
      writeErr: (s: string) => io.stderr.write(s),
    });
    cmd.showHelpAfterError('(run with --help for usage)');
    program.addCommand(cmd);
  }
  return program;
}

/** Runs the CLI with injected globals; returns the exit code (never calls process.exit). */
export async function main(argv: string[], cliIO: CliIO): Promise<number> {
  tuneHeap();
  const io: CliIO = { ...cliIO, argv: cliIO.argv ?? argv };
  try {
    const program = await buildProgram(io, argv);
    await program.parseAsync(argv, { from: 'user' });
    return io.exit.code;
  } catch (err) {
    return reportError(err, io);
  }
}

/**
 * Sessions live long and messages die young: V8's young generation, grown to its 16 MiB
 * semi-spaces, would hold only garbage between scavenges (about 30 MB of RSS per process, a
 * third of what 10,000 held sessions need). Keeping it at its initial size costs a few more,
 * cheap scavenges. This flag is read whenever the space would grow, so setting it now works.
 */
function tuneHeap(): void {
  setFlagsFromString('--semi-space-growth-factor=1');
  // After a full collection V8 lets the old generation grow up to ~4x its live size before the
  // next one: on a generator whose live data is mostly its sessions, that headroom is garbage
  // promoted while sessions open (W1, 10,000 sessions: 46 MB of heap before the collection that
  // found 15 MB live; peak RSS 110 -> 96 MB with this, measured). Full collections come more
  // often and each one is cheap next to the sockets it keeps.
  setFlagsFromString('--heap-growing-percent=30');
}

function reportError(err: unknown, io: CliIO): number {
  if (err instanceof CommanderError) {
    // Help and version are exits too; commander already printed its message.
    if (
      err.code === 'commander.helpDisplayed' ||
      err.code === 'commander.version' ||
      err.code === 'commander.help'
    ) {
      return EXIT.ok;
    }
    return EXIT.usage;
  }
  if (err instanceof UserError) {
    io.stderr.write(`holdline: ${err.message}\n${err.hint ? `  ${err.hint}\n` : ''}`);
    return EXIT.usage;
  }
  if (err instanceof HoldlineError) {
    io.stderr.write(`holdline: ${err.message}\n${err.hint ? `  ${err.hint}\n` : ''}`);
    return EXIT.failed;
  }
  io.stderr.write(
    `holdline: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  return EXIT.internal;
}
