import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TokenAuth } from '../../src/target/auth.js';
import {
  closeOf,
  getToken,
  nextJson,
  nextMessage,
  openWs,
  startTarget,
  upgradeRefusal,
  waitFor,
} from '../helpers/target.js';

test('upgrade without a valid token is a real HTTP 401 with a JSON reason, counted', async (t) => {
  const tgt = await startTarget({ tokenSecret: 's'.repeat(32) });
  t.after(() => tgt.close());
  const missing = await upgradeRefusal(tgt.wsUrl);
  assert.equal(missing.status, 401);
  assert.equal(JSON.parse(missing.body).error, 'unauthorized');
  assert.match(JSON.parse(missing.body).message, /missing token/);
  const forged = await upgradeRefusal(
    `${tgt.wsUrl}?token=eyJzdWIiOiJ4IiwiZXhwIjo5OTk5OTk5OTk5fQ.${'A'.repeat(43)}`,
  );
  assert.equal(forged.status, 401);
  // Signed with the right secret, but expired an hour ago.
  const expired = new TokenAuth('s'.repeat(32), 1000).issue('old', Date.now() - 3_600_000).token;
  assert.equal((await upgradeRefusal(`${tgt.wsUrl}?token=${expired}`)).status, 401);
  assert.equal((await upgradeRefusal(tgt.wsUrl, { headers: { authorization: 'Bearer nope' } })).status, 401);
  assert.equal(tgt.stats().rejected.unauthorized, 4);
  assert.equal(tgt.stats().accepted.ws, 0);
});

test('token in the query or in Authorization: Bearer; JSON echo and ping/pong', async (t) => {
  const tgt = await startTarget();
  t.after(() => tgt.close());
  const token = await getToken(tgt.url, 'carol');
  const a = await openWs(`${tgt.wsUrl}?token=${token}&chat=chat-1`);
  const b = await openWs(tgt.wsUrl, { headers: { authorization: `Bearer ${token}` } });
  t.after(() => {
    a.terminate();
    b.terminate();
  });

  const echo = JSON.stringify({ type: 'echo', text: 'héllo', n: 1 });
  a.send(echo);
  const back = await nextMessage(a);
  assert.equal(back.isBinary, false);
  assert.equal(back.data.toString(), echo);

  const pings = [
    { type: 'ping', id: 'p-7' },
    { type: 'ping', id: 42 },
    { type: 'ping', id: { bad: true } },
  ].map((p) => JSON.stringify(p));
  const before = Date.now();
  b.send(pings[0]);
  const pong = await nextJson(b);
  assert.equal(pong.type, 'pong');
  assert.equal(pong.id, 'p-7');
  assert.ok(typeof pong.ts === 'number' && pong.ts >= before && pong.ts <= Date.now());
  b.send(pings[1]);
  assert.equal((await nextJson(b)).id, 42);
  b.send(pings[2]);
  const err = await nextJson(b);
  assert.equal(err.type, 'error');
  assert.equal(err.error, 'bad_message');

  await waitFor(() => tgt.stats().messages.out === 4, 'four messages out');
  const s = tgt.stats();
  assert.equal(s.connections.ws, 2);
  assert.equal(s.messages.in, 4);
  assert.equal(s.bytes.in, Buffer.byteLength(echo) + pings.reduce((n, p) => n + p.length, 0));
  assert.equal(s.bytes.out - Buffer.byteLength(echo) > 0, true);
});

test('non-JSON text, binary and JSON of unknown type are echoed verbatim', async (t) => {
  const tgt = await startTarget({ auth: 'none' });
  t.after(() => tgt.close());
  const ws = await openWs(tgt.wsUrl);
  t.after(() => ws.terminate());
  const payloads: Array<[string | Buffer, boolean]> = [
    ['plain text', false],
    ['{"type": broken json', false],
    ['{"type":"chat.unknown","x":1}', false],
    ['[1,2,3]', false],
    ['', false],
    [Buffer.from([0, 1, 2, 255, 0x7b]), true],
  ];
  for (const [p, binary] of payloads) {
    ws.send(p, { binary });
    const m = await nextMessage(ws);
    assert.equal(m.isBinary, binary);
    assert.deepEqual(m.data, Buffer.from(p));
  }
  // Protocol ping frames are answered with pong frames.
  const pong = new Promise<Buffer>((resolve) => ws.once('pong', resolve));
  ws.ping('hb');
  assert.equal((await pong).toString(), 'hb');
});

test('welcome is sent on open only when enabled', async (t) => {
  const quiet = await startTarget({ auth: 'none' });
  const chatty = await startTarget({ welcome: true });
  t.after(() => Promise.all([quiet.close(), chatty.close()]));

  const q = await openWs(quiet.wsUrl);
  q.send('first');
  assert.equal(
    (await nextMessage(q)).data.toString(),
    'first',
    'the first message is the echo, not a welcome',
  );
  q.terminate();

  const token = await getToken(chatty.url, 'dave');
  const w = await openWs(`${chatty.wsUrl}?token=${token}&chat=chat-x`);
  const hello = await nextJson(w);
  w.terminate();
  assert.equal(hello.type, 'welcome');
  assert.match(String(hello.connId), /^c\d+$/);
  assert.equal(hello.userId, 'dave');
  assert.equal(hello.chatId, 'chat-x');
});

test('AUTH=none accepts sockets without a token; bad path is 404, bad chat id 400', async (t) => {
  const tgt = await startTarget({ auth: 'none' });
  t.after(() => tgt.close());
  const ws = await openWs(`${tgt.wsUrl}?token=garbage`);
  ws.terminate();
  assert.equal((await upgradeRefusal(`ws://127.0.0.1:${tgt.port}/other`)).status, 404);
  assert.equal((await upgradeRefusal(`${tgt.wsUrl}?chat=${'x'.repeat(200)}`)).status, 400);
  const s = tgt.stats();
  assert.equal(s.accepted.ws, 1);
  assert.equal(s.rejected.not_found, 1);
  assert.equal(s.rejected.bad_request, 1);
});

test('close() terminates open sockets and resolves promptly', async (t) => {
  const tgt = await startTarget({ auth: 'none' });
  const sockets = await Promise.all(Array.from({ length: 20 }, () => openWs(tgt.wsUrl)));
  const closes = sockets.map((ws) => closeOf(ws));
  await waitFor(() => tgt.stats().connections.ws === 20, '20 open sockets');
  const t0 = performance.now();
  await tgt.close();
  assert.ok(performance.now() - t0 < 1000, 'close() took too long');
  const codes = await Promise.all(closes);
  assert.ok(codes.every((c) => c.code === 1006));
  assert.equal(tgt.stats().connections.ws, 0);
  await assert.rejects(openWs(tgt.wsUrl, {}, 1000));
  t.diagnostic(`closed 20 sockets in ${(performance.now() - t0).toFixed(1)} ms`);
});
