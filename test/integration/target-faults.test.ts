import { test } from 'node:test';
import assert from 'node:assert/strict';
import type WebSocket from 'ws';
import { UserError } from '../../src/errors.js';
import { resolveTargetOptions } from '../../src/target/options.js';
import { spawnTarget } from '../../src/target/spawn.js';
import { closeOf, nextJson, openWs, startTarget, waitFor, type TestTarget } from '../helpers/target.js';

// The target's test-only faults: a delay per group message, every k-th delivery dropped, one
// stall of the event loop, every k-th connection closed once. Off by default.

async function groupOf(url: string, name: string, size: number): Promise<WebSocket[]> {
  const res = await fetch(`${url}/groups`, { method: 'POST', body: JSON.stringify({ name }) });
  assert.equal(res.status, 201);
  const wsUrl = `${url.replace('http', 'ws')}/ws`;
  const sockets = await Promise.all(Array.from({ length: size }, () => openWs(wsUrl)));
  for (const ws of sockets) {
    ws.send(JSON.stringify({ type: 'join', group: name }));
    assert.equal((await nextJson(ws)).type, 'joined');
  }
  return sockets;
}

/** Resolves once every frame written to `ws` before this call has arrived (pong comes after). */
async function drained(ws: WebSocket, id: string): Promise<void> {
  ws.send(JSON.stringify({ type: 'ping', id }));
  await new Promise<void>((resolve) => {
    const on = (d: Buffer): void => {
      if (d.includes(`"type":"pong","id":"${id}"`)) {
        ws.off('message', on);
        resolve();
      }
    };
    ws.on('message', on);
  });
}

/** The next frame of this type, skipping others (pongs of drained()). */
async function nextOfType(ws: WebSocket, type: string): Promise<Record<string, unknown>> {
  for (;;) {
    const m = await nextJson(ws);
    if (m.type === type) return m;
  }
}

test('faults are off by default; env values in ms; bad values are reported together', () => {
  const d = resolveTargetOptions({});
  assert.deepEqual([d.faultGroupDelayMs, d.faultDropEvery, d.faultStallMs, d.faultCloseEvery], [0, 0, 0, 0]);
  const o = resolveTargetOptions({
    env: {
      FAULT_GROUP_DELAY_MS: '50',
      FAULT_STALL_AT_MS: '1s',
      FAULT_STALL_MS: '250ms',
      FAULT_DROP_EVERY: '10',
    },
    flags: { faultCloseEvery: '4', faultCloseAtMs: '500' },
  });
  assert.deepEqual(
    [
      o.faultGroupDelayMs,
      o.faultStallAtMs,
      o.faultStallMs,
      o.faultDropEvery,
      o.faultCloseEvery,
      o.faultCloseAtMs,
    ],
    [50, 1000, 250, 10, 4, 500],
  );
  assert.throws(
    () =>
      resolveTargetOptions({
        env: { FAULT_DROP_EVERY: 'often', FAULT_STALL_MS: '2m', MAX_TOTAL_GROUPS: '-1' },
      }),
    (err: unknown) =>
      err instanceof UserError &&
      /FAULT_DROP_EVERY="often"/.test(err.message) &&
      /FAULT_STALL_MS: must be at most 60s/.test(err.message) &&
      /MAX_TOTAL_GROUPS="-1"/.test(err.message),
  );
});

test('FAULT_GROUP_DELAY_MS: deliveries come that much later, the ack at once', async (t) => {
  const delay = 150;
  const tgt = await startTarget({ auth: 'none', faultGroupDelayMs: delay });
  t.after(() => tgt.close());
  const [a, b, c] = await groupOf(tgt.url, 'slow', 3);
  t.after(() => [a, b, c].forEach((ws) => ws.terminate()));
  const t0 = performance.now();
  for (let i = 0; i < 3; i++) a.send(JSON.stringify({ type: 'send', group: 'slow', id: i, ts: Date.now() }));
  for (let i = 0; i < 3; i++) assert.equal((await nextJson(a)).type, 'sent');
  const acked = performance.now() - t0;
  assert.ok(acked < delay, `acks after ${acked.toFixed(0)} ms`);
  for (const ws of [b, c]) {
    for (let i = 0; i < 3; i++) {
      const m = await nextJson(ws, 2000);
      assert.equal(m.id, i);
      const late = performance.now() - t0;
      assert.ok(late >= delay - 1 && late < delay + 400, `delivered after ${late.toFixed(0)} ms`);
    }
  }
});

test('FAULT_DROP_EVERY=3: exactly every third delivery is dropped, and counted', async (t) => {
  const tgt = await startTarget({ auth: 'none', faultDropEvery: 3 });
  t.after(() => tgt.close());
  const [a, b, c] = await groupOf(tgt.url, 'lossy', 3);
  t.after(() => [a, b, c].forEach((ws) => ws.terminate()));
  const got = new Map<WebSocket, number[]>([
    [b, []],
    [c, []],
  ]);
  for (const [ws, ids] of got) {
    ws.on('message', (d: Buffer) => {
      const m = JSON.parse(d.toString()) as { type: string; id: number };
      if (m.type === 'message') ids.push(m.id);
    });
  }
  for (let i = 1; i <= 6; i++) {
    a.send(JSON.stringify({ type: 'send', group: 'lossy', id: i, ts: 0 }));
    assert.equal((await nextJson(a)).recipients, 2, 'recipients counts attempted deliveries');
  }
  await drained(b, 'b');
  await drained(c, 'c');
  // Deliveries in order b1 c1 b2 c2 …: the 3rd, 6th, 9th and 12th are dropped.
  assert.deepEqual(got.get(b), [1, 3, 4, 6]);
  assert.deepEqual(got.get(c), [1, 2, 4, 5]);
  const s = tgt.stats();
  assert.equal(s.faults.dropped, 4);
  assert.equal(s.groupMessages.out, 8);
  const metrics = await (await fetch(`${tgt.url}/metrics`)).text();
  assert.match(metrics, /^holdline_target_faults_total\{kind="dropped"\} 4$/m);
});

test('FAULT_STALL_AT_MS + FAULT_STALL_MS: the event loop blocks once, after the first group message', async (t) => {
  // In its own process: a stall here would block the test too.
  const tgt = await spawnTarget({ options: { auth: 'none', faultStallAtMs: 100, faultStallMs: 400 } });
  t.after(() => tgt.close());
  const [a] = await groupOf(tgt.url, 'g', 1);
  t.after(() => a.terminate());
  // Round trips of pings, one after the other, while the stall comes and goes.
  const rtts: number[] = [];
  a.send(JSON.stringify({ type: 'send', group: 'g', id: 'first', ts: 0 }));
  assert.equal((await nextJson(a)).type, 'sent');
  const t0 = performance.now();
  while (performance.now() - t0 < 700) {
    const s = performance.now();
    await drained(a, `p${rtts.length}`);
    rtts.push(performance.now() - s);
  }
  const worst = Math.max(...rtts);
  assert.ok(worst >= 300 && worst < 1000, `worst round trip ${worst.toFixed(0)} ms`);
  assert.equal(rtts.filter((r) => r >= 300).length, 1, 'one stall');
  // More messages do not stall it again.
  a.send(JSON.stringify({ type: 'send', group: 'g', id: 'second', ts: 0 }));
  assert.equal((await nextOfType(a, 'sent')).id, 'second');
  const metrics = await (await fetch(`${tgt.url}/metrics`)).text();
  assert.match(metrics, /^holdline_target_faults_total\{kind="stall"\} 1$/m);
  const max = Number(/event_loop_delay_seconds\{quantile="1"\} ([\d.]+)/.exec(metrics)?.[1]);
  assert.ok(max >= 0.3, `event-loop delay max ${max}`);
});

test('FAULT_CLOSE_EVERY=3 + FAULT_CLOSE_AT_MS: every third connection closed once with 1001', async (t) => {
  const tgt: TestTarget = await startTarget({ auth: 'none', faultCloseEvery: 3, faultCloseAtMs: 200 });
  t.after(() => tgt.close());
  const t0 = performance.now();
  const sockets: WebSocket[] = [];
  for (let i = 0; i < 9; i++) sockets.push(await openWs(tgt.wsUrl));
  t.after(() => sockets.forEach((ws) => ws.terminate()));
  const closes = [2, 5, 8].map((i) => closeOf(sockets[i]));
  for (const c of await Promise.all(closes)) {
    assert.equal(c.code, 1001);
    assert.equal(c.reason, 'going away');
    assert.ok(c.at - t0 >= 195, `closed after ${(c.at - t0).toFixed(0)} ms`);
  }
  await waitFor(() => tgt.stats().connections.ws === 6, 'six left');
  // Once only: a later connection and the survivors stay open.
  sockets.push(await openWs(tgt.wsUrl));
  for (const ws of sockets.filter((_, i) => ![2, 5, 8].includes(i))) await drained(ws, 'alive');
  const s = tgt.stats();
  assert.equal(s.faults.closed, 3);
  assert.equal(s.dropped.fault, 3);
  assert.equal(s.connections.ws, 7);
});
