import type { IncomingMessage, ServerResponse } from 'node:http';
import { bearer } from './auth.js';
import type { TargetContext } from './context.js';
import { admit, isRefusal } from './admission.js';
import { HttpError } from './http-util.js';
import { addRoute } from './routes.js';
import { dropSlow, overQueued, type QueueState } from './slow-client.js';

// Server-Sent Events at GET /events. Every event is serialised once into a Buffer and that same
// Buffer is written to every stream. The body is not chunk-encoded (it ends when the connection
// does, as a stream does anyway), so a write is the event's bytes and nothing else. A stream whose
// unsent data passes SEND_BUFFER_LIMIT is dropped, as a slow WebSocket is. The last SSE_REPLAY
// events are kept for clients that come back with Last-Event-ID.

const kSub = Symbol('holdline.target.sse');
type TaggedRes = ServerResponse & { [kSub]: SseSub };

const LAST_ID = /^\d{1,15}$/;
const RETRY_MS = 2000;

export class SseSub implements QueueState {
  closing = false;
  queued = 0;
  constructor(
    readonly ctx: TargetContext,
    readonly res: ServerResponse,
    readonly clientKey: string,
  ) {}
}

/** The last `cap` events, by number, for Last-Event-ID. */
export class ReplayRing {
  private readonly ids: Float64Array;
  private readonly bufs: (Buffer | undefined)[];
  private next = 0; // slot of the next event
  private count = 0;

  constructor(readonly cap: number) {
    this.ids = new Float64Array(cap);
    this.bufs = new Array<Buffer | undefined>(cap);
  }

  push(id: number, buf: Buffer): void {
    if (this.cap === 0) return;
    this.ids[this.next] = id;
    this.bufs[this.next] = buf;
    this.next = (this.next + 1) % this.cap;
    if (this.count < this.cap) this.count++;
  }

  /** Number of the oldest event kept (0 when none). */
  get oldest(): number {
    return this.count === 0 ? 0 : this.ids[(this.next - this.count + this.cap) % this.cap];
  }

  /** The kept events numbered above `after`, oldest first. */
  since(after: number): Buffer[] {
    const out: Buffer[] = [];
    for (let k = 0; k < this.count; k++) {
      const i = (this.next - this.count + k + this.cap) % this.cap;
      if (this.ids[i] > after) out.push(this.bufs[i]!);
    }
    return out;
  }
}

export class SseHub {
  readonly subs = new Set<SseSub>();
  readonly ring: ReplayRing;
  /** Number of the last event seen (the floor for the next one). */
  lastId = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(readonly ctx: TargetContext) {
    this.ring = new ReplayRing(ctx.opts.sseReplay);
  }

  start(): void {
    const ms = this.ctx.opts.sseHeartbeatMs;
    if (ms > 0 && !this.timer) {
      this.timer = setInterval(heartbeat, ms, this);
      this.timer.unref();
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    for (const s of this.subs) s.res.destroy();
  }

  /** Writes event `id` to every stream and keeps it for replay; returns the streams written to. */
  event(id: number, buf: Buffer): number {
    if (id > this.lastId) {
      this.lastId = id;
      this.ring.push(id, buf);
    }
    let n = 0;
    for (const s of this.subs) if (write(s, buf)) n++;
    this.ctx.stats.sseEventsOut += n;
    return n;
  }

  /** Writes to every stream (heartbeats, comments). */
  broadcast(buf: Buffer): number {
    let n = 0;
    for (const s of this.subs) if (write(s, buf)) n++;
    return n;
  }
}

function heartbeat(hub: SseHub): void {
  const n = hub.broadcast(Buffer.from(`: hb ${Date.now()}\n\n`));
  hub.ctx.stats.sseHeartbeats += n;
}

/** Writes and drops a stream that stopped reading. */
function write(s: SseSub, buf: Buffer): boolean {
  if (s.closing) return false;
  const res = s.res;
  res.write(buf);
  const socket = res.socket;
  if (socket !== null && overQueued(s, socket, res.writableLength, s.ctx.opts.sendBufferLimit)) {
    // It is not reading: holding more for it would grow memory without bound.
    s.closing = true;
    s.ctx.stats.dropped.slow_client++;
    dropSlow(socket);
    return false;
  }
  return true;
}

function getEvents(ctx: TargetContext, req: IncomingMessage, res: ServerResponse, query: string): void {
  const q = query ? new URLSearchParams(query) : null;
  const header = req.headers['last-event-id'];
  const rawLast =
    (typeof header === 'string' && header !== '' ? header : null) ?? q?.get('lastEventId') ?? null;
  const a = admit(ctx, req, q?.get('token') ?? bearer(req.headers.authorization), '/events', () =>
    rawLast !== null && !LAST_ID.test(rawLast.trim())
      ? {
          status: 400,
          reason: 'bad_request',
          message: 'Last-Event-ID must be the number of an event (a whole number of at most 15 digits)',
        }
      : null,
  );
  if (isRefusal(a)) {
    ctx.stats.rejected[a.reason]++;
    throw new HttpError(a.status, a.reason, a.message, a.headers);
  }
  const clientKey = a.clientKey;

  if (req.method === 'HEAD') {
    // Headers only: not a stream, nothing to hold open.
    res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store' });
    res.end();
    return;
  }
  const sub = new SseSub(ctx, res, clientKey);
  (res as TaggedRes)[kSub] = sub;
  ctx.limits.acquire(clientKey);
  ctx.stats.open.sse++;
  ctx.stats.accepted.sse++;
  ctx.sse.subs.add(sub);
  res.on('close', onClose);
  res.on('error', ignore);
  // Close-delimited body: no chunk framing around each event.
  res.useChunkedEncodingByDefault = false;
  res.writeHead(200, {
    'Content-Type': 'text/event-stream; charset=utf-8',
    'Cache-Control': 'no-store',
    'X-Accel-Buffering': 'no',
  });
  res.write(`retry: ${RETRY_MS}\n: holdline target, events of ${ctx.instanceId}\n\n`);
  if (rawLast !== null) replay(sub, Number(rawLast.trim()));
}

function replay(sub: SseSub, after: number): void {
  const ctx = sub.ctx;
  const ring = ctx.sse.ring;
  const oldest = ring.oldest;
  if (oldest > after + 1) {
    // Some events after the client's last one are no longer kept: say so, then send the rest.
    sub.res.write(`: events ${after + 1}-${oldest - 1} are no longer kept (SSE_REPLAY ${ring.cap})\n\n`);
  }
  for (const buf of ring.since(after)) if (write(sub, buf)) ctx.stats.sseEventsOut++;
}

function onClose(this: ServerResponse): void {
  const sub = (this as TaggedRes)[kSub];
  sub.closing = true;
  const ctx = sub.ctx;
  if (!ctx.sse.subs.delete(sub)) return;
  ctx.limits.release(sub.clientKey);
  ctx.stats.open.sse--;
  ctx.stats.closed.sse++;
}

function ignore(): void {}

addRoute('GET', '/events', getEvents);
