import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import { bearer } from './auth.js';
import { attach } from './chat.js';
import type { TargetContext } from './context.js';
import { ID_PATTERN } from './routes.js';
import type { RejectReason } from './stats.js';

// Admission of a WebSocket: path, token, query, limits; then ws completes the handshake.
// Every refusal is a real HTTP response with a JSON reason, after which the socket is destroyed.

interface Admitted {
  ctx: TargetContext;
  userId: string | null;
  clientKey: string;
  chatId: string | null;
}
const kAdmitted = Symbol('holdline.target.admitted');
type TaggedReq = IncomingMessage & { [kAdmitted]?: Admitted };

export function handleUpgrade(ctx: TargetContext, req: IncomingMessage, socket: Duplex, head: Buffer): void {
  if (ctx.closing) return reject(ctx, socket, 503, 'shutting_down', 'the target is shutting down');
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  if (path !== '/ws')
    return reject(ctx, socket, 404, 'not_found', `no WebSocket endpoint at ${path}; use /ws`);
  const params = new URLSearchParams(q < 0 ? '' : url.slice(q + 1));

  const token = params.get('token') ?? bearer(req.headers.authorization);
  const userId = token ? ctx.auth.verify(token) : null;
  if (userId === null && ctx.opts.auth === 'token') {
    const why = token
      ? 'invalid or expired token'
      : 'missing token: use /ws?token=… or Authorization: Bearer …';
    return reject(ctx, socket, 401, 'unauthorized', why, 'WWW-Authenticate: Bearer\r\n');
  }
  const chatId = params.get('chat');
  if (chatId !== null && !ID_PATTERN.test(chatId)) {
    return reject(
      ctx,
      socket,
      400,
      'bad_request',
      'chat must be 1-128 characters of letters, digits and _ . : -',
    );
  }

  // Anonymous clients (AUTH=none, no valid token) are told apart by their address; asking the
  // kernel for it costs a syscall, so only when a per-client cap needs it.
  const clientKey =
    userId !== null
      ? `u:${userId}`
      : ctx.limits.maxPerClient > 0
        ? `a:${req.socket.remoteAddress ?? ''}`
        : 'a:';
  const admission = ctx.limits.check(clientKey);
  if (admission === 'total_limit') {
    return reject(
      ctx,
      socket,
      503,
      'total_limit',
      `connection limit reached (${ctx.limits.maxTotal})`,
      'Retry-After: 1\r\n',
    );
  }
  if (admission === 'client_limit') {
    const why = `too many connections for this client (limit ${ctx.limits.maxPerClient})`;
    return reject(ctx, socket, 429, 'client_limit', why, 'Retry-After: 1\r\n');
  }
  (req as TaggedReq)[kAdmitted] = { ctx, userId, clientKey, chatId };
  // Synchronous when no verifyClient is set: nothing else runs between check() and acquire().
  ctx.wss.handleUpgrade(req, socket, head, upgraded);
}

function upgraded(ws: WebSocket, req: IncomingMessage): void {
  const a = (req as TaggedReq)[kAdmitted]!;
  (req as TaggedReq)[kAdmitted] = undefined;
  attach(a.ctx, ws, a.userId, a.clientKey, a.chatId);
}

/** A refusal after our checks passed but the handshake headers are wrong (ws 'wsClientError'). */
export function rejectHandshake(ctx: TargetContext, err: Error, socket: Duplex): void {
  reject(ctx, socket, 400, 'bad_request', err.message);
}

function reject(
  ctx: TargetContext,
  socket: Duplex,
  status: number,
  reason: RejectReason,
  message: string,
  extraHeaders = '',
): void {
  ctx.stats.rejected[reason]++;
  socket.on('error', destroySelf);
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const body = JSON.stringify({ error: reason, message });
  socket.once('finish', destroySelf);
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n` +
      'Connection: close\r\n' +
      'Content-Type: application/json; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      extraHeaders +
      '\r\n' +
      body,
  );
}

function destroySelf(this: Duplex): void {
  this.destroy();
}
