import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { UserError } from '../errors.js';
import { FEATURE_DEFAULTS, FEATURE_OPTIONS, GROUPS_HARD_MAX, MEMBERS_HARD_MAX } from './options-features.js';
import {
  lower,
  parseBool,
  parseBytes,
  parseCountValue,
  parseDurationMs,
  parseInteger,
  parseWorkers,
} from './parse-text.js';

export { parseBytes, parseDurationMs };

// One table of the target's options: each has an env var and a flag with the same meaning, a
// parser from text (env and flags are both text) and a help line. The CLI, the child entry, the
// cluster primary and the docs all read this table; the zod schema then checks the typed result
// once, every issue is reported together, and the options are frozen.

export interface TargetOptions {
  host: string;
  port: number;
  /** `token`: HMAC-signed tokens are required; `none`: no checks anywhere. */
  auth: 'token' | 'none';
  tokenSecret: string;
  tokenTtlMs: number;
  /** Concurrent WebSockets (0: no cap). In cluster mode the primary splits it over the workers. */
  maxTotalConnections: number;
  /** Concurrent WebSockets per token subject (0: no cap). */
  maxConnectionsPerClient: number;
  /** Largest WebSocket message accepted, bytes; larger ones close the socket with 1009. */
  wsMaxMessageSize: number;
  /** Close a WebSocket that sent nothing for this long with 1001 (0: off). */
  idleTimeoutMs: number;
  /** Messages per second per WebSocket before it is closed with 1008 (0: off). */
  rateLimitMsgsPerSec: number;
  /** A client whose unsent data passes this many bytes is terminated (it is not reading). */
  sendBufferLimit: number;
  /** Largest HTTP request body, bytes (413 above). */
  maxBodySize: number;
  /** Send `{"type":"welcome",...}` when a WebSocket opens. */
  welcome: boolean;
  perMessageDeflate: boolean;
  /** Processes sharing the port (node:cluster). */
  workers: number;
  /** Open TCP connections of any kind (server.maxConnections); -1: the open-file limit less a reserve; 0: no cap. */
  maxSockets: number;
  /** Groups held in memory (0: GROUPS_HARD_MAX); creating more is refused with 507. */
  maxTotalGroups: number;
  /** Group memberships (user, group) held in memory (0: MEMBERS_HARD_MAX); more are refused with 403. */
  maxTotalMembers: number;
  /** Connections in groups (group, connection) held (0: MEMBERS_HARD_MAX); a join past it gets join_limit. */
  maxTotalJoins: number;
  /** `redis://…`: instances share groups, group messages and codes through Redis; '' = in memory. */
  redisUrl: string;
  /** SSE heartbeat comment period (0: off). */
  sseHeartbeatMs: number;
  /** SSE events kept for Last-Event-ID replay. */
  sseReplay: number;
  /** Test aids, off at 0: delay each group message delivery; drop every k-th delivery; one
   * event-loop stall (at, for) after the first group message; close every k-th WebSocket once
   * `faultCloseAtMs` after the first connection. */
  faultGroupDelayMs: number;
  faultDropEvery: number;
  faultStallAtMs: number;
  faultStallMs: number;
  faultCloseEvery: number;
  faultCloseAtMs: number;
}

const KiB = 1024;
const MiB = 1024 * 1024;

export const TARGET_DEFAULTS: Readonly<Omit<TargetOptions, 'tokenSecret'>> = Object.freeze({
  host: '127.0.0.1',
  port: 8080,
  auth: 'token',
  tokenTtlMs: 3_600_000,
  maxTotalConnections: 0,
  maxConnectionsPerClient: 0,
  wsMaxMessageSize: MiB,
  idleTimeoutMs: 0,
  rateLimitMsgsPerSec: 0,
  sendBufferLimit: 4 * MiB,
  maxBodySize: MiB,
  welcome: false,
  perMessageDeflate: false,
  workers: 1,
  maxSockets: -1,
  ...FEATURE_DEFAULTS,
});

type Parser = (raw: string) => unknown;

export interface TargetOptionDef {
  key: keyof TargetOptions;
  env: string;
  /** Long flag without its value, e.g. `--port`. */
  flag: string;
  /** Value placeholder for help; absent for boolean switches. */
  arg?: string;
  help: string;
  /** Default as shown in help and docs. */
  shown: string;
  parse: Parser;
}

export const TARGET_OPTIONS: readonly TargetOptionDef[] = [
  {
    key: 'port',
    env: 'PORT',
    flag: '--port',
    arg: '<n>',
    help: 'TCP port (0: any free port)',
    shown: '8080',
    parse: parseInteger,
  },
  {
    key: 'host',
    env: 'HOST',
    flag: '--host',
    arg: '<addr>',
    help: 'address to listen on (0.0.0.0 or :: to accept other machines)',
    shown: '127.0.0.1',
    parse: String,
  },
  {
    key: 'auth',
    env: 'AUTH',
    flag: '--auth',
    arg: '<token|none>',
    help: 'require signed tokens, or none',
    shown: 'token',
    parse: lower,
  },
  {
    key: 'tokenSecret',
    env: 'TOKEN_SECRET',
    flag: '--token-secret',
    arg: '<secret>',
    help: 'HMAC secret for tokens (at least 16 characters)',
    shown: 'random per start',
    parse: String,
  },
  {
    key: 'tokenTtlMs',
    env: 'TOKEN_TTL',
    flag: '--token-ttl',
    arg: '<duration>',
    help: 'token lifetime',
    shown: '1h',
    parse: parseDurationMs,
  },
  {
    key: 'maxTotalConnections',
    env: 'MAX_TOTAL_CONNECTIONS',
    flag: '--max-total-connections',
    arg: '<n>',
    help: 'concurrent WebSockets; the excess gets HTTP 503 (0: no cap)',
    shown: '0',
    parse: parseCountValue,
  },
  {
    key: 'maxConnectionsPerClient',
    env: 'MAX_CONNECTIONS_PER_CLIENT',
    flag: '--max-connections-per-client',
    arg: '<n>',
    help: 'concurrent WebSockets per user; the excess gets HTTP 429 (0: no cap)',
    shown: '0',
    parse: parseCountValue,
  },
  {
    key: 'wsMaxMessageSize',
    env: 'WS_MAX_MESSAGE_SIZE',
    flag: '--ws-max-message-size',
    arg: '<bytes>',
    help: 'largest WebSocket message; larger closes with 1009',
    shown: '1MiB',
    parse: parseBytes,
  },
  {
    key: 'idleTimeoutMs',
    env: 'IDLE_TIMEOUT',
    flag: '--idle-timeout',
    arg: '<duration>',
    help: 'close a WebSocket that sent nothing for this long with 1001 (0: off)',
    shown: 'off',
    parse: parseDurationMs,
  },
  {
    key: 'rateLimitMsgsPerSec',
    env: 'RATE_LIMIT_MSGS_PER_SEC',
    flag: '--rate-limit-msgs-per-sec',
    arg: '<n>',
    help: 'messages per second per WebSocket; above closes with 1008 (0: off)',
    shown: 'off',
    parse: parseCountValue,
  },
  {
    key: 'sendBufferLimit',
    env: 'SEND_BUFFER_LIMIT',
    flag: '--send-buffer-limit',
    arg: '<bytes>',
    help: 'unsent bytes a client may leave before it is dropped',
    shown: '4MiB',
    parse: parseBytes,
  },
  {
    key: 'maxBodySize',
    env: 'HTTP_MAX_BODY_SIZE',
    flag: '--max-body-size',
    arg: '<bytes>',
    help: 'largest HTTP request body; larger gets 413',
    shown: '1MiB',
    parse: parseBytes,
  },
  {
    key: 'welcome',
    env: 'WELCOME',
    flag: '--welcome',
    help: 'send {"type":"welcome"} when a WebSocket opens',
    shown: 'off',
    parse: parseBool,
  },
  {
    key: 'perMessageDeflate',
    env: 'PER_MESSAGE_DEFLATE',
    flag: '--per-message-deflate',
    help: 'offer permessage-deflate compression',
    shown: 'off',
    parse: parseBool,
  },
  {
    key: 'workers',
    env: 'WORKERS',
    flag: '--workers',
    arg: '<n|auto>',
    help: 'processes sharing the port (node:cluster)',
    shown: '1',
    parse: parseWorkers,
  },
  {
    key: 'maxSockets',
    env: 'MAX_SOCKETS',
    flag: '--max-sockets',
    arg: '<n|auto>',
    help: 'open TCP connections of any kind; more are closed at once (auto: the open-file limit less 100; 0: no cap)',
    shown: 'auto',
    // -1 is how the typed value (auto) travels to a child process's env.
    parse: (raw) => (lower(raw) === 'auto' || raw.trim() === '-1' ? -1 : parseCountValue(raw)),
  },
  ...FEATURE_OPTIONS,
];

/** Env var names the target reads (to keep a parent's settings out of an embedded target). */
export const TARGET_ENV_KEYS: readonly string[] = TARGET_OPTIONS.map((d) => d.env);

const schema = z
  .object({
    host: z.string().min(1, 'must not be empty'),
    port: z.number().int().min(0, 'must be 0 or more').max(65535, 'must be at most 65535'),
    auth: z.enum(['token', 'none'], { error: 'must be token or none' }),
    tokenSecret: z.string().min(16, 'must be at least 16 characters'),
    tokenTtlMs: z
      .number()
      .int()
      .min(1000, 'must be at least 1s')
      .max(365 * 86_400_000, 'must be at most 365 days'),
    maxTotalConnections: z.number().int().min(0),
    maxConnectionsPerClient: z.number().int().min(0),
    wsMaxMessageSize: z
      .number()
      .int()
      .min(16, 'must be at least 16 bytes')
      .max(256 * MiB, 'must be at most 256MiB'),
    idleTimeoutMs: z.number().int().min(0).max(86_400_000, 'must be at most 24h'),
    rateLimitMsgsPerSec: z.number().int().min(0),
    sendBufferLimit: z.number().int().min(KiB, 'must be at least 1KiB'),
    maxBodySize: z
      .number()
      .int()
      .min(KiB, 'must be at least 1KiB')
      .max(256 * MiB, 'must be at most 256MiB'),
    welcome: z.boolean(),
    perMessageDeflate: z.boolean(),
    workers: z.number().int().min(1).max(256),
    maxSockets: z.number().int().min(-1, 'must be auto, 0 (no cap) or a count'),
    maxTotalMembers: z.number().int().min(0).max(MEMBERS_HARD_MAX, `must be at most ${MEMBERS_HARD_MAX}`),
    maxTotalJoins: z.number().int().min(0).max(MEMBERS_HARD_MAX, `must be at most ${MEMBERS_HARD_MAX}`),
    maxTotalGroups: z.number().int().min(0).max(GROUPS_HARD_MAX, `must be at most ${GROUPS_HARD_MAX}`),
    redisUrl: z.string().refine((s) => s === '' || isRedisUrl(s), 'must be a redis:// or rediss:// URL'),
    sseHeartbeatMs: z
      .number()
      .int()
      .refine((n) => n === 0 || (n >= 100 && n <= 3_600_000), 'must be 0 (off) or between 100ms and 1h'),
    sseReplay: z.number().int().min(0).max(100_000, 'must be at most 100000'),
    faultGroupDelayMs: z.number().int().min(0).max(60_000, 'must be at most 60s'),
    faultDropEvery: z.number().int().min(0),
    faultStallAtMs: z.number().int().min(0).max(3_600_000, 'must be at most 1h'),
    faultStallMs: z.number().int().min(0).max(60_000, 'must be at most 60s'),
    faultCloseEvery: z.number().int().min(0),
    faultCloseAtMs: z.number().int().min(0).max(3_600_000, 'must be at most 1h'),
  })
  .strict();

export interface ResolveInput {
  /** Environment (only the names in TARGET_OPTIONS are read). */
  env?: Record<string, string | undefined>;
  /** Flag values as text, keyed by option key; they win over env. */
  flags?: Partial<Record<keyof TargetOptions, string | boolean | undefined>>;
  /** Typed values (library use); they win over both. */
  values?: Partial<TargetOptions>;
}

/**
 * Defaults < env < flags < values. Throws one UserError naming every bad setting with where it
 * came from. The result is frozen.
 */
export function resolveTargetOptions(input: ResolveInput): Readonly<TargetOptions> {
  const out: Record<string, unknown> = { ...TARGET_DEFAULTS };
  const issues: string[] = [];
  const origin = new Map<string, string>();
  for (const d of TARGET_OPTIONS) {
    const fromEnv = input.env?.[d.env];
    const fromFlag = input.flags?.[d.key];
    let raw: string | undefined;
    let where = '';
    if (fromFlag !== undefined && fromFlag !== false) {
      raw = fromFlag === true ? 'true' : fromFlag;
      where = d.flag;
    } else if (fromEnv !== undefined && fromEnv !== '') {
      raw = fromEnv;
      where = d.env;
    }
    if (raw === undefined) continue;
    origin.set(d.key, where);
    try {
      out[d.key] = d.parse(raw);
    } catch (err) {
      issues.push(`${where}=${JSON.stringify(raw)}: ${(err as Error).message}`);
    }
  }
  for (const [k, v] of Object.entries(input.values ?? {})) {
    if (v === undefined) continue;
    out[k] = v;
    origin.set(k, k);
  }
  if (out.tokenSecret === undefined) out.tokenSecret = randomBytes(32).toString('base64url');
  {
    // Values that failed to parse kept their defaults, so the schema reports only the others.
    const r = schema.safeParse(out);
    if (!r.success) {
      for (const i of r.error.issues) {
        const key = String(i.path[0] ?? '');
        const def = TARGET_OPTIONS.find((d) => d.key === key);
        const name = origin.get(key) ?? (def ? `${def.flag} / ${def.env}` : key);
        issues.push(`${name}: ${i.message}`);
      }
    } else if (r.data.maxTotalConnections > 0 && r.data.maxTotalConnections < r.data.workers) {
      issues.push(
        `MAX_TOTAL_CONNECTIONS (${r.data.maxTotalConnections}) is split over ${r.data.workers} workers: it must be at least WORKERS`,
      );
    }
  }
  if (issues.length > 0) {
    throw new UserError(
      `Invalid target option${issues.length > 1 ? 's' : ''}:\n  ${issues.join('\n  ')}`,
      'Durations look like 300ms, 5s, 1h; sizes like 65536, 64KiB, 1MiB; 0 turns a limit off.',
    );
  }
  return Object.freeze(out as unknown as TargetOptions);
}

function isRedisUrl(s: string): boolean {
  try {
    const u = new URL(s);
    return (u.protocol === 'redis:' || u.protocol === 'rediss:') && u.hostname !== '';
  } catch {
    return false;
  }
}

/** The env that makes a child process resolve to these options (the inverse of the table). */
export function optionsToEnv(o: Partial<TargetOptions>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const d of TARGET_OPTIONS) {
    const v = o[d.key];
    if (v === undefined) continue;
    env[d.env] = typeof v === 'boolean' ? (v ? '1' : '0') : d.key.endsWith('Ms') ? `${v}ms` : String(v);
  }
  return env;
}
