import type { BusHealth } from './bus.js';

// The target's own counters: plain numbers bumped on the hot path, read by /health, /metrics
// and RunningTarget.stats(). Reason names are a closed set so metric labels stay bounded.

export const REJECT_REASONS = [
  'unauthorized', // 401: missing, forged or expired token
  'total_limit', // 503: MAX_TOTAL_CONNECTIONS reached
  'client_limit', // 429: MAX_CONNECTIONS_PER_CLIENT reached
  'bad_request', // 400: bad query or handshake headers
  'not_found', // 404: upgrade on another path
  'shutting_down', // 503: the target is closing
  'socket_limit', // TCP connection closed at once: MAX_SOCKETS open already
  'bad_http', // cut at once: a request line of blank lines or HTTP/0.9
] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

export const DROP_REASONS = [
  'idle', // 1001 after IDLE_TIMEOUT without a frame
  'rate_limit', // 1008 over RATE_LIMIT_MSGS_PER_SEC
  'too_large', // 1009 message over WS_MAX_MESSAGE_SIZE
  'slow_client', // terminated: unsent data over SEND_BUFFER_LIMIT
  'protocol_error', // invalid frames (ws closes with 1002/1007)
  'fault', // 1001 "going away" by FAULT_CLOSE_EVERY (a test aid)
  'ping_flood', // 1008 over MAX_PINGS_PER_SEC ping frames
  'internal', // 1011: handling a message failed (a bug); the process keeps running
] as const;
export type DropReason = (typeof DROP_REASONS)[number];

export type ConnKind = 'ws' | 'sse';

export class TargetStats {
  readonly startedAt = Date.now();
  open: Record<ConnKind, number> = { ws: 0, sse: 0 };
  accepted: Record<ConnKind, number> = { ws: 0, sse: 0 };
  closed: Record<ConnKind, number> = { ws: 0, sse: 0 };
  rejected = zeroes(REJECT_REASONS);
  dropped = zeroes(DROP_REASONS);
  msgsIn = 0;
  msgsOut = 0;
  bytesIn = 0;
  bytesOut = 0;
  tokensIssued = 0;
  chatsCreated = 0;
  /** Group messages accepted from senders on this instance. */
  groupMsgsIn = 0;
  /** Group message deliveries written to connections of this instance. */
  groupMsgsOut = 0;
  /** Group message numbers skipped on arrival from the bus: messages lost on the way. */
  groupMsgsMissed = 0;
  /** Codes accepted by POST /codes on this instance. */
  codesPublished = 0;
  /** Codes that arrived from the bus and were fanned out here. */
  codesFannedOut = 0;
  /** Code numbers skipped on arrival from the bus. */
  codesMissed = 0;
  /** SSE events written (one per subscriber per event, replays included). */
  sseEventsOut = 0;
  /** SSE heartbeat comments written. */
  sseHeartbeats = 0;
  /** Code frames written to subscribed WebSockets. */
  wsCodesOut = 0;
  /** Test faults that fired. */
  faults = { dropped: 0, stalls: 0, closed: 0 };
  /** HTTP responses by `route status`, e.g. `/auth/token 200` (routes are a fixed set). */
  readonly http = new Map<string, number>();

  httpResponse(route: string, status: number): void {
    const k = `${route} ${status}`;
    this.http.set(k, (this.http.get(k) ?? 0) + 1);
  }

  /** Plain data; `groups` and `bus` come from their owners. */
  snapshot(groups: { count: number; created: number }, bus: BusHealth): TargetStatsSnapshot {
    return {
      uptimeSec: Math.round((Date.now() - this.startedAt) / 100) / 10,
      connections: { ws: this.open.ws, sse: this.open.sse, total: this.open.ws + this.open.sse },
      accepted: { ...this.accepted },
      closed: { ...this.closed },
      rejected: { ...this.rejected },
      dropped: { ...this.dropped },
      messages: { in: this.msgsIn, out: this.msgsOut },
      bytes: { in: this.bytesIn, out: this.bytesOut },
      tokensIssued: this.tokensIssued,
      chatsCreated: this.chatsCreated,
      groupMessages: { in: this.groupMsgsIn, out: this.groupMsgsOut, missed: this.groupMsgsMissed },
      codes: { published: this.codesPublished, fannedOut: this.codesFannedOut, missed: this.codesMissed },
      sse: { eventsOut: this.sseEventsOut, heartbeats: this.sseHeartbeats },
      wsCodesOut: this.wsCodesOut,
      faults: { ...this.faults },
      groups,
      bus,
    };
  }
}

/** Plain data; safe to JSON-encode and to compare in tests. */
export interface TargetStatsSnapshot {
  uptimeSec: number;
  connections: { ws: number; sse: number; total: number };
  accepted: Record<ConnKind, number>;
  closed: Record<ConnKind, number>;
  rejected: Record<RejectReason, number>;
  dropped: Record<DropReason, number>;
  messages: { in: number; out: number };
  bytes: { in: number; out: number };
  tokensIssued: number;
  chatsCreated: number;
  groupMessages: { in: number; out: number; missed: number };
  codes: { published: number; fannedOut: number; missed: number };
  sse: { eventsOut: number; heartbeats: number };
  wsCodesOut: number;
  faults: { dropped: number; stalls: number; closed: number };
  /** Groups held here, and created here in total (replicated creations included). */
  groups: { count: number; created: number };
  bus: BusHealth;
}

function zeroes<K extends string>(keys: readonly K[]): Record<K, number> {
  const o = {} as Record<K, number>;
  for (const k of keys) o[k] = 0;
  return o;
}
