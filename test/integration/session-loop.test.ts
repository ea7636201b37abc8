import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { runCli } from '../helpers/cli.js';
import { onlyResult } from '../helpers/results.js';
import type { RunResult, StepResult } from '../../src/contract.js';
import type { RunVerdict } from '../../src/plans/run.js';

// Session message loops and lifetimes (scenario `session:`), run with `holdline run` against
// WebSocket servers started here, counted on both sides.

interface ConnLog {
  openedAt: number; // performance.now() at the server's 'connection'
  arrivals: number[]; // ms since openedAt of every message received
  closedAt: number;
  closeCode: number;
}

interface Server {
  url: string;
  conns: ConnLog[];
  received(): number;
  closed(): number;
  close(): Promise<void>;
}

/**
 * A WebSocket server that answers each message after `delayMs` (0: at once) unless
 * `answer(n)` says no for the n-th message (1-based) of a connection; `onMessage` runs first.
 */
async function startServer(
  o: {
    delayMs?: number;
    answer?: (n: number) => boolean;
    onMessage?: (total: number) => void;
  } = {},
): Promise<Server> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  const conns: ConnLog[] = [];
  let total = 0;
  wss.on('connection', (ws) => {
    const log: ConnLog = { openedAt: performance.now(), arrivals: [], closedAt: 0, closeCode: 0 };
    conns.push(log);
    ws.on('message', (data, isBinary) => {
      total++;
      log.arrivals.push(performance.now() - log.openedAt);
      o.onMessage?.(total);
      if (o.answer && !o.answer(log.arrivals.length)) return;
      if (o.delayMs) setTimeout(() => ws.send(data, { binary: isBinary }), o.delayMs);
      else ws.send(data, { binary: isBinary });
    });
    ws.on('close', (code) => {
      log.closedAt = performance.now();
      log.closeCode = code;
    });
  });
  const port = (wss.address() as AddressInfo).port;
  return {
    url: `ws://127.0.0.1:${port}/`,
    conns,
    received: () => total,
    closed: () => conns.filter((c) => c.closedAt > 0).length,
    close: () =>
      new Promise<void>((r) => {
        for (const c of wss.clients) c.terminate();
        wss.close(() => r());
      }),
  };
}

/** Waits (bounded) until the server saw every close: the client returns once its closes complete. */
async function closedAll(s: Server, n: number): Promise<void> {
  const deadline = performance.now() + 5000;
  while (s.closed() < n) {
    if (performance.now() > deadline) assert.fail(`server saw ${s.closed()} of ${n} closes`);
    await new Promise((r) => setImmediate(r));
  }
}

function scenario(yaml: string): { file: string; out: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'holdline-loop-'));
  const file = path.join(dir, 'scenario.yaml');
  writeFileSync(file, yaml);
  return { file, out: path.join(dir, 'out') };
}

async function run(
  url: string,
  yaml: string,
  args: string[],
): Promise<{ code: number; stdout: string; result: RunResult<RunVerdict>; step: StepResult }> {
  const { file, out } = scenario(yaml);
  const r = await runCli(['run', url, '--scenario', file, '--no-progress', '--out', out, ...args]);
  assert.ok(readdirSync(out).length > 0, r.stdout + r.stderr);
  const result = onlyResult<RunVerdict>(out);
  return { code: r.code, stdout: r.stdout + r.stderr, result, step: result.steps[0] };
}

test('closed loop: 100 sessions × 200 round trips, each ends after its last reply; exact counts on both sides', async () => {
  const srv = await startServer();
  try {
    const { code, stdout, result, step } = await run(
      srv.url,
      `connect: { url: "{{wsBaseUrl}}/" }
session:
  messages: { send: "0123456789abcdef", await: reply, count: 200 }
`,
      ['--sessions', '100', '--max-duration', '30s'],
    );
    assert.equal(code, 0, stdout);
    assert.equal(step.sessions, 100);
    assert.equal(step.established, 100);
    assert.equal(step.successful, 100);
    assert.equal(step.failed, 0);
    assert.deepEqual(step.failures, {});
    assert.equal(step.counters.msgsSent, 20_000);
    assert.equal(step.counters.msgsRecv, 20_000);
    assert.equal(step.counters.msgsUnanswered, 0);
    assert.equal(step.counters.bytesSent, 20_000 * 16);
    assert.equal(step.phases.message.count, 20_000);
    assert.equal(step.phases.close.count, 100); // every session closed with a close handshake
    // Ended by their own plan, well before the 30 s bound.
    assert.ok((step.holdMs ?? 0) < 20_000, `held ${step.holdMs} ms`);
    const v = result.verdict!;
    assert.equal(v.passed, true);
    assert.deepEqual(v.messages, { sent: 20_000, received: 20_000, unanswered: 0, replies: 20_000 });
    assert.match(stdout, /Sessions {4}100 ok · 0 failed · 100 established/);
    assert.match(stdout, /Messages {4}sent 20,000 · received 20,000 · unanswered 0/);
    assert.match(stdout, /Latency {5}p50 \d+\.\d\d · p95 .* max \d+\.\d\d ms {2}\(20,000 replies/);
    assert.match(stdout, /\[OK\] 100\.0% of sessions succeeded \(threshold 100%\)/);
    // The server's side of it.
    await closedAll(srv, 100);
    assert.equal(srv.conns.length, 100);
    assert.equal(srv.received(), 20_000);
    for (const c of srv.conns) {
      assert.equal(c.arrivals.length, 200);
      assert.equal(c.closeCode, 1000);
    }
  } finally {
    await srv.close();
  }
});

test('open loop with count and lifetime: sends at open, +200 ms, +400 ms; closes 1 s after its own open', async () => {
  const srv = await startServer();
  try {
    const { code, stdout, step } = await run(
      srv.url,
      `connect: { url: "{{wsBaseUrl}}/" }
session:
  duration: 1s
  messages: { send: { type: ping }, every: 200ms, count: 3 }
`,
      ['--sessions', '50', '--connect-rate', '100'],
    );
    assert.equal(code, 0, stdout);
    assert.equal(step.successful, 50);
    assert.equal(step.counters.msgsSent, 150);
    assert.equal(step.counters.msgsRecv, 150);
    assert.equal(step.counters.msgsUnanswered, 0);
    assert.equal(step.phases.message.count, 150);
    assert.equal(step.phases.close.count, 50);
    await closedAll(srv, 50);
    assert.equal(srv.received(), 150);
    for (const c of srv.conns) {
      assert.equal(c.closeCode, 1000);
      assert.equal(c.arrivals.length, 3);
      // The client opens after the server accepted, so its schedule runs a little later; a send
      // may join a firing up to its window early (5 ms here: a tenth of 200 ms, at most 5).
      c.arrivals.forEach((t, k) => {
        assert.ok(t >= k * 200 - 5 && t < k * 200 + 150, `message ${k} at ${t.toFixed(1)} ms`);
      });
      const life = c.closedAt - c.openedAt;
      assert.ok(life >= 999 && life < 1400, `lifetime ${life.toFixed(0)} ms`);
    }
    // Sessions opened over 0.5 s and each lived 1 s: the step took about 1.5 s, not the 10 min bound.
    assert.ok(step.durationMs + (step.holdMs ?? 0) < 5000);
  } finally {
    await srv.close();
  }
});

test('replies that never come are counted unanswered, and the loop still ends', async () => {
  // Answers the 1st and 3rd message of each connection only.
  const srv = await startServer({ answer: (n) => n % 2 === 1 });
  try {
    const { code, step, result } = await run(
      srv.url,
      `connect: { url: "{{wsBaseUrl}}/" }
session:
  messages: { send: "m", every: 100ms, count: 4 }
`,
      ['--sessions', '20'],
    );
    assert.equal(code, 0);
    assert.equal(step.successful, 20);
    assert.equal(step.counters.msgsSent, 80);
    assert.equal(step.counters.msgsRecv, 40);
    assert.equal(step.counters.msgsUnanswered, 40);
    assert.equal(step.phases.message.count, 40);
    assert.equal(result.verdict!.messages.unanswered, 40);
    await closedAll(srv, 20);
    assert.equal(srv.received(), 80);
  } finally {
    await srv.close();
  }
});

test('latency runs from the intended send time: 20 ms server delay gives p50 ≈ 20 ms; a stalled generator shows', async () => {
  const srv = await startServer({ delayMs: 20 });
  try {
    const { code, step } = await run(
      srv.url,
      `connect: { url: "{{wsBaseUrl}}/" }
session:
  messages: { send: "x", every: 50ms, count: 10 }
`,
      ['--sessions', '20'],
    );
    assert.equal(code, 0);
    assert.equal(step.phases.message.count, 200);
    const m = step.phases.message;
    assert.ok(m.p50 >= 19.5 && m.p50 < 30, `p50 ${m.p50} ms`);
    // libuv times the delay from the loop's cached clock: a reply can come a little under 20 ms.
    assert.ok(m.min >= 19, `min ${m.min} ms`);
  } finally {
    await srv.close();
  }

  // The event loop (shared by server and generator here) stalls 300 ms once every session has
  // sent its first message: the sends due meanwhile go out late, and their latency says so.
  let stalled = false;
  const slow = await startServer({
    onMessage: (total) => {
      if (stalled || total < 20) return;
      stalled = true;
      const until = performance.now() + 300;
      while (performance.now() < until); // a busy generator
    },
  });
  try {
    const { step } = await run(
      slow.url,
      `connect: { url: "{{wsBaseUrl}}/" }
session:
  messages: { send: "x", every: 50ms, count: 10 }
`,
      ['--sessions', '20'],
    );
    // Six of each session's ten slots were due during the stall. The generator sends once, for
    // the oldest slot it missed and timed from it, and skips the rest: with one reply
    // outstanding per session, a burst of catch-up sends would only be matched to wrong replies.
    const m = step.phases.message;
    assert.ok(m.max >= 250, `max ${m.max} ms`); // the lateness shows
    assert.ok(
      step.counters.msgsSent < 200 && step.counters.msgsSent >= 100,
      `sent ${step.counters.msgsSent}`,
    );
    // Every slot is one reply's latency or one unanswered (skipped, or its reply not in time).
    assert.equal(m.count + (step.counters.msgsUnanswered ?? 0), 200);
  } finally {
    await slow.close();
  }
});

test('holdline run exits 1 below the threshold and names the failures', async () => {
  const wss = new WebSocketServer({
    host: '127.0.0.1',
    port: 0,
    // Refuses every other upgrade with 503.
    verifyClient: (_info, cb) => cb(++upgrades % 2 === 0, 503),
  });
  let upgrades = 0;
  await new Promise<void>((r) => wss.once('listening', () => r()));
  wss.on('connection', (ws) => ws.on('message', (d) => ws.send(d)));
  const url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/`;
  try {
    const { code, stdout, step, result } = await run(
      url,
      `connect: { url: "{{wsBaseUrl}}/" }
session:
  messages: { send: "x", count: 1 }
`,
      ['--sessions', '10', '--threshold', '40%'],
    );
    assert.equal(step.successful, 5);
    assert.deepEqual(step.failures, { http_503: 5 });
    assert.equal(code, 0, stdout); // 50% ≥ 40%
    assert.equal(result.verdict!.passed, true);
    const strict = await run(url, `connect: { url: "{{wsBaseUrl}}/" }\n`, ['--sessions', '10']);
    assert.equal(strict.code, 1);
    assert.equal(strict.step.successful, 5);
    assert.match(strict.stdout, /Sessions {4}5 ok · 5 failed \(http_503 5\)/);
    assert.match(strict.stdout, /\[FAIL\] 50\.0% of sessions succeeded, below the threshold of 100%/);
  } finally {
    for (const c of wss.clients) c.terminate();
    await new Promise((r) => wss.close(r));
  }
});
