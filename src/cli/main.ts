import { Command, CommanderError } from 'commander';
import { HoldlineError, UserError, EXIT } from '../errors.js';
import { capacityCommand } from './commands/capacity.js';
import { sustainCommand } from './commands/sustain.js';
import { broadcastCommand } from './commands/broadcast.js';
import { loadCommand } from './commands/load.js';
import { targetCommand } from './commands/target.js';
import { envCommand } from './commands/env.js';
import { planCommand } from './commands/plan.js';
import { initCommand } from './commands/init.js';
import type { CliIO } from './io.js';
import { VERSION } from '../version.js';

export function buildProgram(io: CliIO): Command {
  const program = new Command('holdline')
    .description('Capacity and load tester for WebSocket and Server-Sent Events services')
    .version(VERSION)
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    })
    .exitOverride();
  for (const make of [capacityCommand, sustainCommand, broadcastCommand, loadCommand, targetCommand, envCommand, planCommand, initCommand]) {
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
export async function main(argv: string[], io: CliIO): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return io.exit.code;
  } catch (err) {
    return reportError(err, io);
  }
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
