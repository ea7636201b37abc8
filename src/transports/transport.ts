import type { ErrorCode } from '../errors.js';

/** Connection phases timed for every session (besides each HTTP step, `http:<name>`). */
export type Phase = 'dns' | 'connect' | 'tls' | 'upgrade' | 'first_message';

/** What a transport needs of a session: a slot for its own handle. */
export interface Conn {
  /** Transport-owned handle (socket, stream); null when not connected. */
  handle: unknown;
}

/**
 * One sink per engine receives every transport event; callbacks get the session back, so no
 * closure is made per connection (ws / undici handler style).
 *
 * Contract: after open(), a transport calls exactly one terminal callback: failed() when the
 * connection never opened (or broke with a classified error), or closed() after opened(). Phase
 * durations are in microseconds. Transports set no timers: the engine enforces deadlines and
 * calls terminate().
 */
export interface TransportSink<S extends Conn = Conn> {
  phase(s: S, p: Phase, us: number): void;
  opened(s: S): void;
  message(s: S, data: Buffer, isBinary: boolean): void;
  pong(s: S): void;
  closed(s: S, code: number, reason: string): void;
  failed(s: S, code: ErrorCode, detail: string): void;
}

export interface OpenOptions {
  headers: Record<string, string>;
  protocols?: string[];
  localAddress?: string;
  compression?: boolean; // offer permessage-deflate
  /** SSE: reopen a dropped stream with Last-Event-ID, honouring the server's `retry`. */
  reconnect?: boolean;
}

export interface Transport<S extends Conn = Conn> {
  open(s: S, url: string, opts: OpenOptions): void;
  send(s: S, data: string | Buffer): boolean;
  ping(s: S): void;
  close(s: S, code?: number): void;
  /** Drop the connection without a closing handshake. */
  terminate(s: S): void;
}
