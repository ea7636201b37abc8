import type { Out } from '../report/reporter.js';

export type { Out };

/** The process globals a command uses, injected so the CLI can run in-process in tests. */
export interface CliIO {
  stdout: Out;
  stderr: Out;
  env: Record<string, string | undefined>;
  cwd: string;
  /** Aborted on SIGINT/SIGTERM (or by a test). */
  signal: AbortSignal;
  /** A command sets `exit.code` when it ends with a non-zero status that is not a usage error. */
  exit: ExitHolder;
  /** The arguments after `holdline`, for the command line a report shows (redacted there). */
  argv?: readonly string[];
}

/** Where a command leaves its exit code (commands return normally; user mistakes throw UserError). */
export interface ExitHolder {
  code: number;
}
