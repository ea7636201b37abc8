import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { HttpStepSpec } from '../../src/contract.js';
import { loadScenario } from '../../src/cli/load-scenario.js';
import { referenceScenario } from '../../src/scenario/builtin.js';
import { HttpSteps } from '../../src/scenario/http-steps.js';
import { compile } from '../../src/scenario/template.js';
import { openWs, startTarget } from '../helpers/target.js';

// A real HTTP server on 127.0.0.1:0 plays the target; it counts what it saw.

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  port: number; // the client socket's port: distinct ports = distinct connections
}

const seen: Seen[] = [];
const sockets = new Set<Socket>();
let hanging = 0;
let server: http.Server;
let base: string;

function reply(res: http.ServerResponse, status: number, body: string, type = 'application/json'): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

before(async () => {
  server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      seen.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body,
        port: req.socket.remotePort ?? 0,
      });
      const path = (req.url ?? '').split('?')[0];
      if (path === '/auth/token') {
        const { userId } = JSON.parse(body) as { userId: string };
        return reply(res, 200, JSON.stringify({ token: `tok-${userId}`, expiresIn: 60 }));
      }
      if (path === '/chats') {
        if (req.headers.authorization?.startsWith('Bearer tok-') !== true)
          return reply(res, 401, '{"error":"no"}');
        const user = req.headers.authorization.slice('Bearer tok-'.length);
        return reply(res, 201, JSON.stringify({ data: { chat: { id: `chat-${user}` } }, items: [{ n: 1 }] }));
      }
      if (path === '/boom') return reply(res, 500, '{"error":"boom"}');
      if (path === '/no-chat') return reply(res, 200, '{"other":1}');
      if (path === '/not-json') return reply(res, 200, '<html>oops</html>', 'text/html');
      if (path === '/echo')
        return reply(res, 200, JSON.stringify({ type: req.headers['content-type'], body }));
      if (path === '/hang') {
        hanging++;
        return; // never answers
      }
      reply(res, 404, '{}');
    });
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  for (const s of sockets) s.destroy();
  await new Promise<void>((r) => server.close(() => r()));
});

const tokenStep = (url = '{{baseUrl}}/auth/token'): HttpStepSpec => ({
  name: 'token',
  method: 'POST',
  url,
  body: { userId: 'load-{{index}}' },
  capture: { token: 'token' },
});
const chatStep: HttpStepSpec = {
  name: 'chat',
  method: 'POST',
  url: '{{baseUrl}}/chats',
  headers: { Authorization: 'Bearer {{token}}' },
  body: { name: 'c-{{index}}' },
  capture: { chatId: 'data.chat.id', first: 'items[0]' },
};

function timings(): { list: [string, number][]; on: (n: string, us: number) => void } {
  const list: [string, number][] = [];
  return { list, on: (n, us) => list.push([n, us]) };
}

test('token → chat: captures chain into the next step and into the result', async () => {
  const steps = new HttpSteps([tokenStep(), chatStep], { env: {}, timeoutMs: 2000 });
  const t = timings();
  seen.length = 0;
  const input = { baseUrl: base, index: '3' };
  const r = await steps.run(input, t.on);
  await steps.close();
  assert.deepEqual(r, {
    ok: true,
    vars: { baseUrl: base, index: '3', token: 'tok-load-3', chatId: 'chat-load-3', first: '{"n":1}' },
  });
  assert.deepEqual(input, { baseUrl: base, index: '3' }, 'the caller’s vars are not modified');
  assert.equal(seen.length, 2);
  assert.equal(seen[0].headers['content-type'], 'application/json');
  assert.deepEqual(JSON.parse(seen[0].body), { userId: 'load-3' });
  assert.equal(seen[1].headers.authorization, 'Bearer tok-load-3');
  assert.deepEqual(JSON.parse(seen[1].body), { name: 'c-3' });
  assert.deepEqual(
    t.list.map(([n]) => n),
    ['token', 'chat'],
  );
  for (const [, us] of t.list) assert.ok(Number.isInteger(us) && us > 0 && us < 2_000_000, `${us}µs`);
});

test('many sessions share a bounded keep-alive pool', async () => {
  const steps = new HttpSteps([tokenStep(), chatStep], { env: {}, timeoutMs: 5000, connections: 2 });
  seen.length = 0;
  const results = await Promise.all(
    Array.from({ length: 40 }, (_, i) => steps.run({ baseUrl: base, index: String(i) }, () => {})),
  );
  await steps.close();
  const ports = new Set(seen.map((s) => s.port));
  assert.equal(results.filter((r) => r.ok).length, 40);
  assert.equal(seen.length, 80);
  const chats = new Set(results.map((r) => (r.ok ? r.vars.chatId : '')));
  assert.equal(chats.size, 40, 'each session got its own capture');
  assert.ok(ports.size >= 1 && ports.size <= 2, `80 requests over at most 2 connections, saw ${ports.size}`);
});

test('a status outside the expected ones is step_<name>_<status>', async () => {
  const steps = new HttpSteps(
    [
      { name: 'token', method: 'GET', url: '{{baseUrl}}/boom' },
      { name: 'never', method: 'GET', url: '{{baseUrl}}/auth/token' },
    ],
    { env: {}, timeoutMs: 2000 },
  );
  const t = timings();
  seen.length = 0;
  const r = await steps.run({ baseUrl: base }, t.on);
  assert.equal(r.ok, false);
  assert.equal(!r.ok && r.code, 'step_token_500');
  assert.match(
    !r.ok ? r.detail : '',
    /GET \{\{baseUrl\}\}\/boom answered 500, expected 2xx: \{"error":"boom"\}/,
  );
  assert.equal(seen.length, 1, 'later steps do not run');
  assert.deepEqual(t.list, [], 'a failed step is not timed');

  // expectStatus narrows what passes: 201 is a 2xx but not the one expected here.
  const strict = new HttpSteps([{ ...chatStep, expectStatus: [200, 202] }], { env: {}, timeoutMs: 2000 });
  const r2 = await strict.run({ baseUrl: base, token: 'tok-x', index: '1' }, () => {});
  assert.equal(!r2.ok && r2.code, 'step_chat_201');
  assert.match(!r2.ok ? r2.detail : '', /expected 200 or 202/);
  await Promise.all([steps.close(), strict.close()]);
});

test('a missing capture path is step_<name>_capture naming the path', async () => {
  const steps = new HttpSteps(
    [{ name: 'chat', method: 'POST', url: '{{baseUrl}}/no-chat', capture: { chatId: 'chatId' } }],
    {
      env: {},
      timeoutMs: 2000,
    },
  );
  const r = await steps.run({ baseUrl: base }, () => {});
  await steps.close();
  assert.equal(!r.ok && r.code, 'step_chat_capture');
  assert.equal(
    !r.ok && r.detail,
    'POST {{baseUrl}}/no-chat: no value at "chatId" for {{chatId}} (response keys: other)',
  );
});

test('a response that is not JSON is step_<name>_json when there are captures', async () => {
  const steps = new HttpSteps(
    [{ name: 'token', method: 'GET', url: '{{baseUrl}}/not-json', capture: { t: 'token' } }],
    {
      env: {},
      timeoutMs: 2000,
    },
  );
  const r = await steps.run({ baseUrl: base }, () => {});
  await steps.close();
  assert.equal(!r.ok && r.code, 'step_token_json');
  assert.match(!r.ok ? r.detail : '', /not JSON: <html>oops<\/html>/);
  // Without captures the body is not parsed: the same answer passes.
  const plain = new HttpSteps([{ name: 'page', method: 'GET', url: '{{baseUrl}}/not-json' }], {
    env: {},
    timeoutMs: 2000,
  });
  assert.equal((await plain.run({ baseUrl: base }, () => {})).ok, true);
  await plain.close();
});

test('connection refused on a closed port is step_token_refused', async () => {
  const probe = http.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const port = (probe.address() as AddressInfo).port;
  await new Promise<void>((r) => probe.close(() => r()));
  const steps = new HttpSteps([tokenStep(`http://127.0.0.1:${port}/auth/token`)], {
    env: {},
    timeoutMs: 2000,
  });
  const r = await steps.run({ index: '0' }, () => {});
  await steps.close();
  assert.equal(!r.ok && r.code, 'step_token_refused');
  assert.match(!r.ok ? r.detail : '', /ECONNREFUSED/);
});

test('a server that never answers is step_token_timeout at the deadline', async () => {
  const steps = new HttpSteps([{ name: 'token', method: 'GET', url: '{{baseUrl}}/hang', timeoutMs: 300 }], {
    env: {},
    timeoutMs: 10_000,
  });
  const h0 = hanging;
  const t0 = performance.now();
  const r = await steps.run({ baseUrl: base }, () => {});
  const ms = performance.now() - t0;
  await steps.close();
  assert.equal(!r.ok && r.code, 'step_token_timeout');
  assert.equal(hanging, h0 + 1, 'the request reached the server');
  assert.ok(ms >= 290 && ms < 2000, `timed out after ${ms.toFixed(0)}ms, deadline 300ms`);
});

test('an abort signal stops a step in flight with aborted', async () => {
  const steps = new HttpSteps([{ name: 'token', method: 'GET', url: '{{baseUrl}}/hang' }], {
    env: {},
    timeoutMs: 10_000,
  });
  const ac = new AbortController();
  const h0 = hanging;
  const p = steps.run({ baseUrl: base }, () => {}, ac.signal);
  // Abort once the server holds the request.
  const deadline = performance.now() + 2000;
  while (hanging === h0 && performance.now() < deadline) await new Promise((r) => setImmediate(r));
  ac.abort();
  const r = await p;
  assert.equal(!r.ok && r.code, 'aborted');
  const again = await steps.run({ baseUrl: base }, () => {}, ac.signal);
  assert.equal(!again.ok && again.code, 'aborted');
  await steps.close();
});

test('templates: unknown variable is step_<name>_template; env, text bodies and content types', async () => {
  const steps = new HttpSteps([chatStep], { env: {}, timeoutMs: 2000 });
  const r = await steps.run({ baseUrl: base, index: '1' }, () => {});
  assert.equal(!r.ok && r.code, 'step_chat_template');
  assert.match(!r.ok ? r.detail : '', /unknown variable \{\{token\}\}/);
  await steps.close();

  const echo = new HttpSteps(
    [
      {
        name: 'text',
        method: 'POST',
        url: '{{baseUrl}}/echo',
        body: 'k={{env.KEY}}',
        capture: { t1: 'type', b1: 'body' },
      },
      {
        name: 'typed',
        method: 'POST',
        url: '{{baseUrl}}/echo?i={{index}}',
        headers: { 'Content-Type': 'application/vnd.x+json' },
        body: [1, '{{index}}'],
        capture: { t2: 'type', b2: 'body' },
      },
    ],
    { env: { KEY: 's3cret', HOLDLINE_ENV_ALLOW: 'KEY' }, timeoutMs: 2000 },
  );
  seen.length = 0;
  const e = await echo.run({ baseUrl: base, index: '9' }, () => {});
  await echo.close();
  assert.ok(e.ok);
  assert.equal(e.vars.t1, 'text/plain; charset=utf-8');
  assert.equal(e.vars.b1, 'k=s3cret');
  assert.equal(e.vars.t2, 'application/vnd.x+json');
  assert.equal(e.vars.b2, '[1,"9"]');
  assert.equal(seen[1].url, '/echo?i=9');
});

test('a step URL that is not a URL after templating is step_<name>_url', async () => {
  const steps = new HttpSteps([{ name: 'token', method: 'GET', url: '{{baseUrl}}/x' }], {
    env: {},
    timeoutMs: 2000,
  });
  const r = await steps.run({ baseUrl: 'not a url' }, () => {});
  await steps.close();
  assert.equal(!r.ok && r.code, 'step_token_url');
});

test('the built-in reference scenario and the token-chat example run against the reference target', async () => {
  const target = await startTarget();
  try {
    const base = target.url;
    const wsBase = base.replace(/^http/, 'ws');
    const examples = fileURLToPath(new URL('../../../examples/', import.meta.url));
    const fromFile = await loadScenario(join(examples, 'token-chat.yaml'), {});
    for (const scenario of [referenceScenario(base, wsBase), fromFile]) {
      const steps = new HttpSteps(scenario.http, { env: {}, timeoutMs: 3000, connections: 4 });
      const t = timings();
      const vars = { ...(scenario.vars ?? {}), baseUrl: base, wsBaseUrl: wsBase, index: '5', worker: '0' };
      const r = await steps.run(vars, t.on);
      await steps.close();
      assert.ok(r.ok, JSON.stringify(r));
      assert.match(r.vars.token, /^[\w-]+\.[\w-]+$/);
      assert.match(r.vars.chatId, /^chat-/);
      assert.deepEqual(
        t.list.map(([n]) => n),
        ['token', 'chat'],
      );
      const url = compile(scenario.connect.url).render(r.vars);
      const ws = await openWs(url);
      ws.terminate();
    }
    assert.equal(target.stats().tokensIssued, 2);
  } finally {
    await target.close();
  }
});
