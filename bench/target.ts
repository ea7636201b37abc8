// The reference target's own figures, each against a fresh target in its own process (so its
// RSS is its own), driven from this process over loopback:
//   1. WebSocket connections held per GB of target RSS;
//   2. group messages per second through one target process (pairs, and a 1 → 99 fan-out);
//   3. bytes per group with 1,000,000 groups (in this process with a forced GC, and the RSS of a
//      target that created them over HTTP);
//   4. broadcast fan-out to 10,000 SSE subscribers: publish → last subscriber received.
//
//   node dist/bench/target.js [connections=10000] [subscribers=10000] [groups=1000000] [only…]
//   (only: any of connections, messages, groups, sse; default all)
import { readFileSync } from 'node:fs';
import net from 'node:net';
import v8 from 'node:v8';
import vm from 'node:vm';
import WebSocket from 'ws';
import { GroupRegistry } from '../src/target/groups.js';
import { spawnTarget, type SpawnedTarget } from '../src/target/spawn.js';
import { isMain, printFigures } from './lib.js';

const MB = 2 ** 20;
const GB = 2 ** 30;

async function metrics(url: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line === '') continue;
    const sp = line.lastIndexOf(' ');
    out.set(line.slice(0, sp), Number(line.slice(sp + 1)));
  }
  return out;
}

async function rss(url: string): Promise<number> {
  return (await metrics(url)).get('holdline_target_resident_memory_bytes') ?? 0;
}

async function post(url: string, body: unknown): Promise<unknown> {
  const res = await fetch(url, { method: 'POST', body: JSON.stringify(body) });
  if (res.status >= 300) throw new Error(`POST ${url}: ${res.status} ${await res.text()}`);
  return res.json();
}

/** Runs `make` n times with at most `concurrency` pending. */
async function many<T>(n: number, concurrency: number, make: (i: number) => Promise<T>): Promise<T[]> {
  const out = new Array<T>(n);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n) {
      const i = next++;
      out[i] = await make(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, concurrency) }, worker));
  return out;
}

function openWs(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

/** Resolves with the first frame that contains `needle`. */
function frameWith(ws: WebSocket, needle: string): Promise<void> {
  return new Promise((resolve) => {
    const on = (d: Buffer): void => {
      if (d.includes(needle)) {
        ws.off('message', on);
        resolve();
      }
    };
    ws.on('message', on);
  });
}

/** CPU seconds (user + system) a process has used so far (Linux /proc; 0 elsewhere). */
function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return 0;
  }
}

async function settle(): Promise<void> {
  await new Promise((r) => setTimeout(r, 1000));
}

// ---------------------------------------------------------------- 1. connections per GB

export async function connectionsPerGb(n: number): Promise<void> {
  const t = await spawnTarget({ options: { auth: 'none' } });
  try {
    await settle();
    const base = await rss(t.url);
    const t0 = performance.now();
    const sockets = await many(n, 500, () => openWs(t.wsUrl));
    const openS = (performance.now() - t0) / 1000;
    // Every one answers: held, not just accepted.
    await Promise.all(
      sockets.map((ws, i) => {
        const got = frameWith(ws, `"id":${i}`);
        ws.send(`{"type":"ping","id":${i}}`);
        return got;
      }),
    );
    await settle();
    const held = await rss(t.url);
    for (const ws of sockets) ws.terminate();
    const perConn = (held - base) / n;
    printFigures(`target: ${n} WebSockets held by one target process`, {
      'opened in s': +openS.toFixed(2),
      'RSS before MB': +(base / MB).toFixed(1),
      'RSS holding them MB': +(held / MB).toFixed(1),
      'RSS per connection KB': +(perConn / 1024).toFixed(2),
      'connections per GB (marginal)': Math.round(GB / perConn),
      'connections per GB of total RSS': Math.round((n * GB) / held),
    });
  } finally {
    await t.close();
  }
}

// ---------------------------------------------------------------- 2. group messages per second

interface Sender {
  ws: WebSocket;
  group: string;
  seq: number;
  outstanding: number;
}

async function groupRate(t: SpawnedTarget, groups: number, perGroup: number, window: number, ms: number) {
  await post(`${t.url}/groups/batch`, { count: groups, prefix: `r${perGroup}` });
  const sockets = await many(groups * perGroup, 200, () => openWs(t.wsUrl));
  await Promise.all(
    sockets.map((ws, i) => {
      const got = frameWith(ws, '"joined"');
      ws.send(`{"type":"join","group":"r${perGroup}-${Math.floor(i / perGroup)}"}`);
      return got;
    }),
  );
  let delivered = 0;
  let acked = 0;
  let running = true;
  const senders: Sender[] = [];
  for (let g = 0; g < groups; g++) {
    senders.push({ ws: sockets[g * perGroup], group: `r${perGroup}-${g}`, seq: 0, outstanding: 0 });
  }
  const fire = (s: Sender): void => {
    while (running && s.outstanding < window) {
      s.outstanding++;
      s.ws.send(`{"type":"send","group":"${s.group}","id":${s.seq++},"ts":${Date.now()},"data":"x"}`);
    }
  };
  for (const [i, ws] of sockets.entries()) {
    const s = i % perGroup === 0 ? senders[i / perGroup] : null;
    ws.on('message', (d: Buffer) => {
      // Cheap classification: the generator must not be the bottleneck.
      if (d[9] === 0x6d /* {"type":"m… */) delivered++;
      else if (s && d[9] === 0x73 /* {"type":"s… */) {
        acked++;
        s.outstanding--;
        fire(s);
      }
    });
  }
  const m0 = await metrics(t.url);
  const cpu0 = cpuSeconds(t.pid);
  const t0 = performance.now();
  for (const s of senders) fire(s);
  await new Promise((r) => setTimeout(r, ms));
  running = false;
  const secs = (performance.now() - t0) / 1000;
  const [d, a] = [delivered, acked];
  const cpu = (cpuSeconds(t.pid) - cpu0) / secs;
  const m1 = await metrics(t.url);
  for (const ws of sockets) ws.terminate();
  const k = (name: string): number =>
    (m1.get(`holdline_target_group_messages_total{direction="${name}"}`) ?? 0) -
    (m0.get(`holdline_target_group_messages_total{direction="${name}"}`) ?? 0);
  return {
    'messages in / s (acked)': Math.round(a / secs),
    'deliveries / s (received)': Math.round(d / secs),
    'target in / s (metrics)': Math.round(k('in') / secs),
    'target out / s (metrics)': Math.round(k('out') / secs),
    'target CPU % (100 = one core)': Math.round(cpu * 100),
    // The generator (this process) usually saturates first on a small machine: what one fully
    // busy target core would carry at this mix.
    'in / s per target core (extrap.)': cpu > 0 ? Math.round(k('in') / secs / cpu) : '–',
    'out / s per target core (extrap.)': cpu > 0 ? Math.round(k('out') / secs / cpu) : '–',
  };
}

export async function groupMessages(): Promise<void> {
  const t = await spawnTarget({ options: { auth: 'none' } });
  try {
    const pairs = await groupRate(t, 500, 2, 16, 5000);
    printFigures('target: group messages through one target process, 500 groups of 2, 5 s', pairs);
    const fan = await groupRate(t, 10, 100, 4, 5000);
    printFigures('target: group messages through one target process, 10 groups of 100 (1 → 99), 5 s', fan);
  } finally {
    await t.close();
  }
}

// ---------------------------------------------------------------- 3. bytes per group

export async function bytesPerGroup(n: number): Promise<void> {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  gc();
  const h0 = process.memoryUsage().heapUsed;
  const reg = new GroupRegistry<object>(n);
  for (let i = 0; i < n; i += 100_000) {
    const ids = Array.from({ length: Math.min(100_000, n - i) }, (_, k) => `load-${i + k}`);
    reg.createMany(ids);
  }
  gc();
  const heap = (process.memoryUsage().heapUsed - h0) / n;
  if (reg.size !== n) throw new Error(`${reg.size} groups`);

  const t = await spawnTarget({ options: { auth: 'none' } });
  try {
    await settle();
    const base = await rss(t.url);
    const t0 = performance.now();
    for (let i = 0; i < n; i += 100_000) {
      await post(`${t.url}/groups/batch`, { count: Math.min(100_000, n - i), prefix: `b${i}` });
    }
    const createS = (performance.now() - t0) / 1000;
    await settle();
    const m = await metrics(t.url);
    const after = m.get('holdline_target_resident_memory_bytes') ?? 0;
    printFigures(`target: ${n} groups`, {
      'heap bytes / group (forced GC)': +heap.toFixed(1),
      'target RSS bytes / group': +((after - base) / n).toFixed(1),
      'target RSS with them MB': +(after / MB).toFixed(1),
      'created over HTTP in s': +createS.toFixed(2),
      'groups / s over HTTP': Math.round(n / createS),
      'groups held (metrics)': m.get('holdline_target_groups') ?? 0,
    });
  } finally {
    await t.close();
  }
}

// ---------------------------------------------------------------- 4. SSE fan-out

interface Stream {
  socket: net.Socket;
  ready: boolean;
}

export async function sseFanout(n: number, codes: number): Promise<void> {
  const t = await spawnTarget({ options: { auth: 'none', sseHeartbeatMs: 0 } });
  const streams: Stream[] = [];
  try {
    const base = await rss(t.url);
    let waiting: { needle: Buffer; left: number; first: number; done: () => void } | null = null;
    const t0 = performance.now();
    await many(n, 500, async () => {
      const s: Stream = { socket: net.connect(t.port, '127.0.0.1'), ready: false };
      streams.push(s);
      await new Promise<void>((resolve, reject) => {
        s.socket.once('error', reject);
        s.socket.once('connect', () => s.socket.write('GET /events HTTP/1.1\r\nHost: bench\r\n\r\n'));
        s.socket.on('data', (d: Buffer) => {
          if (!s.ready) {
            if (d.toString('latin1', 0, 12) === 'HTTP/1.1 200') s.ready = true;
            resolve();
          }
          // An event is one write of the target: it arrives in one piece on loopback.
          const w = waiting;
          if (w !== null && d.includes(w.needle)) {
            if (w.first === 0) w.first = performance.now();
            if (--w.left === 0) w.done();
          }
        });
      });
    });
    const connectS = (performance.now() - t0) / 1000;
    const ready = streams.filter((s) => s.ready).length;
    const held = await rss(t.url);
    const last: number[] = [];
    const first: number[] = [];
    const request: number[] = [];
    for (let k = 0; k < codes; k++) {
      const code = `FANOUT-${k}-${Math.random().toString(36).slice(2, 10)}`;
      const needle = Buffer.from(code);
      const all = new Promise<void>((done) => (waiting = { needle, left: ready, first: 0, done }));
      const p0 = performance.now();
      const res = await post(`${t.url}/codes`, { code });
      request.push(performance.now() - p0);
      await all;
      last.push(performance.now() - p0);
      first.push(waiting!.first - p0);
      waiting = null;
      void res;
    }
    const med = (xs: number[]): number =>
      +[...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)].toFixed(1);
    printFigures(`target: broadcast fan-out to ${n} SSE subscribers, ${codes} codes`, {
      'streams open': `${ready}/${n}`,
      'opened in s': +connectS.toFixed(2),
      'RSS per stream KB': +((held - base) / n / 1024).toFixed(2),
      'SSE streams per GB (marginal)': Math.round((GB * n) / Math.max(1, held - base)),
      'publish → last received ms': last.map((x) => x.toFixed(1)).join(', '),
      'publish → last, median ms': med(last),
      'publish → first, median ms': med(first),
      'POST /codes answered, median ms': med(request),
    });
  } finally {
    for (const s of streams) s.socket.destroy();
    await t.close();
  }
}

if (isMain(import.meta.url)) {
  const args = process.argv.slice(2);
  const [c, s, g] = args.filter((a) => /^\d+$/.test(a)).map(Number);
  const only = args.filter((a) => !/^\d+$/.test(a));
  const run = (name: string): boolean => only.length === 0 || only.includes(name);
  if (run('connections')) await connectionsPerGb(c || 10_000);
  if (run('messages')) await groupMessages();
  if (run('groups')) await bytesPerGroup(g || 1_000_000);
  if (run('sse')) await sseFanout(s || 10_000, 5);
}
