import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { MAX_JSON_DEPTH } from '../../src/target/json-bounds.js';
import { assertSurvives, deepArray, frame, rawWs, SIZES, startHostileTarget } from '../helpers/hostile.js';
import { getToken } from '../helpers/target.js';

// Issue 21, point 1: a message nested a few thousand levels deep made JSON.stringify overflow the
// stack when a field was echoed back (unknown_channel, send's data), and the process died. Every
// field of every client message and request body now gets deep input; each is answered with an
// error, and the target lives on, with one worker or two.

const D = deepArray(SIZES.depth);

/** Every field a client message has, each given the deep value in turn. */
const MESSAGES = [
  `{"type":"subscribe","channel":${deepArray(6000)}}`, // the original 12 KB crash
  `{"type":"subscribe","channel":${D}}`,
  `{"type":"unsubscribe","channel":${D}}`,
  `{"type":"join","group":${D}}`,
  `{"type":"leave","group":${D}}`,
  `{"type":"send","group":"g1","id":"m1","data":${D}}`,
  `{"type":"send","group":"g1","id":${D}}`,
  `{"type":"send","group":${D},"id":"m1"}`,
  `{"type":"send","group":"g1","id":"m1","ts":${D}}`,
  `{"type":"ping","id":${D}}`,
  `{"type":"echo","x":${D}}`,
  `{"type":${D}}`,
];

test(`deep JSON (depth ${SIZES.depth}) in every WebSocket message field: an error frame each, the socket stays open`, async (t) => {
  const tgt = await startHostileTarget();
  t.after(() => tgt.close());
  const token = await getToken(tgt.url, 'attacker');
  const auth = { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' };
  assert.equal(
    (await fetch(`${tgt.url}/groups`, { method: 'POST', headers: auth, body: '{"name":"g1"}' })).status,
    201,
  );
  const ws = await rawWs(tgt.port, `/ws?token=${token}`);
  t.after(() => ws.socket.destroy());
  ws.socket.write(frame(1, '{"type":"join","group":"g1"}'));
  assert.equal(JSON.parse((await ws.read()).payload.toString()).type, 'joined');
  for (const m of MESSAGES) {
    ws.socket.write(frame(1, m));
    const f = await ws.read(5000);
    assert.equal(f.opcode, 1, `a text frame for ${m.slice(0, 40)}…`);
    const reply = JSON.parse(f.payload.toString()) as Record<string, unknown>;
    assert.equal(reply.type, 'error', m.slice(0, 40));
    assert.equal(reply.error, 'bad_message');
    assert.match(String(reply.message), new RegExp(`deeper than ${MAX_JSON_DEPTH}`));
    assert.ok(f.payload.length < 200, 'the reply does not carry the input back');
  }
  // The same socket still works.
  ws.socket.write(frame(1, '{"type":"ping","id":7}'));
  assert.equal(JSON.parse((await ws.read()).payload.toString()).type, 'pong');
  await assertSurvives(tgt);
});

test(`deep JSON (depth ${SIZES.depth}) in every field of every POST body: 400 bad_json, the input not quoted`, async (t) => {
  const tgt = await startHostileTarget();
  t.after(() => tgt.close());
  const token = await getToken(tgt.url, 'attacker');
  const auth = { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' };
  await fetch(`${tgt.url}/groups`, { method: 'POST', headers: auth, body: '{"name":"g1"}' });
  const cases: [string, string][] = [
    ['/auth/token', `{"userId":${D}}`],
    ['/chats', `{"name":${D}}`],
    ['/groups', `{"name":${D}}`],
    ['/groups/batch', `{"names":${D}}`],
    ['/groups/batch', `{"count":${D}}`],
    ['/groups/batch', `{"count":1,"prefix":${D}}`],
    ['/groups/g1/members', `{"userId":${D}}`],
    ['/codes', `{"code":${D}}`],
    ['/codes', D],
  ];
  for (const [path, body] of cases) {
    const res = await fetch(`${tgt.url}${path}`, { method: 'POST', headers: auth, body });
    const text = await res.text();
    assert.equal(res.status, 400, `${path} ${body.slice(0, 30)}: ${text.slice(0, 200)}`);
    assert.equal(JSON.parse(text).error, 'bad_json');
    assert.ok(!text.includes('[['), 'the body is not quoted back');
  }
  // Not JSON at all: the message says so without echoing the body.
  const bad = await fetch(`${tgt.url}/chats`, {
    method: 'POST',
    headers: auth,
    body: '{"name": SECRET-VALUE',
  });
  const badText = await bad.text();
  assert.equal(bad.status, 400);
  assert.ok(!badText.includes('SECRET'), badText);
  await assertSurvives(tgt);
});

test('--workers 2: the crash input on every worker; both keep running, nothing restarted', async (t) => {
  const bin = fileURLToPath(new URL('../../../bin/holdline.js', import.meta.url));
  const child = spawn(
    process.execPath,
    [bin, 'target', '--workers', '2', '--port', '0', '--auth', 'none', '--welcome'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d));
  child.stderr.on('data', (d: Buffer) => (err += d));
  const exited = new Promise((r) => child.once('exit', r));
  t.after(async () => {
    child.kill('SIGTERM');
    await exited;
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listening line: ${out} ${err}`)), 15_000);
    child.stdout.on('data', () => {
      const m = /(http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
  });
  const port = Number(new URL(url).port);
  const hit = new Set<string>();
  for (let i = 0; i < 20 && hit.size < 2; i++) {
    const ws = await rawWs(port, '/ws');
    const welcome = JSON.parse((await ws.read()).payload.toString()) as { connId: string };
    ws.socket.write(frame(1, MESSAGES[0]));
    ws.socket.write(frame(1, `{"type":"send","group":"g","id":"m","data":${D}}`));
    assert.equal(JSON.parse((await ws.read(5000)).payload.toString()).error, 'bad_message');
    assert.equal(JSON.parse((await ws.read(5000)).payload.toString()).error, 'bad_message');
    hit.add(welcome.connId.split('-')[0]);
    ws.socket.destroy();
  }
  assert.equal(hit.size, 2, `both workers got the input: ${[...hit].join(', ')}`);
  const pids = new Set<number>();
  for (let i = 0; i < 50 && pids.size < 2; i++) {
    const h = (await (await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) })).json()) as {
      pid: number;
    };
    pids.add(h.pid);
  }
  assert.equal(pids.size, 2);
  assert.equal(child.exitCode, null, 'the primary runs');
  assert.doesNotMatch(err, /exited/, 'no worker exited');
});
