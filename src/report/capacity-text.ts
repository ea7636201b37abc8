import type { CapacityVerdict, RunResult, StepResult } from '../contract.js';
import type { Out, Reporter } from './reporter.js';
import { capacityStepLine, capacitySummary, diagnosisLines } from './terminal.js';

/** The capacity table on stdout: a line per step as it ends, then the summary. */
export class CapacityTextReporter implements Reporter {
  constructor(
    private readonly out: Out,
    private readonly passed: (r: StepResult) => boolean,
    private readonly target: string,
    private readonly color: boolean,
  ) {}

  runStart(): void {
    this.out.write(`Testing ${this.target}\n`);
  }

  stepEnd(r: StepResult): void {
    this.out.write(capacityStepLine(r, this.passed(r), { color: this.color }) + '\n');
  }

  runEnd(result: RunResult): void {
    const v = result.verdict as CapacityVerdict | null;
    if (result.interrupted) this.out.write('\nInterrupted: results so far.\n');
    if (v)
      this.out.write(
        '\n' + capacitySummary(v, result.steps, { target: this.target, color: this.color }) + '\n',
      );
    if (result.diagnosis.length > 0) this.out.write('\n' + diagnosisLines(result.diagnosis) + '\n');
  }
}
