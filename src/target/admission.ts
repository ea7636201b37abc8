import type { IncomingMessage } from 'node:http';
import type { TargetContext } from './context.js';
import type { RejectReason } from './stats.js';

// Admission of a long-lived connection, the same for a WebSocket (/ws) and a stream (/events):
// shutting down, then the token, then the endpoint's own input checks, then the connection
// limits. A refusal is data; each endpoint answers it in its own form (a raw response on the
// upgrade socket, an HttpError on a request) and counts it in `stats.rejected`.

export interface Refusal {
  status: number;
  reason: RejectReason;
  message: string;
  headers?: Record<string, string>;
}

export interface Admitted {
  userId: string | null;
  /** The key its connections count under: `u:<user>`, or `a:<address>` for anonymous ones. */
  clientKey: string;
}

const RETRY = { 'Retry-After': '1' };

/**
 * Who the connection is and whether it may open, or why not. `path` names the endpoint in the
 * missing-token hint; `validate` runs after the token and before the limits, so a request refused
 * for bad input never counts against its client.
 */
export function admit(
  ctx: TargetContext,
  req: IncomingMessage,
  token: string | null | undefined,
  path: string,
  validate: () => Refusal | null,
): Admitted | Refusal {
  if (ctx.closing) return { status: 503, reason: 'shutting_down', message: 'the target is shutting down' };
  const userId = token ? ctx.auth.verify(token) : null;
  if (userId === null && ctx.opts.auth === 'token') {
    const message = token
      ? 'invalid or expired token'
      : `missing token: use ${path}?token=… or Authorization: Bearer …`;
    return { status: 401, reason: 'unauthorized', message, headers: { 'WWW-Authenticate': 'Bearer' } };
  }
  const invalid = validate();
  if (invalid !== null) return invalid;
  // Anonymous clients (AUTH=none, no valid token) are told apart by their address; asking the
  // kernel for it costs a syscall, so only when a per-client cap needs it.
  const clientKey =
    userId !== null
      ? `u:${userId}`
      : ctx.limits.maxPerClient > 0
        ? `a:${req.socket.remoteAddress ?? ''}`
        : 'a:';
  const limit = ctx.limits.check(clientKey);
  if (limit === 'total_limit') {
    const message = `connection limit reached (${ctx.limits.maxTotal})`;
    return { status: 503, reason: 'total_limit', message, headers: RETRY };
  }
  if (limit === 'client_limit') {
    const message = `too many connections for this client (limit ${ctx.limits.maxPerClient})`;
    return { status: 429, reason: 'client_limit', message, headers: RETRY };
  }
  return { userId, clientKey };
}

export function isRefusal(a: Admitted | Refusal): a is Refusal {
  return 'status' in a;
}
