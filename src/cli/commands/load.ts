import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { parse as parseYaml } from 'yaml';
import type { HeartbeatSpec, RunResult, ScenarioSpec } from '../../contract.js';
import { UserError } from '../../errors.js';
import { parseChatProtocol } from '../../engine/load-chat-file.js';
import type { ChatProtocol, LoadSettings } from '../../engine/load-model.js';
import { referenceProtocol } from '../../engine/load-protocol.js';
import { diagnose } from '../../plans/diagnose.js';
import {
  LOAD_CRITERIA,
  LOAD_DEFAULTS,
  LOAD_PRESETS,
  LoadPlan,
  loadExitCode,
  type LoadPresetName,
  type LoadVerdict,
} from '../../plans/load.js';
import { LoadTextReporter } from '../../report/load-text.js';
import { parseRequestLine } from '../../scenario/schema.js';
import { runPlan } from '../../run.js';
import { addCommonOptions, makeReporters, useColor, type CommonOptions } from '../common.js';
import { collectHeader, parseCount, parseDuration, parseFraction, parseSize } from '../parse.js';
import { prepareRun } from '../prepare.js';
import type { CliIO } from '../io.js';

interface LoadOptions extends CommonOptions {
  preset?: LoadPresetName;
  connections?: number;
  groups?: number;
  groupsPerConnection: number;
  rate?: number;
  payload?: number;
  duration?: number;
  rampUp?: number;
  messageTimeout: number;
  groupPrefix: string;
  groupBatch: number;
  groupConcurrency: number;
  createGroups: boolean;
  chat?: string;
  httpRate?: number;
  httpRequest: string;
  httpBody?: string;
  httpHeader?: Record<string, string>;
  heartbeat?: number;
  stepTimeout?: number;
  minConnectionSuccess: number;
  minMessageSuccess: number;
  maxP95: number;
  allowCritical: boolean;
  targetHealth?: string;
  compression?: boolean;
}

export function loadCommand(io: CliIO): Command {
  const d = LOAD_DEFAULTS;
  const c = LOAD_CRITERIA;
  const cmd = new Command('load')
    .description('chat load: connections, groups, message rate and size; latency percentiles and throughput')
    .argument('[url]', 'WebSocket URL of the chat service (default: start the built-in reference target)')
    .addOption(
      new Option(
        '--preset <name>',
        'realistic: 5,000 connections, 50,000 groups, 500 msg/s of 5,000 chars, 2m; stress: the same plus HTTP API load; extreme: 100,000 connections, 3,000,000 groups (needs worker processes)',
      ).choices(Object.keys(LOAD_PRESETS)),
    )
    .option('--connections <n>', `concurrent WebSocket connections (default ${d.connections})`, parseCount)
    .option('--groups <n>', `groups created over the HTTP API (default ${d.groups})`, parseCount)
    .option(
      '--groups-per-connection <n>',
      'groups each connection joins; memberships are spread so every used group has at least 2 members',
      parseCount,
      d.groupsPerConnection,
    )
    .option(
      '--rate <n>',
      `messages per second, all connections together (default ${d.rate}; 0: none)`,
      parseRate,
    )
    .option(
      '--payload <size>',
      `characters of text in each message, e.g. 64, 5k (=5000), 4KiB (default ${d.payloadChars})`,
      parseSize,
    )
    .option(
      '--duration <duration>',
      `how long messages are sent (default ${d.durationMs / 1000}s)`,
      parseDuration,
    )
    .option(
      '--ramp-up <duration>',
      `connections are opened evenly over this time (default ${d.rampUpMs / 1000}s; 0: at once)`,
      parseDurationOrZero,
    )
    .addOption(
      new Option(
        '--message-timeout <duration>',
        'a message counts as delivered when every member got it within this time',
      )
        .argParser(parseDuration)
        .default(d.messageTimeoutMs, '5s'),
    )
    .option('--group-prefix <prefix>', 'group ids are <prefix>-0, <prefix>-1, …', d.groupPrefix)
    .option(
      '--group-batch <n>',
      'groups per creation request (1: one request per group)',
      parseCount,
      d.groupBatch,
    )
    .option('--group-concurrency <n>', 'group creation requests in flight', parseCount, d.groupConcurrency)
    .option('--no-create-groups', 'do not create groups (they exist, or the service creates them on join)')
    .option(
      '--chat <file>',
      "chat protocol file (.yaml, .json) for services other than holdline's reference target",
    )
    .option(
      '--http-rate <n>',
      'HTTP API requests per second beside the sockets (default 0; stress 50)',
      parseRate,
    )
    .option('--http-request <request>', "the API request, 'METHOD URL' (templated)", d.httpRequest)
    .option('--http-body <template>', 'body of the API request (templated; JSON if it parses as JSON)')
    .option('--http-header <header>', "header of the API request, 'Name: value' (repeatable)", collectHeader)
    .option(
      '--heartbeat <duration>',
      'WebSocket ping per connection at this interval (default none; extreme 30s)',
      parseDurationOrZero,
    )
    .option(
      '--step-timeout <duration>',
      'deadline for establishing every connection (default ramp-up + 30s)',
      parseDuration,
    )
    .addOption(
      new Option(
        '--min-connection-success <fraction>',
        'verdict: more than this share of connections must be established',
      )
        .argParser(parseFraction)
        .default(c.minConnectionSuccess, '95%'),
    )
    .addOption(
      new Option(
        '--min-message-success <fraction>',
        'verdict: more than this share of messages must reach every member in time',
      )
        .argParser(parseFraction)
        .default(c.minMessageSuccess, '90%'),
    )
    .addOption(
      new Option('--max-p95 <duration>', 'verdict: the p95 message latency must be below this')
        .argParser(parseDuration)
        .default(c.maxP95Ms, '500ms'),
    )
    .option(
      '--allow-critical',
      'do not fail on critical errors (target gone, generator out of resources)',
      false,
    )
    .option(
      '--target-health <url>',
      "the target's /health to poll for its event-loop delay (default: built-in target only)",
    );
  addCommonOptions(cmd, { connectConcurrency: d.connectConcurrency });
  cmd.addHelpText(
    'after',
    `
Verdict: PASS when connection success is above --min-connection-success, message success (messages
that reached every member connected at send time within --message-timeout) above
--min-message-success, the p95 message latency below --max-p95, and there is no critical error
(preparation failed, no connection, generator out of fds or ports, more than 10% of connections
closed early, no message sent). Exit status: 0 pass, 1 fail, 2 bad input, 130 interrupted.
Latency is timed from each message's intended send time (open model). See docs/load.md.`,
  );
  cmd.action(async (url: string | undefined, o: LoadOptions) => {
    io.exit.code = await runLoad(url, o, io);
  });
  return cmd;
}

export async function runLoad(url: string | undefined, o: LoadOptions, io: CliIO): Promise<number> {
  const preset = o.preset ? LOAD_PRESETS[o.preset] : null;
  if (preset?.needsWorkers) {
    throw new UserError(
      `--preset ${o.preset} needs ${preset.connections.toLocaleString('en-US')} connections and ${preset.groups.toLocaleString('en-US')} groups, ` +
        'which takes several worker processes; this version runs one process',
      'Run --preset realistic or stress, or give --connections and --groups that one process can hold.',
    );
  }
  const d = { ...LOAD_DEFAULTS, ...(preset ?? {}) };
  const connections = o.connections ?? d.connections;
  const groups = o.groups ?? d.groups;
  const rate = o.rate ?? d.rate;
  const rampUpMs = o.rampUp ?? d.rampUpMs;
  const durationMs = o.duration ?? d.durationMs;
  const httpRate = o.httpRate ?? d.httpRate;
  const heartbeatMs = o.heartbeat ?? d.heartbeatMs;
  const problems: string[] = [];
  if (o.groupsPerConnection > groups) {
    problems.push(`--groups-per-connection ${o.groupsPerConnection} is more than --groups ${groups}`);
  }
  if (o.groupsPerConnection > 1000) problems.push('--groups-per-connection: at most 1000');
  if (o.groupBatch > 100_000) problems.push('--group-batch: at most 100000 groups per request');
  if (!/^[\w.:-]{1,100}$/.test(o.groupPrefix)) {
    problems.push('--group-prefix: letters, digits, _ . : - only (it becomes part of every group id)');
  }
  const protocol = o.chat ? await loadChatFile(o.chat, io) : referenceProtocol();
  if (o.createGroups && !protocol.create && !protocol.batch) {
    problems.push(`${o.chat}: groups: give create: or batch: (or run with --no-create-groups)`);
  }
  const http = httpRate > 0 ? httpSpec(o, httpRate, problems) : undefined;
  if (problems.length > 0) {
    throw new UserError(
      problems.length === 1 ? problems[0] : `Invalid options:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
    );
  }

  const ctx = await prepareRun({
    url,
    o,
    io,
    maxSessions: connections,
    targetEnv: embeddedTargetEnv(o, io, d.payloadChars),
  });
  try {
    const t = ctx.target;
    let scenario = t.scenario;
    if (!o.scenario && !o.chat) scenario = referenceSession(t.vars.baseUrl, sessionUrl(url, t), o.header);
    if (scenario.connect.transport !== 'ws') {
      throw new UserError(
        'holdline load sends chat messages: it needs a WebSocket (ws:// or wss://), not Server-Sent Events',
        'Give a ws:// URL (or a scenario whose connect.url is one); for SSE fan-out use holdline broadcast.',
      );
    }
    const settings: LoadSettings = {
      connections,
      groups,
      groupPrefix: o.groupPrefix,
      groupsPerConnection: o.groupsPerConnection,
      createGroups: o.createGroups,
      groupBatch: o.groupBatch,
      groupConcurrency: o.groupConcurrency,
      rate,
      payloadChars: o.payload ?? d.payloadChars,
      durationMs,
      messageTimeoutMs: o.messageTimeout,
      rampUpMs,
      joinGraceMs: LOAD_DEFAULTS.joinGraceMs,
      protocol,
      http,
      healthUrl: o.targetHealth ?? (t.embedded && !o.chat ? '{{baseUrl}}/health' : undefined),
      compression: o.compression === true,
    };
    const heartbeat: HeartbeatSpec | undefined =
      heartbeatMs > 0 ? { intervalMs: heartbeatMs, kind: 'ping' } : undefined;
    const plan = new LoadPlan({
      settings,
      criteria: {
        minConnectionSuccess: o.minConnectionSuccess,
        minMessageSuccess: o.minMessageSuccess,
        maxP95Ms: o.maxP95,
        failOnCritical: !o.allowCritical,
      },
      step: {
        connectConcurrency: o.connectConcurrency,
        connectRate: o.connectRate,
        stepTimeoutMs: o.stepTimeout ?? rampUpMs + 30_000,
        heartbeat,
        scenario,
        scenarioModule: t.scenarioModule,
        localAddresses: o.localAddress,
      },
    });
    const text = new LoadTextReporter({ out: io.stdout, target: t.label, color: useColor(o, io) });
    const { reporters, signal, finish } = makeReporters('load', o, io, text);
    const result: RunResult<LoadVerdict> = await runPlan(plan, ctx.fleet, reporters, {
      redact: ctx.redact,
      info: {
        command: 'load',
        target: t.label,
        config: {
          url,
          ...o,
          preset: o.preset ?? null,
          settings: { ...settings, protocol: protocol.name },
        } as Record<string, unknown>,
        host: ctx.hostFacts,
      },
      pauseMs: 0,
      signal,
      finish,
      diagnose: (steps) => diagnose(steps, t),
      exitCode: (verdict, _steps, interrupted) => loadExitCode(verdict as LoadVerdict | null, interrupted),
    });
    return result.exitCode;
  } finally {
    await ctx.close();
  }
}

// ------------------------------------------------------------------ pieces

/** The reference target's session: a token for user load-<index>, then /ws?token=…. */
export function referenceSession(
  baseUrl: string,
  wsUrl: string,
  headers: Record<string, string> | undefined,
): ScenarioSpec {
  const sep = wsUrl.includes('?') ? '&' : '?';
  return {
    name: 'load-reference',
    http: [
      {
        name: 'token',
        method: 'POST',
        url: `${baseUrl}/auth/token`,
        body: { userId: 'load-{{index}}' },
        capture: { token: 'token' },
      },
    ],
    connect: {
      transport: 'ws',
      url: `${wsUrl}${sep}token={{token | urlencode}}`,
      ...(headers ? { headers } : {}),
    },
  };
}

function sessionUrl(
  url: string | undefined,
  t: { vars: Record<string, string>; scenario: ScenarioSpec },
): string {
  if (url) return t.scenario.connect.url; // the URL given, normalised to ws(s)://
  return `${t.vars.wsBaseUrl}/ws`;
}

/** Settings for the built-in target: messages must fit, compression offered, test faults passed on. */
function embeddedTargetEnv(o: LoadOptions, io: CliIO, defaultPayload: number): Record<string, string> {
  const env: Record<string, string> = {};
  const payload = o.payload ?? defaultPayload;
  env.WS_MAX_MESSAGE_SIZE = String(Math.max(1024 * 1024, payload * 2 + 64 * 1024));
  if (o.compression) env.PER_MESSAGE_DEFLATE = '1';
  // Test-only fault options of the reference target (docs/target.md) reach the embedded one.
  for (const [k, v] of Object.entries(io.env)) if (k.startsWith('FAULT_') && v !== undefined) env[k] = v;
  return env;
}

function httpSpec(o: LoadOptions, rate: number, problems: string[]): LoadSettings['http'] {
  const line = parseRequestLine(o.httpRequest);
  if (!line) {
    problems.push(
      `--http-request: expected 'METHOD URL' such as 'GET {{baseUrl}}/health', got '${o.httpRequest}'`,
    );
    return undefined;
  }
  const headers: Record<string, string> = { ...(o.httpHeader ?? {}) };
  // The reference protocol's setup captures a token; its API wants it.
  if (!o.chat && !Object.keys(headers).some((h) => h.toLowerCase() === 'authorization')) {
    headers.Authorization = 'Bearer {{token}}';
  }
  let body: unknown = o.httpBody;
  if (typeof body === 'string') {
    try {
      body = JSON.parse(body);
    } catch {
      // a text body
    }
  }
  return {
    rate,
    request: { method: line[0], url: line[1], headers, ...(body !== undefined ? { body } : {}) },
    timeoutMs: LOAD_DEFAULTS.httpTimeoutMs,
  };
}

async function loadChatFile(file: string, io: CliIO): Promise<ChatProtocol> {
  const abs = path.resolve(io.cwd, file);
  let text: string;
  try {
    text = await readFile(abs, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UserError(
      code === 'ENOENT' ? `Chat protocol file not found: ${file}` : `Cannot read ${file}: ${code}`,
    );
  }
  let data: unknown;
  try {
    data = abs.toLowerCase().endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new UserError(
      `${file}: not valid ${abs.endsWith('.json') ? 'JSON' : 'YAML'}: ${(err as Error).message}`,
    );
  }
  const r = parseChatProtocol(data, path.basename(file));
  if (!r.ok) {
    const n = r.problems.length;
    throw new UserError(
      `Invalid chat protocol ${file} (${n} problem${n === 1 ? '' : 's'}):\n${r.problems
        .map((p) => `  - ${file}: ${p.path ? `${p.path}: ` : ''}${p.message}`)
        .join('\n')}`,
      'Fields: name, setup, groups (create, batch), join, message, error. See docs/load.md.',
    );
  }
  return r.protocol;
}

/** A rate: a non-negative number, `1.5`, `2k`. */
export function parseRate(raw: string): number {
  const m = /^(\d+(?:\.\d+)?)(k?)$/i.exec(raw.trim().replace(/[_,]/g, ''));
  const n = m ? Number(m[1]) * (m[2] ? 1000 : 1) : NaN;
  if (!Number.isFinite(n) || n < 0 || n > 1_000_000) {
    throw new InvalidArgumentError('Expected a rate per second such as 500, 2.5 or 2k (0 for none).');
  }
  return n;
}

function parseDurationOrZero(raw: string): number {
  return raw.trim() === '0' ? 0 : parseDuration(raw);
}
