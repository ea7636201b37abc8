import { test } from 'node:test';
import assert from 'node:assert/strict';
import type WebSocket from 'ws';
import {
  getToken,
  nextJson,
  nextMessage,
  openWs,
  startTarget,
  waitFor,
  type TestTarget,
} from '../helpers/target.js';

// Group chat over the WebSocket: join, leave, send to a group (every other member receives it
// with the sender's id and timestamps; the sender gets an acknowledgement with the group's
// message number and the number of recipients), member users, and bad messages.

async function post(tgt: TestTarget, path: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`${tgt.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  assert.ok(res.status < 300, `${path}: ${res.status}`);
  return (await res.json()) as Record<string, unknown>;
}

function sendJson(ws: WebSocket, msg: unknown): void {
  ws.send(JSON.stringify(msg));
}

async function joinAll(sockets: WebSocket[], group: string): Promise<void> {
  for (const ws of sockets) {
    sendJson(ws, { type: 'join', group });
    const j = await nextJson(ws);
    assert.equal(j.type, 'joined', JSON.stringify(j));
  }
}

/** Asserts that nothing arrives within a short window (after the frames that were expected). */
async function silent(ws: WebSocket): Promise<void> {
  await assert.rejects(nextMessage(ws, 100), /no message within/);
}

test('join, send, leave: every other member receives the message once, the sender an ack', async (t) => {
  const tgt = await startTarget();
  t.after(() => tgt.close());
  const token = (user: string): Promise<string> => getToken(tgt.url, user);
  const auth = { headers: { authorization: `Bearer ${await token('x')}` } };
  await fetch(`${tgt.url}/groups/batch`, {
    method: 'POST',
    headers: { ...auth.headers, 'content-type': 'application/json' },
    body: JSON.stringify({ names: ['room', 'other'] }),
  });
  const [a, b, c, d] = await Promise.all(
    ['ann', 'bob', 'cat', 'dan'].map(async (u) => openWs(`${tgt.wsUrl}?token=${await token(u)}`)),
  );
  t.after(() => [a, b, c, d].forEach((ws) => ws.terminate()));

  sendJson(a, { type: 'join', group: 'room' });
  assert.deepEqual(await nextJson(a), { type: 'joined', group: 'room', members: 1 });
  sendJson(b, { type: 'join', group: 'room' });
  assert.deepEqual(await nextJson(b), { type: 'joined', group: 'room', members: 2 });
  sendJson(b, { type: 'join', group: 'room' }); // twice is once
  assert.deepEqual(await nextJson(b), { type: 'joined', group: 'room', members: 2 });
  await joinAll([c], 'room');
  await joinAll([d], 'other');

  const before = Date.now();
  sendJson(a, { type: 'send', group: 'room', id: 'm-1', ts: 1234.5, data: { text: 'hé', n: [1, 2] } });
  const ack = await nextJson(a);
  assert.deepEqual(ack, { type: 'sent', id: 'm-1', seq: 1, recipients: 2 });
  for (const ws of [b, c]) {
    const m = await nextJson(ws);
    assert.equal(m.type, 'message');
    assert.equal(m.group, 'room');
    assert.equal(m.from, 'ann');
    assert.equal(m.id, 'm-1');
    assert.equal(m.seq, 1);
    assert.equal(m.ts, 1234.5, "the sender's clock, echoed");
    assert.ok(typeof m.serverTs === 'number' && m.serverTs >= before && m.serverTs <= Date.now());
    assert.deepEqual(m.data, { text: 'hé', n: [1, 2] });
  }
  // Per-group numbers: room goes on from 1, other starts at 1.
  sendJson(b, { type: 'send', group: 'room', id: 7, ts: 1 });
  assert.deepEqual(await nextJson(b), { type: 'sent', id: 7, seq: 2, recipients: 2 });
  assert.equal((await nextJson(a)).seq, 2);
  assert.equal((await nextJson(c)).data, null, 'no data is null');
  await joinAll([a], 'other');
  sendJson(a, { type: 'send', group: 'other', id: 'o-1', ts: 2, data: 'x' });
  assert.deepEqual(await nextJson(a), { type: 'sent', id: 'o-1', seq: 1, recipients: 1 });
  assert.equal((await nextJson(d)).id, 'o-1');

  sendJson(c, { type: 'leave', group: 'room' });
  assert.deepEqual(await nextJson(c), { type: 'left', group: 'room' });
  sendJson(c, { type: 'leave', group: 'room' }); // leaving twice is fine
  assert.deepEqual(await nextJson(c), { type: 'left', group: 'room' });
  sendJson(a, { type: 'send', group: 'room', id: 'm-3', ts: 3 });
  assert.deepEqual(await nextJson(a), { type: 'sent', id: 'm-3', seq: 3, recipients: 1 });
  assert.equal((await nextJson(b)).seq, 3);
  await silent(c);
  await silent(d);

  const s = tgt.stats();
  assert.equal(s.groupMessages.in, 4);
  assert.equal(s.groupMessages.out, 2 + 2 + 1 + 1);
  assert.equal(s.groupMessages.missed, 0);
});

test('a closed connection leaves its groups; sending to a group without others has 0 recipients', async (t) => {
  const tgt = await startTarget({ auth: 'none' });
  t.after(() => tgt.close());
  await post(tgt, '/groups', { name: 'g' });
  const a = await openWs(tgt.wsUrl);
  const b = await openWs(tgt.wsUrl);
  t.after(() => a.terminate());
  await joinAll([a, b], 'g');
  b.close();
  await waitFor(() => tgt.stats().connections.ws === 1, 'b to close');
  sendJson(a, { type: 'send', group: 'g', id: 'alone', ts: 0 });
  assert.deepEqual(await nextJson(a), { type: 'sent', id: 'alone', seq: 1, recipients: 0 });
  const list = (await (await fetch(`${tgt.url}/groups`)).json()) as { groups: { connected: number }[] };
  assert.equal(list.groups[0].connected, 1);
  // Anonymous senders are named by their connection id.
  const c = await openWs(tgt.wsUrl);
  t.after(() => c.terminate());
  await joinAll([c], 'g');
  sendJson(c, { type: 'send', group: 'g', id: 'anon', ts: 0 });
  assert.match(String((await nextJson(a)).from), /^c\d+$/);
});

test('member users receive the group without joining, on connections open before and after', async (t) => {
  const tgt = await startTarget();
  t.after(() => tgt.close());
  const tok = async (u: string): Promise<string> => getToken(tgt.url, u);
  const admin = await tok('admin');
  const api = async (path: string, body: unknown): Promise<Response> =>
    fetch(`${tgt.url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  await (await api('/groups', { name: 'news' })).arrayBuffer();
  const early = await openWs(`${tgt.wsUrl}?token=${await tok('zoe')}`);
  const sender = await openWs(`${tgt.wsUrl}?token=${await tok('sam')}`);
  const stranger = await openWs(`${tgt.wsUrl}?token=${await tok('tom')}`);
  t.after(() => [early, sender, stranger].forEach((ws) => ws.terminate()));
  const added = await api('/groups/news/members', { userId: 'zoe' });
  assert.deepEqual(await added.json(), { members: 1 });
  const late = await openWs(`${tgt.wsUrl}?token=${await tok('zoe')}`);
  t.after(() => late.terminate());

  await joinAll([sender], 'news');
  sendJson(sender, { type: 'send', group: 'news', id: 'n1', ts: 5, data: 'hello' });
  assert.deepEqual(await nextJson(sender), { type: 'sent', id: 'n1', seq: 1, recipients: 2 });
  for (const ws of [early, late]) {
    const m = await nextJson(ws);
    assert.equal(m.id, 'n1');
    assert.equal(m.from, 'sam');
  }
  await silent(stranger);
  // A member may send without joining.
  sendJson(late, { type: 'send', group: 'news', id: 'n2', ts: 6 });
  assert.deepEqual(await nextJson(late), { type: 'sent', id: 'n2', seq: 2, recipients: 2 });
  assert.equal((await nextJson(early)).id, 'n2');
  assert.equal((await nextJson(sender)).id, 'n2');
});

test('bad group messages get an error frame naming the problem, and the socket stays open', async (t) => {
  const tgt = await startTarget({ auth: 'none' });
  t.after(() => tgt.close());
  await post(tgt, '/groups/batch', { names: ['g', 'h'] });
  const ws = await openWs(tgt.wsUrl);
  t.after(() => ws.terminate());
  await joinAll([ws], 'g');
  const cases: [unknown, string, Record<string, unknown>][] = [
    [{ type: 'join', group: 'missing' }, 'unknown_group', { group: 'missing' }],
    [{ type: 'join' }, 'bad_message', {}],
    [{ type: 'join', group: 'bad group' }, 'bad_message', {}],
    [{ type: 'join', group: 5 }, 'bad_message', {}],
    [{ type: 'leave', group: 'missing' }, 'unknown_group', { group: 'missing' }],
    [{ type: 'send', group: 'g', ts: 1 }, 'bad_message', {}],
    [{ type: 'send', group: 'g', id: { x: 1 }, ts: 1 }, 'bad_message', {}],
    [{ type: 'send', group: 'g', id: 'i'.repeat(257), ts: 1 }, 'bad_message', {}],
    [{ type: 'send', group: 'g', id: 'a', ts: 'now' }, 'bad_message', { id: 'a' }],
    [{ type: 'send', id: 'b', ts: 1 }, 'bad_message', { id: 'b' }],
    [{ type: 'send', group: 'missing', id: 'c', ts: 1 }, 'unknown_group', { id: 'c', group: 'missing' }],
    [{ type: 'send', group: 'h', id: 'd', ts: 1 }, 'not_member', { id: 'd', group: 'h' }],
    [{ type: 'subscribe', channel: 'news' }, 'unknown_channel', { channel: 'news' }],
  ];
  for (const [msg, error, extra] of cases) {
    sendJson(ws, msg);
    const e = await nextJson(ws);
    assert.equal(e.type, 'error', JSON.stringify(msg));
    assert.equal(e.error, error, JSON.stringify(msg));
    assert.equal(typeof e.message, 'string');
    for (const [k, v] of Object.entries(extra)) assert.equal(e[k], v, `${k} of ${JSON.stringify(msg)}`);
  }
  // Still a working member: ts and data are optional.
  sendJson(ws, { type: 'send', group: 'g', id: 'ok' });
  assert.deepEqual(await nextJson(ws), { type: 'sent', id: 'ok', seq: 1, recipients: 0 });
  // Frames that are not the protocol are echoed, as before.
  ws.send('{"type":"send", not json');
  assert.equal((await nextMessage(ws)).data.toString(), '{"type":"send", not json');
  assert.equal(tgt.stats().groupMessages.in, 1);
});

test('fan-out to 200 members of one group, and 200 groups of two in parallel', async (t) => {
  const tgt = await startTarget({ auth: 'none' });
  t.after(() => tgt.close());
  await post(tgt, '/groups/batch', { count: 100, prefix: 'pair' });
  await post(tgt, '/groups', { name: 'big' });
  const sockets = await Promise.all(Array.from({ length: 200 }, () => openWs(tgt.wsUrl)));
  t.after(() => sockets.forEach((ws) => ws.terminate()));
  let received = 0;
  for (const ws of sockets) {
    ws.on('message', (d: Buffer) => {
      if (d.includes('"type":"message"')) received++;
    });
  }
  await Promise.all(sockets.map((ws) => joinAll([ws], 'big')));
  await Promise.all(sockets.map((ws, i) => joinAll([ws], `pair-${i >> 1}`)));
  sendJson(sockets[0], { type: 'send', group: 'big', id: 'all', ts: 0 });
  for (let i = 0; i < 200; i += 2)
    sendJson(sockets[i], { type: 'send', group: `pair-${i >> 1}`, id: i, ts: 0 });
  await waitFor(() => received === 199 + 100, `299 deliveries (got ${received})`);
  assert.equal(tgt.stats().groupMessages.out, 299);
});
