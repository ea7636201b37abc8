import { test } from 'node:test';
import assert from 'node:assert/strict';
import { V, type Counters, type IntervalSnapshot, type StepSpec } from '../../src/contract.js';
import { ProgressLine, progressText } from '../../src/report/progress.js';

function spec(index: number, sessions: number): StepSpec {
  return {
    v: V,
    plan: 'capacity',
    index,
    sessions,
    connectConcurrency: 10,
    stepTimeoutMs: 1000,
    holdMs: 0,
    scenario: { http: [], connect: { transport: 'ws', url: 'ws://127.0.0.1:1/' } },
  };
}

function snap(
  step: number,
  t0: number,
  t1: number,
  c: Partial<Counters>,
  active: number,
  pending: number,
): IntervalSnapshot {
  return {
    v: V,
    worker: -1,
    step,
    t0,
    t1,
    active,
    pending,
    counters: {
      started: 0,
      established: 0,
      failed: 0,
      closedEarly: 0,
      msgsSent: 0,
      msgsRecv: 0,
      bytesSent: 0,
      bytesRecv: 0,
      heartbeats: 0,
      ...c,
    },
    failures: {},
    hist: {},
    health: { cpuPct: 0, eldP99Ms: 0, eldMaxMs: 0, rssBytes: 0, fds: 0 },
  };
}

function sink(columns?: number) {
  const chunks: string[] = [];
  return { chunks, out: { write: (s: string) => chunks.push(s), isTTY: true, columns } };
}

test('progressText matches the documented line', () => {
  assert.equal(
    progressText({
      sessions: 500,
      established: 312,
      failed: 3,
      pending: 185,
      active: 312,
      closedEarly: 0,
      elapsedMs: 4200,
    }),
    '  [ 500] established 312 · failed 3 · pending 185 · 4.2s',
  );
  assert.equal(
    progressText({
      sessions: 50,
      established: 50,
      failed: 4,
      pending: 0,
      active: 46,
      closedEarly: 4,
      elapsedMs: 65000,
    }),
    '  [  50] established 50 · failed 4 · open 46 · pending 0 · 1m05s',
  );
});

test('on a TTY: one line rewritten in place, cumulative per step, cleared at step end', () => {
  const s = sink();
  const p = new ProgressLine({ out: s.out, isTTY: true });
  p.stepStart(spec(0, 500));
  p.interval(snap(0, 1000, 2000, { established: 200, failed: 1 }, 200, 250));
  p.interval(snap(0, 2000, 3000, { established: 112, failed: 2 }, 312, 185));
  p.interval(snap(0, 3000, 5200, {}, 312, 185));
  assert.deepEqual(s.chunks, [
    '\r  [ 500] established 200 · failed 1 · pending 250 · 1.0s\x1b[K',
    '\r  [ 500] established 312 · failed 3 · pending 185 · 2.0s\x1b[K',
    '\r  [ 500] established 312 · failed 3 · pending 185 · 4.2s\x1b[K',
  ]);
  p.stepEnd();
  assert.equal(s.chunks.at(-1), '\r\x1b[K');
  const n = s.chunks.length;
  p.interval(snap(0, 5200, 5300, { established: 1 }, 0, 0)); // late: the step is over
  assert.equal(s.chunks.length, n);

  // The next step starts from zero.
  p.stepStart(spec(1, 1000));
  p.interval(snap(1, 9000, 10000, { established: 5 }, 5, 995));
  assert.equal(s.chunks.at(-1), '\r  [1000] established 5 · failed 0 · pending 995 · 1.0s\x1b[K');
  p.runEnd({} as never);
  assert.equal(s.chunks.at(-1), '\r\x1b[K');
});

test('a narrow terminal gets a line that does not wrap', () => {
  const s = sink(30);
  const p = new ProgressLine({ out: s.out, isTTY: true });
  p.stepStart(spec(0, 500));
  p.interval(snap(0, 0, 1000, { established: 1 }, 1, 0));
  assert.equal(
    s.chunks[0],
    '\r' + '  [ 500] established 1 · failed 0 · pending 0 · 1.0s'.slice(0, 29) + '\x1b[K',
  );
});

test('not a TTY: prints nothing at all', () => {
  const s = sink();
  const p = new ProgressLine({ out: s.out, isTTY: false });
  p.stepStart(spec(0, 10));
  p.interval(snap(0, 0, 1000, { established: 10 }, 10, 0));
  p.stepEnd();
  p.runEnd({} as never);
  assert.deepEqual(s.chunks, []);
});
