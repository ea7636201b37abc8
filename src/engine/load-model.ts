import type { HttpStepSpec, LatencySummary } from '../contract.js';

// Plain data of the chat load step: the settings a plan puts in `StepSpec.ext.load` and the
// findings the engine extension returns in `StepResult.ext.load`. Both cross process boundaries,
// so they hold only JSON values. The group membership rule lives here too, because the plan's
// report and the engine must agree on it.

/** JSON path → value a frame must hold there (every entry must match). */
export type MatchSpec = Record<string, string | number | boolean | null>;

/** One templated HTTP request. A string body is sent as text; anything else as JSON. */
export interface RequestSpec {
  method: string;
  url: string;
  headers?: Record<string, string>;
  body?: unknown;
}

/** How a chat service is driven: group creation, join, message framing and recognition. */
export interface ChatProtocol {
  name: string;
  /** HTTP steps run once before groups are created; their captures are usable below. */
  setup: HttpStepSpec[];
  /** One group per request (`{{group}}`, `{{index}}`). Statuses in `exists` mean "already there". */
  create?: RequestSpec & { exists?: number[] };
  /** Many groups per request (`{{names}}` JSON list, `{{count}}`, `{{first}}`, `{{last}}`). */
  batch?: RequestSpec & { size: number; created?: string; exists?: number[] };
  join: { send: string; ack?: { match: MatchSpec; group?: string } };
  message: {
    /** `{{group}}`, `{{id}}`, `{{ts}}` (epoch ms), `{{tsUs}}`, `{{seq}}`, `{{payload}}`. */
    send: string;
    /**
     * A delivery: frames matching `match`, the message id at `id`. `ts` (optional) is where the
     * frame carries the intended send time in epoch ms (as sent in {{ts}}): deliveries this
     * process did not send are timed from it (histogram `message_foreign`).
     */
    receive: { match: MatchSpec; id: string; ts?: string };
    ack?: { match: MatchSpec; id?: string; recipients?: string };
  };
  error?: { match: MatchSpec; code?: string; detail?: string };
}

export interface HttpLoadSpec {
  rate: number; // requests per second, aggregate
  request: RequestSpec;
  timeoutMs: number;
}

/** `StepSpec.ext.load`. */
export interface LoadSettings {
  connections: number;
  groups: number;
  groupPrefix: string;
  groupsPerConnection: number;
  createGroups: boolean;
  /** Groups per creation request; 1 uses the protocol's single-group request. */
  groupBatch: number;
  groupConcurrency: number;
  rate: number; // messages per second, aggregate over workers
  payloadChars: number;
  durationMs: number; // messaging
  messageTimeoutMs: number;
  rampUpMs: number;
  /** Messaging starts once every join is acknowledged, or this long after the connections are up. */
  joinGraceMs: number;
  protocol: ChatProtocol;
  http?: HttpLoadSpec;
  /** The reference target's `/health` (template), polled for its event-loop delay. */
  healthUrl?: string;
  compression: boolean;
}

// ------------------------------------------------------------------ findings

export interface GroupFindings {
  skipped: boolean;
  requested: number;
  created: number;
  existing: number;
  failed: number; // requested = created + existing + failed
  requests: number;
  failedRequests: number;
  batchSize: number;
  durationMs: number;
  groupsPerSec: number;
  /** Groups that connections join (see usedGroups) and their member counts. */
  used: number;
  membersMin: number;
  membersMax: number;
}

export interface RampFindings {
  requested: number;
  established: number;
  failed: number; // requested - established
  successRate: number; // established / requested
  durationMs: number; // ramp start (after group creation) to the last establishment
  connectRate: number; // achieved, connections per second
  targetRate: number; // asked for: connections / ramp-up
  joinsSent: number;
  joinsAcked: number;
  lost: number; // established, then closed before the end of the step
  joinWaitMs: number; // from the last establishment to the last join acknowledgement (capped)
}

export interface MessageFindings {
  rate: number;
  payloadChars: number;
  timeoutMs: number;
  durationMs: number; // from the first intended send to the last one
  /** scheduled = sent + dropped.noSender + dropped.notWritable + dropped.invalid + dropped.behind */
  scheduled: number;
  sent: number;
  dropped: { noSender: number; notWritable: number; invalid: number; behind: number };
  /** sent = delivered + failed + noRecipients + unresolved */
  delivered: number; // every member connected at send time got it within the timeout
  failed: number;
  noRecipients: number; // no other member connected at send time
  unresolved: number; // still within the timeout when the run was stopped
  successRate: number; // delivered / (delivered + failed)
  /** expected = onTime + late + missing */
  deliveries: { expected: number; onTime: number; late: number; missing: number };
  /** received = onTime + late + duplicate + extra + stale + foreign */
  received: number;
  receipts: { duplicate: number; extra: number; stale: number; foreign: number };
  achievedRate: number; // sent per second of messaging
  receivedPerSec: number;
  sendLag: { p50Ms: number; p99Ms: number; maxMs: number };
  behind: boolean; // the generator could not keep the schedule
  acks: { count: number; recipients: number };
  errors: number; // error frames received
}

export interface HttpLoadFindings {
  rate: number;
  request: string; // `GET {{baseUrl}}/health`: the template, so no secret
  scheduled: number; // = sent + dropped
  sent: number; // = sum of byClass
  dropped: number; // too many in flight
  byClass: Record<string, number>; // 2xx, 4xx, …, timeout, refused, …
}

export interface HistoryRow {
  t: number; // seconds since the messaging started (negative while connections ramp up)
  active: number;
  sent: number;
  received: number;
  dropped: number;
  p50: number; // ms; 0 when nothing was received that second
  p95: number;
  p99: number;
  max: number;
  cpuPct: number;
  eldMs: number; // event-loop delay p99
  rssBytes: number;
}

/**
 * The target's event-loop delay from its /health, polled every 2 s. Each reading covers the
 * target's last complete 10 s window, so it trails the load by up to 20 s.
 */
export interface TargetHealth {
  probes: number;
  failures: number;
  eldP99MaxMs: number;
  eldMaxMs: number;
  /** When the highest p99 was read, seconds since messaging started (negative: during ramp-up). */
  worstAtS: number;
  samples: { t: number; p99Ms: number; maxMs: number }[];
}

export interface LoadErrorClass {
  code: string;
  count: number;
  samples: string[];
}

export interface LoadFindings {
  groups: GroupFindings;
  ramp: RampFindings;
  messages: MessageFindings;
  http: HttpLoadFindings | null;
  history: HistoryRow[];
  errors: LoadErrorClass[];
  /** Socket-level bytes of the connections open at the end (frames, headers, compression). */
  wire: { connections: number; sentBytes: number; recvBytes: number; compressed: number };
  /** The target's own event-loop delay while loaded (reference target only). */
  target: TargetHealth | null;
  latency: LatencySummary | null;
}

// ------------------------------------------------------------------ groups and membership

export function groupName(prefix: string, i: number): string {
  return `${prefix}-${i}`;
}

/** Index of a group name made by groupName, or -1. */
export function groupIndex(prefix: string, name: string): number {
  if (name.length <= prefix.length + 1 || !name.startsWith(prefix) || name[prefix.length] !== '-') return -1;
  const rest = name.slice(prefix.length + 1);
  if (!/^(0|[1-9]\d*)$/.test(rest)) return -1;
  return Number(rest);
}

/**
 * How many groups connections join: all of them, unless that would leave groups with a single
 * member. With N connections joining k groups each there are N·k memberships; spreading them
 * over U = min(G, ⌊N·k / 2⌋) groups gives every used group at least two members, so every
 * message has someone to reach. The other groups are still created (they load the API and the
 * server's group table) but carry no traffic.
 */
export function usedGroups(connections: number, perConnection: number, groups: number): number {
  return Math.max(1, Math.min(groups, Math.floor((connections * perConnection) / 2)));
}

/**
 * The j-th group of connection i: memberships are numbered t = i·k + j and dealt round-robin
 * over the U used groups. A connection's k groups are consecutive, hence distinct (k ≤ U), and
 * group sizes differ by at most one.
 */
export function groupOf(i: number, j: number, perConnection: number, used: number): number {
  return (i * perConnection + j) % used;
}

/** Members of group g under groupOf: memberships t < N·k with t ≡ g (mod U). */
export function membersOf(g: number, connections: number, perConnection: number, used: number): number {
  const slots = connections * perConnection;
  return g < slots ? Math.floor((slots - 1 - g) / used) + 1 : 0;
}
