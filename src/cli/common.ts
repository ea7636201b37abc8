import path from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import type { HeartbeatSpec, PlanKind, RunResult, StepResult } from '../contract.js';
import { HtmlReportWriter } from '../report/html/writer.js';
import { DashboardReporter } from '../report/dashboard/server.js';
import { TargetMetricsScraper } from '../scrape/scraper.js';
import { redactArgv } from '../report/redact-argv.js';
import { ThresholdOutput } from '../thresholds/output.js';
import { ThresholdsTextReporter } from '../report/thresholds-text.js';
import { collectThreshold, THRESHOLD_HELP, thresholdRules, type ThresholdFlag } from './thresholds-flag.js';
import { CAPACITY_PRESETS, type CapacityPreset } from '../plans/capacity.js';
import { heartbeatWarning } from '../plans/sustain.js';
import type { Reporter } from '../report/reporter.js';
import { ProgressLine } from '../report/progress.js';
import { JsonResultWriter } from '../report/json.js';
import { EmfReporter } from '../report/emf.js';
import { JsonLogReporter } from '../report/jsonlog.js';
import {
  collectCountList,
  collectHeader,
  collectList,
  collectPair,
  parseCount,
  parseCountList,
  parseDuration,
  parseFraction,
  parsePositiveSize,
  parseStringList,
} from './parse.js';
import { DEFAULT_MAX_MESSAGE } from '../transports/ws-frame.js';
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
  /** Largest WebSocket message accepted (bytes); default DEFAULT_MAX_MESSAGE. */
  maxMessageSize?: number;
  /** Header and query parameter names whose values are hidden in every output, beyond the built-in ones. */
  redact?: string[];
  out: string;
  logFormat: 'text' | 'json' | 'emf';
  emfNamespace: string;
  emfDimension?: Record<string, string>;
  progress: boolean;
  color: boolean;
  /** `--threshold`: point success rate and rules on the result. */
  threshold?: ThresholdFlag;
  /** Write no HTML report beside the JSON result. */
  html: boolean;
  /** `--target-metrics URL`: the target's Prometheus endpoint. */
  targetMetrics?: string;
  /** `--dashboard [PORT]`: true for a free port. */
  dashboard?: boolean | number;
}

export function addCommonOptions(
  cmd: Command,
  defaults: { connectConcurrency: number; thresholdRate?: string },
): Command {
  return cmd
    .option(
      '--threshold <rule>',
      defaults.thresholdRate ? `${defaults.thresholdRate}; or ${THRESHOLD_HELP}` : THRESHOLD_HELP,
      collectThreshold,
    )
    .option('--no-html', 'no HTML report beside the JSON result')
    .option(
      '--target-metrics <url>',
      "the target's Prometheus endpoint, scraped every second into the result and the report",
      parseHttpUrl,
    )
    .option(
      '--dashboard [port]',
      'a live page on 127.0.0.1 (a free port unless given) following the run over SSE; printed at start',
      parsePort,
    )
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
    .addOption(
      new Option(
        '--max-message-size <size>',
        'largest WebSocket message accepted, fragments included (a larger one closes with 1009)',
      )
        .argParser(parsePositiveSize)
        .default(DEFAULT_MAX_MESSAGE, '16MiB'),
    )
    .option(
      '--redact <name>',
      'a header or query parameter whose value is hidden in every output (repeatable)',
      collectList,
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

function parseHttpUrl(raw: string): string {
  if (!/^https?:\/\/[^/\s]+/i.test(raw))
    throw new InvalidArgumentError('Expected an http:// or https:// URL.');
  return raw;
}

function parsePort(raw: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 65535)
    throw new InvalidArgumentError('Expected a port, 1 to 65535.');
  return n;
}

export interface RunOutputs {
  reporters: Reporter[];
  resultPath: () => string;
  /** The run's stop: the user's (Ctrl-C) or an `:abort` threshold's. */
  signal: AbortSignal;
  /** Judges the thresholds and records the command line in the finished result. */
  finish: (r: RunResult) => void;
}

/**
 * Reporters for a run: result file and its HTML report; text, JSON lines or EMF on stdout;
 * progress on stderr; the thresholds. `own` replaces the result file (the suite's stages).
 */
export function makeReporters(
  command: PlanKind,
  o: CommonOptions,
  io: CliIO,
  text: Reporter | null,
  own?: Reporter,
): RunOutputs {
  const rules = thresholdRules(command, o.threshold, command !== 'load' && command !== 'broadcast');
  const stop = new AbortController();
  const thresholds = new ThresholdOutput(rules, stop, () => io.signal.aborted);
  const commandLine = io.argv ? redactArgv(io.argv, o.redact ?? []) : undefined;
  const writer = own ? null : new JsonResultWriter({ dir: path.resolve(io.cwd, o.out), id: '' });
  const files: Reporter[] = writer
    ? [writer, ...(o.html === false ? [] : [new HtmlReportWriter(() => writer.path, io.stderr, io.cwd)])]
    : [own!];
  const dashboard =
    typeof o.dashboard === 'number' || o.dashboard === true
      ? [new DashboardReporter(o.dashboard === true ? 0 : o.dashboard, io.stderr)]
      : [];
  const scraper = o.targetMetrics ? new TargetMetricsScraper(o.targetMetrics) : null;
  return {
    reporters: [
      ...files,
      ...(scraper ? [scraper] : []),
      ...(rules.length > 0 ? [thresholds] : []),
      ...dashboard,
      ...outputReporters(command, o, io, text),
    ],
    resultPath: () => writer?.path ?? '',
    signal: rules.some((r) => r.abort) ? AbortSignal.any([io.signal, stop.signal]) : io.signal,
    finish: (r) => {
      if (commandLine) r.info.commandLine = commandLine;
      scraper?.finish(r);
      if (rules.length > 0) thresholds.finish(r);
    },
  };
}

/**
 * What a run shows: progress on stderr; on stdout the command's text (`text`), JSON lines or EMF
 * by --log-format. `text: null` keeps stdout free (a command printing one JSON document).
 */
export function outputReporters(
  command: PlanKind,
  o: CommonOptions,
  io: CliIO,
  text: Reporter | null,
): Reporter[] {
  const reporters: Reporter[] = [];
  if (o.progress) reporters.push(new ProgressLine({ out: io.stderr, isTTY: io.stderr.isTTY === true }));
  if (text === null) return reporters;
  if (o.logFormat === 'json') {
    reporters.push(new JsonLogReporter(io.stdout));
  } else {
    reporters.push(text, new ThresholdsTextReporter(io.stdout));
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
  return reporters;
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

/** The capacity ladder's flags (`capacity`, `suite`). */
export interface CapacityFlags {
  preset: CapacityPreset;
  points?: number[];
  threshold?: ThresholdFlag;
  stepTimeout?: number;
  pause?: number;
  hold: number;
  safetyFactor: number;
  refine: boolean;
  precision: number;
  minCapacity?: number;
}

export function addCapacityOptions(cmd: Command): Command {
  return cmd
    .addOption(
      new Option('--preset <name>', 'test points, threshold, timeout and pause of a known program')
        .choices(Object.keys(CAPACITY_PRESETS))
        .default('aws'),
    )
    .option(
      '--points <list>',
      'session counts to test, e.g. 10,50,100 (preset aws: 10,50,100,200,500,1000,2000,5000)',
      parseCountList,
    )
    .option(
      '--step-timeout <duration>',
      'deadline for establishing a point (aws 60s, ecs 90s)',
      parseDuration,
    )
    .option('--pause <duration>', 'pause between points (aws 2s, ecs 3s)', parseDuration)
    .addOption(
      new Option('--hold <duration>', 'how long established sessions stay open before the point is measured')
        .argParser(parseDuration)
        .default(1000, '1s'),
    )
    .option('--safety-factor <fraction>', 'safe limit = this × maximum reliable', parseFraction, 0.8)
    .option('--refine', 'bisect between the last passing and first failing point', false)
    .option(
      '--precision <fraction>',
      'stop refining when the bracket is within this fraction',
      parseFraction,
      0.05,
    )
    .option('--min-capacity <n>', 'exit 1 unless the maximum reliable count reaches N', parseCount);
}

/** The preset with the flags given on top of it. */
export function capacityLadder(o: CapacityFlags): {
  points: number[];
  threshold: number;
  stepTimeoutMs: number;
  pauseMs: number;
} {
  const preset = CAPACITY_PRESETS[o.preset];
  return {
    points: o.points ?? [...preset.points],
    threshold: o.threshold?.rate ?? preset.threshold,
    stepTimeoutMs: o.stepTimeout ?? preset.stepTimeoutMs,
    pauseMs: o.pause ?? preset.pauseMs,
  };
}

/** Heartbeat flags of sustained connections (`sustain`, `suite`). */
export interface HeartbeatFlags {
  /** Undefined only where the command computes its own default. */
  heartbeat?: number;
  heartbeatKind: 'message' | 'ping';
  heartbeatMessage: string;
  expectReply: boolean;
  idleTimeout?: number;
}

export function addHeartbeatOptions(
  cmd: Command,
  d: { heartbeatMs?: number; heartbeatHelp?: string } = {},
): Command {
  return cmd
    .option(
      '--heartbeat <duration>',
      d.heartbeatHelp ?? 'heartbeat interval per connection (0: none)',
      parseHeartbeat,
      d.heartbeatMs,
    )
    .addOption(
      new Option('--heartbeat-kind <kind>', 'application message or WebSocket ping frame')
        .choices(['message', 'ping'])
        .default('message'),
    )
    .option('--heartbeat-message <template>', 'heartbeat message (templated)', '{"type":"ping"}')
    .option('--expect-reply', 'measure the heartbeat round trip (the next message, or the pong)', false)
    .option(
      '--idle-timeout <duration>',
      "the load balancer's idle timeout, to check --heartbeat against",
      parseDuration,
    );
}

function parseHeartbeat(raw: string): number {
  return raw.trim() === '0' ? 0 : parseDuration(raw);
}

/** The heartbeat of every held connection (none at 0), and a warning when it cannot beat the idle timeout. */
export function heartbeatFrom(
  o: HeartbeatFlags,
  intervalMs: number,
): { heartbeat: HeartbeatSpec | undefined; warning: string | null } {
  if (intervalMs <= 0) return { heartbeat: undefined, warning: null };
  return {
    heartbeat: {
      intervalMs,
      kind: o.heartbeatKind,
      message: o.heartbeatMessage,
      expectReply: o.expectReply,
    },
    warning: heartbeatWarning(intervalMs, o.idleTimeout),
  };
}

/** Sizing flags of `plan` and `suite`: targets, buffer, and the ECS service to scale. */
export interface SizingFlags {
  target: number[];
  buffer: number;
  cluster?: string;
  service?: string;
}

export function addSizingOptions(cmd: Command, d: { defaultTargets?: readonly number[] } = {}): Command {
  const target = new Option(
    '--target <list>',
    'connections to serve, e.g. 10000 or 1000,10000,100000 (repeatable)',
  ).argParser(collectCountList(d.defaultTargets));
  if (d.defaultTargets) target.default(d.defaultTargets, d.defaultTargets.join(','));
  else target.makeOptionMandatory();
  return cmd
    .addOption(target)
    .option('--buffer <fraction>', 'headroom on top of the target, 20% or 0.2', parseFraction, 0.2)
    .option('--cluster <name>', 'ECS cluster for the update-service line')
    .option('--service <name>', 'ECS service for the update-service line');
}

/** The command that scales an ECS service to `tasks`. */
export function updateServiceLine(cluster: string, service: string, tasks: number): string {
  return `aws ecs update-service --cluster ${cluster} --service ${service} --desired-count ${tasks}`;
}
