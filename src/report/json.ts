import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { V, type RunInfo, type RunResult, type StepResult } from '../contract.js';
import { EXIT, HoldlineError, UserError } from '../errors.js';
import type { Reporter } from './reporter.js';

let tmpSeq = 0;

/**
 * Writes `data` as JSON to `file` atomically: a uniquely named temporary file in the same
 * directory, then a rename. Readers see the previous or the new version, never a torn one, even
 * with two writers on the same path.
 */
export function writeJsonAtomic(file: string, data: unknown): void {
  const tmp = `${file}.${process.pid}.${++tmpSeq}.tmp`;
  try {
    writeFileSync(tmp, JSON.stringify(data, null, 2) + '\n');
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw new HoldlineError(
      'result_write',
      `cannot write the result to ${file}: ${(err as Error).message}`,
      'choose another directory with --out',
    );
  }
}

/** Writes the whole result to `file` atomically (see writeJsonAtomic). */
export function writeRunResult(file: string, result: RunResult): void {
  writeJsonAtomic(file, result);
}

/** A run that has not ended: its steps so far, no verdict, `interrupted` until the real end replaces it. */
export function partialRunResult(info: RunInfo, steps: StepResult[]): RunResult {
  return {
    v: V,
    info,
    steps,
    verdict: null,
    endedAt: Date.now(),
    interrupted: true,
    diagnosis: [],
    exitCode: EXIT.interrupted,
  };
}

/** Reads a saved result; refuses files of another format version. */
export function readRunResult(file: string): RunResult {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new UserError(`cannot read the result file ${file}: ${(err as Error).message}`);
  }
  const r = data as Partial<RunResult> | null;
  if (r === null || typeof r !== 'object' || typeof r.v !== 'number' || !Array.isArray(r.steps) || !r.info) {
    throw new UserError(`${file} is not a holdline result file`);
  }
  if (r.v !== V) {
    throw new HoldlineError(
      'version_mismatch',
      `${file} has result format version ${r.v}; this holdline reads version ${V}`,
      'render it with the holdline version that wrote it',
    );
  }
  return r as RunResult;
}

/**
 * Keeps `<dir>/<command>-<id>.json` equal to the run so far: written at the start, after every
 * step and at the end. Until the end it says `interrupted: true`, which stays true if the process
 * dies before finishing; the final write replaces it with the real outcome.
 */
export class JsonResultWriter implements Reporter {
  private info: RunInfo | null = null;
  private readonly steps: StepResult[] = [];
  private file = '';

  constructor(private readonly o: { dir: string; id: string }) {}

  /** The result file; known once the run has started. */
  get path(): string {
    return this.file;
  }

  runStart(info: RunInfo): void {
    this.info = info;
    this.file = this.fileFor(info);
    try {
      mkdirSync(this.o.dir, { recursive: true });
    } catch (err) {
      throw new UserError(`cannot create the result directory ${this.o.dir}: ${(err as Error).message}`);
    }
    this.writePartial();
  }

  stepEnd(r: StepResult): void {
    this.steps.push(r);
    if (this.info) this.writePartial();
  }

  runEnd(result: RunResult): void {
    if (!this.file) {
      this.file = this.fileFor(result.info);
      mkdirSync(this.o.dir, { recursive: true });
    }
    writeRunResult(this.file, result);
  }

  private fileFor(info: RunInfo): string {
    return path.join(this.o.dir, `${info.command}-${this.o.id || info.id}.json`);
  }

  private writePartial(): void {
    writeRunResult(this.file, partialRunResult(this.info!, this.steps));
  }
}
