import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import type WebSocket from 'ws';
import {
  getToken,
  nextJson,
  openWs,
  startTarget,
  upgradeRefusal,
  waitFor,
  type TestTarget,
} from '../helpers/target.js';

// Broadcast: GET /events (SSE) and WebSocket subscriptions, POST /codes (and /broadcast), event
// ids and Last-Event-ID replay, heartbeats, slow readers, limits and bad input.

interface SseEvent {
  id?: string;
  event?: string;
  data?: string;
  retry?: string;
  comments: string[];
}

interface SseClient {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** Blocks received so far, parsed. */
  events: SseEvent[];
  /** The response body as text (for error responses). */
  body(): string;
  closed: Promise<void>;
  close(): void;
}

function parseBlock(block: string): SseEvent {
  const e: SseEvent = { comments: [] };
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) e.comments.push(line.slice(1).trim());
    else {
      const c = line.indexOf(':');
      const field = line.slice(0, c) as 'id' | 'event' | 'data' | 'retry';
      e[field] = line.slice(c + 1).replace(/^ /, '');
    }
  }
  return e;
}

function openSse(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers: { accept: 'text/event-stream', ...headers } }, (res) => {
      let buf = '';
      let all = '';
      const events: SseEvent[] = [];
      res.setEncoding('utf8');
      res.on('data', (s: string) => {
        all += s;
        buf += s;
        for (let i = buf.indexOf('\n\n'); i >= 0; i = buf.indexOf('\n\n')) {
          events.push(parseBlock(buf.slice(0, i)));
          buf = buf.slice(i + 2);
        }
      });
      const closed = new Promise<void>((r) => res.on('close', () => r()));
      resolve({
        status: res.statusCode ?? 0,
        headers: res.headers,
        events,
        body: () => all,
        closed,
        close: () => req.destroy(),
      });
    });
    req.on('error', reject);
  });
}

async function publish(tgt: TestTarget, code: unknown, path = '/codes', token?: string): Promise<Response> {
  return fetch(`${tgt.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ code }),
  });
}

function codes(c: SseClient): SseEvent[] {
  return c.events.filter((e) => e.event === 'code');
}

async function subscribeWs(url: string): Promise<WebSocket> {
  const ws = await openWs(url);
  ws.send('{"type":"subscribe","channel":"codes"}');
  assert.deepEqual(await nextJson(ws), { type: 'subscribed', channel: 'codes' });
  return ws;
}

test('POST /codes reaches every SSE stream and subscribed WebSocket, each event numbered', async (t) => {
  const tgt = await startTarget();
  t.after(() => tgt.close());
  const token = await getToken(tgt.url, 'pub');
  const missing = await openSse(`${tgt.url}/events`);
  assert.equal(missing.status, 401);
  assert.equal(JSON.parse(missing.body() || (await missing.closed, missing.body())).error, 'unauthorized');
  assert.equal((await openSse(`${tgt.url}/events?token=nope`)).status, 401);

  const streams = await Promise.all([
    openSse(`${tgt.url}/events?token=${token}`),
    openSse(`${tgt.url}/events`, { authorization: `Bearer ${token}` }),
    openSse(`${tgt.url}/events?token=${encodeURIComponent(token)}`),
  ]);
  t.after(() => streams.forEach((s) => s.close()));
  const [s0] = streams;
  assert.equal(s0.status, 200);
  assert.match(String(s0.headers['content-type']), /^text\/event-stream/);
  assert.equal(s0.headers['cache-control'], 'no-store');
  await waitFor(() => s0.events.length >= 1, 'the opening block');
  assert.equal(s0.events[0].retry, '2000');
  assert.equal(s0.events[0].comments.length, 1);

  const wsA = await subscribeWs(`${tgt.wsUrl}?token=${token}`);
  const wsB = await subscribeWs(`${tgt.wsUrl}?token=${token}`);
  const bystander = await openWs(`${tgt.wsUrl}?token=${token}`);
  t.after(() => [wsA, wsB, bystander].forEach((ws) => ws.terminate()));
  await waitFor(() => tgt.stats().connections.sse === 3, 'three streams');

  const before = Date.now();
  const r1 = await publish(tgt, 'ALPHA-1', '/codes', token);
  assert.equal(r1.status, 202);
  assert.deepEqual(await r1.json(), { id: 1, delivered: { sse: 3, ws: 2 } });
  const r2 = await publish(tgt, 'q"uote\nnewline', '/broadcast', token);
  assert.deepEqual(await r2.json(), { id: 2, delivered: { sse: 3, ws: 2 } });

  for (const s of streams) {
    await waitFor(() => codes(s).length === 2, 'two events on every stream');
    const [e1, e2] = codes(s);
    assert.equal(e1.id, '1');
    const d1 = JSON.parse(e1.data!) as { code: string; id: number; ts: number };
    assert.equal(d1.code, 'ALPHA-1');
    assert.equal(d1.id, 1);
    assert.ok(d1.ts >= before && d1.ts <= Date.now());
    assert.equal(e2.id, '2');
    assert.equal(JSON.parse(e2.data!).code, 'q"uote\nnewline', 'one data line, JSON-escaped');
  }
  for (const ws of [wsA, wsB]) {
    const m1 = await nextJson(ws);
    assert.equal(m1.type, 'code');
    assert.equal(m1.code, 'ALPHA-1');
    assert.equal(m1.id, 1);
    assert.equal((await nextJson(ws)).id, 2);
  }
  wsB.send('{"type":"unsubscribe","channel":"codes"}');
  assert.deepEqual(await nextJson(wsB), { type: 'unsubscribed', channel: 'codes' });
  const r3 = await publish(tgt, 'C3', '/codes', token);
  assert.deepEqual(await r3.json(), { id: 3, delivered: { sse: 3, ws: 1 } });
  assert.equal((await nextJson(wsA)).code, 'C3');
  await assert.rejects(nextJson(wsB, 100));
  await assert.rejects(nextJson(bystander, 100));

  streams[2].close();
  await waitFor(() => tgt.stats().connections.sse === 2, 'one stream closed');
  const s = tgt.stats();
  assert.equal(s.accepted.sse, 3);
  assert.equal(s.closed.sse, 1);
  assert.equal(s.rejected.unauthorized, 2);
  assert.equal(s.codes.published, 3);
  assert.equal(s.sse.eventsOut, 9);
  assert.equal(s.wsCodesOut, 5);
  const metrics = await (await fetch(`${tgt.url}/metrics`)).text();
  assert.match(metrics, /^holdline_target_connections\{kind="sse"\} 2$/m);
  assert.match(metrics, /^holdline_target_sse_events_total 9$/m);
  assert.match(metrics, /^holdline_target_codes_total\{stage="published"\} 3$/m);
});

test('Last-Event-ID (header or query) replays what followed, from a bounded buffer', async (t) => {
  const tgt = await startTarget({ auth: 'none', sseReplay: 3 });
  t.after(() => tgt.close());
  for (let i = 1; i <= 6; i++) assert.equal((await publish(tgt, `c${i}`)).status, 202);

  const ids = (c: SseClient): string[] => codes(c).map((e) => e.id!);
  const h = await openSse(`${tgt.url}/events`, { 'last-event-id': '4' });
  const q = await openSse(`${tgt.url}/events?lastEventId=5`);
  const gone = await openSse(`${tgt.url}/events`, { 'last-event-id': '1' });
  const ahead = await openSse(`${tgt.url}/events`, { 'last-event-id': '99' });
  t.after(() => [h, q, gone, ahead].forEach((s) => s.close()));
  await waitFor(() => ids(h).length === 2 && ids(q).length === 1 && ids(gone).length === 3, 'replays');
  assert.deepEqual(ids(h), ['5', '6']);
  assert.deepEqual(ids(q), ['6']);
  assert.deepEqual(ids(gone), ['4', '5', '6']);
  assert.ok(
    gone.events.some((e) => e.comments.some((c) => /events 2-3 are no longer kept/.test(c))),
    'the stream says which events it cannot replay',
  );
  assert.deepEqual(ids(ahead), []);
  await publish(tgt, 'c7');
  for (const s of [h, q, gone, ahead])
    await waitFor(() => ids(s).at(-1) === '7', 'the live event after the replay');
  assert.deepEqual(ids(h), ['5', '6', '7']);

  for (const bad of ['abc', '-1', '1.5', '1'.repeat(16), '0x10']) {
    const r = await openSse(`${tgt.url}/events`, { 'last-event-id': bad });
    await r.closed;
    assert.equal(r.status, 400, bad);
    assert.equal(JSON.parse(r.body()).error, 'bad_request');
  }
  const r = await openSse(`${tgt.url}/events?lastEventId=x`);
  await r.closed;
  assert.equal(r.status, 400);
  assert.equal(tgt.stats().rejected.bad_request, 6);
});

test('a client that reconnects with its last id misses nothing', async (t) => {
  const tgt = await startTarget({ auth: 'none' });
  t.after(() => tgt.close());
  const first = await openSse(`${tgt.url}/events`);
  await publish(tgt, 'a');
  await publish(tgt, 'b');
  await waitFor(() => codes(first).length === 2, 'two events');
  first.close();
  await waitFor(() => tgt.stats().connections.sse === 0, 'the stream to close');
  await publish(tgt, 'c');
  await publish(tgt, 'd');
  const again = await openSse(`${tgt.url}/events`, { 'last-event-id': codes(first).at(-1)!.id! });
  t.after(() => again.close());
  await waitFor(() => codes(again).length === 2, 'the two missed events');
  assert.deepEqual(
    codes(again).map((e) => JSON.parse(e.data!).code),
    ['c', 'd'],
  );
});

test('heartbeat comments every SSE_HEARTBEAT', async (t) => {
  const tgt = await startTarget({ auth: 'none', sseHeartbeatMs: 100 });
  t.after(() => tgt.close());
  const s = await openSse(`${tgt.url}/events`);
  t.after(() => s.close());
  const beats = (): string[] => s.events.flatMap((e) => e.comments).filter((c) => c.startsWith('hb '));
  await waitFor(() => beats().length >= 3, 'three heartbeats', 3000);
  const ts = Number(beats()[0].slice(3));
  assert.ok(Math.abs(ts - Date.now()) < 5000, 'a heartbeat carries the target clock');
  assert.ok(tgt.stats().sse.heartbeats >= 3);
});

/** Publishes `n` codes as pipelined requests on one connection (fast); resolves after n answers. */
function pipelinePublish(port: number, n: number, code: string): Promise<void> {
  const body = JSON.stringify({ code });
  const one = `POST /codes HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    let seen = 0;
    let tail = '';
    s.setEncoding('latin1');
    s.on('data', (d: string) => {
      const text = tail + d;
      seen += text.split('HTTP/1.1 202').length - 1;
      tail = text.slice(-16);
      if (seen >= n) {
        s.destroy();
        resolve();
      }
    });
    s.on('error', reject);
    s.write(one.repeat(n));
  });
}

test('a stream that stops reading is dropped at SEND_BUFFER_LIMIT; the others keep receiving', async (t) => {
  const tgt = await startTarget({ auth: 'none', sendBufferLimit: 64 * 1024 });
  t.after(() => tgt.close());
  const healthy = await openSse(`${tgt.url}/events`);
  t.after(() => healthy.close());
  const slow = net.connect(tgt.port, '127.0.0.1');
  t.after(() => slow.destroy());
  slow.pause(); // never reads
  await new Promise<void>((r) => slow.once('connect', () => r()));
  slow.write('GET /events HTTP/1.1\r\nHost: x\r\n\r\n');
  await waitFor(() => tgt.stats().connections.sse === 2, 'both streams');
  const code = 'x'.repeat(256);
  let sent = 0;
  // The kernel takes a few MiB first; a bounded number of codes (at most 10 MiB) passes that.
  while (tgt.stats().dropped.slow_client === 0 && sent < 30_000) {
    await pipelinePublish(tgt.port, 2000, code);
    sent += 2000;
  }
  assert.equal(tgt.stats().dropped.slow_client, 1, `dropped after ${sent} codes`);
  await waitFor(() => tgt.stats().connections.sse === 1, 'only the healthy stream to remain');
  await publish(tgt, 'after');
  await waitFor(() => codes(healthy).length === sent + 1, 'every code on the healthy stream', 10_000);
});

test('SSE streams count against MAX_TOTAL_CONNECTIONS and MAX_CONNECTIONS_PER_CLIENT', async (t) => {
  const tgt = await startTarget({ maxTotalConnections: 3, maxConnectionsPerClient: 2 });
  t.after(() => tgt.close());
  const ann = await getToken(tgt.url, 'ann');
  const bob = await getToken(tgt.url, 'bob');
  const a1 = await openSse(`${tgt.url}/events?token=${ann}`);
  const a2 = await openSse(`${tgt.url}/events?token=${ann}`);
  t.after(() => [a1, a2].forEach((s) => s.close()));
  assert.equal(a2.status, 200);
  const a3 = await openSse(`${tgt.url}/events?token=${ann}`);
  await a3.closed;
  assert.equal(a3.status, 429);
  assert.equal(a3.headers['retry-after'], '1');
  assert.equal(JSON.parse(a3.body()).error, 'client_limit');
  const ws = await openWs(`${tgt.wsUrl}?token=${bob}`);
  t.after(() => ws.terminate());
  const b2 = await openSse(`${tgt.url}/events?token=${bob}`);
  await b2.closed;
  assert.equal(b2.status, 503);
  assert.equal(JSON.parse(b2.body()).error, 'total_limit');
  assert.equal((await upgradeRefusal(`${tgt.wsUrl}?token=${bob}`)).status, 503);
  a1.close();
  await waitFor(() => tgt.stats().connections.total === 2, 'a freed slot');
  const b3 = await openSse(`${tgt.url}/events?token=${bob}`);
  t.after(() => b3.close());
  assert.equal(b3.status, 200);
  const s = tgt.stats();
  assert.equal(s.rejected.client_limit, 1);
  assert.equal(s.rejected.total_limit, 2);
});

test('POST /codes: bad codes and bodies are 400, no token 401, nothing published', async (t) => {
  const tgt = await startTarget();
  t.after(() => tgt.close());
  const token = await getToken(tgt.url);
  assert.equal((await publish(tgt, 'A')).status, 401);
  for (const code of [undefined, '', 'x'.repeat(257), 42, ['A'], null]) {
    const r = await publish(tgt, code, '/codes', token);
    assert.equal(r.status, 400, JSON.stringify(code));
    assert.equal(((await r.json()) as { error: string }).error, 'bad_request');
  }
  const raw = await fetch(`${tgt.url}/codes`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
    body: '{"code": "A"',
  });
  assert.equal(raw.status, 400);
  assert.equal(((await raw.json()) as { error: string }).error, 'bad_json');
  assert.equal((await fetch(`${tgt.url}/codes`)).status, 405);
  const ok = await publish(tgt, 'x'.repeat(256), '/codes', token);
  assert.deepEqual(await ok.json(), { id: 1, delivered: { sse: 0, ws: 0 } });
  assert.equal(tgt.stats().codes.published, 1);
});
