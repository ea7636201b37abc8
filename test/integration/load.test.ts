import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { runCli } from '../helpers/cli.js';
import type { LoadVerdict } from '../../src/plans/load.js';
import { outDir, onlyResult, loadFindings, assertLoadSums } from '../helpers/results.js';

// `holdline load` against a small chat server written here (the reference target's protocol:
// tokens, batch groups, join, send → message + sent ack), with the same test faults: a delay per
// group message, dropping every k-th delivery, one stall of the event loop. The server counts on
// its side, so the generator's figures are checked against what really happened. One file on
// purpose: the server and the tests that use it belong together.

interface ChatServerOptions {
  delayMs?: number;
  dropEvery?: number;
  stallAtMs?: number;
  stallMs?: number;
  deflate?: boolean;
  /**
   * Every connection but the first to join stops being read once its join is acknowledged, until
   * this long after the first message arrived: their sends fill the socket buffers.
   */
  unreadMs?: number;
}

interface ChatServer {
  url: string;
  wsUrl: string;
  groups: Set<string>;
  stats: { sends: number; deliveries: number; dropped: number; joins: number; api: number };
  /** With delayMs: the delay each group message really got, in ms (a timer may fire ~1 ms early). */
  appliedDelays: number[];
  close(): Promise<void>;
}

async function startChatServer(o: ChatServerOptions = {}): Promise<ChatServer> {
  const groups = new Set<string>();
  const members = new Map<string, Set<WebSocket>>();
  const stats = { sends: 0, deliveries: 0, dropped: 0, joins: 0, api: 0 };
  const appliedDelays: number[] = [];
  let firstMessageAt = 0;
  let stalled = false;
  const unread: { pause(): void; resume(): void }[] = [];
  let readers = 0;
  const json = (res: http.ServerResponse, status: number, body: unknown): void => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const server = http.createServer((req, res) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (text += c));
    req.on('end', () => {
      const body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
      if (req.url === '/auth/token')
        return json(res, 200, { token: `t-${String(body.userId)}`, expiresIn: 3600 });
      if (req.url === '/groups/batch') {
        let created = 0;
        for (const n of body.names as string[]) if (!groups.has(n)) (groups.add(n), created++);
        return json(res, 201, { created });
      }
      if (req.url === '/groups') {
        const name = String(body.name);
        if (groups.has(name)) return json(res, 409, { error: 'exists' });
        groups.add(name);
        return json(res, 201, { groupId: name });
      }
      if (req.url === '/groups/count') {
        stats.api++;
        return json(res, 200, { count: groups.size });
      }
      if (req.url === '/health') return json(res, 200, { eventLoopDelayMs: { p50: 1, p99: 2, max: 3 } });
      json(res, 404, { error: 'not_found' });
    });
  });
  const wss = new WebSocketServer({ server, path: '/ws', perMessageDeflate: o.deflate === true });
  const deliver = (to: WebSocket[], frame: string): void => {
    for (const ws of to) {
      stats.deliveries++;
      if (o.dropEvery && stats.deliveries % o.dropEvery === 0) {
        stats.dropped++;
        continue;
      }
      ws.send(frame);
    }
  };
  const deliverLate = (to: WebSocket[], frame: string, receivedAt: number): void => {
    appliedDelays.push(performance.now() - receivedAt);
    deliver(to, frame);
  };
  wss.on('connection', (ws, req) => {
    const user = new URL(req.url ?? '/', 'http://x').searchParams.get('token') ?? 'anon';
    ws.on('message', (raw) => {
      const m = JSON.parse(raw.toString()) as Record<string, unknown>;
      if (m.type === 'join') {
        const g = String(m.group);
        if (!groups.has(g))
          return ws.send(JSON.stringify({ type: 'error', error: 'unknown_group', message: g }));
        let set = members.get(g);
        if (!set) members.set(g, (set = new Set()));
        set.add(ws);
        stats.joins++;
        ws.send(JSON.stringify({ type: 'joined', group: g, members: set.size }));
        if (o.unreadMs && readers++ > 0) {
          ws.pause(); // ws's own pause: its receiver does not resume the socket behind our back
          unread.push(ws);
        }
      } else if (m.type === 'send') {
        const now = performance.now();
        if (firstMessageAt === 0) {
          firstMessageAt = now;
          if (o.unreadMs) setTimeout(() => unread.forEach((sock) => sock.resume()), o.unreadMs);
        }
        if (o.stallMs && !stalled && now - firstMessageAt >= (o.stallAtMs ?? 0)) {
          stalled = true;
          while (performance.now() - now < o.stallMs); // the fault: a blocked event loop
        }
        stats.sends++;
        const set = members.get(String(m.group)) ?? new Set<WebSocket>();
        const to = [...set].filter((x) => x !== ws && x.readyState === x.OPEN);
        const frame = JSON.stringify({
          type: 'message',
          group: m.group,
          from: user,
          id: m.id,
          ts: m.ts,
          serverTs: Date.now(),
          data: m.data,
        });
        ws.send(JSON.stringify({ type: 'sent', id: m.id, recipients: to.length }));
        if (o.delayMs) setTimeout(deliverLate, o.delayMs, to, frame, now);
        else deliver(to, frame);
      }
    });
    ws.on('close', () => {
      for (const set of members.values()) set.delete(ws);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}/ws`,
    groups,
    stats,
    appliedDelays,
    close: async () => {
      for (const c of wss.clients) c.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

const QUICK = ['--no-progress', '--ramp-up', '0', '--message-timeout', '2s'];

test('20 connections, 100 msg/s for 2s: every message reaches its group, counts match the server', async () => {
  const srv = await startChatServer();
  const out = outDir('load');
  try {
    const r = await runCli([
      'load',
      srv.wsUrl,
      '--connections',
      '20',
      '--groups',
      '30',
      '--rate',
      '100',
      '--payload',
      '64',
      '--duration',
      '2s',
      '--out',
      out,
      ...QUICK,
    ]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const res = onlyResult<LoadVerdict>(out);
    const step = res.steps[0];
    const f = loadFindings(step);
    assertLoadSums(f);
    assert.equal(srv.groups.size, 30, 'every group created');
    assert.equal(f.groups.created, 30);
    assert.equal(f.groups.used, 10, '20 connections × 1 group over 10 groups: 2 members each');
    assert.equal(f.ramp.established, 20);
    assert.equal(f.ramp.joinsAcked, 20);
    assert.equal(srv.stats.joins, 20);
    const m = f.messages;
    assert.equal(m.scheduled, 200, '100 msg/s for 2 s');
    assert.equal(m.sent, 200);
    assert.equal(srv.stats.sends, 200, 'the server saw every message');
    assert.equal(m.delivered, 200);
    assert.equal(m.deliveries.expected, 200, 'one other member per group');
    assert.equal(m.deliveries.onTime, 200);
    assert.equal(m.received, srv.stats.deliveries);
    assert.equal(m.acks.count, 200);
    assert.equal(m.acks.recipients, 200);
    assert.equal(m.successRate, 1);
    assert.equal(step.phases.message.count, 200);
    assert.ok(step.phases['http:groups'].count >= 1);
    assert.equal(res.verdict?.passed, true);
    assert.ok(f.history.length >= 2, 'a row per second');
    const sentInRows = f.history.reduce((a, row) => a + row.sent, 0);
    assert.equal(sentInRows, 200, 'the history adds up to the total');
    assert.match(r.stdout, /message success 100\.0%: 200 of 200 reached every member within 2\.00s/);
    assert.match(r.stdout, /Verdict: PASS/);
  } finally {
    await srv.close();
  }
});

test('a delay of 50 ms per group message: latency at the delay the server applied, never below it', async () => {
  const srv = await startChatServer({ delayMs: 50 });
  const out = outDir('load');
  try {
    const r = await runCli([
      'load',
      srv.wsUrl,
      '--connections',
      '10',
      '--groups',
      '5',
      '--rate',
      '50',
      '--payload',
      '64',
      '--duration',
      '2s',
      '--out',
      out,
      ...QUICK,
    ]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const step = onlyResult<LoadVerdict>(out).steps[0];
    const lat = step.phases.message;
    assert.equal(lat.count, 100);
    // Each latency spans the delay the server really applied (measured on its side, from the
    // send's arrival to the delivery: a 50 ms timer may fire up to ~1 ms early on the loop's
    // millisecond clock), so it is never below it and, on loopback, hardly above it. HDR keeps 3
    // significant digits: a recorded value may read up to 0.1% low. The server shares this
    // process's event loop, so only gross errors are caught here (a wrong clock, unit or send
    // time); the 2 ms bound is checked against the reference target in its own process
    // (load-reference.test.ts).
    const applied = [...srv.appliedDelays].sort((a, b) => a - b);
    assert.equal(applied.length, 100, 'the server delayed every message');
    const hdr = 1 - 1 / 1000;
    const appliedMin = applied[0]!;
    const appliedP50 = applied[49]!;
    assert.ok(appliedMin >= 45, `the server applied ${appliedMin} ms at least`);
    assert.ok(lat.min >= appliedMin * hdr, `min ${lat.min} ms: never below the applied ${appliedMin} ms`);
    assert.ok(
      lat.p50 >= appliedP50 * hdr && lat.p50 <= appliedP50 + 10,
      `p50 ${lat.p50} ms against the applied p50 ${appliedP50} ms`,
    );
  } finally {
    await srv.close();
  }
});

test('every 10th delivery dropped: message success 90%, lost deliveries counted exactly', async () => {
  const srv = await startChatServer({ dropEvery: 10 });
  const out = outDir('load');
  try {
    const r = await runCli([
      'load',
      srv.wsUrl,
      '--connections',
      '20',
      '--groups',
      '10',
      '--rate',
      '100',
      '--payload',
      '64',
      '--duration',
      '2s',
      '--message-timeout',
      '500ms',
      '--out',
      out,
      '--no-progress',
      '--ramp-up',
      '0',
    ]);
    const f = loadFindings(onlyResult<LoadVerdict>(out).steps[0]);
    assertLoadSums(f);
    const m = f.messages;
    assert.equal(m.sent, 200);
    assert.equal(srv.stats.dropped, 20);
    assert.equal(m.delivered, 180);
    assert.equal(m.failed, 20);
    assert.equal(m.deliveries.missing, 20);
    assert.equal(m.deliveries.late, 0);
    assert.equal(m.successRate, 0.9);
    assert.equal(r.code, 1, 'message success must be above 90%');
    assert.match(r.stdout, /✗ message success 90\.0% \(needs above 90\.0%\)/);
  } finally {
    await srv.close();
  }
});

test('a 1 s stall in the middle of a fixed-rate run shows in p99 (no coordinated omission)', async () => {
  const srv = await startChatServer({ stallAtMs: 1000, stallMs: 1000 });
  const out = outDir('load');
  try {
    const r = await runCli([
      'load',
      srv.wsUrl,
      '--connections',
      '20',
      '--groups',
      '10',
      '--rate',
      '100',
      '--payload',
      '64',
      '--duration',
      '3s',
      '--out',
      out,
      ...QUICK,
    ]);
    const step = onlyResult<LoadVerdict>(out).steps[0];
    const f = loadFindings(step);
    assertLoadSums(f);
    assert.equal(f.messages.sent, 300);
    const lat = step.phases.message;
    // About 100 messages were due during the stall: each waited for the rest of it.
    assert.ok(lat.p99 >= 900, `p99 ${lat.p99} ms shows the stall`);
    assert.ok(lat.p90 >= 400, `p90 ${lat.p90} ms: a tenth of the messages waited`);
    assert.ok(lat.p50 < 100, `p50 ${lat.p50} ms: the rest were fast`);
    assert.ok(r.stdout.includes('p99'), r.stdout);
  } finally {
    await srv.close();
  }
});

test('a generator held to a fraction of its schedule fails message success, the unsent counted by reason (issue 19)', async () => {
  // 10 connections send in turn; the server reads only one of them while messaging, so the other
  // nine fill their socket buffers (the kernel takes ~4 MB: four 1 MiB messages each) and the rest
  // of their share cannot be written. Every message that did go out is delivered: over what was
  // sent the rate is 100%, over what was scheduled it is what the run really did (28% here).
  const srv = await startChatServer({ unreadMs: 2500 });
  const out = outDir('load');
  try {
    const r = await runCli([
      'load',
      srv.wsUrl,
      '--connections',
      '10',
      '--groups',
      '5',
      '--rate',
      '100',
      '--payload',
      '1MiB',
      '--duration',
      '2s',
      '--out',
      out,
      ...QUICK,
      '--message-timeout', // the last one given wins
      '5s',
      // The held-back messages arrive ~2.5 s late; only message success is judged here.
      '--max-p95',
      '10s',
    ]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    const res = onlyResult<LoadVerdict>(out);
    const f = loadFindings(res.steps[0]);
    assertLoadSums(f);
    const m = f.messages;
    assert.equal(m.scheduled, 200);
    assert.equal(f.ramp.established, 10);
    assert.equal(m.failed, 0, 'every message sent was delivered');
    assert.equal(m.delivered, m.sent);
    assert.equal(srv.stats.sends, m.sent, 'the server read every message sent');
    const unsent = m.dropped.noSender + m.dropped.notWritable + m.dropped.invalid + m.dropped.behind;
    assert.equal(unsent, m.scheduled - m.sent);
    assert.ok(m.sent <= 0.4 * m.scheduled, `held back: ${m.sent} of ${m.scheduled} sent`);
    assert.ok(m.dropped.notWritable >= 0.5 * m.scheduled, JSON.stringify(m.dropped));
    assert.equal(m.successRate, m.delivered / m.scheduled);
    const v = res.verdict!;
    assert.equal(v.passed, false);
    assert.deepEqual(
      v.criteria.filter((c) => !c.passed).map((c) => c.name),
      ['message_success'],
    );
    assert.equal(v.criteria.find((c) => c.name === 'message_success')!.actual, m.successRate);
    assert.ok(
      r.stdout.includes(
        `not sent ${unsent} (no open sender ${m.dropped.noSender}, send buffer full ${m.dropped.notWritable}, ` +
          `frame not built ${m.dropped.invalid}, behind schedule ${m.dropped.behind})`,
      ),
      r.stdout,
    );
    assert.ok(r.stdout.includes(`${m.delivered} of ${m.scheduled} reached every member`), r.stdout);
    assert.match(r.stdout, /Verdict: FAIL/);
  } finally {
    await srv.close();
  }
});

test('a chat file drives another protocol: single creates (409 = existing), unacknowledged order of joins, HTTP API load', async () => {
  const srv = await startChatServer();
  const out = outDir('load');
  const chat = path.join(out, 'chat.yaml');
  writeFileSync(
    chat,
    [
      'name: plain',
      'groups:',
      '  create:',
      '    request: POST {{baseUrl}}/groups',
      "    json: { name: '{{group}}' }",
      '    exists: 409',
      'join:',
      `  send: '{"type":"join","group":"{{group}}"}'`,
      '  ack: { match: { type: joined } }',
      'message:',
      `  send: '{"type":"send","group":"{{group}}","id":"{{id}}","ts":{{ts}},"data":"{{payload}}"}'`,
      '  receive: { match: { type: message }, id: id }',
      'error: { match: { type: error }, code: error, detail: message }',
    ].join('\n'),
  );
  srv.groups.add('room-0');
  srv.groups.add('room-1');
  try {
    const r = await runCli([
      'load',
      srv.wsUrl,
      '--chat',
      chat,
      '--group-prefix',
      'room',
      '--group-batch',
      '1',
      '--connections',
      '8',
      '--groups',
      '6',
      '--groups-per-connection',
      '2',
      '--rate',
      '40',
      '--duration',
      '1s',
      '--http-rate',
      '20',
      '--http-request',
      'GET {{baseUrl}}/groups/count',
      '--out',
      out,
      ...QUICK,
    ]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const step = onlyResult<LoadVerdict>(out).steps[0];
    const f = loadFindings(step);
    assertLoadSums(f);
    assert.deepEqual([f.groups.created, f.groups.existing, f.groups.failed, f.groups.requests], [4, 2, 0, 6]);
    assert.equal(f.groups.used, 6, '8 connections × 2 groups = 16 memberships over 6 groups');
    assert.equal(f.ramp.joinsAcked, 16);
    assert.equal(f.messages.sent, 40);
    assert.equal(f.messages.delivered, 40);
    // Groups of 2 or 3 members: every delivery expected was made.
    assert.equal(f.messages.deliveries.onTime, srv.stats.deliveries);
    assert.equal(f.http?.scheduled, 20);
    assert.equal(f.http?.byClass['2xx'], 20);
    assert.equal(srv.stats.api, 20);
    assert.equal(step.phases['http:api'].count, 20);
    assert.match(r.stdout, /HTTP API \(GET \{\{baseUrl\}\}\/groups\/count at 20\.0\/s\)/);
  } finally {
    await srv.close();
  }
});

test('Ctrl-C during messaging: exit 130, the result file is written and still adds up', async () => {
  const srv = await startChatServer({ delayMs: 300 });
  const out = outDir('load');
  const ac = new AbortController();
  const stop = setInterval(() => {
    if (srv.stats.sends >= 50) ac.abort();
  }, 10);
  try {
    const r = await runCli(
      [
        'load',
        srv.wsUrl,
        '--connections',
        '10',
        '--groups',
        '5',
        '--rate',
        '100',
        '--duration',
        '20s',
        '--out',
        out,
        ...QUICK,
      ],
      { signal: ac.signal },
    );
    assert.equal(r.code, 130, r.stdout + r.stderr);
    const res = onlyResult<LoadVerdict>(out);
    assert.equal(res.interrupted, true);
    const f = loadFindings(res.steps[0]);
    assertLoadSums(f);
    assert.ok(f.messages.sent >= 50 && f.messages.sent < 200, `sent ${f.messages.sent}`);
    assert.ok(f.messages.unresolved > 0, 'messages in flight when stopped are unresolved, not lost');
    assert.match(r.stdout, /Verdict: INTERRUPTED/);
  } finally {
    clearInterval(stop);
    await srv.close();
  }
});

test('--compression negotiates permessage-deflate; wire bytes show what it saves', async () => {
  const srv = await startChatServer({ deflate: true });
  const out = outDir('load');
  try {
    const args = [
      '--connections',
      '6',
      '--groups',
      '3',
      '--rate',
      '30',
      '--payload',
      '5k',
      '--duration',
      '1s',
      ...QUICK,
    ];
    const r = await runCli(['load', srv.wsUrl, ...args, '--compression', '--out', out]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const f = loadFindings(onlyResult<LoadVerdict>(out).steps[0]);
    assert.equal(f.wire.connections, 6);
    assert.equal(f.wire.compressed, 6);
    assert.equal(f.messages.delivered, 30);
    // 30 messages of 5,000 characters of text: the wire carries far less than the payload.
    assert.ok(f.wire.sentBytes < 30 * 5000 * 0.6, `sent ${f.wire.sentBytes} bytes on the wire`);
    assert.match(r.stdout, /6 compressed/);
  } finally {
    await srv.close();
  }
});

test('bad input: one clear message and exit 2', async () => {
  const out = outDir('load');
  const extreme = await runCli(['load', '--preset', 'extreme', '--out', out]);
  assert.equal(extreme.code, 2);
  assert.match(
    extreme.stderr,
    /--preset extreme needs 100,000 connections and 3,000,000 groups, which takes several worker processes/,
  );
  const groups = await runCli([
    'load',
    'ws://127.0.0.1:1/ws',
    '--groups',
    '2',
    '--groups-per-connection',
    '3',
    '--out',
    out,
  ]);
  assert.equal(groups.code, 2);
  assert.match(groups.stderr, /--groups-per-connection 3 is more than --groups 2/);
  const payload = await runCli(['load', '--payload', 'lots', '--out', out]);
  assert.equal(payload.code, 2);
  assert.match(payload.stderr, /Expected a size such as 64, 5k/);
  const bad = path.join(out, 'bad.yaml');
  writeFileSync(bad, 'join: { send: 1 }\nmessage: { send: "x" }\n');
  const chat = await runCli(['load', 'ws://127.0.0.1:1/ws', '--chat', bad, '--out', out]);
  assert.equal(chat.code, 2);
  assert.match(chat.stderr, /Invalid chat protocol .*bad\.yaml \(\d+ problems\)/);
  assert.match(chat.stderr, /join\.send: expected the frame as text/);
  assert.match(chat.stderr, /message\.receive: required/);
  assert.deepEqual(readdirSync(out), ['bad.yaml'], 'nothing ran, no result file');
});
