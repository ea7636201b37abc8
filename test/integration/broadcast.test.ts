import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { runCli } from '../helpers/cli.js';
import type { BroadcastFindings, BroadcastVerdict } from '../../src/plans/broadcast.js';
import { outDir, onlyResult } from '../helpers/results.js';

// `holdline broadcast` against fan-out servers written here (node:http + ws on 127.0.0.1:0) that
// misbehave on purpose: skip known (client, code) pairs, drop streams, duplicate, send codes that
// were never published. The server counts what it wrote; the report must say exactly that.

interface Fanout {
  url: string;
  /** Codes published, in order. */
  published: string[];
  /** Events written per client (SSE and WebSocket). */
  written: Map<number, number>;
  /** Subscribe requests per client, with their Last-Event-ID. */
  subscribes: { client: number; lastEventId: string | undefined }[];
  close(): Promise<void>;
}

interface FanoutOptions {
  /** `client:codeIndex` pairs never delivered. */
  skip?: Set<string>;
  /** client → code index after which its stream ends (once). */
  dropAfter?: Map<number, number>;
  /** Replay events after Last-Event-ID to a reconnecting client. */
  replay?: boolean;
  /** This client gets every code twice. */
  duplicateTo?: number;
  /** Sent to everyone along with the first code: a code that was never published. */
  stranger?: string;
  /** POST /token answers { token }; publishing then needs Authorization: Bearer <token>. */
  token?: string;
}

async function fanout(o: FanoutOptions = {}): Promise<Fanout> {
  const published: string[] = [];
  const written = new Map<number, number>();
  const subscribes: Fanout['subscribes'] = [];
  const history: { id: number; k: number; code: string }[] = [];
  const sse = new Map<number, http.ServerResponse>();
  const ws = new Map<number, WebSocket>();
  const dropped = new Set<number>();
  const count = (c: number, n = 1): void => void written.set(c, (written.get(c) ?? 0) + n);
  const frame = (e: { id: number; code: string }): string =>
    `id: ${e.id}\nevent: code\ndata: {"code":"${e.code}","id":${e.id}}\n\n`;
  const clientOf = (url: string): number => Number(new URL(url, 'http://x').searchParams.get('client'));

  const deliver = (c: number, e: { id: number; k: number; code: string }): void => {
    if (o.skip?.has(`${c}:${e.k}`)) return;
    const times = o.duplicateTo === c ? 2 : 1;
    const extra = o.stranger && e.k === 0 ? `data: {"code":"${o.stranger}"}\n\n` : '';
    const res = sse.get(c);
    if (res) {
      res.write(frame(e).repeat(times) + extra);
      count(c, times);
      if (o.dropAfter?.get(c) === e.k && !dropped.has(c)) {
        dropped.add(c);
        sse.delete(c);
        res.end();
      }
    }
    const sock = ws.get(c);
    if (sock) {
      for (let i = 0; i < times; i++) sock.send(JSON.stringify({ type: 'code', code: e.code, id: e.id }));
      if (o.stranger && e.k === 0) sock.send(JSON.stringify({ type: 'code', code: o.stranger }));
      count(c, times);
    }
  };

  const server = http.createServer((req, res) => {
    const url = req.url ?? '/';
    if (url.startsWith('/events')) {
      const c = clientOf(url);
      const last = req.headers['last-event-id'] as string | undefined;
      subscribes.push({ client: c, lastEventId: last });
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      res.write('retry: 50\n: welcome\n\n');
      if (o.replay && last !== undefined)
        for (const e of history) if (e.id > Number(last)) deliver0(c, res, e);
      sse.set(c, res);
      req.on('close', () => sse.get(c) === res && sse.delete(c));
      return;
    }
    if (url === '/token' && req.method === 'POST') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: o.token }));
      return;
    }
    if (url === '/pub' && req.method === 'POST') {
      if (o.token && req.headers.authorization !== `Bearer ${o.token}`) {
        res.writeHead(401).end('no token');
        return;
      }
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (s: string) => (body += s));
      req.on('end', () => {
        const code = (JSON.parse(body) as { code: string }).code;
        const e = { id: history.length + 1, k: published.length, code };
        published.push(code);
        history.push(e);
        for (const c of new Set([...sse.keys(), ...ws.keys()])) deliver(c, e);
        res.writeHead(202, { 'content-type': 'application/json' }).end('{"ok":true}');
      });
      return;
    }
    res.writeHead(404).end();
  });
  // A replayed event is written as it was, without the drop and skip rules.
  function deliver0(c: number, res: http.ServerResponse, e: { id: number; code: string }): void {
    res.write(frame(e));
    count(c);
  }
  const wss = new WebSocketServer({ server, path: '/ws' });
  wss.on('connection', (sock, req) => {
    const c = clientOf(req.url ?? '/');
    sock.on('message', (data) => {
      const m = JSON.parse(String(data)) as { type?: string };
      if (m.type === 'subscribe') {
        subscribes.push({ client: c, lastEventId: undefined });
        ws.set(c, sock);
        sock.send('{"type":"subscribed"}');
      }
    });
    sock.on('close', () => ws.delete(c));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    published,
    written,
    subscribes,
    close: () =>
      new Promise<void>((r) => {
        for (const s of wss.clients) s.terminate();
        wss.close();
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

function sse(f: Fanout, ...more: string[]): string[] {
  return [
    '--subscribe-url',
    `${f.url}/events?client={{index}}`,
    '--publish-url',
    `${f.url}/pub`,
    '--no-progress',
    ...more,
  ];
}

test('every code to every client over SSE: 100%, latency percentiles, verdict GOOD, exit 0', async () => {
  const f = await fanout();
  const out = outDir('bc');
  try {
    const r = await runCli(['broadcast', '40', '6', '1.2s', ...sse(f, '--out', out)]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(f.published.length, 6);
    assert.equal(new Set(f.published).size, 6, 'codes are unique');
    for (const c of f.published) assert.match(c, /^HL[0-9A-HJKMNP-TV-Z]{10}$/);
    const res = onlyResult<BroadcastVerdict>(out);
    const v = res.verdict!;
    assert.equal(v.grade, 'good');
    assert.equal(v.connected, 40);
    assert.equal(v.expected, 240);
    assert.equal(v.received, 240);
    assert.equal(v.deliveryRate, 1);
    assert.equal(v.latency?.count, 240, 'one latency per receipt');
    assert.ok(v.latency!.p99 >= v.latency!.p50 && v.latency!.p50 > 0);
    assert.equal(v.perCode.length, 6);
    assert.deepEqual(
      v.perCode.map((c) => c.code),
      f.published,
    );
    assert.ok(v.perCode.every((c) => c.received === 40 && c.connected === 40 && c.spreadMs !== null));
    assert.equal(v.endedEarly, true, 'the collect window ends once every client has every code');
    // Codes spread evenly over the duration: the middle of six slots of 200 ms.
    assert.deepEqual(
      v.perCode.map((c) => c.scheduledMs),
      [100, 300, 500, 700, 900, 1100],
    );
    assert.match(r.stdout, /Phase 1 – connect: 40\/40 clients connected \(100\.0%\)/);
    assert.match(r.stdout, /Phase 2 – broadcast: 6\/6 codes published/);
    assert.match(r.stdout, /Phase 3 – collect and disconnect: 240\/240 expected receipts \(100\.0%\)/);
    assert.match(r.stdout, /Latency, publish → receipt: p50 [\d.]+ · p90 [\d.]+ · p95 [\d.]+ · p99 [\d.]+/);
    assert.match(r.stdout, /Verdict: GOOD/);
    assert.equal(res.steps[0].sessions, 40);
    const server = [...f.written.values()].reduce((a, b) => a + b, 0);
    assert.equal(server, 240, 'what the server wrote is what was counted');
  } finally {
    await f.close();
  }
});

test('a server that skips known (client, code) pairs: the report names exactly those, WARNING', async () => {
  const skip = new Set(['3:1', '7:1', '7:4', '12:0']);
  const f = await fanout({ skip });
  const out = outDir('bc');
  try {
    const r = await runCli(['broadcast', '20', '5', '1s', ...sse(f, '--out', out, '--collect', '300ms')]);
    assert.equal(r.code, 0, 'WARNING does not fail the run by default');
    const v = onlyResult<BroadcastVerdict>(out).verdict!;
    assert.equal(v.grade, 'warning');
    assert.equal(v.expected, 100);
    assert.equal(v.received, 96);
    assert.equal(v.missing, 4);
    assert.equal(v.deliveryRate, 96 / 100);
    assert.deepEqual(v.missed, [
      { client: 3, codes: [1] },
      { client: 7, codes: [1, 4] },
      { client: 12, codes: [0] },
    ]);
    assert.equal(v.missedClients, 3);
    assert.equal(v.missedPairs, 4);
    assert.deepEqual(
      v.perCode.map((c) => c.missing),
      [1, 2, 0, 0, 1],
    );
    assert.equal(v.endedEarly, false, 'it waited the whole collect window for the missing ones');
    const code = (k: number): string => f.published[k];
    assert.match(r.stdout, /Clients that missed codes: 3 clients, 4 \(client, code\) pairs/);
    assert.ok(r.stdout.includes(`client 3: #2 ${code(1)}\n`));
    assert.ok(r.stdout.includes(`client 7: #2 ${code(1)}, #5 ${code(4)}\n`));
    assert.ok(r.stdout.includes(`client 12: #1 ${code(0)}\n`));
    assert.match(r.stdout, /4 of 100 deliveries missing \(96\.0% delivered\)/);
    assert.match(r.stdout, /Verdict: WARNING/);
  } finally {
    await f.close();
  }
});

test('--min-delivery turns missing codes into exit 1, naming the threshold', async () => {
  const f = await fanout({ skip: new Set(['0:0']) });
  const out = outDir('bc');
  try {
    const r = await runCli([
      'broadcast',
      ...sse(f, '--connections', '10', '--codes', '2', '--duration', '400ms', '--collect', '200ms'),
      '--min-delivery',
      '0.99',
      '--out',
      out,
    ]);
    assert.equal(r.code, 1);
    const v = onlyResult<BroadcastVerdict>(out).verdict!;
    assert.equal(v.deliveryRate, 19 / 20);
    assert.equal(v.passed, false);
    assert.deepEqual(v.failed, ['delivery 95.0% is below --min-delivery 99.0%']);
    assert.match(r.stdout, /Not passed:\n {2}- delivery 95\.0% is below --min-delivery 99\.0%/);
  } finally {
    await f.close();
  }
});

test('SSE stream dropped mid-test, --reconnect: resumes with Last-Event-ID, reconnect counted, all codes', async () => {
  // Client 2's stream ends right after code #2; the codes published meanwhile are replayed.
  const f = await fanout({ dropAfter: new Map([[2, 1]]), replay: true });
  const out = outDir('bc');
  try {
    const r = await runCli(['broadcast', '60', '4', '1s', ...sse(f, '--reconnect', '--out', out)]);
    const res = onlyResult<BroadcastVerdict>(out);
    const v = res.verdict!;
    assert.equal(v.received, v.expected, r.stdout);
    assert.equal(v.expected, 240);
    assert.equal(v.reconnects, 1);
    assert.equal(v.dropCount, 1);
    assert.equal(v.drops.length, 1);
    assert.equal(v.drops[0].client, 2);
    assert.equal(v.drops[0].reason, 'closed_1006');
    assert.equal(v.drops[0].reconnected, true);
    assert.equal(res.steps[0].successful, 60, 'the reconnected client was still open at the end');
    const again = f.subscribes.filter((s) => s.client === 2);
    assert.equal(again.length, 2);
    assert.equal(again[1].lastEventId, '2', 'resumed after the last event it had');
    assert.equal(v.grade, 'warning', 'a drop is an error: 1 of 64 is over 1%');
    assert.match(r.stdout, /Connection stability: 1 drops during the test, 1 reconnected/);
    assert.match(r.stdout, /client 2: closed_1006 \(reconnected\)/);
  } finally {
    await f.close();
  }
});

test('the same drop without --reconnect: the client is lost, later codes are not expected of it', async () => {
  const f = await fanout({ dropAfter: new Map([[2, 1]]) });
  const out = outDir('bc');
  try {
    await runCli(['broadcast', '10', '4', '1600ms', ...sse(f, '--out', out)]);
    const res = onlyResult<BroadcastVerdict>(out);
    const v = res.verdict!;
    assert.equal(v.expected, 38, '10 clients × 4 codes, less codes #3 and #4 for the lost client');
    assert.equal(v.received, 38);
    assert.equal(v.reconnects, 0);
    assert.equal(v.dropCount, 1);
    assert.deepEqual(
      v.drops.map((d) => [d.client, d.reason, d.reconnected]),
      [[2, 'closed_1006', false]],
    );
    assert.equal(res.steps[0].successful, 9);
    assert.equal(f.subscribes.filter((s) => s.client === 2).length, 1, 'no reconnection');
    assert.deepEqual(
      v.perCode.map((c) => c.connected),
      [10, 10, 9, 9],
    );
  } finally {
    await f.close();
  }
});

test('duplicates and codes never published are counted apart (json match)', async () => {
  const stranger = 'HLZZZZZZZZZZ';
  const f = await fanout({ duplicateTo: 4, stranger });
  const out = outDir('bc');
  try {
    await runCli(['broadcast', '8', '3', '600ms', ...sse(f, '--match', 'json:code', '--out', out)]);
    const v = onlyResult<BroadcastVerdict>(out).verdict!;
    assert.equal(v.received, 24);
    assert.equal(v.expected, 24);
    assert.equal(v.duplicates, 3, 'client 4 got each of 3 codes twice');
    assert.equal(v.unknownCodes, 8, 'one stranger per client');
    assert.deepEqual(v.unknownSamples, [stranger]);
    assert.equal(v.grade, 'warning', 'duplicates are a delivery bug');
  } finally {
    await f.close();
  }
});

test('over WebSocket with a subscribe frame', async () => {
  const f = await fanout();
  const out = outDir('bc');
  try {
    const wsUrl = f.url.replace('http:', 'ws:');
    const r = await runCli([
      'broadcast',
      '30',
      '4',
      '800ms',
      '--transport',
      'ws',
      '--subscribe-url',
      `${wsUrl}/ws?client={{index}}`,
      '--subscribe-message',
      '{"type":"subscribe"}',
      '--subscribe-ack',
      'subscribed',
      '--publish-url',
      `${f.url}/pub`,
      '--no-progress',
      '--out',
      out,
    ]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const res = onlyResult<BroadcastVerdict>(out);
    const v = res.verdict!;
    assert.equal(v.expected, 120);
    assert.equal(v.received, 120);
    assert.equal(v.grade, 'good');
    assert.equal(res.steps[0].spec.scenario.connect.transport, 'ws');
    assert.equal(res.steps[0].counters.msgsSent, 30, 'one subscribe frame per client');
    assert.equal(res.steps[0].counters.msgsRecv, 30 + 120, 'the acks, then the codes');
    const findings = res.steps[0].ext?.broadcast as BroadcastFindings;
    assert.equal(findings.otherMessages, 0, 'the acks were taken by --subscribe-ack');
    assert.match(r.stdout, /30 WebSocket clients, 4 codes over 0\.80s/);
  } finally {
    await f.close();
  }
});

test('a scenario file holds the subscription and the publish request, with a token step', async () => {
  const f = await fanout({ token: 'sekrit-123' });
  const out = outDir('bc');
  const dir = outDir('bc');
  const file = path.join(dir, 'bc.yaml');
  writeFileSync(
    file,
    [
      'connect:',
      '  url: "{{baseUrl}}/events?client={{index}}"',
      'broadcast:',
      '  match: json:code',
      '  publish:',
      '    http:',
      '      - name: auth',
      '        request: POST {{baseUrl}}/token',
      '        capture: { token: token }',
      '    request: POST {{baseUrl}}/pub',
      '    headers: { Authorization: "Bearer {{token}}" }',
      '    json: { code: "{{code}}" }',
      '',
    ].join('\n'),
  );
  try {
    const r = await runCli([
      'broadcast',
      '12',
      '3',
      '600ms',
      '--scenario',
      file,
      '--subscribe-url',
      `${f.url}/`,
      '--no-progress',
      '--out',
      out,
    ]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const res = onlyResult<BroadcastVerdict>(out);
    assert.equal(res.verdict!.received, 36);
    assert.equal(f.published.length, 3);
    assert.ok(!JSON.stringify(res.info.config).includes('sekrit-123'), 'no secret in the result');
  } finally {
    await f.close();
  }
});

test('bad input: one clear message and exit 2', async () => {
  const dir = outDir('bc');
  const bad = path.join(dir, 'bad.yaml');
  writeFileSync(bad, 'connect: { url: "{{baseUrl}}/events" }\nbroadcast:\n  publish: { verb: POST }\n');
  const cases: [string[], RegExp][] = [
    [['--match', 'regex:x'], /--match must be substring or json:<path>/],
    [['--subscribe-url', 'http://127.0.0.1:1/events'], /--subscribe-url needs --publish-url/],
    [['50', '--connections', '60'], /\[connections\] 50 and --connections 60 disagree/],
    [
      [
        '--subscribe-url',
        'http://127.0.0.1:1/e',
        '--publish-url',
        'http://127.0.0.1:1/p',
        '--publish-body',
        '{{nope}}',
      ],
      /publish body: unknown variable \{\{nope\}\}/,
    ],
    [['--subscribe-url', '{{env.HOST}}/events', '--publish-url', 'http://x/'], /must start with http:\/\//],
    [['--scenario', bad], /broadcast\.publish: .*verb/i],
    [['--code-prefix', 'a b'], /--code-prefix must be 1 to 32 printable ASCII characters/],
  ];
  for (const [args, want] of cases) {
    const r = await runCli(['broadcast', ...args, '--no-progress', '--out', dir]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, want, args.join(' '));
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  }
});

test('Ctrl-C during the broadcast keeps what was measured: result written, exit 130', async () => {
  const f = await fanout();
  const out = outDir('bc');
  const ac = new AbortController();
  try {
    const run = runCli(['broadcast', '10', '10', '5s', ...sse(f, '--out', out)], { signal: ac.signal });
    const deadline = performance.now() + 10_000;
    while (f.published.length < 3) {
      assert.ok(performance.now() < deadline, 'three codes published within 10 s');
      await new Promise((r) => setTimeout(r, 10));
    }
    ac.abort();
    const r = await run;
    assert.equal(r.code, 130);
    const res = onlyResult<BroadcastVerdict>(out);
    assert.equal(res.interrupted, true);
    const v = res.verdict!;
    // Codes are sent every 500 ms; the one sent last may still wait for its answer ('pending').
    const sent = v.perCode.filter((c) => c.status !== 'not sent');
    assert.ok(sent.length >= 3 && sent.length < 10, `sent ${sent.length}`);
    assert.ok(sent.every((c) => c.status === 'ok' || c.status === 'pending'));
    assert.ok(v.published >= 2 && v.published <= sent.length);
    assert.equal(v.received, v.expected, 'every code published so far was received');
    assert.match(r.stdout, /Interrupted: results so far\./);
  } finally {
    await f.close();
  }
});
