import { spawn } from 'node:child_process';
import { CommanderError, type Command } from 'commander';
import { fileURLToPath } from 'node:url';
import { main } from '../../src/cli/main.js';
import type { CliIO } from '../../src/cli/io.js';
import { UserError } from '../../src/errors.js';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in this process with captured output. */
export async function runCli(
  args: string[],
  o: {
    env?: Record<string, string | undefined>;
    cwd?: string;
    signal?: AbortSignal;
    /** Sees stderr as a terminal does (live progress lines), chunk by chunk. */
    onTtyStderr?: (chunk: string) => void;
  } = {},
): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const io: CliIO = {
    stdout: { write: (s: string) => (stdout += s), isTTY: false },
    stderr: {
      write: (s: string) => {
        stderr += s;
        o.onTtyStderr?.(s);
      },
      isTTY: o.onTtyStderr !== undefined,
    },
    env: { ...process.env, ...o.env },
    cwd: o.cwd ?? process.cwd(),
    signal: o.signal ?? new AbortController().signal,
    exit: { code: 0 },
  };
  const code = await main(args, io);
  return { code, stdout, stderr };
}

/**
 * Runs one command's own parser, without main(): a user error comes back as exit 2 with its
 * message and hint on stderr. The environment is `o.env` only (default empty).
 */
export async function runCommand(
  make: (io: CliIO) => Command,
  args: string[],
  o: { cwd?: string; env?: Record<string, string | undefined> } = {},
): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const io: CliIO = {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    env: o.env ?? {},
    cwd: o.cwd ?? process.cwd(),
    signal: new AbortController().signal,
    exit: { code: 0 },
  };
  const cmd = make(io)
    .exitOverride()
    .configureOutput({ writeOut: (s) => (stdout += s), writeErr: (s) => (stderr += s) });
  try {
    await cmd.parseAsync(args, { from: 'user' });
    return { code: io.exit.code, stdout, stderr };
  } catch (err) {
    if (err instanceof UserError)
      return { code: 2, stdout, stderr: `${stderr}${err.message}\n${err.hint ?? ''}` };
    if (err instanceof CommanderError) return { code: 2, stdout, stderr };
    throw err;
  }
}

export const BIN = fileURLToPath(new URL('../../../bin/holdline.js', import.meta.url));

/** Runs the CLI as a child process (exit codes, signals, files). */
export function runCliChild(
  args: string[],
  o: {
    env?: Record<string, string>;
    cwd?: string;
    timeoutMs?: number;
    onStdout?: (chunk: string, kill: (sig: NodeJS.Signals) => void) => void;
  } = {},
): Promise<CliRun & { signal: NodeJS.Signals | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: o.cwd,
      env: { ...process.env, ...o.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const kill = (sig: NodeJS.Signals): void => {
      child.kill(sig);
    };
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      stdout += c;
      o.onStdout?.(c, kill);
    });
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const t = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(
          `holdline ${args.join(' ')} did not end within ${o.timeoutMs ?? 60000} ms\n${stdout}\n${stderr}`,
        ),
      );
    }, o.timeoutMs ?? 60_000);
    child.on('exit', (code, signal) => {
      clearTimeout(t);
      resolve({ code: code ?? -1, signal, stdout, stderr });
    });
    child.on('error', reject);
  });
}
