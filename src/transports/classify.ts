import type { ErrorCode, FixedErrorCode } from '../errors.js';

// The one table from errors to failure classes (DESIGN.md "Error taxonomy"), shared by every
// transport. Errors are classified once, at the transport boundary, by their `code` — never by
// message text, which changes between Node versions and locales.

const BY_CODE: Record<string, FixedErrorCode> = {
  ECONNREFUSED: 'refused',
  ECONNRESET: 'reset',
  EPIPE: 'reset',
  ECONNABORTED: 'reset',
  ETIMEDOUT: 'timeout',
  ENOTFOUND: 'dns',
  EAI_AGAIN: 'dns',
  EAI_FAIL: 'dns',
  EAI_NODATA: 'dns',
  EAI_NONAME: 'dns',
  EPROTO: 'tls',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'tls',
  SELF_SIGNED_CERT_IN_CHAIN: 'tls',
  EADDRNOTAVAIL: 'ports_exhausted',
  EMFILE: 'fds_exhausted',
  ENFILE: 'fds_exhausted',
  EHOSTUNREACH: 'unreachable',
  ENETUNREACH: 'unreachable',
  EHOSTDOWN: 'unreachable',
  ENETDOWN: 'unreachable',
  // undici wraps socket failures in its own codes
  UND_ERR_CONNECT_TIMEOUT: 'timeout',
  UND_ERR_HEADERS_TIMEOUT: 'timeout',
  UND_ERR_BODY_TIMEOUT: 'timeout',
  UND_ERR_SOCKET: 'reset',
  UND_ERR_ABORTED: 'aborted',
  ABORT_ERR: 'aborted',
};

// Families of codes: TLS handshake and certificate failures, OpenSSL errors, and the `ws`
// library's frame-level errors (WS_ERR_INVALID_UTF8, WS_ERR_UNEXPECTED_MASK, ...).
const BY_PREFIX: [string, FixedErrorCode][] = [
  ['ERR_TLS_', 'tls'],
  ['ERR_SSL_', 'tls'],
  ['CERT_', 'tls'],
  ['UNABLE_TO_', 'tls'],
  ['HOSTNAME_MISMATCH', 'tls'],
  ['WS_ERR_', 'protocol'],
];

/** The failure class of an error `code` (errno name or library code); `error` when unknown. */
export function classifyCode(code: string | undefined): FixedErrorCode {
  if (!code) return 'error';
  const c = BY_CODE[code];
  if (c) return c;
  for (const [prefix, cls] of BY_PREFIX) if (code.startsWith(prefix)) return cls;
  return 'error';
}

/**
 * The failure class of an error from a socket, TLS, DNS, undici or ws. Looks at `code`, then
 * at a wrapped `cause` (undici, fetch) or the first of an AggregateError's errors (Node's
 * happy-eyeballs connect), and at the DOMException names of AbortSignal.
 */
export function classifyErrno(err: unknown): FixedErrorCode {
  for (let e = err, depth = 0; e && typeof e === 'object' && depth < 4; depth++) {
    const { code, name } = e as { code?: unknown; name?: unknown };
    const c = classifyCode(typeof code === 'string' ? code : undefined);
    if (c !== 'error') return c;
    if (name === 'TimeoutError') return 'timeout';
    if (name === 'AbortError') return 'aborted';
    const errors = (e as { errors?: unknown }).errors;
    e = Array.isArray(errors) && errors.length > 0 ? errors[0] : (e as { cause?: unknown }).cause;
  }
  return 'error';
}

/** `http_<status>` for a refused upgrade or SSE request. */
export function classifyHttpStatus(status: number): ErrorCode {
  return `http_${status}`;
}

/** `closed_<code>` for a connection the peer closed before the step ended. */
export function classifyClose(code: number): ErrorCode {
  return `closed_${code}`;
}
