import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  assertSurvives,
  MiB,
  mib,
  procStatus,
  rawRequest,
  SIZES,
  startHostileTarget,
} from '../helpers/hostile.js';
import { getToken } from '../helpers/target.js';

// Issue 21, point 3: a chunked body of 1-byte chunks cost ~395 bytes of RSS per byte (every chunk
// kept as a Buffer): one 1 MB body took 445 MB. Bodies are now copied into one buffer as they
// come. Every POST route gets such a body, all at once, and the target's peak RSS is checked.

const PEAK_BOUND = 64 * MiB;

/** `json` padded with spaces to `size` bytes, sent as chunks of one byte each. */
function oneByteChunks(json: string, size: number): Buffer {
  const text = json.slice(0, -1) + ' '.repeat(Math.max(0, size - json.length)) + '}';
  const parts: string[] = [];
  for (let i = 0; i < text.length; i++) parts.push(`1\r\n${text[i]}\r\n`);
  parts.push('0\r\n\r\n');
  return Buffer.from(parts.join(''));
}

test(`1-byte-chunk bodies of ${SIZES.bodyBytes} bytes on every POST route at once: answered, peak RSS in bound`, async (t) => {
  const tgt = await startHostileTarget();
  t.after(() => tgt.close());
  const token = await getToken(tgt.url, 'chunky');
  const auth = { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' };
  assert.equal(
    (await fetch(`${tgt.url}/groups`, { method: 'POST', headers: auth, body: '{"name":"g1"}' })).status,
    201,
  );
  const cases: [string, string, number][] = [
    ['/auth/token', '{"userId":"u1"}', 200],
    ['/chats', '{"name":"c"}', 201],
    ['/groups', '{"name":"g2"}', 201],
    ['/groups/batch', '{"count":10,"prefix":"b"}', 201],
    ['/groups/g1/members', '{"userId":"u1"}', 200],
    ['/codes', '{"code":"c1"}', 202],
  ];
  const before = procStatus(tgt.pid).rss;
  const answers = await Promise.all(
    cases.map(async ([path, json]) => {
      const head =
        `POST ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\n` +
        'Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n';
      const c = await rawRequest(
        tgt.port,
        Buffer.concat([Buffer.from(head), oneByteChunks(json, SIZES.bodyBytes)]),
        60_000,
      );
      c.socket.destroy();
      return c.head.split('\r\n')[0];
    }),
  );
  const peak = procStatus(tgt.pid).peak - before;
  process.stdout.write(
    `# hostile bodies: ${cases.length} × ${SIZES.bodyBytes} bytes in 1-byte chunks at once: peak RSS ${mib(peak)} above base\n`,
  );
  for (let i = 0; i < cases.length; i++)
    assert.match(answers[i], new RegExp(`^HTTP/1\\.1 ${cases[i][2]} `), cases[i][0]);
  assert.ok(peak < PEAK_BOUND, `peak RSS ${mib(peak)} above base`);
  await assertSurvives(tgt);
});

test('a 1-byte-chunk body over HTTP_MAX_BODY_SIZE gets 413 at the limit, counted in bytes', async (t) => {
  const tgt = await startHostileTarget({ maxBodySize: 64 * 1024 });
  t.after(() => tgt.close());
  const head = 'POST /auth/token HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n';
  const c = await rawRequest(
    tgt.port,
    Buffer.concat([Buffer.from(head), oneByteChunks('{"userId":"u"}', 64 * 1024 + 1)]),
  );
  assert.match(c.head, /^HTTP\/1\.1 413 /);
  c.socket.destroy();
  await assertSurvives(tgt);
});
