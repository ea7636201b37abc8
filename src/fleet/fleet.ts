import type { IntervalSnapshot, StepResult, StepSpec } from '../contract.js';

/** Runs a step on one process, N worker processes or many machines: the same call for all. */
export interface Fleet {
  readonly workers: number;
  runStep(
    spec: StepSpec,
    onSnapshot: (s: IntervalSnapshot) => void,
    signal: AbortSignal,
  ): Promise<StepResult>;
  close(): Promise<void>;
}

/** Coordination between workers; the local version is a no-op. */
export interface Coordinator {
  signal(event: string): Promise<void>;
  waitAll(event: string, timeoutMs: number): Promise<void>;
  getOrCreate(key: string, make: () => Promise<string>): Promise<string>;
}
