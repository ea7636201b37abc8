import path from 'node:path';
import { Command, Option } from 'commander';
import type { PlanKind, RunResult, StepResult } from '../contract.js';
import type { Reporter } from '../report/reporter.js';
import { ProgressLine } from '../report/progress.js';
import { JsonResultWriter } from '../report/json.js';
import { EmfReporter } from '../report/emf.js';
import { JsonLogReporter } from '../report/jsonlog.js';
import {
  collectHeader,
  collectPair,
  parseCount,
  parseDuration,
  parseFraction,
  parseStringList,
} from './parse.js';
import type { CliIO } from './io.js';

/** Options every test command shares (capacity, sustain, load, broadcast): one table. */
export interface CommonOptions {
  scenario?: string;
  header?: Record<string, string>;
  connectConcurrency: number;
  connectRate?: number;
  localAddress?: string[];
  /** Offer permessage-deflate on every WebSocket (the ws-library transport). */
  compression?: boolean;
  out: string;
  logFormat: 'text' | 'json' | 'emf';
  emfNamespace: string;
  emfDimension?: Record<string, string>;
  progress: boolean;
  color: boolean;
}

export function addCommonOptions(cmd: Command, defaults: { connectConcurrency: number }): Command {
  return cmd
    .option('--scenario <file>', 'session scenario file (.yaml, .json) or module (.js, .mjs)')
    .option(
      '-H, --header <header>',
      "header sent with the WebSocket upgrade, 'Name: value' (repeatable)",
      collectHeader,
    )
    .option(
      '-c, --connect-concurrency <n>',
      'sessions establishing at the same time',
      parseCount,
      defaults.connectConcurrency,
    )
    .option(
      '--connect-rate <n>',
      'sessions started per second (default: as fast as the concurrency allows)',
      parseCount,
    )
    .option(
      '--local-address <list>',
      'source addresses to spread connections over, e.g. 127.0.0.2,127.0.0.3',
      parseStringList,
    )
    .option(
      '--compression',
      'negotiate permessage-deflate on every WebSocket (bytes on the wire are reported either way)',
    )
    .option('--out <dir>', 'directory for the JSON result, rewritten after every step', './holdline-results')
    .addOption(
      new Option('--log-format <format>', 'stdout format').choices(['text', 'json', 'emf']).default('text'),
    )
    .option('--emf-namespace <ns>', 'CloudWatch namespace for --log-format emf', 'holdline')
    .option(
      '--emf-dimension <k=v>',
      'extra CloudWatch dimension for --log-format emf (repeatable)',
      collectPair,
    )
    .option('--no-progress', 'no live progress line on stderr')
    .option('--no-color', 'no colours in the output');
}

export { parseDuration, parseFraction, parseCount };

/** Reporters for a run: result file always; text, JSON lines or EMF on stdout; progress on stderr. */
export function makeReporters(
  command: PlanKind,
  o: CommonOptions,
  io: CliIO,
  text: Reporter,
): { reporters: Reporter[]; resultPath: () => string } {
  const writer = new JsonResultWriter({ dir: path.resolve(io.cwd, o.out), id: '' });
  const reporters: Reporter[] = [writer];
  if (o.progress) reporters.push(new ProgressLine({ out: io.stderr, isTTY: io.stderr.isTTY === true }));
  if (o.logFormat === 'json') {
    reporters.push(new JsonLogReporter(io.stdout));
  } else {
    reporters.push(text);
    if (o.logFormat === 'emf') {
      reporters.push(
        new EmfReporter(io.stdout, {
          namespace: o.emfNamespace,
          dimensions: { Command: command, ...(o.emfDimension ?? {}) },
          intervals: command === 'sustain',
        }),
      );
    }
  }
  return { reporters, resultPath: () => writer.path };
}

export function useColor(o: CommonOptions, io: CliIO): boolean {
  return o.color && io.stdout.isTTY === true && io.env.NO_COLOR === undefined;
}

/** Standard exit code of a test command. */
export function exitFor(result: RunResult, passedAny: boolean, extraFail = false): number {
  if (result.interrupted) return 130;
  return passedAny && !extraFail ? 0 : 1;
}

export function stepsPassed(steps: StepResult[], passed: (r: StepResult) => boolean): boolean {
  return steps.some(passed);
}
