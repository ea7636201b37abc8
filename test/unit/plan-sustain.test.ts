import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeCloses, heartbeatWarning } from '../../src/plans/sustain.js';
import type { EarlyClose } from '../../src/contract.js';

function close(session: number, ageMs: number, idleMs: number, code = 'closed_1001'): EarlyClose {
  return { session, atMs: ageMs + 100, ageMs, idleMs, code, closeCode: 1001, reason: '' };
}

test('closes clustered at one idle time are named an idle timeout', () => {
  const closes = Array.from({ length: 32 }, (_, i) => close(i, 60_000 + i * 300, 60_050 + (i % 5) * 100));
  const a = analyzeCloses(closes, 90_000);
  assert.equal(a.count, 32);
  assert.deepEqual(a.byClass, { closed_1001: 32 });
  assert.equal(a.cluster?.kind, 'idle');
  assert.equal(a.cluster?.ageMs, 60_000);
  assert.equal(
    a.advice,
    '32 connections closed after ~60s idle: this looks like an idle timeout of 60s; send heartbeats more often than that (--heartbeat below 60s).',
  );
  assert.equal(
    a.buckets.reduce((n, b) => n + b.count, 0),
    32,
  );
});

test('an idle timeout enforced late (a coarse sweep, a busy loop) still counts every close it made', () => {
  // A 5 s timeout swept every 500 ms: most cut at 5.0-5.5 s idle, a few noticed up to a second late.
  // And the same with the median near the top of the spread (most cuts late, a few on time).
  const closes = Array.from({ length: 500 }, (_, i) =>
    close(i, 5_500 + i * 10, i < 490 ? 5_000 + (i % 50) * 10 : 5_900 + (i - 490) * 30),
  );
  const a = analyzeCloses(closes, 10_000);
  assert.equal(a.cluster?.kind, 'idle');
  assert.equal(a.cluster?.count, 500);
  assert.equal(a.cluster?.ageMs, 5_000);
  const topHeavy = Array.from({ length: 500 }, (_, i) =>
    close(i, 6_000, i < 40 ? 5_000 + i * 5 : 5_750 + (i % 13) * 10),
  );
  assert.equal(analyzeCloses(topHeavy, 10_000).cluster?.count, 500);
  assert.equal(analyzeCloses(topHeavy, 10_000).cluster?.ageMs, 5_000);
  // Early cuts are not stretched the same way: 4 s is not a 5 s timeout.
  const early = [
    ...closes.slice(0, 400),
    ...Array.from({ length: 20 }, (_, i) => close(900 + i, 4_000, 4_000)),
  ];
  assert.equal(analyzeCloses(early, 10_000).cluster?.count, 400);
});

test('scattered closes are not a cluster; closes despite frequent heartbeats are not called idle', () => {
  const scattered = [1_000, 9_000, 20_000, 33_000, 47_000].map((t, i) => close(i, t, t));
  assert.equal(analyzeCloses(scattered, 30_000).cluster, null);
  // Heartbeats every 2 s keep idle times short and scattered, yet every connection ends at ~30 s.
  const lifetime = Array.from({ length: 10 }, (_, i) => close(i, 30_000 + i * 10, (i * 197) % 1900));
  const a = analyzeCloses(lifetime, 2_000);
  assert.equal(a.cluster?.kind, 'lifetime');
  assert.equal(a.cluster?.ageMs, 30_000);
  assert.match(a.advice!, /lifetime limit of 30s/);
  assert.equal(analyzeCloses([], 10_000).count, 0);
});

test('heartbeat warning only when the heartbeat is not shorter than the idle timeout', () => {
  assert.equal(heartbeatWarning(30_000, 60_000), null);
  assert.equal(heartbeatWarning(30_000, undefined), null);
  assert.match(heartbeatWarning(60_000, 60_000)!, /--heartbeat 60s is not shorter than --idle-timeout 60s/);
});
