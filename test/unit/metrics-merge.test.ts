import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  V,
  type GeneratorCost,
  type Health,
  type IntervalSnapshot,
  type StepResult,
  type StepSpec,
} from '../../src/contract.js';
import { HoldlineError } from '../../src/errors.js';
import { Recorder } from '../../src/metrics/recorder.js';
import { mergeResults, mergeSnapshots } from '../../src/metrics/merge.js';
import { createHist, decode, record, summarize } from '../../src/metrics/histogram.js';

const spec: StepSpec = {
  v: V,
  plan: 'capacity',
  index: 1,
  sessions: 30,
  connectConcurrency: 10,
  stepTimeoutMs: 1000,
  holdMs: 0,
  scenario: { http: [], connect: { transport: 'ws', url: 'ws://127.0.0.1:1/' } },
};

function health(cpuPct: number, rssBytes: number, fds: number, eld = 1): Health {
  return { cpuPct, eldP99Ms: eld, eldMaxMs: eld * 2, rssBytes, fds };
}

function snap(worker: number, seed: number, h: Health, t0 = 1000 * seed): IntervalSnapshot {
  let t = t0;
  const rec = new Recorder(worker, 1, () => t);
  rec.inc('started', seed);
  rec.inc('established', seed * 2);
  for (let i = 1; i <= seed * 10; i++) rec.latency('connect', i * seed);
  if (seed % 2 === 0) rec.latency('upgrade', seed * 7);
  rec.fail(seed % 2 ? 'refused' : 'http_503', 'd');
  t += 1000;
  return rec.snapshot(seed, seed % 3, h);
}

/** Comparable form: histograms by their content rather than their encoding. */
function norm(s: IntervalSnapshot) {
  const hist: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(s.hist)) hist[k] = summarize(decode(v));
  return { ...s, hist };
}

test('mergeSnapshots sums counters, failures and gauges and adds histograms', () => {
  const a = snap(0, 1, health(10, 100, 10));
  const b = snap(1, 2, health(20, 200, 20));
  const m = mergeSnapshots([a, b]);
  assert.equal(m.v, V);
  assert.equal(m.worker, -1, 'several workers');
  assert.equal(m.step, 1);
  assert.deepEqual([m.t0, m.t1], [1000, 3000]);
  assert.equal(m.counters.started, 3);
  assert.equal(m.counters.established, 6);
  assert.deepEqual(m.failures, { refused: 1, http_503: 1 });
  assert.deepEqual([m.active, m.pending], [3, 3]);
  assert.equal(decode(m.hist.connect).totalCount, 30);
  assert.equal(decode(m.hist.upgrade).totalCount, 1);
  assert.deepEqual(m.health, { cpuPct: 20, eldP99Ms: 1, eldMaxMs: 2, rssBytes: 300, fds: 30 });
});

test('health: max within a worker, rss and fds summed across workers', () => {
  const w0a = snap(0, 1, health(50, 100, 10, 5));
  const w0b = snap(0, 3, health(30, 150, 12, 1)); // late data from worker 0
  const w1 = snap(1, 2, health(90, 200, -1, 2)); // fds unknown
  const m = mergeSnapshots([w0a, w1, w0b]);
  assert.deepEqual(m.health, { cpuPct: 90, eldP99Ms: 5, eldMaxMs: 10, rssBytes: 350, fds: 12 });
  assert.equal(m.counters.started, 6, 'late data is merged, not dropped');
});

test('mergeSnapshots is associative, also when one worker appears in both groups', () => {
  const a = snap(0, 1, health(50, 100, 10, 5));
  const b = snap(0, 2, health(30, 150, 12, 1));
  const c = snap(1, 3, health(90, 200, 20, 2));
  const d = snap(2, 4, health(10, 300, 30, 3));
  const left = mergeSnapshots([mergeSnapshots([a, b]), c]);
  const right = mergeSnapshots([a, mergeSnapshots([b, c])]);
  assert.deepEqual(norm(left), norm(right));
  assert.deepEqual(norm(left), norm(mergeSnapshots([a, b, c])));
  assert.equal(left.health.rssBytes, 350);
  const four1 = mergeSnapshots([mergeSnapshots([a, c]), mergeSnapshots([b, d])]);
  const four2 = mergeSnapshots([mergeSnapshots([mergeSnapshots([d, c]), b]), a]);
  assert.deepEqual(norm(four1), norm(four2));
});

test('snapshots merged elsewhere (worker -1, no memory) count as their own group', () => {
  const a = mergeSnapshots([snap(0, 1, health(10, 100, 10)), snap(1, 2, health(20, 100, 10))]);
  const wire = JSON.parse(JSON.stringify(a)) as IntervalSnapshot; // crossed a process boundary
  const m = mergeSnapshots([wire, snap(0, 3, health(5, 50, 5))]);
  assert.equal(m.health.rssBytes, 250);
  assert.equal(m.health.fds, 25);
});

test('both merges refuse another format version', () => {
  const a = snap(0, 1, health(1, 1, 1));
  const bad = { ...a, v: 2 } as unknown as IntervalSnapshot;
  assert.throws(
    () => mergeSnapshots([a, bad]),
    (e: unknown) => e instanceof HoldlineError && e.code === 'version_mismatch',
  );
  const r = result(0, 10, 8);
  assert.throws(
    () => mergeResults([r, { ...r, v: 0 } as unknown as StepResult]),
    (e: unknown) => e instanceof HoldlineError && e.code === 'version_mismatch',
  );
  assert.throws(() => mergeResults([]), HoldlineError);
});

const gen = (over: Partial<GeneratorCost>): GeneratorCost => ({
  peakRssBytes: 100,
  cpuUserMs: 10,
  cpuSystemMs: 1,
  maxCpuPct: 20,
  maxEldMs: 2,
  maxFds: 15,
  saturated: false,
  ...over,
});

function result(
  worker: number,
  sessions: number,
  successful: number,
  over: Partial<GeneratorCost> = {},
): StepResult {
  const rec = new Recorder(worker, 1);
  for (let i = 0; i < sessions; i++) rec.latency('connect', 100 * (worker + 1) + i);
  for (let i = successful; i < sessions; i++) rec.fail(i % 2 ? 'timeout' : 'refused', `w${worker % 2}`);
  return rec.result(spec, {
    startedAt: 1000 + worker * 10,
    durationMs: 500 - worker * 100,
    successful,
    established: successful,
    generator: gen(over),
    aborted: false,
    sessions,
  });
}

test('mergeResults sums, re-derives phases and merges samples and generator costs', () => {
  const a = result(0, 10, 8);
  const b = result(1, 10, 5, { maxCpuPct: 95, saturated: true, peakRssBytes: 300 });
  const c = result(2, 10, 8, { maxEldMs: 40 });
  const m = mergeResults([a, b, c]);
  assert.equal(m.workers, 3);
  assert.equal(m.sessions, 30);
  assert.equal(m.successful, 21);
  assert.equal(m.failed, 9);
  assert.deepEqual(m.failures, { refused: 4, timeout: 5 });
  assert.equal(
    Object.values(m.failures).reduce((x, y) => x + y, 0),
    m.sessions - m.successful,
  );
  assert.equal(m.startedAt, 1000);
  assert.equal(m.durationMs, 500, 'from the earliest start to the latest measurement');
  const all = createHist();
  for (const w of [0, 1, 2]) for (let i = 0; i < 10; i++) record(all, 100 * (w + 1) + i);
  assert.deepEqual(m.phases.connect, summarize(all));
  assert.deepEqual(m.generator, {
    peakRssBytes: 500,
    cpuUserMs: 30,
    cpuSystemMs: 3,
    maxCpuPct: 95,
    maxEldMs: 40,
    maxFds: 45,
    saturated: true,
  });
  // Same code and detail from two workers add up; different details stay apart.
  const refused = m.errorSamples.filter((s) => s.code === 'refused');
  assert.deepEqual(refused.map((s) => [s.detail, s.count]).sort(), [
    ['w0', 2],
    ['w1', 2],
  ]);
});

test('mergeResults is associative', () => {
  const a = result(0, 10, 8);
  const b = result(1, 12, 5, { saturated: true });
  const c = result(2, 9, 9);
  const left = mergeResults([mergeResults([a, b]), c]);
  const right = mergeResults([a, mergeResults([b, c])]);
  const strip = (r: StepResult) => ({ ...r, hist: Object.keys(r.hist) });
  assert.deepEqual(strip(left), strip(right));
  assert.deepEqual(left.phases, mergeResults([a, b, c]).phases);
});
