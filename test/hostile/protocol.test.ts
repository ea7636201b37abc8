import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { isLoopback } from '../../src/cli/commands/target.js';
import { resolveTargetOptions } from '../../src/target/options.js';
import {
  assertSurvives,
  closedWithin,
  frame,
  getHealth,
  rawRequest,
  rawWs,
  startHostileTarget,
  upgradeRequest,
  type HostileTarget,
} from '../helpers/hostile.js';
import { getToken, waitFor } from '../helpers/target.js';

// Issue 21, points 5 and 6: protocol edges and exposure. Each attack is followed by the same
// check: alive, /health within 1 s, a normal session, RSS in bound.

let tgt: HostileTarget;
let token: string;
test.before(async () => {
  tgt = await startHostileTarget({ maxSockets: 200 });
  token = await getToken(tgt.url, 'edge');
});
test.after(() => tgt.close());

test('an Upgrade other than websocket (h2c) is an ordinary request: /health answers 200', async () => {
  const c = await rawRequest(
    tgt.port,
    'GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA\r\n\r\n',
  );
  assert.match(c.head, /^HTTP\/1\.1 200 /);
  assert.match(c.head, /connection: close/i);
  await closedWithin(c.socket, 2000);
  await assertSurvives(tgt);
});

test('a WebSocket version the target does not speak: 400 with Sec-WebSocket-Version (RFC 6455 §4.4)', async () => {
  const c = await rawRequest(
    tgt.port,
    upgradeRequest(`/ws?token=${token}`).replace('Sec-WebSocket-Version: 13', 'Sec-WebSocket-Version: 7'),
  );
  assert.match(c.head, /^HTTP\/1\.1 400 /);
  assert.match(c.head, /\r\nSec-WebSocket-Version: 13\r?$/im);
  c.socket.destroy();
  await assertSurvives(tgt);
});

test('an HTTP/1.0 upgrade is refused with 400', async () => {
  const before = (await getHealth(tgt.url)).accepted.ws as number;
  const c = await rawRequest(tgt.port, upgradeRequest(`/ws?token=${token}`, '', '1.0'));
  assert.match(c.head, /^HTTP\/1\.1 400 /);
  await closedWithin(c.socket, 2000);
  assert.equal((await getHealth(tgt.url)).accepted.ws, before);
  await assertSurvives(tgt);
});

test('a ping flood (200 pings in one write) is closed with a close frame 1008 and counted in dropped', async () => {
  const before = (await getHealth(tgt.url)).dropped.ping_flood as number;
  const ws = await rawWs(tgt.port, `/ws?token=${token}`);
  const pings: Buffer[] = [];
  for (let i = 0; i < 200; i++) pings.push(frame(9, 'p'));
  ws.socket.write(Buffer.concat(pings));
  let close: { opcode: number; payload: Buffer } | null = null;
  let pongs = 0;
  for (let i = 0; i < 201 && close === null; i++) {
    const f = await ws.read(3000);
    if (f.opcode === 0xa) pongs++;
    else if (f.opcode === 8) close = f;
  }
  assert.ok(close, 'a close frame');
  assert.equal(close.payload.readUInt16BE(0), 1008);
  assert.equal(close.payload.subarray(2).toString(), 'too many pings');
  assert.ok(pongs >= 60 && pongs < 200, `pongs before the close: ${pongs}`);
  ws.socket.destroy();
  assert.equal((await getHealth(tgt.url)).dropped.ping_flood, before + 1);
  await assertSurvives(tgt);
});

for (const [name, bytes] of [
  ['only blank lines', '\r\n'.repeat(16)],
  ['an HTTP/0.9 request line', 'GET /health\r\n'],
] as const) {
  test(`a request of ${name} is cut at once with 400, not held until the headers timeout`, async () => {
    const before = (await getHealth(tgt.url)).rejected.bad_http as number;
    const c = await rawRequest(tgt.port, bytes, 1000);
    assert.match(c.head, /^HTTP\/1\.1 400 /);
    await closedWithin(c.socket, 1000);
    assert.equal((await getHealth(tgt.url)).rejected.bad_http, before + 1);
    await assertSurvives(tgt);
  });
}

test('one blank line before a request line is still served (RFC 9112 §2.2)', async () => {
  const c = await rawRequest(tgt.port, '\r\nGET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  assert.match(c.head, /^HTTP\/1\.1 200 /);
  c.socket.destroy();
});

test('MAX_SOCKETS caps connections that never send a request; the excess is closed at once and counted', async () => {
  const h0 = await getHealth(tgt.url);
  const idle: net.Socket[] = [];
  let closed = 0;
  // The cap is 200; the test's own keep-alive fetches hold a few: 230 idle sockets pass it by 30+.
  for (let i = 0; i < 230; i++) {
    const s = net.connect({ port: tgt.port, host: '127.0.0.1' });
    s.on('error', () => {});
    s.once('close', () => closed++);
    idle.push(s);
  }
  await waitFor(() => closed >= 30, '30 sockets closed by the server');
  for (const s of idle) s.destroy();
  const h1 = await getHealth(tgt.url);
  const counted = (h1.rejected.socket_limit as number) - (h0.rejected.socket_limit as number);
  assert.ok(counted >= 30, `dropped by the server: ${counted}`);
  await assertSurvives(tgt);
});

test('loopback by default: the target listens on 127.0.0.1 unless --host says otherwise', () => {
  assert.equal(resolveTargetOptions({}).host, '127.0.0.1');
  assert.equal(resolveTargetOptions({ env: { HOST: '0.0.0.0' } }).host, '0.0.0.0');
  for (const h of ['127.0.0.1', '127.1.2.3', '::1', 'localhost']) assert.ok(isLoopback(h), h);
  for (const h of ['0.0.0.0', '::', '10.0.0.5']) assert.equal(isLoopback(h), false, h);
});
