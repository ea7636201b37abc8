import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import { bearer } from './auth.js';
import { attach } from './chat.js';
import type { TargetContext } from './context.js';
import { ID_PATTERN } from './routes.js';
import { admit, isRefusal, type Refusal } from './admission.js';

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
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  if (path !== '/ws') {
    return reject(ctx, socket, {
      status: 404,
      reason: 'not_found',
      message: `no WebSocket endpoint at ${path}; use /ws`,
    });
  }
  const params = new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
  const chatId = params.get('chat');
  const a = admit(ctx, req, params.get('token') ?? bearer(req.headers.authorization), '/ws', () =>
    chatId !== null && !ID_PATTERN.test(chatId)
      ? {
          status: 400,
          reason: 'bad_request',
          message: 'chat must be 1-128 characters of letters, digits and _ . : -',
        }
      : null,
  );
  if (isRefusal(a)) return reject(ctx, socket, a);
  (req as TaggedReq)[kAdmitted] = { ctx, userId: a.userId, clientKey: a.clientKey, chatId };
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
  reject(ctx, socket, { status: 400, reason: 'bad_request', message: err.message });
}

function reject(ctx: TargetContext, socket: Duplex, r: Refusal): void {
  const { status, reason, message } = r;
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
      Object.entries(r.headers ?? {})
        .map(([k, v]) => `${k}: ${v}\r\n`)
        .join('') +
      '\r\n' +
      body,
  );
}

function destroySelf(this: Duplex): void {
  this.destroy();
}
