import { z } from 'zod';
import type {
  ConnectSpec,
  ExpectSpec,
  HttpStepSpec,
  ScenarioSpec,
  SessionMessagesSpec,
  SessionSpec,
} from '../contract.js';
import { compile } from './template.js';

// The scenario file format (YAML, JSON, or an object exported by a module), its validation and
// its mapping to ScenarioSpec. Every object is strict, so a misspelt field is reported rather than
// ignored, and every problem is collected (zod's type checks plus the rules between fields below),
// never just the first. Templates, JSON paths and variables are checked by cli/load-scenario.ts.
// Longer than most files on purpose: the format's types, schema, mapping and rules change together.

/** The file format, as written by users (and by scenario modules, which can type-check with it). */
export interface ScenarioFile {
  name?: string;
  /** Constant variables; `{{baseUrl}}` and `{{wsBaseUrl}}` are supplied from the target URL. */
  vars?: Record<string, string | number | boolean>;
  http?: HttpStepFile[];
  connect: ConnectFile;
  /** What each session does once open: its lifetime and the messages it sends. */
  session?: SessionFile;
}

export interface HttpStepFile {
  name: string;
  /** `POST {{baseUrl}}/auth/token`, or a bare URL for GET; or use `method` + `url`. */
  request?: string;
  method?: string;
  url?: string;
  headers?: Record<string, string | number | boolean>;
  /** A JSON body; its string leaves are templates. */
  json?: unknown;
  /** A text body (template), sent as is. */
  body?: string;
  /** Accepted status codes (default: any 2xx). */
  expect?: number | number[];
  /** Variable name → JSON path into the response (`token`, `data.chat.id`, `items[0].id`). */
  capture?: Record<string, string>;
  timeout?: Duration;
}

export interface ConnectFile {
  /** Default: from the URL: ws(s):// or {{wsBaseUrl}} → ws, http(s):// or {{baseUrl}} → sse. */
  transport?: 'ws' | 'sse';
  url: string;
  headers?: Record<string, string | number | boolean>;
  protocols?: string | string[];
  /** First messages; an object is sent as its JSON text. */
  send?: string | object | (string | object)[];
  expect?: {
    contains?: string;
    jsonPath?: string;
    equals?: string | number | boolean | null;
    timeout?: Duration;
  };
}

export interface SessionFile {
  /** Each session closes this long after it opened, and counts as successful. */
  duration?: Duration;
  /** One entry (a list of one is accepted too; more may come later). */
  messages?: SessionMessagesFile | [SessionMessagesFile];
}

export interface SessionMessagesFile {
  /** A template, or an object sent as its JSON text. */
  send: string | object;
  /** Open loop: one message every interval, the first at `start`. */
  every?: Duration;
  /** When the first one goes, after the open (default 0: at the open). */
  start?: Duration;
  /** How many (default: until the session ends; 1 without `every` and `await`). */
  count?: number;
  /** `reply`: closed loop, the next message waits for the reply to the previous one. */
  await?: 'reply' | 'none';
}

/** `500ms`, `5s`, `2m`, `1h`, `1m30s`; a number is milliseconds. */
export type Duration = string | number;

export const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'] as const;

// ---------------------------------------------------------------- field schemas

/** "expected X, got Y" for type mismatches; "required: X" when absent. */
function expected(what: string) {
  return (iss: { code?: string; input?: unknown }): string | undefined => {
    const mine =
      iss.code === undefined || ['invalid_type', 'invalid_union', 'invalid_value'].includes(iss.code);
    if (!mine) return undefined;
    return iss.input === undefined ? `required: ${what}` : `expected ${what}, got ${describe(iss.input)}`;
  };
}

export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return `"${v.length > 40 ? `${v.slice(0, 40)}…` : v}"`;
  return `${typeof v} ${String(v)}`;
}

const text = (what: string) => z.string({ error: expected(what) });
const scalar = (what: string) =>
  z.union([z.string(), z.number(), z.boolean()], { error: expected(what) }).transform((v) => String(v));
const stringMap = (what: string) =>
  z.record(z.string(), scalar(what), { error: expected('a map of name: value') });
/** A list, where one item may be written alone (`expect: 200`, `send: hello`). */
const listOf = <T extends z.ZodType>(item: T, what: string, single: (v: unknown) => boolean) =>
  z.preprocess(
    (v) => (single(v) ? [v] : v),
    z.array(item, { error: expected(what) }).min(1, { error: `expected ${what}, got an empty list` }),
  );

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Milliseconds, or null when `raw` is not a duration. */
export function parseDuration(raw: string | number): number | null {
  if (typeof raw === 'number') return Number.isFinite(raw) && raw >= 0 ? Math.round(raw) : null;
  const s = raw.trim();
  if (/^\d+(\.\d+)?$/.test(s)) return Math.round(Number(s));
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/y;
  let total = 0;
  let at = 0;
  for (let m = re.exec(s); m; m = re.exec(s)) {
    total += Number(m[1]) * UNITS[m[2]];
    at = re.lastIndex;
  }
  return at > 0 && at === s.length ? Math.round(total) : null;
}

const DURATION_HELP = 'a duration such as 500ms, 5s or 2m (a number is milliseconds)';
const duration = z.union([z.number(), z.string()], { error: expected(DURATION_HELP) }).transform((v, ctx) => {
  const ms = parseDuration(v);
  if (ms === null) {
    ctx.issues.push({ code: 'custom', message: `expected ${DURATION_HELP}, got ${describe(v)}`, input: v });
    return z.NEVER;
  }
  return ms;
});

const status = z
  .number({ error: expected('a status code such as 200') })
  .int({ error: 'expected a whole status code such as 200' })
  .min(100, { error: 'expected a status code between 100 and 599' })
  .max(599, { error: 'expected a status code between 100 and 599' });

const method = z.preprocess(
  (v) => (typeof v === 'string' ? v.toUpperCase() : v),
  z.enum(METHODS, { error: expected(`an HTTP method (${METHODS.join(', ')})`) }),
);

const message = z.union([z.string(), z.record(z.string(), z.unknown()), z.array(z.unknown())], {
  error: expected('a message: text, or an object sent as JSON'),
});

const STEP = {
  name: text('a step name such as token'),
  request: text('"METHOD URL" such as "POST {{baseUrl}}/auth/token"').optional(),
  method: method.optional(),
  url: text('a URL such as {{baseUrl}}/auth/token').optional(),
  headers: stringMap('a header value').optional(),
  json: z.unknown().optional(),
  body: text('a text body').optional(),
  expect: listOf(
    status,
    'a status code such as 200, or a list such as [200, 201]',
    (v) => typeof v === 'number',
  ).optional(),
  capture: z
    .record(z.string(), text('a JSON path such as token or data.chat.id'), {
      error: expected('a map of variable: JSON path, such as { token: token }'),
    })
    .optional(),
  timeout: duration.optional(),
};

const EXPECT = {
  contains: text('text the first message contains').optional(),
  jsonPath: text('a JSON path into the first message, such as type').optional(),
  equals: z
    .union([z.string(), z.number(), z.boolean(), z.null()], {
      error: expected('a string, number, boolean or null'),
    })
    .optional(),
  timeout: duration.optional(),
};

const CONNECT = {
  transport: z.enum(['ws', 'sse'], { error: expected('ws or sse') }).optional(),
  url: text('the connection URL, such as {{wsBaseUrl}}/ws?token={{token}}'),
  headers: stringMap('a header value').optional(),
  protocols: listOf(
    text('a subprotocol name'),
    'a subprotocol or a list of them',
    (v) => typeof v === 'string',
  ).optional(),
  send: listOf(
    message,
    'a message or a list of messages',
    (v) => typeof v === 'string' || isRecord(v),
  ).optional(),
  expect: z
    .strictObject(EXPECT, { error: expected('{ contains: … } or { jsonPath: …, equals: … }') })
    .optional(),
};

const MESSAGES = {
  send: message,
  every: duration.optional(),
  start: duration.optional(),
  count: z
    .number({ error: expected('a count such as 3') })
    .int({ error: 'expected a whole number such as 3' })
    .min(1, { error: 'expected at least 1' })
    .optional(),
  await: z.enum(['reply', 'none'], { error: expected('reply (closed loop) or none') }).optional(),
};

const messagesEntry = z.strictObject(MESSAGES, {
  error: expected('{ send: …, every: …, count: … }'),
});

const SESSION = {
  duration: duration.optional(),
  // A list of one entry is that entry; checkSession reports lists of any other length.
  messages: z.preprocess(
    (v) => (Array.isArray(v) ? (v.length === 1 ? v[0] : undefined) : v),
    messagesEntry.optional(),
  ),
};

const TOP = {
  name: text('a scenario name').optional(),
  vars: z
    .record(z.string(), scalar('a constant value'), { error: expected('a map of name: value') })
    .optional(),
  http: z
    .array(z.strictObject(STEP, { error: expected('a step: { name, request, … }') }), {
      error: expected('a list of steps'),
    })
    .optional(),
  connect: z.strictObject(CONNECT, { error: expected('the connection: { url: … }') }),
  session: z.strictObject(SESSION, { error: expected('{ duration: …, messages: { send: … } }') }).optional(),
};

export const scenarioFileSchema = z.strictObject(TOP, {
  error: expected('a scenario: an object with connect: { url: … } and optional vars and http'),
});
export type ParsedScenarioFile = z.output<typeof scenarioFileSchema>;

/** Field names allowed at a path pattern (`http[]`, `connect.expect`), for "unknown field" help. */
export const FIELDS: Record<string, string[]> = {
  '': Object.keys(TOP),
  'http[]': Object.keys(STEP),
  connect: Object.keys(CONNECT),
  'connect.expect': Object.keys(EXPECT),
  session: Object.keys(SESSION),
  'session.messages': Object.keys(MESSAGES),
};

// ---------------------------------------------------------------- mapping

/** `POST https://x/y` → ['POST', 'https://x/y']; a bare URL is a GET; null when malformed. */
export function parseRequestLine(line: string): [string, string] | null {
  const m = /^\s*(?:([A-Za-z]+)\s+)?(\S+)\s*$/.exec(line);
  if (!m) return null;
  const verb = (m[1] ?? 'GET').toUpperCase();
  return (METHODS as readonly string[]).includes(verb) ? [verb, m[2]] : null;
}

/** Which transport a connect URL template means, when the file does not say. */
export function inferTransport(url: string): 'ws' | 'sse' {
  const u = url.trimStart();
  if (/^https?:\/\//i.test(u) || /^\{\{\s*baseUrl\s*[|}]/.test(u)) return 'sse';
  return 'ws';
}

/** Maps a file that passed validation to the plain ScenarioSpec. */
export function toScenarioSpec(f: ParsedScenarioFile): ScenarioSpec {
  const spec: ScenarioSpec = { http: (f.http ?? []).map(toStep), connect: toConnect(f.connect) };
  if (f.vars !== undefined) spec.vars = f.vars;
  if (f.session !== undefined) spec.session = toSession(f.session);
  return f.name !== undefined ? { name: f.name, ...spec } : spec;
}

function toStep(s: NonNullable<ParsedScenarioFile['http']>[number]): HttpStepSpec {
  const [m, url] = s.request !== undefined ? parseRequestLine(s.request)! : [s.method ?? 'GET', s.url!];
  const step: HttpStepSpec = { name: s.name, method: m, url };
  if (s.headers !== undefined) step.headers = s.headers;
  if (s.json !== undefined) step.body = s.json;
  else if (s.body !== undefined) step.body = s.body;
  if (s.expect !== undefined) step.expectStatus = s.expect;
  if (s.capture !== undefined) step.capture = s.capture;
  if (s.timeout !== undefined) step.timeoutMs = s.timeout;
  return step;
}

function toConnect(c: ParsedScenarioFile['connect']): ConnectSpec {
  const out: ConnectSpec = { transport: c.transport ?? inferTransport(c.url), url: c.url };
  if (c.headers !== undefined) out.headers = c.headers;
  if (c.protocols !== undefined) out.protocols = c.protocols;
  if (c.send !== undefined) out.send = c.send.map((m) => (typeof m === 'string' ? m : JSON.stringify(m)));
  if (c.expect !== undefined) {
    const e: ExpectSpec = {};
    if (c.expect.contains !== undefined) e.contains = c.expect.contains;
    if (c.expect.jsonPath !== undefined) e.jsonPath = c.expect.jsonPath;
    if (c.expect.equals !== undefined) e.equals = c.expect.equals;
    if (c.expect.timeout !== undefined) e.timeoutMs = c.expect.timeout;
    out.expect = e;
  }
  return out;
}

function toSession(f: NonNullable<ParsedScenarioFile['session']>): SessionSpec {
  const out: SessionSpec = {};
  if (f.duration !== undefined) out.durationMs = f.duration;
  const m = f.messages;
  if (m !== undefined) {
    const msg: SessionMessagesSpec = { send: typeof m.send === 'string' ? m.send : JSON.stringify(m.send) };
    if (m.every !== undefined) msg.everyMs = m.every;
    if (m.start !== undefined && m.start > 0) msg.startMs = m.start;
    if (m.count !== undefined) msg.count = m.count;
    if (m.await === 'reply') msg.await = true;
    out.messages = msg;
  }
  return out;
}

// ---------------------------------------------------------------- validation

export interface Problem {
  path: string; // `http[1].capture.token`; '' for the whole document
  message: string;
}

export type Validated = { ok: true; spec: ScenarioSpec } | { ok: false; problems: Problem[] };

/**
 * Validates a parsed file or module export against the format: types, unknown fields, and the
 * rules between fields of one object. Templates and variables are checked by the loader.
 */
export function validateScenario(data: unknown): Validated {
  const problems: Problem[] = [];
  const parsed = scenarioFileSchema.safeParse(data);
  if (!parsed.success) {
    for (const iss of parsed.error.issues) problems.push(...fromIssue(iss));
  }
  checkShape(data, (path, message) => problems.push({ path, message }));
  if (problems.length > 0 || !parsed.success)
    return { ok: false, problems: inDocumentOrder(dedupe(problems)) };
  return { ok: true, spec: toScenarioSpec(parsed.data) };
}

function fromIssue(iss: z.core.$ZodIssue): Problem[] {
  const path = formatPath(iss.path);
  if (iss.code === 'unrecognized_keys') {
    const allowed = FIELDS[path.replace(/\[\d+\]/g, '[]')] ?? [];
    return iss.keys.map((k) => {
      const near = nearest(k, allowed);
      const hint = near ? `did you mean ${near}? ` : '';
      return {
        path: formatPath([...iss.path, k]),
        message: `unknown field; ${hint}expected one of: ${allowed.join(', ')}`,
      };
    });
  }
  return [{ path, message: iss.message }];
}

/** `['http', 1, 'capture', 'token']` → `http[1].capture.token`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(String(p))) out += out ? `.${String(p)}` : String(p);
    else out += `[${JSON.stringify(String(p))}]`;
  }
  return out;
}

/** Groups problems as the file reads: name, vars, http[0], http[1], …, connect (stable inside). */
export function inDocumentOrder(ps: Problem[]): Problem[] {
  const rank = (p: string): number => {
    const top = FIELDS[''].indexOf(/^[A-Za-z_]+/.exec(p)?.[0] ?? '');
    const step = /^http\[(\d+)\]/.exec(p);
    return (top < 0 ? -1 : top) * 1e6 + (step ? Number(step[1]) + 1 : 0);
  };
  return ps
    .map((p, i) => ({ p, i, r: rank(p.path) }))
    .sort((a, b) => a.r - b.r || a.i - b.i)
    .map((x) => x.p);
}

function dedupe(ps: Problem[]): Problem[] {
  const seen = new Set<string>();
  return ps.filter((p) => {
    const k = `${p.path}\0${p.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** The candidate closest to a misspelt `name` (case-insensitive, 1 edit per 3 letters, at most 2). */
export function nearest(name: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestD = Math.min(2, Math.max(1, Math.floor(name.length / 3))) + 1;
  for (const c of candidates) {
    const d = editDistance(c.toLowerCase(), name.toLowerCase());
    if (d < bestD && c !== name) [best, bestD] = [c, d];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length];
}

// ---------------------------------------------------------------- rules between fields

const STEP_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;
/** Names the engine uses in its own codes (`step_connect_template`, `step_setup_error`). */
const RESERVED_STEPS = ['connect', 'setup'];

type Add = (path: string, message: string) => void;

/** Checks that need more than one field; reads the raw data defensively (types may be wrong). */
function checkShape(raw: unknown, add: Add): void {
  if (!isRecord(raw)) return;
  const names = new Set<string>();
  if (Array.isArray(raw.http)) {
    raw.http.forEach((step, i) => {
      if (isRecord(step)) checkStep(step, (...rest) => formatPath(['http', i, ...rest]), names, add);
    });
  }
  if (isRecord(raw.connect)) checkConnect(raw.connect, add);
  if (isRecord(raw.session)) checkSession(raw.session, raw.connect, add);
}

function checkStep(
  step: Record<string, unknown>,
  at: (...rest: (string | number)[]) => string,
  names: Set<string>,
  add: Add,
): void {
  const name = step.name;
  if (typeof name === 'string') {
    if (!STEP_NAME.test(name)) {
      add(
        at('name'),
        'expected letters, digits, _ or - (the name becomes part of codes such as step_token_500)',
      );
    } else if (RESERVED_STEPS.includes(name)) {
      add(at('name'), `"${name}" is reserved; choose another step name`);
    } else if (names.has(name)) {
      add(at('name'), `duplicate step name "${name}"; each step needs its own name`);
    }
    names.add(name);
  }
  if (step.request !== undefined) {
    if (step.method !== undefined || step.url !== undefined) {
      add(at('request'), 'give either request: "METHOD URL" or method: and url:, not both');
    }
    if (typeof step.request === 'string' && parseRequestLine(step.request) === null) {
      add(
        at('request'),
        `expected "METHOD URL" such as "POST {{baseUrl}}/auth/token" (methods: ${METHODS.join(', ')}), got ${describe(step.request)}`,
      );
    }
  } else if (step.url === undefined) {
    add(at('url'), 'required: the URL to call (or request: "POST {{baseUrl}}/path")');
  }
  if (step.json !== undefined && step.body !== undefined) {
    add(at('body'), 'give either json: (sent as JSON) or body: (sent as text), not both');
  }
}

function checkConnect(c: Record<string, unknown>, add: Add): void {
  if (c.transport === 'sse' && typeof c.url === 'string' && /^wss?:\/\//i.test(c.url.trim())) {
    add('connect.url', 'transport sse needs an http:// or https:// URL (or one starting with {{baseUrl}})');
  }
  const e = c.expect;
  if (isRecord(e)) {
    if (e.contains === undefined && e.jsonPath === undefined) {
      add('connect.expect', 'expected contains: (text) or jsonPath: (with an optional equals:)');
    }
    if (e.equals !== undefined && e.jsonPath === undefined) {
      add('connect.expect.equals', 'equals: needs jsonPath: (the value to compare)');
    }
  }
}

function checkSession(sess: Record<string, unknown>, connect: unknown, add: Add): void {
  if (sess.duration === undefined && sess.messages === undefined) {
    add('session', 'expected duration: (how long each session stays open) or messages: (what it sends)');
  }
  if (sess.duration !== undefined && parseDuration(sess.duration as string | number) === 0) {
    add('session.duration', 'expected a duration above 0 (leave it out to keep sessions open to the end)');
  }
  let m = sess.messages;
  const at = 'session.messages';
  if (Array.isArray(m)) {
    if (m.length !== 1) {
      add(at, `expected one messages entry, got ${m.length === 0 ? 'an empty list' : `${m.length}`}`);
      return;
    }
    m = m[0];
  }
  if (!isRecord(m)) return;
  const sse =
    isRecord(connect) &&
    (connect.transport === 'sse' ||
      (connect.transport === undefined &&
        typeof connect.url === 'string' &&
        inferTransport(connect.url) === 'sse'));
  if (sse) add(at, 'messages need a WebSocket connection; an SSE stream only receives');
  if (typeof m.send === 'string') {
    try {
      compile(m.send);
    } catch (err) {
      add(`${at}.send`, (err as Error).message);
    }
  }
  const every = m.every === undefined ? undefined : parseDuration(m.every as string | number);
  if (every === 0) add(`${at}.every`, 'expected an interval above 0, such as 10s');
  const closed = m.await === 'reply';
  if (every === undefined && !closed && typeof m.count === 'number' && m.count > 1) {
    add(
      `${at}.every`,
      `required to send ${m.count} messages: give every: (open loop) or await: reply (closed loop)`,
    );
  }
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
