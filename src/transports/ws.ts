import net from 'node:net';
import tls from 'node:tls';
import type { ClientRequest, IncomingMessage } from 'node:http';
import type { EventEmitter } from 'node:events';
import WebSocket from 'ws';
import type { Conn, OpenOptions, Transport, TransportSink } from './transport.js';
import { classifyErrno } from './classify.js';
import { DEFAULT_MAX_MESSAGE } from './ws-frame.js';

// The `ws`-library transport: used where permessage-deflate is asked for. Listeners are
// module-level functions that reach their session through symbol back-pointers (ws style).

const kSession = Symbol('holdline.session');
const kSink = Symbol('holdline.sink');
const kT = Symbol('holdline.t');
const kFirst = Symbol('holdline.first');
const kDone = Symbol('holdline.done');

interface Tagged {
  [kSession]: Conn;
  [kSink]: TransportSink<Conn>;
  [kT]: number;
  [kFirst]: boolean;
  [kDone]: boolean;
}
type TWs = WebSocket & Tagged;
type TSock = net.Socket & Tagged;

// createConnection is called synchronously inside `new WebSocket()`: this hands it the session.
let opening: { s: Conn; sink: TransportSink<Conn>; t: number } | null = null;

function createConnection(
  options: net.NetConnectOpts & tls.ConnectionOptions & { protocol?: string },
): net.Socket {
  const secure = (options as { defaultPort?: number }).defaultPort === 443;
  const sock = (secure ? tls.connect(options) : net.connect(options)) as TSock;
  const o = opening!;
  sock[kSession] = o.s;
  sock[kSink] = o.sink;
  sock[kT] = o.t;
  sock.on('connect', onSocketConnect);
  if (secure) sock.on('secureConnect', onSecureConnect);
  return sock;
}

function onSocketConnect(this: TSock): void {
  const now = performance.now();
  this[kSink].phase(this[kSession], 'connect', (now - this[kT]) * 1000);
  this[kT] = now;
}

function onSecureConnect(this: TSock): void {
  this[kSink].phase(this[kSession], 'tls', (performance.now() - this[kT]) * 1000);
}

function onUpgrade(this: TWs): void {
  const now = performance.now();
  const sock = (this as unknown as { _socket?: TSock })._socket;
  const since = sock?.[kT] ?? this[kT];
  this[kSink].phase(this[kSession], 'upgrade', (now - since) * 1000);
  this[kT] = now;
}

function onOpen(this: TWs): void {
  this[kSink].opened(this[kSession]);
}

function onMessage(this: TWs, data: Buffer, isBinary: boolean): void {
  if (!this[kFirst]) {
    this[kFirst] = true;
    this[kSink].phase(this[kSession], 'first_message', (performance.now() - this[kT]) * 1000);
  }
  this[kSink].message(this[kSession], data, isBinary);
}

function onPong(this: TWs): void {
  this[kSink].pong(this[kSession]);
}

function onUnexpectedResponse(this: TWs, req: ClientRequest, res: IncomingMessage): void {
  finish(this, () =>
    this[kSink].failed(this[kSession], `http_${res.statusCode ?? 0}`, res.statusMessage ?? ''),
  );
  req.destroy();
  res.resume();
}

function onError(this: TWs, err: NodeJS.ErrnoException): void {
  finish(this, () => this[kSink].failed(this[kSession], classifyErrno(err), err.code ?? err.message));
}

function onClose(this: TWs, code: number, reason: Buffer): void {
  finish(this, () => this[kSink].closed(this[kSession], code, reason.toString()));
}

/** Exactly one terminal callback per connection. */
function finish(ws: TWs, report: () => void): void {
  if (ws[kDone]) return;
  ws[kDone] = true;
  ws[kSession].handle = null;
  report();
}

export class WsLibTransport<S extends Conn> implements Transport<S> {
  private readonly maxPayload: number;

  /** `maxPayload`: largest message accepted (bytes), as for the lean client; over it: close 1009. */
  constructor(
    private readonly sink: TransportSink<S>,
    opts: { maxPayload?: number } = {},
  ) {
    this.maxPayload = opts.maxPayload ?? DEFAULT_MAX_MESSAGE;
  }

  open(s: S, url: string, opts: OpenOptions): void {
    const t = performance.now();
    opening = { s, sink: this.sink as TransportSink<Conn>, t };
    let ws: TWs;
    try {
      ws = new WebSocket(url, opts.protocols ?? [], {
        headers: opts.headers,
        perMessageDeflate: opts.compression === true,
        maxPayload: this.maxPayload,
        localAddress: opts.localAddress,
        createConnection,
      } as WebSocket.ClientOptions) as TWs;
    } catch (err) {
      opening = null;
      this.sink.failed(s, 'error', err instanceof Error ? err.message : String(err));
      return;
    } finally {
      opening = null;
    }
    ws[kSession] = s;
    ws[kSink] = this.sink as TransportSink<Conn>;
    ws[kT] = t;
    ws[kFirst] = false;
    ws[kDone] = false;
    const em = ws as unknown as EventEmitter; // handlers are typed with `this: TWs`
    em.on('upgrade', onUpgrade);
    em.on('open', onOpen);
    em.on('message', onMessage);
    em.on('pong', onPong);
    em.on('unexpected-response', onUnexpectedResponse);
    em.on('error', onError);
    em.on('close', onClose);
    s.handle = ws;
  }

  send(s: S, data: string | Buffer): boolean {
    const ws = s.handle as TWs | null;
    if (!ws || ws.readyState !== WebSocket.OPEN) return false;
    ws.send(data);
    return true;
  }

  ping(s: S): void {
    const ws = s.handle as TWs | null;
    if (ws && ws.readyState === WebSocket.OPEN) ws.ping();
  }

  close(s: S, code = 1000): void {
    const ws = s.handle as TWs | null;
    if (ws) ws.close(code);
  }

  terminate(s: S): void {
    const ws = s.handle as TWs | null;
    if (!ws) return;
    ws[kDone] = true; // terminate is final: no callback after it
    s.handle = null;
    ws.terminate();
  }
}
