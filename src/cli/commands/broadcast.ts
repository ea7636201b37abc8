import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Command, Option } from 'commander';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { HttpStepSpec, RunResult, ScenarioSpec } from '../../contract.js';
import { UserError } from '../../errors.js';
import { decode } from '../../metrics/histogram.js';
import {
  BROADCAST_DEFAULTS,
  BroadcastPlan,
  CODE_ALPHABET,
  makeCodes,
  type BroadcastSettings,
  type BroadcastVerdict,
  type MatchSpec,
  type PublishSpec,
} from '../../plans/broadcast.js';
import { diagnose } from '../../plans/diagnose.js';
import { BroadcastProgress, BroadcastTextReporter } from '../../report/broadcast-text.js';
import { redactUrl } from '../../report/redact.js';
import { runPlan } from '../../run.js';
import { compilePath } from '../../scenario/json-path.js';
import {
  METHODS,
  parseDuration as fileDuration,
  parseRequestLine,
  validateScenario,
} from '../../scenario/schema.js';
import { BUILTIN_VARS, compile, templateVars } from '../../scenario/template.js';
import { addCommonOptions, makeReporters, useColor, type CommonOptions } from '../common.js';
import { prepareRun } from '../prepare.js';
import { collectHeader, parseCount, parseDuration, parseFraction } from '../parse.js';
import type { CliIO } from '../io.js';

// `holdline broadcast [CONNECTIONS] [CODES] [DURATION]`: flags and the scenario file's optional
// `broadcast:` section → one BroadcastPlan step → text report, JSON result, exit code. A little
// over the usual size: the `broadcast:` file section is validated here, since the shared scenario
// loader does not take plan-specific sections yet.

export interface BroadcastOptions extends CommonOptions {
  connections?: number;
  codes?: number;
  duration?: number;
  transport?: 'sse' | 'ws';
  subscribeUrl?: string;
  subscribeMessage?: string;
  subscribeAck?: string;
  publishUrl?: string;
  publishMethod?: string;
  publishHeader?: Record<string, string>;
  publishBody?: string;
  match?: string;
  codePrefix?: string;
  collect: number;
  reconnect?: boolean;
  stepTimeout: number;
  publishTimeout: number;
  minDelivery?: number;
  minConnected?: number;
  maxErrorRate?: number;
  maxP99?: number;
  failOn: 'issues' | 'warning' | 'never';
}

export function broadcastCommand(io: CliIO): Command {
  const d = BROADCAST_DEFAULTS;
  const cmd = new Command('broadcast')
    .description(
      'fan-out: does every connected SSE or WebSocket client receive every published code, and how fast',
    )
    .argument('[connections]', `clients to connect (default ${d.connections})`, parseCount)
    .argument('[codes]', `codes to publish (default ${d.codes})`, parseCount)
    .argument('[duration]', `time the codes are spread over (default ${d.durationMs / 1000}s)`, parseDuration)
    .option('--connections <n>', 'the same as [connections]', parseCount)
    .option('--codes <n>', 'the same as [codes]', parseCount)
    .option('--duration <duration>', 'the same as [duration]', parseDuration)
    .addOption(
      new Option('--transport <kind>', "how clients subscribe (default sse, or the scenario's)").choices([
        'sse',
        'ws',
      ]),
    )
    .option('--subscribe-url <url>', 'SSE (http/https) or WebSocket (ws/wss) URL, templated per client')
    .option('--subscribe-message <template>', 'frame a WebSocket client sends once open (e.g. a subscribe)')
    .option(
      '--subscribe-ack <text>',
      'a client counts as subscribed once a message containing this arrives (e.g. subscribed)',
    )
    .option('--publish-url <url>', 'HTTP endpoint that publishes one code (templated: {{code}})')
    .option('--publish-method <method>', 'method of the publish request (default POST)')
    .option('--publish-header <header>', "publish request header 'Name: value' (repeatable)", collectHeader)
    .option('--publish-body <template>', 'publish request body (default {"code":"{{code}}"})')
    .option('--match <how>', 'find a code in a message: substring (default), or json:<path> into its data')
    .option('--code-prefix <text>', `start of every code (default ${d.codePrefix})`)
    .addOption(
      new Option('--collect <duration>', 'wait for receipts after the last publish')
        .argParser(parseDuration)
        .default(d.collectMs, '5s'),
    )
    .option('--reconnect', 'SSE: reopen a dropped stream with Last-Event-ID, as browsers do')
    .addOption(
      new Option('--step-timeout <duration>', 'deadline of the connect phase')
        .argParser(parseDuration)
        .default(d.stepTimeoutMs, '60s'),
    )
    .addOption(
      new Option('--publish-timeout <duration>', 'deadline of one publish request')
        .argParser(parseDuration)
        .default(d.publishTimeoutMs, '10s'),
    )
    .option('--min-delivery <fraction>', 'exit 1 when the delivery rate is lower, e.g. 0.99', parseFraction)
    .option('--min-connected <fraction>', 'exit 1 when fewer clients connected, e.g. 0.95', parseFraction)
    .option('--max-error-rate <fraction>', 'exit 1 when the error rate is higher, e.g. 0.01', parseFraction)
    .option(
      '--max-p99 <duration>',
      'exit 1 when the delivery latency p99 is higher, e.g. 500ms',
      parseDuration,
    )
    .addOption(
      new Option('--fail-on <grade>', 'exit 1 from this verdict on')
        .choices(['issues', 'warning', 'never'])
        .default('issues'),
    );
  addCommonOptions(cmd, { connectConcurrency: d.connectConcurrency });
  cmd.addHelpText(
    'after',
    `
Verdict: GOOD (more than 95% connected, every code reached every client, under 1% errors),
WARNING (80–95% connected, some codes missing, duplicates, or 1–5% errors), ISSUES (under 80%
connected, under 90% of deliveries, 5% errors or more). Exit 1 from --fail-on or an unmet threshold.

-H/--header headers go with every subscribe request (the SSE GET or the WebSocket upgrade).
Without --subscribe-url the built-in reference target is started and subscribed to over /events
(sse) or /ws (ws); codes are published with POST /codes.`,
  );
  cmd.action(
    async (
      connections: number | undefined,
      codes: number | undefined,
      duration: number | undefined,
      o: BroadcastOptions,
    ) => {
      io.exit.code = await runBroadcast([connections, codes, duration], o, io);
    },
  );
  return cmd;
}

export async function runBroadcast(
  positional: [number?, number?, number?],
  o: BroadcastOptions,
  io: CliIO,
): Promise<number> {
  const d = BROADCAST_DEFAULTS;
  const connections = both('connections', positional[0], o.connections) ?? d.connections;
  const codes = both('codes', positional[1], o.codes) ?? d.codes;
  const durationMs = both('duration', positional[2], o.duration) ?? d.durationMs;
  if (durationMs <= 0) throw new UserError('--duration must be longer than 0.');
  if (connections * codes > 50_000_000) {
    throw new UserError(
      `${connections} clients × ${codes} codes is more than 50 million (client, code) pairs to track.`,
      'Use fewer codes or clients per run.',
    );
  }
  const file = o.scenario ? await readBroadcastFile(o.scenario, io) : null;
  const section = file?.section ?? null;
  const codePrefix = o.codePrefix ?? section?.codePrefix ?? d.codePrefix;
  if (!/^[\x21-\x7e]{1,32}$/.test(codePrefix))
    throw new UserError(
      `--code-prefix must be 1 to 32 printable ASCII characters, got ${JSON.stringify(codePrefix)}.`,
    );
  const match = parseMatch(o.match ?? section?.match ?? 'substring');
  const external = o.subscribeUrl !== undefined;
  if (external) checkSubscribeUrl(o.subscribeUrl!);
  const publishUrl = o.publishUrl ?? section?.publish?.url;
  if (external && publishUrl === undefined) {
    throw new UserError(
      '--subscribe-url needs --publish-url: the HTTP endpoint that publishes a code.',
      'For example --publish-url \'https://api.example.com/codes\' --publish-body \'{"code":"{{code}}"}\'.',
    );
  }

  // The subscription: the scenario file's (loaded below by the shared loader when it has no
  // broadcast: section), the URL given, or the reference target's.
  let chosen: ScenarioSpec | null = null;
  if (file) chosen = file.scenario;
  else if (external) chosen = directSubscribe(o);
  else chosen = referenceSubscribe(o.transport ?? 'sse');
  const publish = publishSpec(o, section?.publish ?? null, publishUrl, o.publishTimeout);
  if (chosen) checkTemplates(publish, chosen, io); // before a target is started
  const ctx = await prepareRun({
    url: external ? originOf(o.subscribeUrl!) : undefined,
    o: { ...o, scenario: file && !file.scenario ? o.scenario : undefined },
    io,
    maxSessions: connections,
    transport: chosen?.connect.transport,
    sse: { reconnect: o.reconnect === true },
  });
  try {
    const scenario = chosen ?? ctx.target.scenario;
    if (file && o.transport && o.transport !== scenario.connect.transport) {
      throw new UserError(
        `--transport ${o.transport} conflicts with the scenario's connect.transport ${scenario.connect.transport}.`,
      );
    }
    if (!chosen) checkTemplates(publish, scenario, io);
    const settings: BroadcastSettings = {
      codes: makeCodes(codes, codePrefix, (n) => randomBytes(n)),
      codePrefix,
      codeAlphabet: CODE_ALPHABET,
      durationMs,
      collectMs: o.collect,
      publish,
      match,
      listLimit: d.listLimit,
    };
    const plan = new BroadcastPlan({
      sessions: connections,
      connectConcurrency: o.connectConcurrency,
      connectRate: o.connectRate,
      stepTimeoutMs: o.stepTimeout,
      scenario,
      scenarioModule: ctx.target.scenarioModule,
      localAddresses: o.localAddress,
      settings,
      thresholds: {
        minDelivery: o.minDelivery,
        minConnected: o.minConnected,
        maxErrorRate: o.maxErrorRate,
        maxP99Ms: o.maxP99,
        failOn: o.failOn,
      },
    });
    const label = external ? ctx.redact.url(o.subscribeUrl!) : ctx.target.label;
    const text = new BroadcastTextReporter({ out: io.stdout, target: label, color: useColor(o, io) });
    const { reporters, signal, finish } = makeReporters('broadcast', { ...o, progress: false }, io, text);
    if (o.progress) {
      reporters.push(
        new BroadcastProgress({
          out: io.stderr,
          isTTY: io.stderr.isTTY === true,
          count: (h) => decode(h).totalCount,
        }),
      );
    }
    const result: RunResult<BroadcastVerdict> = await runPlan(plan, ctx.fleet, reporters, {
      redact: ctx.redact,
      info: {
        command: 'broadcast',
        target: label,
        config: {
          ...o,
          connections,
          codes,
          durationMs,
          transport: scenario.connect.transport,
          publish,
          match,
          codePrefix,
        } as Record<string, unknown>,
        host: ctx.hostFacts,
      },
      pauseMs: 0,
      signal,
      finish,
      diagnose: (steps) => diagnose(steps, ctx.target),
      exitCode: (verdict, _steps, interrupted) => {
        if (interrupted) return 130;
        const v = verdict as BroadcastVerdict | null;
        return v && v.passed ? 0 : 1;
      },
    });
    return result.exitCode;
  } finally {
    await ctx.close();
  }
}

/** A positional argument and its flag: either, or both when they agree. */
function both(name: string, positional: number | undefined, flag: number | undefined): number | undefined {
  if (positional !== undefined && flag !== undefined && positional !== flag) {
    throw new UserError(`[${name}] ${positional} and --${name} ${flag} disagree: give one of them.`);
  }
  return positional ?? flag;
}

function parseMatch(raw: string): MatchSpec {
  if (raw === 'substring') return { kind: 'substring' };
  if (raw.startsWith('json:')) {
    const path = raw.slice(5);
    try {
      compilePath(path);
    } catch (err) {
      throw new UserError(`--match ${raw}: ${(err as Error).message}`);
    }
    return { kind: 'json', path };
  }
  throw new UserError(
    `--match must be substring or json:<path>, got ${JSON.stringify(raw)}.`,
    'For example --match json:code or --match json:$.data.code.',
  );
}

/** The scheme and host must be literal (they pick the transport and the preflight target). */
function checkSubscribeUrl(url: string): void {
  const head = url.split('{{')[0];
  const m = /^(https?|wss?):\/\/([^/?#]+)/i.exec(head);
  if (!m || head.length < m[0].length) {
    throw new UserError(
      `--subscribe-url must start with http://, https://, ws:// or wss:// and a literal host, got ${JSON.stringify(redactUrl(url))}.`,
    );
  }
}

/** `ws(s)://host:port/` of a subscribe URL, for the target resolution (host, port, baseUrl). */
function originOf(url: string): string {
  const u = new URL(/^(https?|wss?):\/\/[^/?#]+/i.exec(url)![0]);
  const secure = u.protocol === 'https:' || u.protocol === 'wss:';
  return `${secure ? 'wss' : 'ws'}://${u.host}/`;
}

/** A subscription to the URL given, with -H headers and an optional first message. */
function directSubscribe(o: BroadcastOptions): ScenarioSpec {
  return {
    name: 'subscribe',
    http: [],
    connect: {
      transport: o.transport ?? (/^https?:/i.test(o.subscribeUrl!) ? 'sse' : 'ws'),
      url: o.subscribeUrl!,
      ...(o.header ? { headers: o.header } : {}),
      ...(o.subscribeMessage !== undefined ? { send: [o.subscribeMessage] } : {}),
      ...(o.subscribeAck !== undefined ? { expect: { contains: o.subscribeAck } } : {}),
    },
  };
}

/** The reference target's subscription: a token per client, then /events or /ws + subscribe. */
function referenceSubscribe(transport: 'sse' | 'ws'): ScenarioSpec {
  const token: HttpStepSpec = {
    name: 'token',
    method: 'POST',
    url: '{{baseUrl}}/auth/token',
    body: { userId: 'user-{{index}}' },
    capture: { token: 'token' },
  };
  if (transport === 'sse') {
    return {
      name: 'reference-sse',
      http: [token],
      connect: {
        transport: 'sse',
        url: '{{baseUrl}}/events',
        headers: { Authorization: 'Bearer {{token}}' },
      },
    };
  }
  return {
    name: 'reference-ws',
    http: [token],
    connect: {
      transport: 'ws',
      url: '{{wsBaseUrl}}/ws?token={{token | urlencode}}',
      send: ['{"type":"subscribe","channel":"codes"}'],
      expect: { jsonPath: 'type', equals: 'subscribed' },
    },
  };
}

const DEFAULT_BODY = '{"code":"{{code}}"}';

/** Flags win over the file's `broadcast.publish`; without either, the reference target's POST /codes. */
function publishSpec(
  o: BroadcastOptions,
  file: FilePublish | null,
  url: string | undefined,
  timeoutMs: number,
): PublishSpec {
  const body = o.publishBody ?? file?.body ?? DEFAULT_BODY;
  const headers: Record<string, string> = { ...(file?.headers ?? {}), ...(o.publishHeader ?? {}) };
  if (url === undefined) {
    // The reference target: a publisher token, then POST /codes.
    return {
      http: [
        {
          name: 'publisher_token',
          method: 'POST',
          url: '{{baseUrl}}/auth/token',
          body: { userId: 'publisher' },
          capture: { token: 'token' },
        },
      ],
      method: o.publishMethod?.toUpperCase() ?? 'POST',
      url: '{{baseUrl}}/codes',
      headers: { Authorization: 'Bearer {{token}}', 'content-type': 'application/json', ...headers },
      body,
      timeoutMs,
    };
  }
  const method = (o.publishMethod ?? file?.method ?? 'POST').toUpperCase();
  if (!(METHODS as readonly string[]).includes(method))
    throw new UserError(`--publish-method must be one of ${METHODS.join(', ')}, got ${method}.`);
  const hasType = Object.keys(headers).some((k) => k.toLowerCase() === 'content-type');
  if (!hasType && method !== 'GET' && method !== 'HEAD') {
    headers['content-type'] = /^\s*[[{]/.test(body) ? 'application/json' : 'text/plain; charset=utf-8';
  }
  return {
    http: file?.http ?? [],
    method,
    url,
    headers,
    body: method === 'GET' || method === 'HEAD' ? null : body,
    timeoutMs: file?.timeoutMs ?? timeoutMs,
  };
}

/** Every publish template compiles and uses only variables it will have. */
function checkTemplates(p: PublishSpec, scenario: ScenarioSpec, io: CliIO): void {
  const known = new Set<string>([
    ...BUILTIN_VARS,
    'baseUrl',
    'wsBaseUrl',
    'wsUrl',
    'code',
    'codeIndex',
    ...Object.keys(scenario.vars ?? {}),
    ...p.http.flatMap((s) => Object.keys(s.capture ?? {})),
  ]);
  const problems: string[] = [];
  const check = (what: string, src: string): void => {
    try {
      for (const v of templateVars(compile(src))) {
        if (v.startsWith('env.')) {
          if (io.env[v.slice(4)] === undefined)
            problems.push(`${what}: environment variable ${v.slice(4)} is not set`);
        } else if (!known.has(v)) {
          problems.push(`${what}: unknown variable {{${v}}} (known: ${[...known].join(', ')})`);
        }
      }
    } catch (err) {
      problems.push(`${what}: ${(err as Error).message}`);
    }
  };
  check('publish URL', p.url);
  for (const [k, v] of Object.entries(p.headers)) check(`publish header ${k}`, v);
  if (p.body !== null) check('publish body', p.body);
  if (problems.length > 0)
    throw new UserError(`Invalid publish request:\n${problems.map((x) => `  - ${x}`).join('\n')}`);
}

// ---------------------------------------------------------------- the scenario file's `broadcast:` section

interface FilePublish {
  http?: HttpStepSpec[];
  method?: string;
  url?: string;
  headers?: Record<string, string>;
  body?: string;
  timeoutMs?: number;
}

interface FileSection {
  publish?: FilePublish;
  match?: string;
  codePrefix?: string;
}

const scalar = z.union([z.string(), z.number(), z.boolean()]).transform(String);
const SECTION = z.strictObject({
  publish: z
    .strictObject({
      http: z.array(z.unknown()).optional(),
      request: z.string().optional(),
      method: z.string().optional(),
      url: z.string().optional(),
      headers: z.record(z.string(), scalar).optional(),
      body: z.string().optional(),
      json: z.unknown().optional(),
      timeout: z.union([z.string(), z.number()]).optional(),
    })
    .optional(),
  match: z.string().optional(),
  codePrefix: z.string().optional(),
});

/**
 * The scenario file, when it has a `broadcast:` section (data files) or exports `broadcast`
 * (modules). `scenario` is null when the shared loader should load the scenario itself.
 */
async function readBroadcastFile(
  file: string,
  io: CliIO,
): Promise<{ scenario: ScenarioSpec | null; section: FileSection | null }> {
  const abs = resolve(io.cwd, file);
  const ext = extname(abs).toLowerCase();
  let data: unknown;
  if (ext === '.yaml' || ext === '.yml' || ext === '.json') {
    try {
      data = parseYaml((await readFile(abs, 'utf8')).replace(/^\uFEFF/, ''));
    } catch {
      return { scenario: null, section: null }; // the shared loader reports it precisely
    }
    if (!isRecord(data) || data.broadcast === undefined) return { scenario: null, section: null };
    const { broadcast, ...rest } = data;
    const problems: string[] = [];
    const section = parseSection(broadcast, problems);
    const v = validateScenario(rest);
    if (!v.ok) for (const p of v.problems) problems.push(p.path ? `${p.path}: ${p.message}` : p.message);
    if (problems.length > 0 || !v.ok) throw invalid(file, problems);
    return { scenario: v.spec, section };
  }
  if (['.js', '.mjs', '.cjs'].includes(ext)) {
    let mod: Record<string, unknown>;
    try {
      mod = (await import(pathToFileURL(abs).href)) as Record<string, unknown>;
    } catch {
      return { scenario: null, section: null };
    }
    if (mod.broadcast === undefined) return { scenario: null, section: null };
    const problems: string[] = [];
    const section = parseSection(mod.broadcast, problems);
    if (problems.length > 0) throw invalid(file, problems);
    return { scenario: null, section };
  }
  return { scenario: null, section: null };
}

function parseSection(raw: unknown, problems: string[]): FileSection | null {
  const r = SECTION.safeParse(raw);
  if (!r.success) {
    for (const iss of r.error.issues) problems.push(`broadcast.${iss.path.join('.')}: ${iss.message}`);
    return null;
  }
  const out: FileSection = {};
  if (r.data.match !== undefined) out.match = r.data.match;
  if (r.data.codePrefix !== undefined) out.codePrefix = r.data.codePrefix;
  const p = r.data.publish;
  if (!p) return out;
  const pub: FilePublish = {};
  if (p.request !== undefined) {
    const line = parseRequestLine(p.request);
    if (!line)
      problems.push(`broadcast.publish.request: expected "METHOD URL", got ${JSON.stringify(p.request)}`);
    else [pub.method, pub.url] = line;
  } else {
    if (p.method !== undefined) pub.method = p.method;
    if (p.url !== undefined) pub.url = p.url;
  }
  if (p.headers !== undefined) pub.headers = p.headers;
  if (p.json !== undefined && p.body !== undefined)
    problems.push('broadcast.publish.body: give either json: or body:, not both');
  if (p.json !== undefined) pub.body = JSON.stringify(p.json);
  else if (p.body !== undefined) pub.body = p.body;
  if (p.timeout !== undefined) {
    const ms = fileDuration(p.timeout);
    if (ms === null) problems.push(`broadcast.publish.timeout: expected a duration such as 10s`);
    else pub.timeoutMs = ms;
  }
  if (p.http !== undefined) {
    // The steps have the format of the top-level http: list; validate them as such.
    const v = validateScenario({ http: p.http, connect: { url: 'http://placeholder/' } });
    if (v.ok) pub.http = v.spec.http;
    else for (const x of v.problems) problems.push(`broadcast.publish.${x.path}: ${x.message}`);
  }
  out.publish = pub;
  return out;
}

function invalid(file: string, problems: string[]): UserError {
  const n = problems.length;
  return new UserError(
    `Invalid scenario ${file} (${n} problem${n === 1 ? '' : 's'}):\n${problems.map((p) => `  - ${file}: ${p}`).join('\n')}`,
    'The broadcast: section takes publish (http, request, headers, json or body, timeout), match and codePrefix.',
  );
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
