import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import type WebSocket from 'ws';
import {
  closeOf,
  getToken,
  nextMessage,
  openWs,
  startTarget,
  upgradeRefusal,
  waitFor,
} from '../helpers/target.js';

test('MAX_TOTAL_CONNECTIONS: the N+1th upgrade gets HTTP 503, counted; a freed slot is reusable', async (t) => {
  const tgt = await startTarget({ auth: 'none', maxTotalConnections: 3 });
  t.after(() => tgt.close());
  const held = await Promise.all([1, 2, 3].map(() => openWs(tgt.wsUrl)));
  const refused = await upgradeRefusal(tgt.wsUrl);
  assert.equal(refused.status, 503);
  assert.equal(JSON.parse(refused.body).error, 'total_limit');
  assert.match(JSON.parse(refused.body).message, /connection limit reached \(3\)/);
  assert.equal(tgt.stats().rejected.total_limit, 1);
  assert.equal(tgt.stats().connections.ws, 3);

  held[0].close();
  await waitFor(() => tgt.stats().connections.ws === 2, 'the server to see the close');
  const again = await openWs(tgt.wsUrl);
  assert.equal((await upgradeRefusal(tgt.wsUrl)).status, 503);
  assert.equal(tgt.stats().rejected.total_limit, 2);
  for (const ws of [...held, again]) ws.terminate();
});

test('MAX_CONNECTIONS_PER_CLIENT: HTTP 429 per token subject, other users unaffected', async (t) => {
  const tgt = await startTarget({ maxConnectionsPerClient: 2 });
  t.after(() => tgt.close());
  const [u1, u1b, u2] = await Promise.all([
    getToken(tgt.url, 'u1'),
    getToken(tgt.url, 'u1'),
    getToken(tgt.url, 'u2'),
  ]);
  const a = await openWs(`${tgt.wsUrl}?token=${u1}`);
  const b = await openWs(`${tgt.wsUrl}?token=${u1b}`); // another token, same subject
  const r = await upgradeRefusal(`${tgt.wsUrl}?token=${u1}`);
  assert.equal(r.status, 429);
  assert.equal(JSON.parse(r.body).error, 'client_limit');
  const c = await openWs(`${tgt.wsUrl}?token=${u2}`);
  assert.equal(tgt.stats().rejected.client_limit, 1);
  a.close();
  await waitFor(() => tgt.stats().connections.ws === 2, 'the server to see the close');
  const d = await openWs(`${tgt.wsUrl}?token=${u1}`);
  for (const ws of [b, c, d]) ws.terminate();
});

test('WS_MAX_MESSAGE_SIZE: a larger message closes with 1009', async (t) => {
  const tgt = await startTarget({ auth: 'none', wsMaxMessageSize: 1024 });
  t.after(() => tgt.close());
  const ws = await openWs(tgt.wsUrl);
  ws.send(Buffer.alloc(1024, 1));
  assert.equal((await nextMessage(ws)).data.length, 1024);
  const closed = closeOf(ws);
  ws.send(Buffer.alloc(2048, 1));
  assert.equal((await closed).code, 1009);
  await waitFor(() => tgt.stats().dropped.too_large === 1, 'too_large to be counted');
  assert.equal(tgt.stats().connections.ws, 0);
});

test('RATE_LIMIT_MSGS_PER_SEC: a burst over the rate closes with 1008 "rate limit"', async (t) => {
  const tgt = await startTarget({ auth: 'none', rateLimitMsgsPerSec: 5 });
  t.after(() => tgt.close());
  const calm = await openWs(tgt.wsUrl);
  const burst = await openWs(tgt.wsUrl);
  let echoes = 0;
  burst.on('message', () => echoes++);
  const closed = closeOf(burst);
  for (let i = 0; i < 20; i++) burst.send(`m${i}`);
  const c = await closed;
  assert.equal(c.code, 1008);
  assert.equal(c.reason, 'rate limit');
  assert.ok(echoes <= 5, `${echoes} echoes before the close`);
  for (let i = 0; i < 3; i++) {
    calm.send(`ok${i}`);
    assert.equal((await nextMessage(calm)).data.toString(), `ok${i}`);
  }
  assert.equal(tgt.stats().dropped.rate_limit, 1);
  calm.terminate();
});

test('IDLE_TIMEOUT: a silent socket closes with 1001 on time; ones that send or ping stay open', async (t) => {
  const idleMs = 300;
  const tgt = await startTarget({ auth: 'none', idleTimeoutMs: idleMs });
  t.after(() => tgt.close());
  const [silent, talker, pinger] = await Promise.all([
    openWs(tgt.wsUrl),
    openWs(tgt.wsUrl),
    openWs(tgt.wsUrl),
  ]);
  const opened = performance.now();
  const silentClosed = closeOf(silent);
  let echoes = 0;
  talker.on('message', () => echoes++);
  const keepAlive = setInterval(() => {
    talker.send('.');
    pinger.ping();
  }, 50);
  t.after(() => clearInterval(keepAlive));

  const c = await silentClosed;
  const elapsed = c.at - opened;
  assert.equal(c.code, 1001);
  assert.equal(c.reason, 'idle timeout');
  assert.ok(elapsed >= idleMs - 5 && elapsed < idleMs + 600, `closed after ${elapsed.toFixed(0)} ms`);
  // The others keep going well past the timeout (three times over).
  await waitFor(() => echoes >= 18, 'the talker to run for ~900 ms', 5000);
  clearInterval(keepAlive);
  assert.ok(performance.now() - opened > 2.5 * idleMs);
  assert.equal(talker.readyState, talker.OPEN);
  assert.equal(pinger.readyState, pinger.OPEN);
  assert.equal(tgt.stats().dropped.idle, 1);
  talker.terminate();
  pinger.terminate();
});

/** A WebSocket client made by hand, so it can stop reading: handshake, then masked frames. */
async function rawWsClient(port: number): Promise<net.Socket> {
  const sock = net.connect(port, '127.0.0.1');
  sock.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    let head = '';
    sock.once('connect', () =>
      sock.write(
        'GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
          'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
      ),
    );
    const onData = (c: Buffer): void => {
      head += c.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      sock.off('data', onData);
      sock.pause(); // from here on it never reads
      if (head.startsWith('HTTP/1.1 101')) resolve();
      else reject(new Error(head));
    };
    sock.on('data', onData);
  });
  return sock;
}

function binaryFrame(payload: Buffer): Buffer {
  // FIN + binary; masked, 64-bit length; an all-zero mask leaves the payload as is.
  const h = Buffer.alloc(14);
  h[0] = 0x82;
  h[1] = 0x80 | 127;
  h.writeBigUInt64BE(BigInt(payload.length), 2);
  return Buffer.concat([h, payload]);
}

test('a client that stops reading is dropped once its unsent data passes the cap; the server stays healthy', async (t) => {
  const tgt = await startTarget({ auth: 'none', sendBufferLimit: 256 * 1024, wsMaxMessageSize: 128 * 1024 });
  t.after(() => tgt.close());
  const other = await openWs(tgt.wsUrl);
  const slow = await rawWsClient(tgt.port);
  t.after(() => slow.destroy());
  const frame = binaryFrame(Buffer.alloc(64 * 1024, 7));
  // Up to 32 MiB of echoes it will never read: far beyond what kernel buffers on loopback hold.
  for (let i = 0; i < 512 && tgt.stats().dropped.slow_client === 0; i++) {
    if (!slow.write(frame)) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          slow.off('drain', done);
          slow.off('close', done);
          resolve();
        };
        slow.once('drain', done);
        slow.once('close', done);
      });
    }
    if (slow.destroyed) break;
  }
  await waitFor(() => tgt.stats().dropped.slow_client === 1, 'the slow client to be dropped', 5000);
  await waitFor(() => tgt.stats().connections.ws === 1, 'only the healthy socket to remain');

  const health = await fetch(`${tgt.url}/health`);
  assert.equal(health.status, 200);
  await health.arrayBuffer();
  other.send('still here');
  assert.equal((await nextMessage(other)).data.toString(), 'still here');
  other.terminate();
});

test('GET /metrics: Prometheus text with connections, rejections, messages and loop delay', async (t) => {
  const tgt = await startTarget({ auth: 'none', maxTotalConnections: 1 });
  t.after(() => tgt.close());
  const ws: WebSocket = await openWs(tgt.wsUrl);
  await upgradeRefusal(tgt.wsUrl);
  ws.send('abc');
  await nextMessage(ws);
  const res = await fetch(`${tgt.url}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  const text = await res.text();
  const value = (series: string): number => {
    const line = text.split('\n').find((l) => l.startsWith(`${series} `));
    assert.ok(line, `no series ${series}`);
    return Number(line.slice(series.length + 1));
  };
  assert.equal(value('holdline_target_connections{kind="ws"}'), 1);
  assert.equal(value('holdline_target_connections{kind="sse"}'), 0);
  assert.equal(value('holdline_target_connections_accepted_total{kind="ws"}'), 1);
  assert.equal(value('holdline_target_connections_rejected_total{reason="total_limit"}'), 1);
  assert.equal(value('holdline_target_messages_total{direction="in"}'), 1);
  assert.equal(value('holdline_target_messages_total{direction="out"}'), 1);
  assert.equal(value('holdline_target_bytes_total{direction="in"}'), 3);
  assert.ok(value('holdline_target_event_loop_delay_seconds{quantile="0.99"}') >= 0);
  assert.ok(value('holdline_target_resident_memory_bytes') > 0);
  // Every sample line is `name{labels} number`, and every family has HELP and TYPE.
  for (const line of text.trim().split('\n')) {
    if (line.startsWith('#')) assert.match(line, /^# (HELP|TYPE) holdline_target_\w+ .+/);
    else assert.match(line, /^holdline_target_\w+(\{[^}]*\})? -?[\d.e+-]+$/);
  }
  ws.terminate();
});

test('MAX_CONNECTIONS_PER_CLIENT with AUTH=none counts anonymous sockets by address', async (t) => {
  const tgt = await startTarget({ auth: 'none', maxConnectionsPerClient: 2 });
  t.after(() => tgt.close());
  const held = await Promise.all([openWs(tgt.wsUrl), openWs(tgt.wsUrl)]);
  assert.equal((await upgradeRefusal(tgt.wsUrl)).status, 429);
  // A valid token still identifies its user, so it is counted apart from the address.
  const token = await getToken(tgt.url, 'named');
  const named = await openWs(`${tgt.wsUrl}?token=${token}`);
  for (const ws of [...held, named]) ws.terminate();
});
