import { test } from 'node:test';
import assert from 'node:assert/strict';
import { V, type RunInfo, type StepResult } from '../../src/contract.js';
import { JsonLogReporter } from '../../src/report/jsonlog.js';
import { Recorder } from '../../src/metrics/recorder.js';

test('one JSON line per run event, with summaries at step end', () => {
  const lines: string[] = [];
  const rep = new JsonLogReporter({ write: (s: string) => lines.push(s) }, { now: () => 42 });
  const info: RunInfo = {
    v: V,
    id: 'abc',
    command: 'capacity',
    target: 'ws://127.0.0.1:1/',
    startedAt: 1000,
    config: { points: [10] },
    host: {},
  };
  const spec = {
    v: V,
    plan: 'capacity' as const,
    index: 0,
    sessions: 10,
    connectConcurrency: 5,
    stepTimeoutMs: 1000,
    holdMs: 0,
    scenario: { http: [], connect: { transport: 'ws' as const, url: 'ws://127.0.0.1:1/' } },
  };
  const rec = new Recorder(0, 0);
  for (let i = 1; i <= 9; i++) rec.latency('connect', i * 100); // exact below 2048 µs
  rec.fail('refused', 'x');
  const result: StepResult = rec.result(spec, {
    startedAt: 2000,
    durationMs: 300,
    successful: 9,
    established: 9,
    aborted: false,
    generator: {
      peakRssBytes: 1,
      cpuUserMs: 1,
      cpuSystemMs: 1,
      maxCpuPct: 1,
      maxEldMs: 1,
      maxFds: 1,
      saturated: false,
    },
  });
  rep.runStart(info);
  rep.stepStart(spec);
  rep.interval(rec.snapshot(0, 0, { cpuPct: 0, eldP99Ms: 0, eldMaxMs: 0, rssBytes: 0, fds: 0 })); // off by default
  rep.stepEnd(result);
  rep.runEnd({
    v: V,
    info,
    steps: [result],
    verdict: { maxReliable: 9 },
    endedAt: 3000,
    interrupted: false,
    diagnosis: [],
    exitCode: 0,
  });
  assert.equal(lines.length, 4);
  assert.ok(lines.every((l) => l.endsWith('\n') && l.indexOf('\n') === l.length - 1));
  const [start, stepStart, stepEnd, end] = lines.map((l) => JSON.parse(l));
  assert.deepEqual(
    [start.event, start.time, start.id, start.target],
    ['run-start', 1000, 'abc', 'ws://127.0.0.1:1/'],
  );
  assert.deepEqual(
    [stepStart.event, stepStart.time, stepStart.step, stepStart.sessions],
    ['step-start', 42, 0, 10],
  );
  assert.equal(stepEnd.event, 'step-end');
  assert.equal(stepEnd.time, 2300);
  assert.equal(stepEnd.successful, 9);
  assert.equal(stepEnd.failed, 1);
  assert.equal(stepEnd.successRate, 0.9);
  assert.deepEqual(stepEnd.failures, { refused: 1 });
  assert.deepEqual(stepEnd.phases.connect, { count: 9, p50: 0.5, p95: 0.9, p99: 0.9, max: 0.9 });
  assert.equal(stepEnd.hist, undefined, 'no encoded histograms in log lines');
  assert.deepEqual(
    [end.event, end.time, end.exitCode, end.verdict],
    ['run-end', 3000, 0, { maxReliable: 9 }],
  );
});

test('interval lines on request', () => {
  const lines: string[] = [];
  const rep = new JsonLogReporter({ write: (s: string) => lines.push(s) }, { intervals: true });
  const rec = new Recorder(2, 1, () => 500);
  rec.inc('established', 3);
  rep.interval(rec.snapshot(3, 1, { cpuPct: 5, eldP99Ms: 1, eldMaxMs: 2, rssBytes: 10, fds: 4 }));
  const o = JSON.parse(lines[0]);
  assert.deepEqual(
    [o.event, o.time, o.step, o.worker, o.active, o.counters.established],
    ['interval', 500, 1, 2, 3, 3],
  );
});
