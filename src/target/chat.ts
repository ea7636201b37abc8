import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import type { TargetContext } from './context.js';
import type { IdleEntry } from './idle.js';
import { MAX_JSON_DEPTH, nestedDeeper } from './json-bounds.js';
import { takeToken, type RateState } from './limits.js';
import { dropSlow, overQueued, type QueueState } from './slow-client.js';
import type { DropReason } from './stats.js';

// The WebSocket side: one small Conn per socket, reached through a symbol on the ws; every
// listener is a module-level function (no closure per connection). Protocol: a text message
// that is a JSON object whose "type" has a handler is handled; anything else (other text,
// binary, JSON without a known type) is echoed back verbatim, so raw echo load works unchanged.

export const kConn = Symbol('holdline.target.conn');
type TaggedWs = WebSocket & { [kConn]: Conn };

/** Ping frames a client may send per second (bursts of as many); more closes it with 1008. */
export const MAX_PINGS_PER_SEC = 60;

export class Conn implements IdleEntry, RateState, QueueState {
  closing = false;
  lastActive: number;
  tokens: number;
  tokensAt: number;
  queued = 0;
  /** Ping budget: a token bucket of its own (see MAX_PINGS_PER_SEC). */
  readonly pings: RateState;
  /** Groups this connection is in (joined, or as a member user); null until the first. */
  groups: string[] | null = null;
  /** Subscribed to the codes channel. */
  codes = false;

  constructor(
    readonly ctx: TargetContext,
    readonly ws: WebSocket,
    /** The TCP socket under `ws`, destroyed directly when the client stops reading. */
    readonly socket: Socket,
    readonly id: string,
    /** Token subject, or null for anonymous connections (AUTH=none). */
    readonly userId: string | null,
    /** What MAX_CONNECTIONS_PER_CLIENT counts by. */
    readonly clientKey: string,
    readonly chatId: string | null,
    now: number,
  ) {
    this.lastActive = now;
    this.tokens = ctx.opts.rateLimitMsgsPerSec;
    this.tokensAt = now;
    this.pings = { tokens: MAX_PINGS_PER_SEC, tokensAt: now };
  }
}

/** Handles one parsed JSON message of a registered type. */
export type MessageHandler = (c: Conn, msg: Record<string, unknown>, raw: Buffer) => void;

const handlers = new Map<string, MessageHandler>([
  ['echo', onEchoMessage],
  ['ping', onPingMessage],
]);

/** Adds a message type to the protocol (groups and other features plug in here). */
export function registerMessageType(type: string, handler: MessageHandler): void {
  handlers.set(type, handler);
}

export type ConnHook = (c: Conn) => void;
const attachHooks: ConnHook[] = [];
const closeHooks: ConnHook[] = [];

/** Runs `h` for every connection once it is counted and tracked (features keep their own state). */
export function onConnAttach(h: ConnHook): void {
  attachHooks.push(h);
}

/** Runs `h` once for every connection that closes, for whatever reason. */
export function onConnClose(h: ConnHook): void {
  closeHooks.push(h);
}

/** Takes over an upgraded socket: counts it, arms its idle deadline, says welcome if asked. */
export function attach(
  ctx: TargetContext,
  ws: WebSocket,
  socket: Socket,
  userId: string | null,
  clientKey: string,
  chatId: string | null,
): Conn {
  const id = ctx.worker > 0 ? `w${ctx.worker}-${++ctx.connSeq}` : `c${++ctx.connSeq}`;
  const c = new Conn(ctx, ws, socket, id, userId, clientKey, chatId, performance.now());
  (ws as TaggedWs)[kConn] = c;
  ws.on('message', onMessage);
  ws.on('close', onClose);
  ws.on('error', onError);
  ws.on('ping', onPing);
  ws.on('pong', onActivity);
  ctx.sockets.add(ws);
  ctx.limits.acquire(clientKey);
  ctx.stats.open.ws++;
  ctx.stats.accepted.ws++;
  ctx.idle?.add(c);
  if (ctx.opts.welcome) sendJson(c, { type: 'welcome', connId: id, userId, chatId });
  for (let i = 0; i < attachHooks.length; i++) attachHooks[i](c);
  return c;
}

const TEXT = { binary: false };
const BINARY = { binary: true };
const TYPE_KEY = Buffer.from('"type"');

/** Sends and accounts for one message; drops the client when it stopped reading. */
export function send(c: Conn, data: Buffer | string, binary: boolean): boolean {
  if (c.closing) return false;
  const ws = c.ws;
  ws.send(data, binary ? BINARY : TEXT);
  const st = c.ctx.stats;
  st.msgsOut++;
  st.bytesOut += typeof data === 'string' ? Buffer.byteLength(data) : data.length;
  if (overQueued(c, c.socket, ws.bufferedAmount, c.ctx.opts.sendBufferLimit)) {
    // It is not reading: holding more for it would grow memory without bound.
    c.closing = true;
    st.dropped.slow_client++;
    dropSlow(c.socket);
    return false;
  }
  return true;
}

export function sendJson(c: Conn, msg: object): boolean {
  return send(c, JSON.stringify(msg), false);
}

/** Closes with a code and counts why. */
export function closeConn(c: Conn, code: number, reason: string, why: DropReason): void {
  if (c.closing) return;
  c.closing = true;
  c.ctx.stats.dropped[why]++;
  c.ws.close(code, reason);
}

/** An error frame; `extra` fields (say the message `id` or `group`) help the client match it. */
export function sendError(c: Conn, error: string, message: string, extra?: object): void {
  sendJson(c, extra ? { type: 'error', error, message, ...extra } : { type: 'error', error, message });
}

// ---------------------------------------------------------------- listeners (this = the ws)

function onMessage(this: WebSocket, raw: WebSocket.RawData, isBinary: boolean): void {
  const c = (this as TaggedWs)[kConn];
  if (c.closing) return;
  const data = raw as Buffer; // binaryType is 'nodebuffer': fragments arrive joined
  const ctx = c.ctx;
  const now = performance.now();
  c.lastActive = now;
  ctx.stats.msgsIn++;
  ctx.stats.bytesIn += data.length;
  const rate = ctx.opts.rateLimitMsgsPerSec;
  if (rate > 0 && !takeToken(c, now, rate)) {
    closeConn(c, 1008, 'rate limit', 'rate_limit');
    return;
  }
  // Cheap pre-checks keep JSON.parse off arbitrary payloads.
  if (!isBinary && data.length >= 8 && data[0] === 0x7b && data.indexOf(TYPE_KEY) !== -1) {
    if (nestedDeeper(data)) {
      sendError(c, 'bad_message', `message nested deeper than ${MAX_JSON_DEPTH} levels`);
      return;
    }
    try {
      if (dispatch(c, data)) return;
    } catch {
      // A bug must cost this connection, never the process.
      closeConn(c, 1011, 'internal error', 'internal');
      return;
    }
  }
  send(c, data, isBinary);
}

function dispatch(c: Conn, data: Buffer): boolean {
  let msg: unknown;
  try {
    msg = JSON.parse(data.toString('utf8'));
  } catch {
    return false;
  }
  if (msg === null || typeof msg !== 'object' || Array.isArray(msg)) return false;
  const type = (msg as { type?: unknown }).type;
  if (typeof type !== 'string') return false;
  const h = handlers.get(type);
  if (h === undefined) return false;
  h(c, msg as Record<string, unknown>, data);
  return true;
}

function onActivity(this: WebSocket): void {
  (this as TaggedWs)[kConn].lastActive = performance.now();
}

function onPing(this: WebSocket): void {
  // ws answers each ping with a pong; a flood of them is closed with a close frame and counted.
  const c = (this as TaggedWs)[kConn];
  const now = performance.now();
  c.lastActive = now;
  if (!takeToken(c.pings, now, MAX_PINGS_PER_SEC)) closeConn(c, 1008, 'too many pings', 'ping_flood');
}

function onClose(this: WebSocket): void {
  const c = (this as TaggedWs)[kConn];
  c.closing = true;
  const ctx = c.ctx;
  ctx.sockets.delete(this);
  ctx.limits.release(c.clientKey);
  ctx.stats.open.ws--;
  ctx.stats.closed.ws++;
  for (let i = 0; i < closeHooks.length; i++) closeHooks[i](c);
}

function onError(this: WebSocket, err: Error & { code?: string }): void {
  // ws closes the socket itself (1009 for an oversize message, 1002/1007 for bad frames);
  // a plain socket error (reset) needs nothing but this listener.
  const c = (this as TaggedWs)[kConn];
  if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') c.ctx.stats.dropped.too_large++;
  else if (err.code !== undefined && err.code.startsWith('WS_ERR_')) c.ctx.stats.dropped.protocol_error++;
  c.closing = true;
}

// ---------------------------------------------------------------- message types

function onEchoMessage(c: Conn, _msg: Record<string, unknown>, raw: Buffer): void {
  send(c, raw, false);
}

function onPingMessage(c: Conn, msg: Record<string, unknown>): void {
  const id = msg.id;
  const okId =
    id === undefined ||
    (typeof id === 'string' && id.length <= 256) ||
    (typeof id === 'number' && Number.isFinite(id));
  if (!okId) {
    sendError(c, 'bad_message', 'ping "id" must be a number or a string of at most 256 characters');
    return;
  }
  sendJson(c, { type: 'pong', id, ts: Date.now() });
}

/** Called by the idle wheel for a connection silent for IDLE_TIMEOUT. */
export function expireIdle(c: Conn): void {
  closeConn(c, 1001, 'idle timeout', 'idle');
}
