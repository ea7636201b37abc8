import net from 'node:net';
import tls from 'node:tls';
import { HoldlineError } from '../errors.js';
import type { ErrorCode } from '../errors.js';
import type { Conn, OpenOptions, Transport, TransportSink } from './transport.js';
import { classifyErrno } from './classify.js';
import {
  DEFAULT_MAX_MESSAGE,
  encodeClose,
  encodeFrame,
  isValidCloseCode,
  OP_BINARY,
  OP_PING,
  OP_PONG,
  OP_TEXT,
  parseFrames,
  randomInto,
  type FrameHandler,
  type FrameState,
} from './ws-frame.js';
import {
  buildUpgradeRequest,
  checkUpgradeResponse,
  MAX_HEAD,
  parseStatusLine,
  parseWsUrl,
  type WsTarget,
} from './ws-handshake.js';

// A lean RFC 6455 client on raw net/tls sockets: the cheapest WebSocket session we can hold.
//
// Per-connection state is one ConnState (below), reached from the session as `s.handle` and
// from the socket through the kState back-pointer. It holds: the session and transport
// (pointers), the socket, a numeric phase, the start time of the phase being timed, the
// handshake key (until the 101) and the offered subprotocols (shared array), a partial
// response head (only while it is incomplete), two flags, and the parser's fields: a partial
// header or payload (only while a frame is incomplete) and the fragments of a message in
// progress. No closures, no timers, no emitter or stream of our own: socket listeners are
// module-level functions. Plain-TCP reads land in one shared buffer (net's `onread`), so an
// idle socket holds no read buffer and a read allocates nothing (measured here: ~15-20% less
// CPU per message than 'data' events).
//
// Contract with the sink (exactly one terminal callback per open()):
// - failed(code) when the connection never opened: errno classes, http_<status>, protocol.
// - after opened(): closed(code, reason) for a close frame (1005 when it has no code) and
//   closed(1006, '') when the socket ends without one; failed(class) for a socket error
//   (e.g. reset); failed('protocol', '<close code>: <why>') when the server breaks the protocol,
//   after sending it close 1002 / 1007 / 1009.
// - terminate() is final and silent: it destroys the socket and reports nothing, as the engine
//   records its own reason. close() before the 101 gives failed('aborted').
// - message() gets a Buffer that is valid only during the call (often a view of a shared read
//   buffer): the sink must copy what it keeps.
// - After we end a socket (close frame exchanged, or a protocol error) we give the server
//   LINGER_MS to close its side, through the socket's own idle timeout, then destroy it: the
//   engine no longer tracks the session by then.

const kState = Symbol('holdline.wsclient');
type Sock = net.Socket & { [kState]: ConnState };

const P_CONNECT = 0; // TCP connecting (and DNS)
const P_TLS = 1; // TLS handshake
const P_UPGRADE = 2; // upgrade request sent, waiting for the 101
const P_OPEN = 3;
const P_CLOSING = 4; // we sent a close frame, waiting for the server's
const P_DONE = 5; // terminal callback made (or terminated)

const LINGER_MS = 5000;
const READ_SIZE = 64 * 1024;
const CRLF = Buffer.from('\r\n');
const CRLF2 = Buffer.from('\r\n\r\n');
const EMPTY = Buffer.alloc(0);

interface Owner {
  readonly sink: TransportSink<Conn>;
  readonly maxPayload: number;
}

class ConnState implements FrameState {
  sock: Sock | null = null;
  phase = P_CONNECT;
  /** performance.now() at the start of the phase being timed. */
  t: number;
  /** Sec-WebSocket-Key, until the 101 is validated. */
  key: string | null = null;
  /** Response head received so far, while it is incomplete. */
  head: Buffer | null = null;
  looked = false;
  first = false;
  closeSent = false;
  hdr: Buffer | null = null;
  pay: Buffer | null = null;
  payPos = 0;
  payLen = 0;
  payOp = 0;
  payFin = false;
  fragOp = 0;
  frag: Buffer | null = null;
  fragLen = 0;

  constructor(
    readonly s: Conn,
    readonly tr: Owner,
    readonly protocols: readonly string[] | undefined,
    t: number,
  ) {
    this.t = t;
  }
}

export interface WsClientOptions {
  /** Largest message accepted, fragments included (bytes); default 16 MiB. Over it: close 1009. */
  maxPayload?: number;
  /** wss:// without certificate verification. */
  insecure?: boolean;
}

export class WsClientTransport<S extends Conn> implements Transport<S> {
  readonly sink: TransportSink<Conn>;
  readonly maxPayload: number;
  private readonly insecure: boolean;
  private lastUrl = '';
  private lastTarget: WsTarget | null = null;
  private lastReq: RequestTemplate | null = null;

  constructor(sink: TransportSink<S>, opts: WsClientOptions = {}) {
    this.sink = sink as unknown as TransportSink<Conn>;
    this.maxPayload = opts.maxPayload ?? DEFAULT_MAX_MESSAGE;
    this.insecure = opts.insecure === true;
  }

  open(s: S, url: string, opts: OpenOptions): void {
    if (opts.compression) {
      throw new HoldlineError(
        'unsupported',
        'the lean WebSocket client does not offer permessage-deflate',
        'use the ws-library transport (WsLibTransport, chosen by --compression) to test compression',
      );
    }
    const st = new ConnState(s, this, opts.protocols, performance.now());
    s.handle = st;
    let t: WsTarget;
    let req: Buffer;
    try {
      t = this.target(url);
      randomInto(keyBytes, 0, 16);
      st.key = keyBytes.toString('base64');
      const tpl = this.request(url, t, opts);
      req = Buffer.allocUnsafe(tpl.bytes.length); // from the shared pool: no allocation of its own
      tpl.bytes.copy(req, 0);
      req.write(st.key, tpl.keyAt, 'latin1');
    } catch (err) {
      process.nextTick(failLater, st, 'error', err instanceof Error ? err.message : String(err));
      return;
    }
    let sock: Sock;
    try {
      sock = (
        t.secure
          ? tls.connect({
              host: t.host,
              port: t.port,
              servername: t.servername,
              localAddress: opts.localAddress, // passed on to the TCP connect
              rejectUnauthorized: !this.insecure,
            } as tls.ConnectionOptions)
          : net.connect({
              host: t.host,
              port: t.port,
              localAddress: opts.localAddress,
              noDelay: true,
              onread: ONREAD,
            })
      ) as Sock;
    } catch (err) {
      process.nextTick(failLater, st, classifyErrno(err), err instanceof Error ? err.message : String(err));
      return;
    }
    st.sock = sock;
    sock[kState] = st;
    sock.on('error', onError);
    sock.on('close', onClose);
    sock.on('connect', onConnect);
    if (net.isIP(t.host) === 0) sock.on('lookup', onLookup);
    if (t.secure) {
      sock.setNoDelay(true);
      sock.on('secureConnect', onSecureConnect);
      // TLS delivers decrypted chunks as 'data': its reads may run inside a write, so they
      // cannot share one read buffer.
      sock.on('data', onData);
    }
    sock.write(req); // queued until connected (and, for TLS, until secure)
  }

  send(s: S, data: string | Buffer): boolean {
    const st = s.handle as ConnState | null;
    if (st === null || st.phase !== P_OPEN) return false;
    const sock = st.sock!;
    if (sock.writableNeedDrain) return false;
    sock.write(encodeFrame(typeof data === 'string' ? OP_TEXT : OP_BINARY, data));
    return true;
  }

  ping(s: S): void {
    const st = s.handle as ConnState | null;
    if (st !== null && st.phase === P_OPEN) st.sock!.write(encodeFrame(OP_PING, EMPTY));
  }

  /** Sends a close frame and waits for the server's (the engine bounds the wait). */
  close(s: S, code = 1000): void {
    const st = s.handle as ConnState | null;
    if (st === null) return;
    if (st.phase === P_OPEN) {
      st.phase = P_CLOSING;
      st.closeSent = true;
      st.sock!.write(encodeClose(isValidCloseCode(code) ? code : 1005));
    } else if (st.phase < P_OPEN) {
      finish(st);
      st.sock?.destroy();
      st.tr.sink.failed(st.s, 'aborted', 'closed before the connection opened');
    }
  }

  /** Destroys the socket now; final and silent (no callback follows). */
  terminate(s: S): void {
    const st = s.handle as ConnState | null;
    if (st === null) return;
    finish(st);
    st.sock?.destroy();
  }

  /**
   * The upgrade request as bytes with a slot for the key. Sessions of a step usually share the
   * URL and the very same headers object: build it once, then each open copies it and writes
   * its own key.
   */
  private request(url: string, t: WsTarget, opts: OpenOptions): RequestTemplate {
    const last = this.lastReq;
    if (
      last !== null &&
      last.url === url &&
      last.headers === opts.headers &&
      last.protocols === opts.protocols
    ) {
      return last;
    }
    const bytes = Buffer.from(buildUpgradeRequest(t, KEY_SLOT, opts.headers, opts.protocols));
    const keyAt = bytes.indexOf(`\r\nSec-WebSocket-Key: ${KEY_SLOT}\r\n`) + 21;
    this.lastReq = { url, headers: opts.headers, protocols: opts.protocols, bytes, keyAt };
    return this.lastReq;
  }

  private target(url: string): WsTarget {
    // Sessions of a step usually share one URL: parse it once.
    if (url !== this.lastUrl || this.lastTarget === null) {
      this.lastTarget = parseWsUrl(url);
      this.lastUrl = url;
    }
    return this.lastTarget;
  }
}

interface RequestTemplate {
  url: string;
  headers: OpenOptions['headers'];
  protocols: OpenOptions['protocols'];
  bytes: Buffer;
  /** Offset of the 24-byte Sec-WebSocket-Key value. */
  keyAt: number;
}

/** Where the key goes in a request template (a base64 value of 16 bytes is 24 characters). */
const KEY_SLOT = 'A'.repeat(22) + '==';
const keyBytes = Buffer.allocUnsafe(16);
// Plain-TCP reads of every connection land here; each read is parsed (and whatever must
// outlive it copied) before the next one, as reads never nest.
const readBuffer = Buffer.allocUnsafe(READ_SIZE);
const ONREAD = { buffer: readBuffer, callback: onRead };

// ------------------------------------------------------------------ terminal paths

/** Marks the connection terminal and drops what it held; the caller reports. */
function finish(st: ConnState): void {
  st.phase = P_DONE;
  if (st.s.handle === st) st.s.handle = null;
  st.key = null;
  st.head = null;
  st.hdr = null;
  st.pay = null;
  st.frag = null;
}

function failLater(st: ConnState, code: ErrorCode, detail: string): void {
  if (st.phase === P_DONE) return; // terminated meanwhile
  finish(st);
  st.tr.sink.failed(st.s, code, detail);
}

function failNow(st: ConnState, code: ErrorCode, detail: string): void {
  finish(st);
  st.sock!.destroy();
  st.tr.sink.failed(st.s, code, detail);
}

/** Half-closes after our last frame; the server should close its side within LINGER_MS. */
function endGracefully(sock: Sock): void {
  sock.end();
  sock.setTimeout(LINGER_MS);
  sock.on('timeout', onLingerTimeout);
}

function onLingerTimeout(this: Sock): void {
  this.destroy();
}

// ------------------------------------------------------------------ socket listeners

function onLookup(this: Sock, err: Error | null): void {
  const st = this[kState];
  if (err !== null || st.looked || st.phase !== P_CONNECT) return;
  st.looked = true;
  const now = performance.now();
  st.tr.sink.phase(st.s, 'dns', (now - st.t) * 1000);
  st.t = now; // connect is timed from the end of the lookup
}

function onConnect(this: Sock): void {
  const st = this[kState];
  if (st.phase !== P_CONNECT) return;
  const now = performance.now();
  st.tr.sink.phase(st.s, 'connect', (now - st.t) * 1000);
  st.t = now;
  st.phase = (this as net.Socket as tls.TLSSocket).encrypted === true ? P_TLS : P_UPGRADE;
}

function onSecureConnect(this: Sock): void {
  const st = this[kState];
  if (st.phase !== P_TLS) return;
  const now = performance.now();
  st.tr.sink.phase(st.s, 'tls', (now - st.t) * 1000);
  st.t = now;
  st.phase = P_UPGRADE;
}

function onRead(this: Sock, n: number, buf: Uint8Array): boolean {
  receive(this[kState], buf as Buffer, n);
  return true;
}

function onData(this: Sock, chunk: Buffer): void {
  receive(this[kState], chunk, chunk.length);
}

function onError(this: Sock, err: Error): void {
  const st = this[kState];
  if (st.phase === P_DONE) return;
  finish(st);
  st.tr.sink.failed(st.s, classifyErrno(err), err.message);
}

function onClose(this: Sock): void {
  const st = this[kState];
  const phase = st.phase;
  if (phase === P_DONE) return;
  const partial = st.head !== null;
  finish(st);
  if (phase >= P_OPEN) st.tr.sink.closed(st.s, 1006, '');
  else if (partial) st.tr.sink.failed(st.s, 'protocol', 'connection closed inside the upgrade response');
  else st.tr.sink.failed(st.s, 'reset', 'connection closed before the upgrade response');
}

// ------------------------------------------------------------------ data

function receive(st: ConnState, b: Buffer, end: number): void {
  if (st.phase === P_OPEN || st.phase === P_CLOSING) parseFrames(st, b, 0, end, st.tr.maxPayload, frames);
  else if (st.phase === P_UPGRADE) onHandshakeData(st, b, end);
}

function onHandshakeData(st: ConnState, b: Buffer, end: number): void {
  const head = st.head !== null ? Buffer.concat([st.head, b.subarray(0, end)]) : b.subarray(0, end);
  const idx = head.indexOf(CRLF2);
  if (idx < 0) {
    // Not the whole head yet: refuse early what can never become a 101.
    if (head.length >= 7 && head.toString('latin1', 0, 7) !== 'HTTP/1.') {
      return failNow(st, 'protocol', 'the server did not answer with HTTP');
    }
    const eol = head.indexOf(CRLF);
    if (eol >= 0) {
      const status = parseStatusLine(head.toString('latin1', 0, eol));
      if (status < 0) return failNow(st, 'protocol', 'malformed HTTP status line');
      if (status !== 101) return failNow(st, `http_${status}`, head.toString('latin1', 0, eol));
    }
    if (head.length > MAX_HEAD) return failNow(st, 'protocol', `response head over ${MAX_HEAD} bytes`);
    st.head = st.head !== null ? head : Buffer.from(head); // b may be the shared read buffer
    return;
  }
  st.head = null;
  if (idx > MAX_HEAD) return failNow(st, 'protocol', `response head over ${MAX_HEAD} bytes`);
  const r = checkUpgradeResponse(head.toString('latin1', 0, idx), st.key!, st.protocols);
  if (!r.ok) return failNow(st, r.code, r.detail);
  const now = performance.now();
  const sink = st.tr.sink;
  sink.phase(st.s, 'upgrade', (now - st.t) * 1000);
  st.t = now;
  st.key = null;
  st.phase = P_OPEN;
  sink.opened(st.s);
  // Frames that came with the 101 (the sink may have closed or terminated meanwhile).
  if (idx + 4 < head.length && (st.phase === P_OPEN || st.phase === P_CLOSING)) {
    parseFrames(st, head, idx + 4, head.length, st.tr.maxPayload, frames);
  }
}

function live(st: ConnState): boolean {
  return st.phase === P_OPEN || st.phase === P_CLOSING;
}

const frames: FrameHandler<ConnState> = {
  message(st, data, binary) {
    if (!st.first) {
      st.first = true;
      st.tr.sink.phase(st.s, 'first_message', (performance.now() - st.t) * 1000);
    }
    st.tr.sink.message(st.s, data, binary);
    return live(st);
  },
  ping(st, payload) {
    if (st.phase === P_OPEN) st.sock!.write(encodeFrame(OP_PONG, payload)); // a masked copy
    return true;
  },
  pong(st) {
    st.tr.sink.pong(st.s);
    return live(st);
  },
  close(st, code, reason) {
    const sock = st.sock!;
    if (!st.closeSent) {
      st.closeSent = true;
      sock.write(encodeClose(code)); // echo the code (none for 1005)
    }
    endGracefully(sock);
    finish(st);
    st.tr.sink.closed(st.s, code, reason);
    return false;
  },
  error(st, closeCode, detail) {
    const sock = st.sock!;
    if (!st.closeSent) {
      st.closeSent = true;
      sock.write(encodeClose(closeCode));
    }
    endGracefully(sock);
    finish(st);
    st.tr.sink.failed(st.s, 'protocol', `${closeCode}: ${detail}`);
  },
};
