import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startTarget, type TestTarget } from '../helpers/target.js';

async function post(base: string, path: string, body?: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
  const text = await res.text();
  return {
    status: res.status,
    headers: res.headers,
    text,
    json: text ? (JSON.parse(text) as Record<string, unknown>) : {},
  };
}

/** Raw HTTP over a socket: for bodies a well-behaved client would not send. */
function raw(port: number, request: string | Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    let out = '';
    s.setEncoding('utf8');
    s.on('data', (c: string) => (out += c));
    s.on('end', () => resolve(out));
    s.on('error', (err) => (out ? resolve(out) : reject(err)));
    s.setTimeout(3000, () => {
      s.destroy();
      reject(new Error(`no response; got ${JSON.stringify(out)}`));
    });
    s.write(request);
  });
}

test('POST /auth/token issues a token for the given or a generated user', async (t) => {
  const tgt = await startTarget({ tokenTtlMs: 90_000 });
  t.after(() => tgt.close());
  const a = await post(tgt.url, '/auth/token', JSON.stringify({ userId: 'alice' }));
  assert.equal(a.status, 200);
  assert.equal(a.json.userId, 'alice');
  assert.equal(a.json.expiresIn, 90);
  assert.match(String(a.json.token), /^[\w-]+\.[\w-]{43}$/);
  const b = await post(tgt.url, '/auth/token');
  assert.equal(b.status, 200);
  assert.match(String(b.json.userId), /^user-/);
  assert.notEqual(b.json.token, a.json.token);
  assert.equal(tgt.stats().tokensIssued, 2);
});

test('POST /chats needs a valid bearer token and returns a chat id', async (t) => {
  const tgt = await startTarget();
  t.after(() => tgt.close());
  const none = await post(tgt.url, '/chats', '{}');
  assert.equal(none.status, 401);
  assert.equal(none.json.error, 'unauthorized');
  assert.equal(none.headers.get('www-authenticate'), 'Bearer');
  const bad = await post(tgt.url, '/chats', '{}', { authorization: 'Bearer abc.def' });
  assert.equal(bad.status, 401);
  assert.match(String(bad.json.message), /invalid or expired/);

  const { json } = await post(tgt.url, '/auth/token', JSON.stringify({ userId: 'bob' }));
  const ok = await post(tgt.url, '/chats', JSON.stringify({ name: 'room' }), {
    authorization: `Bearer ${json.token}`,
  });
  assert.equal(ok.status, 201);
  assert.match(String(ok.json.chatId), /^chat-[\w-]{12}$/);
  assert.equal(ok.json.name, 'room');
  assert.equal(ok.json.createdBy, 'bob');
  const again = await post(tgt.url, '/chats', undefined, { authorization: `Bearer ${json.token}` });
  assert.notEqual(again.json.chatId, ok.json.chatId);
  assert.equal(tgt.stats().chatsCreated, 2);
});

test('a token signed by another target (another secret) is refused', async (t) => {
  const a = await startTarget();
  const b = await startTarget();
  t.after(() => Promise.all([a.close(), b.close()]));
  const { json } = await post(a.url, '/auth/token', '{}');
  assert.equal((await post(b.url, '/chats', '{}', { authorization: `Bearer ${json.token}` })).status, 401);
  assert.equal((await post(a.url, '/chats', '{}', { authorization: `Bearer ${json.token}` })).status, 201);
});

test('AUTH=none: chats need no token', async (t) => {
  const tgt = await startTarget({ auth: 'none' });
  t.after(() => tgt.close());
  const r = await post(tgt.url, '/chats');
  assert.equal(r.status, 201);
  assert.equal(r.json.createdBy, null);
});

test('malformed JSON and wrong shapes are 400 with a reason', async (t) => {
  const tgt = await startTarget({ auth: 'none' });
  t.after(() => tgt.close());
  const cases: Array<[string, string, string]> = [
    ['/auth/token', '{"userId": ', 'bad_json'],
    ['/auth/token', '[1,2]', 'bad_request'],
    ['/auth/token', '{"userId": 42}', 'bad_request'],
    ['/auth/token', JSON.stringify({ userId: 'x'.repeat(129) }), 'bad_request'],
    ['/auth/token', JSON.stringify({ userId: 'a b' }), 'bad_request'],
    ['/chats', 'not json', 'bad_json'],
    ['/chats', '{"name": 7}', 'bad_request'],
  ];
  for (const [path, body, code] of cases) {
    const r = await post(tgt.url, path, body);
    assert.equal(r.status, 400, `${path} ${body}`);
    assert.equal(r.json.error, code, `${path} ${body}`);
    assert.equal(typeof r.json.message, 'string');
  }
  // The target is still fine after all of that.
  assert.equal((await post(tgt.url, '/auth/token', '{}')).status, 200);
});

test('an oversized body is 413, declared or streamed, and the server stays up', async (t) => {
  const tgt: TestTarget = await startTarget({ maxBodySize: 1024 });
  t.after(() => tgt.close());
  const declared = await raw(
    tgt.port,
    'POST /auth/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5000000\r\n\r\n{"userId":',
  );
  assert.match(declared, /^HTTP\/1\.1 413 /);
  assert.match(declared, /body_too_large/);

  const chunk = Buffer.alloc(600, 0x20);
  // Chunked: no length up front, so the limit trips while the body streams in.
  const streamed = await raw(
    tgt.port,
    Buffer.concat([
      Buffer.from('POST /auth/token HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n'),
      ...[0, 1, 2].map(() => Buffer.concat([Buffer.from('258\r\n'), chunk, Buffer.from('\r\n')])),
    ]),
  );
  assert.match(streamed, /^HTTP\/1\.1 413 /);
  assert.equal((await post(tgt.url, '/auth/token', '{}')).status, 200);
});

test('GET /health reports uptime and connection counts', async (t) => {
  const tgt = await startTarget({ maxTotalConnections: 10 });
  t.after(() => tgt.close());
  const res = await fetch(`${tgt.url}/health`);
  assert.equal(res.status, 200);
  const h = (await res.json()) as Record<string, any>;
  assert.equal(h.status, 'ok');
  assert.equal(typeof h.uptimeSec, 'number');
  assert.equal(h.pid, process.pid);
  assert.deepEqual(h.connections, { ws: 0, sse: 0, total: 0 });
  assert.equal(h.limits.maxTotalConnections, 10);
});

test('unknown paths are 404, wrong methods 405 with Allow, plain GET /ws is 426', async (t) => {
  const tgt = await startTarget();
  t.after(() => tgt.close());
  const nf = await fetch(`${tgt.url}/nope`);
  assert.equal(nf.status, 404);
  assert.equal(((await nf.json()) as { error: string }).error, 'not_found');
  const wrong = await fetch(`${tgt.url}/auth/token`);
  assert.equal(wrong.status, 405);
  assert.equal(wrong.headers.get('allow'), 'POST');
  await wrong.arrayBuffer();
  const ws = await fetch(`${tgt.url}/ws`);
  assert.equal(ws.status, 426);
  await ws.arrayBuffer();
  const garbage = await raw(tgt.port, 'THIS IS NOT HTTP\r\n\r\n');
  assert.match(garbage, /^HTTP\/1\.1 400 /);
  const http = tgt.target.stats();
  assert.equal(http.connections.total, 0);
});
