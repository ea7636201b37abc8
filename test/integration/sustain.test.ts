import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { runCli } from '../helpers/cli.js';
import { startTarget } from '../helpers/target.js';
import type { CapacityVerdict } from '../../src/contract.js';
import { outDir, onlyResult } from '../helpers/results.js';

test('behind a 5 s idle timeout: 2 s heartbeats keep all 500; 10 s heartbeats lose them and the report names the timeout', async () => {
  const t = await startTarget({ auth: 'none', idleTimeoutMs: 5000 });
  try {
    const okOut = outDir('sus');
    const ok = await runCli([
      'sustain',
      t.wsUrl,
      '--points',
      '500',
      '--duration',
      '20s',
      '--heartbeat',
      '2s',
      '--no-progress',
      '--out',
      okOut,
    ]);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.match(
      ok.stdout,
      /\[OK\]     500 connections:   500\/  500 successful \(100\.0%\) \| Avg heartbeats: \d+\.\d/,
    );
    assert.match(ok.stdout, /Maximum reliable concurrent connections: ~500/);
    assert.match(ok.stdout, /Use 400 as safe limit for ALB/);
    const okRes = onlyResult<CapacityVerdict>(okOut);
    const step = okRes.steps[0];
    assert.equal(step.successful, 500);
    assert.equal(step.earlyCloses?.length, 0);
    // Every session beat about duration / interval times.
    const avg = step.counters.heartbeats / 500;
    assert.ok(avg >= 9 && avg <= 11, `avg heartbeats ${avg}`);

    const badOut = outDir('sus');
    const bad = await runCli([
      'sustain',
      t.wsUrl,
      '--points',
      '500',
      '--duration',
      '20s',
      '--heartbeat',
      '10s',
      '--idle-timeout',
      '5s',
      '--no-progress',
      '--out',
      badOut,
    ]);
    assert.equal(bad.code, 1);
    assert.match(bad.stdout, /warning: --heartbeat 10s is not shorter than --idle-timeout 5s/);
    assert.match(bad.stdout, /500 connections closed after ~5s idle: this looks like an idle timeout of 5s/);
    const res = onlyResult<CapacityVerdict>(badOut);
    const s = res.steps[0];
    assert.equal(s.successful, 0);
    assert.deepEqual(s.failures, { closed_1001: 500 });
    assert.equal(s.earlyCloses?.length, 500);
    for (const c of s.earlyCloses!) {
      assert.equal(c.closeCode, 1001);
      assert.ok(c.idleMs >= 5000 && c.idleMs < 7000, `idle ${c.idleMs}`);
    }
    assert.equal(res.verdict?.closes?.[0].cluster?.kind, 'idle');
    assert.equal(res.verdict?.closes?.[0].cluster?.ageMs, 5000);
  } finally {
    await t.close();
  }
});

/** A WebSocket server that closes every 4th connection (by the index in its URL) with 1001 after `afterMs`. */
async function closingServer(afterMs: number) {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  const closedAt = new Map<number, number>();
  const beats: number[] = [];
  wss.on('connection', (ws: WebSocket, req) => {
    const i = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('i'));
    ws.on('message', () => beats.push(performance.now()));
    if (i % 4 === 0) {
      setTimeout(() => {
        closedAt.set(i, Date.now());
        ws.close(1001, 'going away');
      }, afterMs);
    }
  });
  const port = (wss.address() as { port: number }).port;
  return { port, closedAt, beats, close: () => new Promise<void>((r) => wss.close(() => r())) };
}

test('a server closing a known quarter of the connections with 1001: counts, codes and times are exact', async () => {
  const srv = await closingServer(1500);
  const dir = outDir('sus');
  const scenario = path.join(dir, 's.yaml');
  writeFileSync(scenario, `connect:\n  url: "ws://127.0.0.1:${srv.port}/ws?i={{index}}"\n`);
  try {
    const r = await runCli([
      'sustain',
      `ws://127.0.0.1:${srv.port}/ws`,
      '--scenario',
      scenario,
      '--points',
      '100',
      '--duration',
      '3s',
      '--heartbeat',
      '1s',
      '--no-progress',
      '--out',
      dir,
    ]);
    assert.equal(r.code, 1, r.stdout + r.stderr); // 75% < 80%
    const res = onlyResult<CapacityVerdict>(dir);
    const s = res.steps[0];
    assert.equal(s.successful, 75);
    assert.deepEqual(s.failures, { closed_1001: 25 });
    const closes = s.earlyCloses!;
    assert.deepEqual(
      closes.map((c) => c.session).sort((a, b) => a - b),
      Array.from({ length: 25 }, (_, k) => k * 4),
    );
    for (const c of closes) {
      assert.equal(c.closeCode, 1001);
      assert.equal(c.reason, 'going away');
      const serverAt = srv.closedAt.get(c.session)!;
      const clientAt = s.startedAt + c.atMs;
      assert.ok(
        Math.abs(clientAt - serverAt) < 100,
        `session ${c.session}: client ${clientAt} server ${serverAt}`,
      );
      assert.ok(c.ageMs >= 1400 && c.ageMs < 1700, `age ${c.ageMs}`);
    }
    assert.match(r.stdout, /Closed early: 25 \(closed_1001 25\)/);
  } finally {
    await srv.close();
  }
});

test('heartbeats are spread over the interval: no 200 ms window gets more than twice its even share', async () => {
  const srv = await closingServer(1e9);
  const dir = outDir('sus');
  const n = 400;
  const intervalMs = 1000;
  try {
    const t0 = performance.now();
    const r = await runCli([
      'sustain',
      `ws://127.0.0.1:${srv.port}/ws?i=1`,
      '--points',
      String(n),
      '--duration',
      '4s',
      '--heartbeat',
      '1s',
      '--no-progress',
      '--out',
      dir,
    ]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const res = onlyResult<CapacityVerdict>(dir);
    assert.equal(res.steps[0].successful, n);
    // The steady state: from one interval after the last open to the end of the hold.
    const steadyFrom = t0 + res.steps[0].durationMs + intervalMs;
    const steadyTo = steadyFrom + 2 * intervalMs;
    const windows = new Array(10).fill(0);
    for (const b of srv.beats) {
      if (b >= steadyFrom && b < steadyTo) windows[Math.floor((b - steadyFrom) / 200)]++;
    }
    const even = (n / intervalMs) * 200;
    const max = Math.max(...windows);
    assert.ok(max <= 2 * even, `max ${max} per 200 ms, even share ${even}: ${windows.join(',')}`);
    assert.ok(
      windows.every((w) => w > 0),
      `every window has beats: ${windows.join(',')}`,
    );
  } finally {
    await srv.close();
  }
});
