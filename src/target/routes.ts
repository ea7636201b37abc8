import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { bearer, checkUserId } from './auth.js';
import type { TargetContext } from './context.js';
import { HttpError, readJsonObject, sendErrorJson, sendJson } from './http-util.js';
import { renderMetrics } from './metrics.js';

// The HTTP API as a table of path → method → handler. Later features add rows with addRoute().
// Handlers throw HttpError for refusals; anything else thrown becomes a 500, never a crash.

export type RouteHandler = (
  ctx: TargetContext,
  req: IncomingMessage,
  res: ServerResponse,
  query: string,
  /** The capture groups of a pattern route, decoded. */
  params: string[],
) => unknown;

const routes = new Map<string, Map<string, RouteHandler>>();

/** Routes with parameters, tried in order after the exact paths; `label` names them in metrics. */
const patterns: { re: RegExp; label: string; byMethod: Map<string, RouteHandler> }[] = [];
const NO_PARAMS: string[] = [];

export function addRoute(method: string, path: string, handler: RouteHandler): void {
  let byMethod = routes.get(path);
  if (!byMethod) routes.set(path, (byMethod = new Map()));
  byMethod.set(method, handler);
}

/** A route such as `/groups/:id/members`: `re` matches the whole path, its groups are the params. */
export function addPatternRoute(method: string, label: string, re: RegExp, handler: RouteHandler): void {
  let p = patterns.find((x) => x.label === label);
  if (!p) patterns.push((p = { re, label, byMethod: new Map() }));
  p.byMethod.set(method, handler);
}

function match(
  path: string,
): { byMethod: Map<string, RouteHandler>; label: string; params: string[] } | null {
  const exact = routes.get(path);
  if (exact) return { byMethod: exact, label: path, params: NO_PARAMS };
  for (const p of patterns) {
    const m = p.re.exec(path);
    if (!m) continue;
    let params: string[];
    try {
      params = m.slice(1).map((s) => decodeURIComponent(s));
    } catch {
      return null; // malformed %-encoding: no such resource
    }
    return { byMethod: p.byMethod, label: p.label, params };
  }
  return null;
}

/** Chat ids and similar names given by clients: short and URL-safe. */
export const ID_PATTERN = /^[\w.:-]{1,128}$/;

export function handleRequest(ctx: TargetContext, req: IncomingMessage, res: ServerResponse): void {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  const found = match(path);
  const route = found ? found.label : 'other';
  res.on('finish', () => ctx.stats.httpResponse(route, res.statusCode));
  if (!found) {
    sendErrorJson(res, new HttpError(404, 'not_found', `no route ${path}`));
    return;
  }
  const byMethod = found.byMethod;
  const method = req.method === 'HEAD' && !byMethod.has('HEAD') ? 'GET' : (req.method ?? 'GET');
  const handler = byMethod.get(method);
  if (!handler) {
    const allow = [...byMethod.keys()].join(', ');
    sendErrorJson(
      res,
      new HttpError(405, 'method_not_allowed', `${path} accepts ${allow}`, { Allow: allow }),
    );
    return;
  }
  try {
    const r = handler(ctx, req, res, q < 0 ? '' : url.slice(q + 1), found.params);
    if (r instanceof Promise) r.catch((err: unknown) => fail(res, err));
  } catch (err) {
    fail(res, err);
  }
}

function fail(res: ServerResponse, err: unknown): void {
  const e =
    err instanceof HttpError
      ? err
      : new HttpError(500, 'internal', `internal error: ${(err as Error)?.message ?? err}`);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendErrorJson(res, e);
}

/** The token subject of a request: 401 unless AUTH=none. */
export function requireUser(ctx: TargetContext, req: IncomingMessage): string | null {
  const token = bearer(req.headers.authorization);
  const userId = token === undefined ? null : ctx.auth.verify(token);
  if (userId === null && ctx.opts.auth === 'token') {
    throw new HttpError(
      401,
      'unauthorized',
      token === undefined ? 'missing token: send Authorization: Bearer <token>' : 'invalid or expired token',
      { 'WWW-Authenticate': 'Bearer' },
    );
  }
  return userId;
}

// ---------------------------------------------------------------- the routes of this part

async function postToken(ctx: TargetContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = await readJsonObject(req, ctx.opts.maxBodySize);
  const u = checkUserId(body.userId);
  if (!u.ok) throw new HttpError(400, 'bad_request', u.message);
  ctx.stats.tokensIssued++;
  sendJson(res, 200, ctx.auth.issue(u.userId));
}

async function postChat(ctx: TargetContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const userId = requireUser(ctx, req);
  const body = await readJsonObject(req, ctx.opts.maxBodySize);
  const name = body.name;
  if (name !== undefined && (typeof name !== 'string' || name.length > 128)) {
    throw new HttpError(400, 'bad_request', 'name must be a string of at most 128 characters');
  }
  // Chats hold no server state in this version: the id is what a client passes to /ws?chat=.
  ctx.stats.chatsCreated++;
  const chatId = `chat-${randomBytes(9).toString('base64url')}`;
  sendJson(
    res,
    201,
    name === undefined ? { chatId, createdBy: userId } : { chatId, name, createdBy: userId },
  );
}

function getHealth(ctx: TargetContext, _req: IncomingMessage, res: ServerResponse): void {
  const s = ctx.stats.snapshot({ count: ctx.groups.size, created: ctx.groups.created }, ctx.bus.health());
  const eld = ctx.loopDelay.summary();
  sendJson(res, ctx.closing ? 503 : 200, {
    status: ctx.closing ? 'closing' : 'ok',
    uptimeSec: s.uptimeSec,
    pid: process.pid,
    worker: ctx.worker,
    connections: s.connections,
    accepted: s.accepted,
    rejected: s.rejected,
    dropped: s.dropped,
    groups: s.groups,
    groupMessages: s.groupMessages,
    codes: s.codes,
    bus: s.bus,
    eventLoopDelayMs: { p50: eld.p50Ms, p99: eld.p99Ms, max: eld.maxMs },
    limits: {
      maxTotalConnections: ctx.opts.maxTotalConnections,
      maxConnectionsPerClient: ctx.opts.maxConnectionsPerClient,
      wsMaxMessageSize: ctx.opts.wsMaxMessageSize,
      idleTimeoutMs: ctx.opts.idleTimeoutMs,
      rateLimitMsgsPerSec: ctx.opts.rateLimitMsgsPerSec,
      maxTotalGroups: ctx.groups.max,
      maxTotalMembers: ctx.groups.maxMembers,
      maxTotalJoins: ctx.groups.maxJoins,
    },
  });
}

function getMetrics(ctx: TargetContext, _req: IncomingMessage, res: ServerResponse): void {
  const text = renderMetrics(ctx);
  res.writeHead(200, {
    'Content-Type': 'text/plain; version=0.0.4; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
  });
  res.end(text);
}

function getIndex(ctx: TargetContext, _req: IncomingMessage, res: ServerResponse): void {
  sendJson(res, 200, {
    name: 'holdline target',
    auth: ctx.opts.auth,
    endpoints: [
      'POST /auth/token',
      'POST /chats',
      'POST /groups',
      'POST /groups/batch',
      'GET /groups',
      'GET /groups/count',
      'POST /groups/:id/members',
      'POST /codes',
      'GET /events (SSE)',
      'GET /ws (WebSocket)',
      'GET /health',
      'GET /metrics',
    ],
  });
}

function wsWithoutUpgrade(): void {
  throw new HttpError(426, 'upgrade_required', '/ws is a WebSocket endpoint', { Upgrade: 'websocket' });
}

addRoute('GET', '/', getIndex);
addRoute('GET', '/health', getHealth);
addRoute('GET', '/metrics', getMetrics);
addRoute('POST', '/auth/token', postToken);
addRoute('POST', '/chats', postChat);
addRoute('GET', '/ws', wsWithoutUpgrade);
