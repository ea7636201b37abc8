import { buildConnector, Client } from 'undici';
import type { ErrorCode } from '../errors.js';
import type { Conn, OpenOptions, Transport, TransportSink } from './transport.js';
import { classifyErrno } from './classify.js';
import { SseParser } from './sse-parse.js';

// Server-Sent Events over undici's dispatcher API: per connection one SseConn (parser state,
// reached from the session as `s.handle`), one undici Client holding its one socket, and one
// small handler object per request. The handlers use undici's classic on* methods, which undici 7
// drives directly (controller-style handlers get two wrapper objects per request).
//
// Why a Client per stream and not one shared Agent: an Agent keeps a Pool per origin, and a Pool
// looks for a free client by scanning all of its clients on every request. Every SSE client stays
// busy for the whole step, so opening N streams scans N²/2 clients: 2.5 s of CPU for 10,000
// streams in bench/broadcast-sse (a quarter of the connect phase), growing with the square. Each
// stream holds its own socket either way; the connector (TLS session cache, connect timeout) is
// built once and shared. Ends use one shared error object: undici builds none of its own then
// (another second of CPU at 10,000 closes, in stack traces).
//
// Contract with the sink (exactly one terminal callback per open()):
// - phases: `upgrade` = open() to the response headers (TCP connect included), `first_message` =
//   headers to the first event.
// - failed(http_<status>) for a response other than 2xx (or a 204), failed(protocol) for a
//   content type other than text/event-stream or an event over MAX_EVENT_BYTES, failed(<errno
//   class>) for network errors.
// - opened() once the headers are in; every event with data is message(s, data, false).
// - SSE has no close codes: a stream the server ends is closed(1006, …), as a WebSocket closed
//   without a close frame; a socket error keeps its class (reset, …) through failed().
// - With reconnection (OpenOptions.reconnect, or the constructor default), a dropped stream is
//   reopened after the server's `retry` (or the default) with Last-Event-ID, without telling the
//   sink: the session stays open. Drops and reconnections are kept on the connection, readable
//   with sseInfo(s), also during the terminal callback. Network errors while reconnecting retry
//   again; a refusal (non-2xx, wrong content type) ends the session as above.
// - close() ends the request (its client is destroyed) and reports closed(code, '') on the next
//   tick (failed(aborted) before the headers); terminate() ends it silently.
// Reconnect delays use one timer per transport, armed for the earliest waiting connection.

const C_CONNECTING = 0;
const C_OPEN = 1;
const C_WAIT = 2; // dropped, waiting to reconnect
const C_RECONNECTING = 3;
const C_DONE = 4;

/** Reconnection delay when the server sent no `retry:` (browsers use about 3 s). */
export const DEFAULT_RETRY_MS = 3000;
/** How long a reconnection may wait for response headers before it is tried again. */
const RECONNECT_HEADERS_TIMEOUT_MS = 30_000;
const MAX_DROPS_KEPT = 20;

export interface SseDefaults {
  /** Reopen a dropped stream with Last-Event-ID (unless OpenOptions.reconnect says otherwise). */
  reconnect?: boolean;
  /** Delay before reconnecting until the server sends `retry:`. */
  retryMs?: number;
}

/** One dropped stream of a connection that reconnects. */
export interface SseDrop {
  /** performance.now() when the stream dropped. */
  at: number;
  /** Error class: closed_1006 (the server ended the stream), reset, … */
  reason: string;
}

/** What a connection learnt from its stream, for a plan's extension. */
export interface SseInfo {
  readonly lastEventId: string;
  /** Name of the event being delivered (`message` when it has none). */
  readonly eventType: string;
  /** Streams reopened after a drop. */
  readonly reconnects: number;
  /** The first drops (at most 20), or null when none. */
  readonly drops: readonly SseDrop[] | null;
  readonly dropCount: number;
  readonly comments: number;
}

/** The SSE state of a session, or null when it has no SSE connection (also during its terminal callback). */
export function sseInfo(s: Conn): SseInfo | null {
  return s.handle instanceof SseConn ? s.handle : null;
}

class SseConn extends SseParser implements SseInfo {
  state = C_CONNECTING;
  opened = false;
  gotFirst = false;
  req: SseRequest | null = null;
  /** The undici client of the current request (one socket). */
  client: Client | null = null;
  /** performance.now() at the start of the phase being timed. */
  t: number;
  retryMs: number;
  reconnects = 0;
  attempts = 0; // reconnection attempts since the last success
  drops: SseDrop[] | null = null;
  dropCount = 0;
  /** When the next reconnection is due (performance.now() ms). */
  due = 0;

  constructor(
    readonly s: Conn,
    readonly owner: Owner,
    readonly clientOpts: Client.Options,
    readonly origin: string,
    readonly path: string,
    readonly headers: Record<string, string>,
    readonly reconnect: boolean,
    retryMs: number,
    t: number,
  ) {
    super();
    this.t = t;
    this.retryMs = retryMs;
  }

  protected onEvent(data: Buffer): void {
    const sink = this.owner.sink;
    if (!this.gotFirst) {
      this.gotFirst = true;
      sink.phase(this.s, 'first_message', (performance.now() - this.t) * 1000);
    }
    sink.message(this.s, data, false);
  }

  protected override onRetry(ms: number): void {
    this.retryMs = ms;
  }
}

/** What connections need of their transport. */
interface Owner {
  readonly sink: TransportSink<Conn>;
  schedule(c: SseConn): void;
}

/** undici's handler for one request of a connection; stale once the connection moved on. */
class SseRequest {
  constructor(readonly c: SseConn) {}

  onConnect(abort: (err?: Error) => void): void {
    if (this.c.req !== this) abort(ENDED);
  }

  onHeaders(status: number, raw: Buffer[], _resume: () => void, statusText: string): boolean {
    if (this.c.req === this) onHeaders(this.c, status, raw, statusText);
    return true;
  }

  onData(chunk: Buffer): boolean {
    const c = this.c;
    if (c.req !== this || c.state !== C_OPEN) return true;
    if (!c.feed(chunk)) {
      finish(c, 'protocol', 'an event or line larger than 1 MiB', 0);
    }
    return true;
  }

  onComplete(): void {
    if (this.c.req === this) streamEnded(this.c, null);
  }

  onError(err: Error): void {
    if (this.c.req === this) streamEnded(this.c, err);
  }
}

function onHeaders(c: SseConn, status: number, raw: Buffer[], statusText: string): void {
  if (status < 200) return; // 1xx: the real response follows
  if (status > 299 || status === 204) {
    return finish(c, `http_${status}`, `${status} ${statusText}`.trim(), 0);
  }
  const ct = contentType(raw);
  if (ct !== 'text/event-stream') {
    return finish(c, 'protocol', `content-type ${ct || '(none)'}, expected text/event-stream`, 0);
  }
  c.resetStream();
  c.state = C_OPEN;
  if (c.opened) {
    c.reconnects++;
    c.attempts = 0;
    return;
  }
  c.opened = true;
  const now = performance.now();
  const sink = c.owner.sink;
  sink.phase(c.s, 'upgrade', (now - c.t) * 1000);
  c.t = now;
  sink.opened(c.s);
}

/** The `content-type` media type, lower case, without parameters. */
function contentType(raw: Buffer[]): string {
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i];
    if (name.length === 12 && name.toString('latin1').toLowerCase() === 'content-type') {
      const v = raw[i + 1].toString('latin1');
      const semi = v.indexOf(';');
      return (semi === -1 ? v : v.slice(0, semi)).trim().toLowerCase();
    }
  }
  return '';
}

/** The response ended (err null) or failed. */
function streamEnded(c: SseConn, err: Error | null): void {
  c.req = null;
  dropClient(c);
  if (c.state === C_CONNECTING) {
    return finish(c, err ? classifyErrno(err) : 'protocol', err ? detailOf(err) : 'no response', 0);
  }
  const reason = err ? classifyErrno(err) : 'closed_1006';
  if (c.state === C_RECONNECTING) {
    // A network error while reconnecting: try again later.
    c.state = C_WAIT;
    c.due = performance.now() + c.retryMs;
    c.owner.schedule(c);
    return;
  }
  if (c.state !== C_OPEN) return;
  if (c.reconnect) {
    c.dropCount++;
    if (c.dropCount <= MAX_DROPS_KEPT) (c.drops ??= []).push({ at: performance.now(), reason });
    c.state = C_WAIT;
    c.due = performance.now() + c.retryMs;
    c.owner.schedule(c);
    return;
  }
  if (err) finish(c, reason, detailOf(err), 0);
  else finish(c, null, 'the server ended the event stream', 1006);
}

/**
 * The one terminal callback: failed(code) when `code` is given, else closed(closeCode). The
 * handle stays set during the callback, so the sink can still read sseInfo(s).
 */
function finish(c: SseConn, code: string | null, detail: string, closeCode: number): void {
  if (c.state === C_DONE) return;
  detach(c);
  const sink = c.owner.sink;
  if (code !== null) sink.failed(c.s, code as ErrorCode, detail);
  else sink.closed(c.s, closeCode, detail);
  if (c.s.handle === c) c.s.handle = null;
}

/** No more callbacks from this connection's request; its socket is closed. */
function detach(c: SseConn): void {
  c.state = C_DONE;
  c.req = null;
  dropClient(c);
}

/** Ends a connection's request, if any, and closes its socket. */
function dropClient(c: SseConn): void {
  const client = c.client;
  if (client === null) return;
  c.client = null;
  client.destroy(ENDED, ignore);
}

/** The one error undici gets to end a request with: no error objects (and stacks) per close. */
const ENDED = new Error('closed by holdline');

function ignore(): void {}

function detailOf(err: Error): string {
  return (err as NodeJS.ErrnoException).code ?? err.message;
}

function reportClose(sink: TransportSink<Conn>, s: Conn, wasOpen: boolean, code: number): void {
  if (wasOpen) sink.closed(s, code, '');
  else sink.failed(s, 'aborted', 'closed before the stream opened');
}

function startRequest(c: SseConn, headers: Record<string, string>, headersTimeout: number): void {
  const req = new SseRequest(c);
  c.req = req;
  const client = new Client(c.origin, c.clientOpts);
  c.client = client;
  // dispatch() reports its own errors to req.onError, synchronously.
  client.dispatch({ path: c.path, method: 'GET', headers, bodyTimeout: 0, headersTimeout }, req as never);
}

export class SseTransport<S extends Conn> implements Transport<S>, Owner {
  readonly sink: TransportSink<Conn>;
  private readonly clientOpts = new Map<string, Client.Options>();
  private readonly reconnectByDefault: boolean;
  private readonly retryMs: number;
  private waiting: SseConn[] = [];
  private timer: NodeJS.Timeout | null = null;
  private armedFor = Infinity;

  constructor(sink: TransportSink<S>, defaults: SseDefaults = {}) {
    this.sink = sink as TransportSink<Conn>;
    this.reconnectByDefault = defaults.reconnect === true;
    this.retryMs = defaults.retryMs ?? DEFAULT_RETRY_MS;
  }

  open(s: S, url: string, opts: OpenOptions): void {
    const t = performance.now();
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      this.sink.failed(s, 'error', `not a URL: ${url}`);
      return;
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') {
      this.sink.failed(s, 'error', `an event stream needs an http:// or https:// URL, got ${u.protocol}//`);
      return;
    }
    const headers: Record<string, string> = { accept: 'text/event-stream', 'cache-control': 'no-cache' };
    for (const k in opts.headers) headers[k.toLowerCase()] = opts.headers[k];
    const c = new SseConn(
      s,
      this,
      this.optionsFor(opts.localAddress),
      u.origin,
      u.pathname + u.search,
      headers,
      opts.reconnect ?? this.reconnectByDefault,
      this.retryMs,
      t,
    );
    s.handle = c;
    startRequest(c, headers, 0); // the engine enforces the connect deadline
  }

  /** SSE is one-way. */
  send(): boolean {
    return false;
  }

  ping(): void {}

  close(s: S, code = 1000): void {
    const c = s.handle;
    if (!(c instanceof SseConn) || c.state === C_DONE) return;
    const wasOpen = c.opened;
    detach(c);
    s.handle = null;
    process.nextTick(reportClose, this.sink, s, wasOpen, code);
  }

  terminate(s: S): void {
    const c = s.handle;
    if (!(c instanceof SseConn)) return;
    detach(c);
    s.handle = null;
  }

  /** Stops pending reconnections (connections are closed with close() or terminate()). */
  destroy(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    for (const c of this.waiting) detach(c);
    this.waiting = [];
  }

  schedule(c: SseConn): void {
    this.waiting.push(c);
    this.arm(c.due);
  }

  /** Client options per source address, with one shared connector. */
  private optionsFor(localAddress: string | undefined): Client.Options {
    const key = localAddress ?? '';
    let o = this.clientOpts.get(key);
    if (!o) {
      o = {
        connect: buildConnector({ timeout: 30_000, ...(localAddress ? { localAddress } : {}) }),
        bodyTimeout: 0,
        headersTimeout: 0,
        pipelining: 1,
      };
      this.clientOpts.set(key, o);
    }
    return o;
  }

  private arm(at: number): void {
    if (at >= this.armedFor) return;
    if (this.timer) clearTimeout(this.timer);
    this.armedFor = at;
    this.timer = setTimeout(this.onTimer, Math.max(0, Math.ceil(at - performance.now())));
    this.timer.unref(); // pending reconnections never keep the process alive
  }

  private readonly onTimer = (): void => {
    this.timer = null;
    this.armedFor = Infinity;
    const now = performance.now();
    const list = this.waiting;
    this.waiting = []; // a reconnection that fails at once schedules itself again in here
    for (const c of list) {
      if (c.state !== C_WAIT) continue; // closed meanwhile
      if (c.due <= now) reconnectNow(c);
      else this.waiting.push(c);
    }
    let next = Infinity;
    for (const c of this.waiting) if (c.due < next) next = c.due;
    if (next !== Infinity) this.arm(next);
  };
}

function reconnectNow(c: SseConn): void {
  c.state = C_RECONNECTING;
  c.attempts++;
  const headers = c.lastEventId === '' ? c.headers : { ...c.headers, 'last-event-id': c.lastEventId };
  startRequest(c, headers, RECONNECT_HEADERS_TIMEOUT_MS);
}
