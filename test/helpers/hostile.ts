import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { spawnTarget, type SpawnedTarget } from '../../src/target/spawn.js';
import type { TargetOptions } from '../../src/target/options.js';
import { getToken, nextJson, openWs } from './target.js';

// The hostile-input campaign against the reference target: a target in a child process of its
// own (so its memory and its life are its own), stdlib clients, raw WebSocket frames. Sizes are
// short inside `npm test` and full with HOLDLINE_HOSTILE=full (`npm run bench:hostile`).

export const FULL = process.env.HOLDLINE_HOSTILE === 'full';

/** Short and full sizes of each attack. */
export const SIZES = FULL
  ? { depth: 100_000, slowClients: 2000, publishMs: 180_000, bodyBytes: 1_000_000, members: 100_000 }
  : { depth: 20_000, slowClients: 50, publishMs: 20_000, bodyBytes: 64 * 1024, members: 2000 };

/** RSS a target may hold above its base after an attack, once the attack is over. */
export const RSS_AFTER_BOUND = 64 * 1024 * 1024;

export interface HostileTarget extends SpawnedTarget {
  /** VmRSS of the target at start, bytes. */
  baseRss: number;
}

export async function startHostileTarget(options: Partial<TargetOptions> = {}): Promise<HostileTarget> {
  const t = await spawnTarget({ options: { auth: 'token', ...options } });
  return Object.assign(t, { baseRss: procStatus(t.pid).rss });
}

/** VmRSS and VmHWM (peak RSS) of a process, bytes (Linux /proc). */
export function procStatus(pid: number): { rss: number; peak: number } {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string): number =>
    Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN) * 1024;
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}

export const MiB = 1024 * 1024;
export const mib = (n: number): string => `${(n / MiB).toFixed(1)} MiB`;

export async function getHealth(url: string): Promise<Record<string, any>> {
  const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) });
  return (await res.json()) as Record<string, any>;
}

/**
 * What must hold after every attack: the process is alive, /health answers within 1 s, a normal
 * session works (token, WebSocket, ping → pong) and RSS is within `rssBound` of its base.
 */
export async function assertSurvives(t: HostileTarget, rssBound = RSS_AFTER_BOUND): Promise<void> {
  process.kill(t.pid, 0); // throws when the process is gone
  const t0 = performance.now();
  const h = await getHealth(t.url);
  const ms = performance.now() - t0;
  if (h.status !== 'ok' || ms > 1000) throw new Error(`/health: ${h.status} after ${ms.toFixed(0)} ms`);
  const token = await getToken(t.url, `normal-${randomBytes(3).toString('hex')}`);
  const ws = await openWs(`${t.wsUrl}?token=${encodeURIComponent(token)}`, {}, 1000);
  try {
    ws.send('{"type":"ping","id":1}');
    const pong = await nextJson(ws, 1000);
    if (pong.type !== 'pong' || pong.id !== 1) throw new Error(`ping answered with ${JSON.stringify(pong)}`);
  } finally {
    ws.terminate();
  }
  const rss = procStatus(t.pid).rss;
  if (rss - t.baseRss > rssBound)
    throw new Error(`RSS ${mib(rss)} is more than ${mib(rssBound)} above its base ${mib(t.baseRss)}`);
}

// ---------------------------------------------------------------- raw WebSocket over node:net

/** A client frame (masked, as RFC 6455 requires of clients). */
export function frame(opcode: number, payload: Buffer | string, fin = true): Buffer {
  const data = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const len = data.length;
  const ext = len < 126 ? 0 : len < 65536 ? 2 : 8;
  const head = Buffer.alloc(2 + ext + 4);
  head[0] = (fin ? 0x80 : 0) | opcode;
  if (ext === 0) head[1] = 0x80 | len;
  else if (ext === 2) {
    head[1] = 0x80 | 126;
    head.writeUInt16BE(len, 2);
  } else {
    head[1] = 0x80 | 127;
    head.writeBigUInt64BE(BigInt(len), 2);
  }
  const mask = randomBytes(4);
  mask.copy(head, 2 + ext);
  const body = Buffer.allocUnsafe(len);
  for (let i = 0; i < len; i++) body[i] = data[i] ^ mask[i & 3];
  return Buffer.concat([head, body]);
}

/** A server frame read from raw bytes: opcode, payload and the bytes it took (null: incomplete). */
export function parseFrame(b: Buffer): { opcode: number; payload: Buffer; size: number } | null {
  if (b.length < 2) return null;
  let len = b[1] & 0x7f;
  let o = 2;
  if (len === 126) {
    if (b.length < 4) return null;
    len = b.readUInt16BE(2);
    o = 4;
  } else if (len === 127) {
    if (b.length < 10) return null;
    len = Number(b.readBigUInt64BE(2));
    o = 10;
  }
  if (b.length < o + len) return null;
  return { opcode: b[0] & 0x0f, payload: b.subarray(o, o + len), size: o + len };
}

export interface RawConn {
  socket: net.Socket;
  /** Bytes received after the response head. */
  rest: Buffer;
  head: string;
}

/** Connects and writes `request`; resolves with the response head (up to the blank line). */
export function rawRequest(port: number, request: string | Buffer, timeoutMs = 3000): Promise<RawConn> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    let buf = Buffer.alloc(0);
    const t = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no response head within ${timeoutMs} ms`));
    }, timeoutMs);
    const onData = (d: Buffer): void => {
      buf = Buffer.concat([buf, d]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      clearTimeout(t);
      socket.removeListener('data', onData);
      socket.pause();
      resolve({ socket, head: buf.subarray(0, end).toString('latin1'), rest: buf.subarray(end + 4) });
    };
    socket.on('data', onData);
    socket.once('error', (err) => {
      clearTimeout(t);
      reject(err);
    });
    socket.once('close', () => {
      clearTimeout(t);
      reject(
        Object.assign(new Error(`closed before a response head: ${buf.toString('latin1')}`), {
          closed: true,
        }),
      );
    });
    socket.write(request);
  });
}

export function upgradeRequest(path: string, extra = '', version = '1.1'): string {
  return (
    `GET ${path} HTTP/${version}\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`
  );
}

/** A raw WebSocket after its 101; `read()` resolves with the next server frame. */
export async function rawWs(
  port: number,
  path: string,
): Promise<RawConn & { read(ms?: number): Promise<{ opcode: number; payload: Buffer }> }> {
  const c = await rawRequest(port, upgradeRequest(path));
  if (!c.head.startsWith('HTTP/1.1 101')) throw new Error(`upgrade refused: ${c.head.split('\r\n')[0]}`);
  c.socket.removeAllListeners('close');
  c.socket.removeAllListeners('error');
  c.socket.on('error', () => {});
  let pending = c.rest;
  const waiting: ((f: { opcode: number; payload: Buffer }) => void)[] = [];
  const queue: { opcode: number; payload: Buffer }[] = [];
  const take = (): void => {
    for (let f = parseFrame(pending); f; f = parseFrame(pending)) {
      pending = pending.subarray(f.size);
      const w = waiting.shift();
      if (w) w(f);
      else queue.push(f);
    }
  };
  take(); // frames that came with the 101
  c.socket.on('data', (d: Buffer) => {
    pending = Buffer.concat([pending, d]);
    take();
  });
  c.socket.resume();
  const read = (ms = 3000): Promise<{ opcode: number; payload: Buffer }> => {
    const q = queue.shift();
    if (q) return Promise.resolve(q);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no frame within ${ms} ms`)), ms);
      waiting.push((f) => {
        clearTimeout(t);
        resolve(f);
      });
    });
  };
  return Object.assign(c, { read });
}

/** Resolves when the socket closes, with how long that took; rejects after `ms`. */
export function closedWithin(socket: net.Socket, ms: number): Promise<number> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    if (socket.destroyed) return resolve(0);
    const t = setTimeout(() => reject(new Error(`socket still open after ${ms} ms`)), ms);
    socket.once('close', () => {
      clearTimeout(t);
      resolve(performance.now() - t0);
    });
    socket.resume();
  });
}

/** `n` nested arrays: `[[[…]]]`, `depth` levels. */
export function deepArray(depth: number): string {
  return '['.repeat(depth) + ']'.repeat(depth);
}
