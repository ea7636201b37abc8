import { test } from 'node:test';
import assert from 'node:assert/strict';
import { V, type GeneratorCost, type Health, type StepSpec } from '../../src/contract.js';
import { Recorder, MAX_SAMPLES_PER_CLASS } from '../../src/metrics/recorder.js';
import { decode, summarize } from '../../src/metrics/histogram.js';

const health: Health = { cpuPct: 12.5, eldP99Ms: 3, eldMaxMs: 9, rssBytes: 80e6, fds: 40 };
const generator: GeneratorCost = {
  peakRssBytes: 90e6,
  cpuUserMs: 100,
  cpuSystemMs: 20,
  maxCpuPct: 30,
  maxEldMs: 9,
  maxFds: 50,
  saturated: false,
};

function spec(sessions: number): StepSpec {
  return {
    v: V,
    plan: 'capacity',
    index: 2,
    sessions,
    connectConcurrency: 10,
    stepTimeoutMs: 1000,
    holdMs: 0,
    scenario: { http: [], connect: { transport: 'ws', url: 'ws://127.0.0.1:1/' } },
  };
}

function clock(start: number) {
  let t = start;
  const now = () => t;
  return { now, advance: (ms: number) => (t += ms) };
}

test('two snapshots and the open interval sum to the result totals', () => {
  const c = clock(1000);
  const rec = new Recorder(3, 2, c.now);
  rec.inc('started', 4);
  rec.inc('established', 3);
  for (let i = 1; i <= 3; i++) rec.latency('connect', i * 100);
  rec.fail('refused', 'connect ECONNREFUSED');
  c.advance(1000);
  const a = rec.snapshot(3, 0, health);

  rec.inc('started', 6);
  rec.inc('established', 4);
  rec.inc('msgsRecv');
  rec.latency('connect', 400);
  rec.latency('upgrade', 50);
  rec.fail('http_503', 'Unexpected server response: 503');
  rec.fail('http_503', 'Unexpected server response: 503');
  c.advance(1000);
  const b = rec.snapshot(7, 1, health);

  // After the last snapshot: still part of the result.
  rec.fail('timeout', 'not established before the step timeout');
  rec.latency('connect', 500);

  assert.equal(a.v, V);
  assert.equal(a.worker, 3);
  assert.equal(a.step, 2);
  assert.deepEqual([a.t0, a.t1, b.t0, b.t1], [1000, 2000, 2000, 3000]);
  assert.equal(a.counters.started, 4);
  assert.equal(b.counters.started, 6);
  assert.equal(b.counters.msgsRecv, 1);
  assert.equal(a.counters.failed, 0, 'fail() does not touch the counters; the engine counts them');
  assert.deepEqual(a.failures, { refused: 1 });
  assert.deepEqual(b.failures, { http_503: 2 });
  assert.equal(decode(a.hist.connect).totalCount, 3);
  assert.equal(decode(b.hist.connect).totalCount, 1);
  assert.equal(a.hist.upgrade, undefined, 'no empty histograms in a snapshot');
  assert.deepEqual([b.active, b.pending], [7, 1]);
  assert.deepEqual(b.health, health);

  const r = rec.result(spec(10), {
    startedAt: 1000,
    durationMs: 2100,
    successful: 6,
    established: 7,
    generator,
    aborted: false,
  });
  assert.equal(r.counters.started, 10);
  assert.equal(r.counters.established, 7);
  assert.equal(r.counters.msgsRecv, 1);
  assert.deepEqual(r.failures, { refused: 1, http_503: 2, timeout: 1 });
  assert.equal(r.sessions, 10);
  assert.equal(r.failed, 4);
  const failedSum = Object.values(r.failures).reduce((x, y) => x + y, 0);
  assert.equal(failedSum, r.sessions - r.successful);
  assert.equal(r.phases.connect.count, 5);
  assert.equal(r.phases.connect.p50, 0.3);
  assert.equal(r.phases.connect.max, 0.5);
  assert.deepEqual(r.phases.connect, summarize(decode(r.hist.connect)));
  assert.equal(r.phases.upgrade.count, 1);
  assert.equal(r.workers, 1);
  assert.deepEqual(r.generator, generator);
  assert.deepEqual(
    r.errorSamples.map((s) => [s.code, s.count]),
    [
      ['refused', 1],
      ['http_503', 2],
      ['timeout', 1],
    ],
  );

  // result() does not consume the open interval: the next snapshot still carries it.
  c.advance(500);
  const tail = rec.snapshot(0, 0, health);
  assert.deepEqual(tail.failures, { timeout: 1 });
  assert.equal(decode(tail.hist.connect).totalCount, 1);
});

test('a shard result counts its own sessions', () => {
  const rec = new Recorder(1, 0);
  rec.fail('refused');
  const r = rec.result(spec(100), {
    startedAt: 0,
    durationMs: 10,
    successful: 49,
    established: 49,
    generator,
    aborted: false,
    sessions: 50,
  });
  assert.equal(r.sessions, 50);
  assert.equal(r.failed, 1);
});

test('fail keeps the first distinct details per class, with counts, and counts every call', () => {
  const rec = new Recorder(0, 0);
  for (let i = 0; i < 8; i++) rec.fail('closed_1006', `detail ${i}`);
  rec.fail('closed_1006', 'detail 0');
  rec.fail('closed_1006', 'detail 7'); // beyond the bound: counted, not sampled
  rec.fail('reset');
  rec.fail('reset', 'x'.repeat(5000));
  const r = rec.result(spec(20), {
    startedAt: 0,
    durationMs: 1,
    successful: 8,
    established: 20,
    generator,
    aborted: false,
  });
  assert.equal(r.failures.closed_1006, 10);
  const closed = r.errorSamples.filter((s) => s.code === 'closed_1006');
  assert.equal(closed.length, MAX_SAMPLES_PER_CLASS);
  assert.deepEqual(
    closed.map((s) => [s.detail, s.count]),
    [
      ['detail 0', 2],
      ['detail 1', 1],
      ['detail 2', 1],
      ['detail 3', 1],
      ['detail 4', 1],
    ],
  );
  const reset = r.errorSamples.filter((s) => s.code === 'reset');
  assert.deepEqual(
    reset.map((s) => s.count),
    [1, 1],
  );
  assert.equal(reset[0].detail, '');
  assert.ok(reset[1].detail.length <= 300, 'details are bounded in size');
});

test('counters of an interval reset while totals keep growing', () => {
  const rec = new Recorder(0, 0);
  rec.inc('bytesSent', 100);
  assert.equal(rec.snapshot(0, 0, health).counters.bytesSent, 100);
  assert.equal(rec.snapshot(0, 0, health).counters.bytesSent, 0);
  rec.inc('bytesSent', 5);
  const r = rec.result(spec(1), {
    startedAt: 0,
    durationMs: 1,
    successful: 1,
    established: 1,
    generator,
    aborted: false,
  });
  assert.equal(r.counters.bytesSent, 105);
});
