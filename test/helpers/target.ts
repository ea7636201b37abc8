import WebSocket from 'ws';
import { startTarget as startTargetServer, type RunningTarget } from '../../src/target/server.js';
import type { TargetOptions } from '../../src/target/options.js';
import type { TargetStatsSnapshot } from '../../src/target/stats.js';

// The reference target for tests: in this process, on 127.0.0.1 and a free port.

export interface TestTarget {
  /** `http://127.0.0.1:PORT` */
  url: string;
  /** `ws://127.0.0.1:PORT/ws` */
  wsUrl: string;
  port: number;
  stats(): TargetStatsSnapshot;
  close(): Promise<void>;
  target: RunningTarget;
}

/** Starts an in-process target with these options (host 127.0.0.1, port 0 unless given). */
export async function startTarget(opts: Partial<TargetOptions> = {}): Promise<TestTarget> {
  const target = await startTargetServer({ host: '127.0.0.1', port: 0, ...opts });
  return {
    url: target.url,
    wsUrl: target.wsUrl,
    port: target.port,
    stats: () => target.stats(),
    close: () => target.close(),
    target,
  };
}

/** Resolves once `cond()` is true; rejects after `timeoutMs` naming what it waited for. */
export async function waitFor(cond: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!cond()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** POST /auth/token → token. */
export async function getToken(baseUrl: string, userId?: string): Promise<string> {
  const res = await fetch(`${baseUrl}/auth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(userId === undefined ? {} : { userId }),
  });
  if (res.status !== 200) throw new Error(`POST /auth/token: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { token: string }).token;
}

/** Opens a WebSocket; rejects with the HTTP status when the upgrade is refused. */
export function openWs(
  url: string,
  options: WebSocket.ClientOptions = {},
  timeoutMs = 3000,
): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, options);
    inbox(ws);
    const t = setTimeout(() => {
      ws.terminate();
      reject(new Error(`WebSocket ${url} did not open within ${timeoutMs} ms`));
    }, timeoutMs);
    ws.once('open', () => {
      clearTimeout(t);
      resolve(ws);
    });
    ws.once('unexpected-response', (_req, res) => {
      clearTimeout(t);
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () =>
        reject(
          Object.assign(new Error(`upgrade refused: ${res.statusCode}`), { status: res.statusCode, body }),
        ),
      );
    });
    ws.once('error', (err) => {
      clearTimeout(t);
      reject(err);
    });
  });
}

/** The refusal of an upgrade: status and body (fails if the upgrade succeeds). */
export async function upgradeRefusal(
  url: string,
  options: WebSocket.ClientOptions = {},
): Promise<{ status: number; body: string }> {
  try {
    const ws = await openWs(url, options);
    ws.terminate();
  } catch (err) {
    const e = err as { status?: number; body?: string };
    if (e.status !== undefined) return { status: e.status, body: e.body ?? '' };
    throw err;
  }
  throw new Error(`upgrade to ${url} was accepted`);
}

interface Inbox {
  queue: Array<{ data: Buffer; isBinary: boolean }>;
  waiter: ((m: { data: Buffer; isBinary: boolean }) => void) | null;
}
const inboxes = new WeakMap<WebSocket, Inbox>();

/** Queues messages from the start, so one sent right after the handshake is not missed. */
function inbox(ws: WebSocket): Inbox {
  let box = inboxes.get(ws);
  if (!box) {
    const b: Inbox = { queue: [], waiter: null };
    ws.on('message', (data: WebSocket.RawData, isBinary: boolean) => {
      const m = { data: data as Buffer, isBinary };
      if (b.waiter) b.waiter(m);
      else b.queue.push(m);
    });
    inboxes.set(ws, (box = b));
  }
  return box;
}

/** The next message on `ws` (opened with openWs). */
export function nextMessage(ws: WebSocket, timeoutMs = 3000): Promise<{ data: Buffer; isBinary: boolean }> {
  const box = inbox(ws);
  const queued = box.queue.shift();
  if (queued) return Promise.resolve(queued);
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      box.waiter = null;
      reject(new Error(`no message within ${timeoutMs} ms`));
    }, timeoutMs);
    box.waiter = (m) => {
      clearTimeout(t);
      box.waiter = null;
      resolve(m);
    };
  });
}

/** The next message parsed as JSON. */
export async function nextJson(ws: WebSocket, timeoutMs = 3000): Promise<Record<string, unknown>> {
  const m = await nextMessage(ws, timeoutMs);
  return JSON.parse(m.data.toString('utf8')) as Record<string, unknown>;
}

/** Resolves with the close code and reason (also when already closed). */
export function closeOf(
  ws: WebSocket,
  timeoutMs = 5000,
): Promise<{ code: number; reason: string; at: number }> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`not closed within ${timeoutMs} ms`)), timeoutMs);
    ws.once('close', (code, reason) => {
      clearTimeout(t);
      resolve({ code, reason: reason.toString(), at: performance.now() });
    });
  });
}
