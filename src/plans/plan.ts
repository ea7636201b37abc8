import type { StepResult, StepSpec } from '../contract.js';

/** A plan decides steps and verdicts from results; it never touches sockets, timers or files. */
export interface Plan<Verdict> {
  first(): StepSpec;
  /** The next step given every step done so far, or null when the run is complete. */
  next(done: StepResult[]): StepSpec | null;
  verdict(done: StepResult[]): Verdict;
}
