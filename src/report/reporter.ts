import type { IntervalSnapshot, RunInfo, RunResult, StepResult, StepSpec } from '../contract.js';

/** Where a reporter writes: process.stdout/stderr or a test's buffer. */
export interface Out {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/** Reporters render run events; they never compute metrics. Every hook is optional. */
export interface Reporter {
  runStart?(info: RunInfo): void;
  stepStart?(spec: StepSpec): void;
  interval?(snapshot: IntervalSnapshot): void;
  stepEnd?(result: StepResult): void;
  runEnd?(result: RunResult): Promise<void> | void;
}
