import cluster from 'node:cluster';
import { randomBytes } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { TokenAuth } from './auth.js';
import { MemoryBus, type Bus } from './bus.js';
import { RedisBus } from './bus-redis.js';
import { expireIdle, type Conn } from './chat.js';
import { startCodes } from './codes.js';
import type { TargetContext } from './context.js';
import { Faults } from './faults.js';
import { startGroupChat, UserConns } from './group-chat.js';
import './group-routes.js';
import { startGroupSync } from './group-sync.js';
import { GroupRegistry } from './groups.js';
import { FD_RESERVE, readLimits } from '../host/limits.js';
import { watchFirstLine } from './first-line.js';
import { IdleWheel } from './idle.js';
import { ConnectionLimits } from './limits.js';
import { LoopDelay } from './metrics.js';
import { resolveTargetOptions, type TargetOptions } from './options.js';
import { GROUPS_HARD_MAX, MEMBERS_HARD_MAX } from './options-features.js';
import { handleRequest } from './routes.js';
import { SseHub } from './sse.js';
import { TargetStats, type TargetStatsSnapshot } from './stats.js';
import { handleUpgrade, rejectHandshake } from './upgrade.js';

// The reference target in this process: one http.Server for the API and the WebSocket upgrade.
// It imports nothing from the load generator.

export interface RunningTarget {
  /** `http://HOST:PORT` (a wildcard host is given as the loopback address). */
  url: string;
  /** `ws://HOST:PORT/ws`. */
  wsUrl: string;
  port: number;
  options: Readonly<TargetOptions>;
  stats(): TargetStatsSnapshot;
  /** Stops accepting, terminates every open socket, resolves when the server is closed. */
  close(): Promise<void>;
}

export interface StartTargetExtras {
  /** Shares groups and broadcasts between instances; default: Redis with `redisUrl`, else in memory. */
  bus?: Bus;
}

const kCtx = Symbol('holdline.target.ctx');
type TaggedServer = http.Server & { [kCtx]: TargetContext };

/** Starts the target with these options over the defaults (env is not read here). */
export async function startTarget(
  opts: Partial<TargetOptions> = {},
  extras: StartTargetExtras = {},
): Promise<RunningTarget> {
  const o = resolveTargetOptions({ values: opts });
  const wss = new WebSocketServer({
    noServer: true,
    clientTracking: false,
    maxPayload: o.wsMaxMessageSize,
    perMessageDeflate: o.perMessageDeflate,
    // Ping floods are the target's to close, with a close frame and a count (chat.ts onPing).
    ...{ maxPendingAutoPongs: 0 },
  });
  const stats = new TargetStats();
  const bus = extras.bus ?? (o.redisUrl ? new RedisBus({ url: o.redisUrl }) : new MemoryBus());
  const ctx: TargetContext = {
    opts: o,
    auth: new TokenAuth(o.tokenSecret, o.tokenTtlMs),
    limits: new ConnectionLimits(o.maxTotalConnections, o.maxConnectionsPerClient),
    stats,
    bus,
    instanceId: randomBytes(6).toString('base64url'),
    wss,
    sockets: new Set(),
    idle: o.idleTimeoutMs > 0 ? new IdleWheel<Conn>(o.idleTimeoutMs, expireIdle) : null,
    loopDelay: new LoopDelay(),
    groups: new GroupRegistry<Conn>(
      o.maxTotalGroups || GROUPS_HARD_MAX,
      o.maxTotalMembers || MEMBERS_HARD_MAX,
      o.maxTotalJoins || MEMBERS_HARD_MAX,
    ),
    userConns: new UserConns(),
    codeSubs: new Set(),
    sse: null as unknown as SseHub, // needs ctx: set just below
    faults: new Faults(o),
    worker: cluster.isWorker ? (cluster.worker?.id ?? 0) : 0,
    connSeq: 0,
    closing: false,
  };
  (ctx as { sse: SseHub }).sse = new SseHub(ctx);
  startGroupChat(ctx);
  startGroupSync(ctx);
  startCodes(ctx);
  await bus.start();
  wss.on('wsClientError', (err, socket, req) => rejectHandshake(ctx, err, socket, req));

  const server = http.createServer({
    requestTimeout: 30_000,
    headersTimeout: 20_000,
    keepAliveTimeout: 10_000,
  });
  (server as TaggedServer)[kCtx] = ctx;
  const maxSockets = o.maxSockets < 0 ? autoMaxSockets() : o.maxSockets;
  // Every connection counts, also those that never send a request or never upgrade.
  if (maxSockets > 0) server.maxConnections = maxSockets;
  server.on('connection', onConnection);
  server.on('drop', onDrop);
  server.on('request', onRequest);
  server.on('upgrade', onUpgrade);
  server.on('clientError', onClientError);

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: o.host, port: o.port, backlog: 4096 }, () => {
        server.removeListener('error', reject);
        resolve();
      });
    });
  } catch (err) {
    await bus.close();
    throw err;
  }
  // Out of descriptors, accept() fails and Node emits 'error' on the server: count it, keep serving.
  server.on('error', onServerError);
  ctx.loopDelay.start();
  ctx.idle?.start();
  ctx.sse.start();

  const port = (server.address() as AddressInfo).port;
  const host = connectHost(o.host);
  let closed: Promise<void> | null = null;
  return {
    url: `http://${host}:${port}`,
    wsUrl: `ws://${host}:${port}/ws`,
    port,
    options: o,
    stats: () => snapshot(ctx),
    close: () => (closed ??= closeTarget(ctx, server)),
  };
}

async function closeTarget(ctx: TargetContext, server: http.Server): Promise<void> {
  ctx.closing = true;
  const done = new Promise<void>((resolve) => server.close(() => resolve()));
  for (const ws of ctx.sockets) ws.terminate();
  ctx.sse.stop();
  server.closeAllConnections();
  ctx.idle?.stop();
  ctx.loopDelay.stop();
  ctx.faults.stop();
  await ctx.bus.close();
  await done;
}

/** The counts of /health, as plain data. */
export function snapshot(ctx: TargetContext): TargetStatsSnapshot {
  return ctx.stats.snapshot({ count: ctx.groups.size, created: ctx.groups.created }, ctx.bus.health());
}

/** The open-file soft limit less a reserve (files, Redis, the cluster channel); 0 when unknown. */
function autoMaxSockets(): number {
  const l = readLimits();
  if (!l.available || l.openFiles.soft === 'unlimited') return 0;
  return Math.max(1, l.openFiles.soft - FD_RESERVE);
}

function onConnection(this: TaggedServer, socket: Socket): void {
  watchFirstLine(socket, this[kCtx].stats);
}

function onDrop(this: TaggedServer): void {
  this[kCtx].stats.rejected.socket_limit++;
}

function onServerError(this: TaggedServer, err: NodeJS.ErrnoException): void {
  if (err.code === 'EMFILE' || err.code === 'ENFILE') this[kCtx].stats.rejected.socket_limit++;
}

function onRequest(this: TaggedServer, req: IncomingMessage, res: ServerResponse): void {
  handleRequest(this[kCtx], req, res);
}

function onUpgrade(this: TaggedServer, req: IncomingMessage, socket: Duplex, head: Buffer): void {
  try {
    handleUpgrade(this[kCtx], req, socket, head);
  } catch {
    // A bug must cost one connection, not the process.
    socket.destroy();
  }
}

function onClientError(err: Error & { code?: string }, socket: Duplex): void {
  // Malformed HTTP: answer 400 (431 for huge headers) when the socket can still take it.
  if (!socket.writable || err.code === 'ECONNRESET') {
    socket.destroy();
    return;
  }
  const status =
    err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
  socket.end(
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`,
  );
  (socket as Socket).destroySoon();
}

/** Where a client on this machine reaches a server listening on `host`. */
export function connectHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}
