import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type WebSocket from 'ws';
import { HoldlineError } from '../../src/errors.js';
import { startTarget as startTargetServer } from '../../src/target/server.js';
import { startRedis } from '../helpers/redis.js';
import { nextJson, openWs, startTarget, waitFor, type TestTarget } from '../helpers/target.js';

// Two target instances sharing a real redis-server (started here on a free port): groups, group
// messages, members and codes cross instances; message numbers stay in order across senders;
// a Redis restart is survived (what is published while it is down is lost, and counted).

async function api(tgt: TestTarget, method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${tgt.url}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

async function json(
  tgt: TestTarget,
  method: string,
  path: string,
  body?: unknown,
): Promise<Record<string, unknown>> {
  const res = await api(tgt, method, path, body);
  assert.ok(res.status < 300, `${method} ${path}: ${res.status}`);
  return (await res.json()) as Record<string, unknown>;
}

async function join(ws: WebSocket, group: string): Promise<void> {
  ws.send(JSON.stringify({ type: 'join', group }));
  for (;;) {
    const j = await nextJson(ws);
    if (j.type === 'message' || j.type === 'sent') continue; // traffic of earlier groups
    assert.equal(j.type, 'joined', JSON.stringify(j));
    return;
  }
}

function sendTo(ws: WebSocket, group: string, id: string): void {
  ws.send(JSON.stringify({ type: 'send', group, id, ts: Date.now(), data: id }));
}

/** The next frame of this type, skipping others. */
async function next(ws: WebSocket, type: string): Promise<Record<string, unknown>> {
  for (;;) {
    const m = await nextJson(ws, 5000);
    if (m.type === type) return m;
  }
}

/** An SSE stream's code events as they arrive (ids and codes). */
function sseCodes(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ got: [number, string][]; close(): void }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers }, (res) => {
      assert.equal(res.statusCode, 200);
      const got: [number, string][] = [];
      let buf = '';
      res.setEncoding('utf8').on('data', (s: string) => {
        buf += s;
        for (let i = buf.indexOf('\n\n'); i >= 0; i = buf.indexOf('\n\n')) {
          const data = /^data: (.*)$/m.exec(buf.slice(0, i));
          if (data) {
            const d = JSON.parse(data[1]) as { id: number; code: string };
            got.push([d.id, d.code]);
          }
          buf = buf.slice(i + 2);
        }
      });
      resolve({ got, close: () => req.destroy() });
    });
    req.on('error', reject);
  });
}

test('two instances: groups, members, group messages and codes cross; numbers stay in order', async (t) => {
  const redis = await startRedis();
  t.after(() => redis.stop());
  const A = await startTarget({ auth: 'none', redisUrl: redis.url });
  const B = await startTarget({ auth: 'none', redisUrl: redis.url });
  t.after(() => Promise.all([A.close(), B.close()]));

  // Groups created on either instance exist on both.
  await json(A, 'POST', '/groups', { name: 'room' });
  assert.deepEqual(await json(B, 'POST', '/groups/batch', { count: 1000 }), {
    created: 1000,
    first: 'load-0',
    last: 'load-999',
  });
  await json(A, 'POST', '/groups/batch', { names: ['n-1', 'n-2'] });
  await waitFor(
    () => A.stats().groups.count === 1003 && B.stats().groups.count === 1003,
    'both to hold 1003',
  );
  assert.equal((await api(B, 'POST', '/groups', { name: 'room' })).status, 409);

  const a1 = await openWs(A.wsUrl);
  const b1 = await openWs(B.wsUrl);
  const b2 = await openWs(B.wsUrl);
  t.after(() => [a1, b1, b2].forEach((ws) => ws.terminate()));
  for (const ws of [a1, b1, b2]) await join(ws, 'room');

  sendTo(a1, 'room', 'from-a');
  const ack = await next(a1, 'sent');
  assert.equal(ack.seq, 1);
  assert.equal(ack.recipients, 0, 'with Redis, recipients counts this instance only');
  for (const ws of [b1, b2]) {
    const m = await next(ws, 'message');
    assert.equal(m.id, 'from-a');
    assert.equal(m.seq, 1);
    assert.match(String(m.from), /^c\d+$/);
  }
  sendTo(b1, 'room', 'from-b');
  assert.deepEqual(await next(b1, 'sent'), { type: 'sent', id: 'from-b', seq: 2, recipients: 1 });
  assert.equal((await next(a1, 'message')).id, 'from-b');
  assert.equal((await next(b2, 'message')).id, 'from-b');

  // Two senders on two instances at once: one order, no gaps, no duplicates, for everyone.
  for (let i = 0; i < 30; i++) {
    sendTo(a1, 'room', `a${i}`);
    sendTo(b1, 'room', `b${i}`);
  }
  const seqs: number[] = [];
  for (let i = 0; i < 60; i++) seqs.push(Number((await next(b2, 'message')).seq));
  assert.deepEqual(
    seqs,
    Array.from({ length: 60 }, (_, i) => i + 3),
  );

  // A member added through one instance receives on another without joining (members are
  // users: this pair checks tokens, with one secret).
  const B2 = await startTarget({ auth: 'token', tokenSecret: 's'.repeat(32), redisUrl: redis.url });
  const A2 = await startTarget({ auth: 'token', tokenSecret: 's'.repeat(32), redisUrl: redis.url });
  t.after(() => Promise.all([A2.close(), B2.close()]));
  const tok = async (tgt: TestTarget, user: string): Promise<string> =>
    ((await json(tgt, 'POST', '/auth/token', { userId: user })) as { token: string }).token;
  const tZed = await tok(A2, 'zed');
  const zedOnB = await openWs(`${B2.wsUrl}?token=${tZed}`);
  const senderOnA = await openWs(`${A2.wsUrl}?token=${await tok(A2, 'sam')}`);
  t.after(() => [zedOnB, senderOnA].forEach((ws) => ws.terminate()));
  const auth = { authorization: `Bearer ${tZed}`, 'content-type': 'application/json' };
  await fetch(`${A2.url}/groups`, { method: 'POST', headers: auth, body: '{"name":"team"}' });
  await waitFor(() => B2.stats().groups.count === 1, 'team on B');
  const add = await fetch(`${A2.url}/groups/team/members`, {
    method: 'POST',
    headers: auth,
    body: '{"userId":"zed"}',
  });
  assert.equal(add.status, 200);
  await waitFor(() => B2.stats().bus.received >= A2.stats().bus.published, 'the member to reach B');
  await join(senderOnA, 'team');
  sendTo(senderOnA, 'team', 'to-zed');
  const m = await next(zedOnB, 'message');
  assert.equal(m.id, 'to-zed');
  assert.equal(m.from, 'sam');

  // An instance started after the groups were created finds them through Redis on join.
  const C = await startTarget({ auth: 'none', redisUrl: redis.url });
  t.after(() => C.close());
  assert.equal(C.stats().groups.count, 0);
  const c1 = await openWs(C.wsUrl);
  t.after(() => c1.terminate());
  await join(c1, 'load-500');
  c1.send(JSON.stringify({ type: 'join', group: 'never-made' }));
  assert.equal((await nextJson(c1)).error, 'unknown_group');
  await join(b1, 'load-500');
  sendTo(b1, 'load-500', 'late');
  assert.equal((await next(c1, 'message')).id, 'late');

  // Codes: published on either, numbered once, delivered by both to SSE and WebSocket.
  const sseA = await sseCodes(`${A.url}/events`);
  const sseB = await sseCodes(`${B.url}/events`);
  t.after(() => [sseA, sseB].forEach((s) => s.close()));
  b2.send('{"type":"subscribe","channel":"codes"}');
  await next(b2, 'subscribed');
  await waitFor(() => A.stats().connections.sse === 1 && B.stats().connections.sse === 1, 'streams');
  const p1 = await json(A, 'POST', '/codes', { code: 'ONE' });
  assert.equal(p1.id, 1);
  const p2 = await json(B, 'POST', '/broadcast', { code: 'TWO' });
  assert.equal(p2.id, 2);
  for (const s of [sseA, sseB]) await waitFor(() => s.got.length === 2, 'two codes on each stream');
  assert.deepEqual(sseA.got, [
    [1, 'ONE'],
    [2, 'TWO'],
  ]);
  assert.deepEqual(sseB.got, sseA.got);
  assert.equal((await next(b2, 'code')).code, 'ONE');
  assert.equal((await next(b2, 'code')).code, 'TWO');
  // Replay on B of codes published through A.
  const replay = await sseCodes(`${B.url}/events`, { 'last-event-id': '1' });
  t.after(() => replay.close());
  await waitFor(() => replay.got.length === 1, 'the replay');
  assert.deepEqual(replay.got, [[2, 'TWO']]);

  for (const tgt of [A, B]) {
    const s = tgt.stats();
    assert.equal(s.bus.kind, 'redis');
    assert.equal(s.bus.connected, true);
    assert.equal(s.bus.errors, 0);
    assert.equal(s.groupMessages.missed, 0);
    assert.equal(s.codes.missed, 0);
  }
});

test('a Redis restart is survived: down window counted, then reconnect, resubscribe, numbers go on', async (t) => {
  const redis = await startRedis();
  t.after(() => redis.stop());
  const A = await startTarget({ auth: 'none', redisUrl: redis.url });
  const B = await startTarget({ auth: 'none', redisUrl: redis.url });
  t.after(() => Promise.all([A.close(), B.close()]));
  await json(A, 'POST', '/groups', { name: 'g' });
  await waitFor(() => B.stats().groups.count === 1, 'the group on B');
  const a = await openWs(A.wsUrl);
  const b = await openWs(B.wsUrl);
  t.after(() => [a, b].forEach((ws) => ws.terminate()));
  await join(a, 'g');
  await join(b, 'g');
  sendTo(a, 'g', 'before');
  assert.equal((await next(b, 'message')).seq, 1);
  assert.equal((await json(B, 'POST', '/codes', { code: 'C1' })).id, 1);

  await redis.stop();
  await waitFor(() => !A.stats().bus.connected && !B.stats().bus.connected, 'both to see Redis gone', 5000);
  // While it is down: the sender is told, the publisher gets a 503, both are counted.
  sendTo(a, 'g', 'lost');
  const e = await next(a, 'error');
  assert.equal(e.error, 'bus_unavailable');
  assert.equal(e.id, 'lost');
  const down = await api(A, 'POST', '/codes', { code: 'C-lost' });
  assert.equal(down.status, 503);
  assert.equal(((await down.json()) as { error: string }).error, 'bus_unavailable');
  const metricsDown = await (await fetch(`${A.url}/metrics`)).text();
  assert.match(metricsDown, /^holdline_target_bus_connected\{kind="redis"\} 0$/m);
  assert.match(metricsDown, /^holdline_target_bus_errors_total 2$/m);
  // The sockets themselves stay up, and local things still work.
  a.send('{"type":"ping","id":1}');
  assert.equal((await next(a, 'pong')).id, 1);

  await redis.start(); // empty: its counters are gone
  for (const tgt of [A, B]) {
    await waitFor(
      () => tgt.stats().bus.connected && tgt.stats().bus.reconnects === 1,
      'reconnected and resubscribed',
      10_000,
    );
  }
  sendTo(a, 'g', 'after');
  const after = await next(b, 'message');
  assert.equal(after.id, 'after');
  assert.equal(after.seq, 2, 'numbering goes on from what the instances saw, not from 1');
  sendTo(b, 'g', 'back');
  assert.equal((await next(a, 'message')).seq, 3);
  assert.equal((await json(A, 'POST', '/codes', { code: 'C2' })).id, 2);
  const metrics = await (await fetch(`${B.url}/metrics`)).text();
  assert.match(metrics, /^holdline_target_bus_connected\{kind="redis"\} 1$/m);
  assert.match(metrics, /^holdline_target_bus_reconnects_total 1$/m);
  assert.equal(A.stats().bus.errors, 2);
});

test('an unreachable Redis stops the target from starting, with a clear error', async () => {
  const redis = await startRedis();
  await redis.stop();
  await assert.rejects(
    startTargetServer({ host: '127.0.0.1', port: 0, redisUrl: redis.url }),
    (err: unknown) =>
      err instanceof HoldlineError && /cannot use Redis at redis:\/\/127\.0\.0\.1:\d+/.test(err.message),
  );
});
