import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { RunInfo, RunResult, StepResult, SuiteResult } from '../contract.js';
import { UserError } from '../errors.js';
import { partialRunResult, writeJsonAtomic } from './json.js';
import type { Reporter } from './reporter.js';

/** `<dir>/suite-<id>.json`, rewritten whole and atomically every time a stage adds to it. */
export class SuiteResultFile {
  readonly path: string;
  private made = false;

  constructor(
    private readonly dir: string,
    id: string,
  ) {
    this.path = path.join(dir, `suite-${id}.json`);
  }

  write(r: SuiteResult): void {
    if (!this.made) {
      try {
        mkdirSync(this.dir, { recursive: true });
      } catch (err) {
        throw new UserError(`cannot create the result directory ${this.dir}: ${(err as Error).message}`);
      }
      this.made = true;
    }
    writeJsonAtomic(this.path, r);
  }
}

/**
 * Hands on the run so far at its start, after every step and at its end, as a result file
 * would hold it: the suite puts each stage's run into its combined result this way.
 */
export class RunSoFar implements Reporter {
  private info: RunInfo | null = null;
  private readonly steps: StepResult[] = [];

  constructor(private readonly onChange: (r: RunResult) => void) {}

  runStart(info: RunInfo): void {
    this.info = info;
    this.onChange(partialRunResult(info, []));
  }

  stepEnd(r: StepResult): void {
    this.steps.push(r);
    if (this.info) this.onChange(partialRunResult(this.info, [...this.steps]));
  }

  runEnd(result: RunResult): void {
    this.onChange(result);
  }
}
