import { z } from 'zod';
import { compilePath } from '../scenario/json-path.js';
import {
  describe,
  formatPath,
  isRecord,
  METHODS,
  nearest,
  parseRequestLine,
  validateScenario,
  type Problem,
} from '../scenario/schema.js';
import { compile, isBuiltinVar } from '../scenario/template.js';
import type { ChatProtocol, MatchSpec, RequestSpec } from './load-model.js';

// The chat protocol file of `holdline load --chat FILE`: how another service creates groups,
// joins them, frames a message and shows a delivery. Validated strictly; every problem is
// reported at once with its path. `setup` steps use the scenario format's HTTP steps.

const match = z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()]), {
  error: 'expected a map of JSON path: value, such as { type: message }',
});
const path = z.string({ error: 'expected a JSON path such as id or data.id' });
const frame = z.string({
  error: 'expected the frame as text (a template), such as \'{"type":"join","group":"{{group}}"}\'',
});
const statusList = z.preprocess(
  (v) => (typeof v === 'number' ? [v] : v),
  z.array(z.number().int().min(100).max(599), { error: 'expected a status code or a list of them' }),
);

const REQUEST = {
  request: z.string({ error: 'expected "METHOD URL", such as "POST {{baseUrl}}/groups"' }),
  headers: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String)).optional(),
  json: z.unknown().optional(),
  body: z.string({ error: 'expected a text body (a template)' }).optional(),
  exists: statusList.optional(),
};

const FILE = z.strictObject({
  name: z.string().optional(),
  setup: z.array(z.unknown(), { error: 'expected a list of HTTP steps' }).optional(),
  groups: z
    .strictObject({
      create: z.strictObject(REQUEST).optional(),
      batch: z
        .strictObject({
          ...REQUEST,
          size: z.number({ error: 'expected groups per request' }).int().min(1).max(1_000_000).optional(),
          created: path.optional(),
        })
        .optional(),
    })
    .optional(),
  join: z.strictObject({
    send: frame,
    ack: z.strictObject({ match, group: path.optional() }).optional(),
  }),
  message: z.strictObject({
    send: frame,
    receive: z.strictObject({ match, id: path, ts: path.optional() }),
    ack: z.strictObject({ match, id: path.optional(), recipients: path.optional() }).optional(),
  }),
  error: z.strictObject({ match, code: path.optional(), detail: path.optional() }).optional(),
});

/** Variables each template may use, besides built-ins, baseUrl/wsBaseUrl/worker and setup captures. */
const FIELD_VARS: Record<string, string[]> = {
  'groups.create': ['group', 'index', 'prefix'],
  'groups.batch': ['names', 'count', 'first', 'last', 'index', 'prefix'],
};
const SUPPLIED = ['baseUrl', 'wsBaseUrl', 'wsUrl', 'worker'];

export type ChatFileResult = { ok: true; protocol: ChatProtocol } | { ok: false; problems: Problem[] };

/** Validates parsed YAML/JSON data as a chat protocol. */
export function parseChatProtocol(data: unknown, fallbackName: string): ChatFileResult {
  const problems: Problem[] = [];
  const add = (p: string, message: string): void => {
    problems.push({ path: p, message });
  };
  const parsed = FILE.safeParse(data);
  if (!parsed.success) {
    for (const iss of parsed.error.issues) {
      if (iss.code === 'unrecognized_keys') {
        for (const k of iss.keys) {
          const near = nearest(k, knownKeys(iss.path));
          add(formatPath([...iss.path, k]), `unknown field${near ? `; did you mean ${near}?` : ''}`);
        }
      } else {
        const got = valueAt(data, iss.path);
        add(
          formatPath(iss.path),
          got === undefined
            ? `required: ${iss.message.replace(/^expected /, '')}`
            : `${iss.message}, got ${describe(got)}`,
        );
      }
    }
  }
  // Setup steps: the scenario format's HTTP steps, checked by its own validator.
  let setup: ChatProtocol['setup'] = [];
  const rawSetup = isRecord(data) ? data.setup : undefined;
  const captures = new Set<string>();
  if (Array.isArray(rawSetup)) {
    const v = validateScenario({ http: rawSetup, connect: { url: 'ws://setup.invalid/' } });
    if (v.ok) setup = v.spec.http;
    else for (const p of v.problems) add(p.path.replace(/^http/, 'setup'), p.message);
    for (const s of rawSetup)
      if (isRecord(s) && isRecord(s.capture)) for (const k of Object.keys(s.capture)) captures.add(k);
  }
  if (!parsed.success) return { ok: false, problems };
  const f = parsed.data;
  const known = new Set([...SUPPLIED, ...captures]);
  const out: ChatProtocol = {
    name: f.name ?? fallbackName,
    setup,
    join: { send: f.join.send },
    message: { send: f.message.send, receive: f.message.receive },
  };
  if (f.groups?.create) out.create = request(f.groups.create, 'groups.create', known, add);
  if (f.groups?.batch) {
    const b = f.groups.batch;
    out.batch = { ...request(b, 'groups.batch', known, add), size: b.size ?? 1000 };
    if (b.created !== undefined) out.batch.created = b.created;
  }
  if (f.join.ack) out.join.ack = f.join.ack;
  if (f.message.ack) out.message.ack = f.message.ack;
  if (f.error) out.error = f.error;
  template('join.send', f.join.send, null, add);
  template('message.send', f.message.send, null, add);
  if (!/\{\{\s*id\s*[|}]/.test(f.message.send)) {
    add('message.send', 'the frame must carry {{id}}: receivers recognise each message by it');
  }
  const paths: [string, string | undefined][] = [
    ['message.receive.id', f.message.receive.id],
    ['message.receive.ts', f.message.receive.ts],
    ['join.ack.group', f.join.ack?.group],
    ['message.ack.id', f.message.ack?.id],
    ['message.ack.recipients', f.message.ack?.recipients],
    ['groups.batch.created', f.groups?.batch?.created],
    ['error.code', f.error?.code],
    ['error.detail', f.error?.detail],
  ];
  const matches: [string, MatchSpec | undefined][] = [
    ['message.receive.match', f.message.receive.match],
    ['join.ack.match', f.join.ack?.match],
    ['message.ack.match', f.message.ack?.match],
    ['error.match', f.error?.match],
  ];
  for (const [at, m] of matches) {
    if (!m) continue;
    if (Object.keys(m).length === 0) add(at, 'expected at least one JSON path: value');
    for (const k of Object.keys(m)) paths.push([`${at}[${JSON.stringify(k)}]`, k]);
  }
  for (const [at, p] of paths) {
    if (p === undefined) continue;
    try {
      compilePath(p);
    } catch (err) {
      add(at, (err as Error).message);
    }
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, protocol: out };
}

interface RequestFile {
  request: string;
  headers?: Record<string, string>;
  json?: unknown;
  body?: string;
  exists?: number[];
}

function request(
  r: RequestFile,
  at: string,
  known: Set<string>,
  add: (p: string, m: string) => void,
): RequestSpec & { exists?: number[] } {
  const line = parseRequestLine(r.request);
  if (!line) {
    add(
      `${at}.request`,
      `expected "METHOD URL" (methods: ${METHODS.join(', ')}), got ${describe(r.request)}`,
    );
  }
  if (r.json !== undefined && r.body !== undefined)
    add(at, 'give either json: (sent as JSON) or body: (text), not both');
  const [method, url] = line ?? ['GET', ''];
  const allowed = new Set([...known, ...FIELD_VARS[at]]);
  template(`${at}.request`, url, allowed, add);
  for (const [k, v] of Object.entries(r.headers ?? {})) template(`${at}.headers.${k}`, v, allowed, add);
  if (r.body !== undefined) template(`${at}.body`, r.body, allowed, add);
  if (r.json !== undefined) deepTemplates(`${at}.json`, r.json, allowed, add);
  const out: RequestSpec & { exists?: number[] } = { method, url };
  if (r.headers) out.headers = r.headers;
  if (r.json !== undefined) out.body = r.json;
  else if (r.body !== undefined) out.body = r.body;
  if (r.exists) out.exists = r.exists;
  return out;
}

function template(
  at: string,
  src: string,
  allowed: Set<string> | null,
  add: (p: string, m: string) => void,
): void {
  let vars: readonly string[];
  try {
    vars = compile(src).vars;
  } catch (err) {
    return add(at, (err as Error).message);
  }
  if (!allowed) return; // frames may use the session's own captures, known only at run time
  for (const v of vars) {
    if (v.startsWith('env.') || isBuiltinVar(v) || allowed.has(v)) continue;
    add(at, `unknown variable {{${v}}}: expected one of ${[...allowed].join(', ')} (or a setup capture)`);
  }
}

function deepTemplates(
  at: string,
  v: unknown,
  allowed: Set<string>,
  add: (p: string, m: string) => void,
): void {
  if (typeof v === 'string') template(at, v, allowed, add);
  else if (Array.isArray(v)) v.forEach((x, i) => deepTemplates(`${at}[${i}]`, x, allowed, add));
  else if (isRecord(v)) for (const [k, x] of Object.entries(v)) deepTemplates(`${at}.${k}`, x, allowed, add);
}

const KNOWN: Record<string, string[]> = {
  '': ['name', 'setup', 'groups', 'join', 'message', 'error'],
  groups: ['create', 'batch'],
  'groups.create': Object.keys(REQUEST),
  'groups.batch': [...Object.keys(REQUEST), 'size', 'created'],
  join: ['send', 'ack'],
  'join.ack': ['match', 'group'],
  message: ['send', 'receive', 'ack'],
  'message.receive': ['match', 'id', 'ts'],
  'message.ack': ['match', 'id', 'recipients'],
  error: ['match', 'code', 'detail'],
};

function knownKeys(p: readonly PropertyKey[]): string[] {
  return KNOWN[p.map(String).join('.')] ?? [];
}

function valueAt(data: unknown, p: readonly PropertyKey[]): unknown {
  let cur = data;
  for (const k of p) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[k];
  }
  return cur;
}
