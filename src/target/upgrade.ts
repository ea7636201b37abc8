import { ServerResponse, STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import { bearer } from './auth.js';
import { attach } from './chat.js';
import type { TargetContext } from './context.js';
import { HttpError, sendErrorJson } from './http-util.js';
import { handleRequest, ID_PATTERN } from './routes.js';
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
  const upgrade = req.headers.upgrade;
  // Node routes every request with an Upgrade header here (h2c from `curl --http2`, say): only a
  // WebSocket handshake is one; anything else is an ordinary request and gets an ordinary answer.
  if (upgrade === undefined || upgrade.trim().toLowerCase() !== 'websocket') {
    servePlain(ctx, req, socket);
    return;
  }
  if (req.httpVersionMajor !== 1 || req.httpVersionMinor < 1) {
    // RFC 6455 §4.1: the handshake is an HTTP/1.1 (or later) GET.
    return reject(ctx, socket, {
      status: 400,
      reason: 'bad_request',
      message: `a WebSocket handshake needs HTTP/1.1, not HTTP/${req.httpVersion}`,
    });
  }
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
  attach(a.ctx, ws, req.socket, a.userId, a.clientKey, a.chatId);
}

/** A refusal after our checks passed but the handshake headers are wrong (ws 'wsClientError'). */
export function rejectHandshake(ctx: TargetContext, err: Error, socket: Duplex, req: IncomingMessage): void {
  if (req.method !== 'GET') {
    reject(ctx, socket, {
      status: 405,
      reason: 'bad_request',
      message: err.message,
      headers: { Allow: 'GET' },
    });
    return;
  }
  const version = req.headers['sec-websocket-version'];
  // RFC 6455 §4.4: a server that does not speak the client's version says which it speaks.
  const headers = version === '13' || version === '8' ? undefined : { 'Sec-WebSocket-Version': '13' };
  reject(ctx, socket, { status: 400, reason: 'bad_request', message: err.message, headers });
}

/**
 * An ordinary request that came with a non-WebSocket Upgrade header: answered by the HTTP routes
 * on a response of its own, then the connection is closed. Node parsed no body for it, so a
 * request that has one is refused rather than answered from half a request.
 */
function servePlain(ctx: TargetContext, req: IncomingMessage, socket: Duplex): void {
  socket.on('error', destroySelf);
  const res = new ServerResponse(req);
  res.shouldKeepAlive = false;
  res.assignSocket(socket as Socket);
  res.once('finish', endPlain);
  const length = req.headers['content-length'];
  if (req.headers['transfer-encoding'] !== undefined || (length !== undefined && length.trim() !== '0')) {
    sendErrorJson(
      res,
      new HttpError(
        400,
        'bad_request',
        `Upgrade: ${req.headers.upgrade} is not supported with a body; send the request without it`,
      ),
    );
    return;
  }
  req.push(null);
  handleRequest(ctx, req, res);
}

function endPlain(this: ServerResponse): void {
  const socket = this.socket as Socket | null;
  if (socket === null) return;
  this.detachSocket(socket);
  socket.destroySoon();
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
