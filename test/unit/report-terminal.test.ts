import { test } from 'node:test';
import assert from 'node:assert/strict';
import { V, type CapacityVerdict, type LatencySummary, type StepResult } from '../../src/contract.js';
import { capacityStepLine, capacitySummary, diagnosisLines } from '../../src/report/terminal.js';

function lat(p50: number, p95: number, p99: number): LatencySummary {
  return { count: 10, min: p50 / 2, mean: p50, p50, p90: p95, p95, p99, p999: p99, max: p99 };
}

function step(
  index: number,
  sessions: number,
  successful: number,
  durationMs: number,
  over: Partial<StepResult> = {},
): StepResult {
  const failed = sessions - successful;
  return {
    v: V,
    spec: {
      v: V,
      plan: 'capacity',
      index,
      sessions,
      connectConcurrency: 200,
      stepTimeoutMs: 60000,
      holdMs: 1000,
      scenario: { http: [], connect: { transport: 'ws', url: 'ws://127.0.0.1:1/' } },
    },
    workers: 1,
    startedAt: 1_700_000_000_000,
    durationMs,
    sessions,
    established: successful,
    successful,
    failed,
    failures: failed > 0 ? { http_503: failed } : {},
    counters: {
      started: sessions,
      established: successful,
      failed,
      closedEarly: 0,
      msgsSent: 0,
      msgsRecv: 0,
      bytesSent: 0,
      bytesRecv: 0,
      heartbeats: 0,
    },
    hist: {},
    phases: { connect: lat(0.4, 1.2, 2.5), 'http:token': lat(3, 8.25, 12), upgrade: lat(1.1, 2, 4) },
    errorSamples:
      failed > 0 ? [{ code: 'http_503', detail: 'Unexpected server response: 503', count: failed }] : [],
    generator: {
      peakRssBytes: 1e8,
      cpuUserMs: 100,
      cpuSystemMs: 10,
      maxCpuPct: 40,
      maxEldMs: 5,
      maxFds: 100,
      saturated: false,
    },
    aborted: false,
    ...over,
  };
}

function verdict(
  steps: StepResult[],
  threshold: number,
  over: Partial<CapacityVerdict> = {},
): CapacityVerdict {
  const points = steps.map((r, i) => ({
    sessions: r.sessions,
    successful: r.successful,
    rate: r.successful / r.sessions,
    passed: r.successful / r.sessions >= threshold,
    refinement: false,
    ...(over.points?.[i] ?? {}),
  }));
  return {
    threshold,
    safetyFactor: 0.8,
    maxReliable: null,
    firstFailing: null,
    safeLimit: null,
    refined: false,
    ...over,
    points,
  };
}

test('capacityStepLine matches the users format byte for byte', () => {
  assert.equal(
    capacityStepLine(step(0, 50, 48, 5670), true),
    '✓    50 sessions:    48 successful ( 96.0%) in 5.67s',
  );
  assert.equal(
    capacityStepLine(step(1, 10, 10, 45), true),
    '✓    10 sessions:    10 successful (100.0%) in 0.05s',
  );
  assert.equal(
    capacityStepLine(step(2, 5000, 812, 61234), false),
    '✗  5000 sessions:   812 successful ( 16.2%) in 61.23s',
  );
  assert.equal(
    capacityStepLine(step(3, 200, 0, 100, { aborted: true }), false),
    '✗   200 sessions:     0 successful (  0.0%) in 0.10s  (interrupted)',
  );
});

test('colour only when asked', () => {
  assert.doesNotMatch(capacityStepLine(step(0, 50, 48, 5670), true), /\x1b\[/);
  assert.match(capacityStepLine(step(0, 50, 48, 5670), true, { color: true }), /\x1b\[32m✓\x1b\[39m/);
  const steps = [step(0, 10, 10, 100)];
  const v = verdict(steps, 0.8, { maxReliable: 10, safeLimit: 8 });
  assert.doesNotMatch(capacitySummary(v, steps, { target: 'ws://x/' }), /\x1b\[/);
  assert.match(capacitySummary(v, steps, { target: 'ws://x/', color: true }), /\x1b\[/);
});

test('summary of a passing run with a failing point: numbers to act on, failures, timings', () => {
  const steps = [step(0, 50, 50, 500), step(1, 200, 200, 2000), step(2, 500, 300, 9000)];
  const v = verdict(steps, 0.8, {
    maxReliable: 200,
    firstFailing: 500,
    safeLimit: 160,
    targetConnections: 10000,
    tasksNeeded: 6,
  });
  const text = capacitySummary(v, steps, { target: 'ws://127.0.0.1:8080/ws' });
  const lines = text.split('\n');
  assert.match(lines[0], /ws:\/\/127\.0\.0\.1:8080\/ws/);
  assert.match(lines[0], /80%/);
  assert.equal(lines[1], '✓    50 sessions:    50 successful (100.0%) in 0.50s');
  assert.equal(lines[2], '✓   200 sessions:   200 successful (100.0%) in 2.00s');
  assert.equal(lines[3], '✗   500 sessions:   300 successful ( 60.0%) in 9.00s');
  assert.ok(lines.includes('Maximum reliable connections: ~200'));
  assert.ok(lines.includes('Recommendation: Use 160 as safe limit'));
  assert.ok(lines.includes('For 10,000 connections: 6 tasks of this capacity (20% buffer)'));
  assert.ok(lines.includes('First failing point: 500 sessions'));
  // Failures by class, for the step that had them only.
  const f = lines.indexOf('Failures at 500 sessions:');
  assert.ok(f > 0);
  assert.equal(lines[f + 1], '  http_503: 200  (Unexpected server response: 503)');
  assert.ok(!text.includes('Failures at 200 sessions'));
  // Phase timings of the step that set the maximum: HTTP steps first, then connection phases.
  const t = lines.indexOf('Phase timings at 200 sessions (ms):');
  assert.ok(t > f);
  assert.deepEqual(lines[t + 1].trim().split(/\s+/), ['phase', 'p50', 'p95', 'p99']);
  assert.deepEqual(lines[t + 2].trim().split(/\s+/), ['http:token', '3.00', '8.25', '12.00']);
  assert.deepEqual(lines[t + 3].trim().split(/\s+/), ['connect', '0.40', '1.20', '2.50']);
  assert.deepEqual(lines[t + 4].trim().split(/\s+/), ['upgrade', '1.10', '2.00', '4.00']);
  assert.ok(!/generator, not the target/.test(text));
});

test('summary when every point passed says the limit is higher', () => {
  const steps = [step(0, 10, 10, 100), step(1, 50, 50, 300)];
  const v = verdict(steps, 0.8, { maxReliable: 50, safeLimit: 40 });
  const text = capacitySummary(v, steps, { target: 't' });
  assert.match(text, /Every point passed: the limit is above 50/);
  assert.ok(!text.includes('Failures at'));
});

test('summary when no point passed says so and recommends nothing', () => {
  const steps = [step(0, 10, 2, 60000)];
  const v = verdict(steps, 0.8, { firstFailing: null, targetConnections: 5000 });
  const text = capacitySummary(v, steps, { target: 't' });
  assert.match(text, /^✗    10 sessions:     2 successful \( 20\.0%\) in 60\.00s$/m);
  assert.match(
    text,
    /No reliable capacity: no test point reached 80% successful sessions \(not even 10 sessions\)\./,
  );
  assert.doesNotMatch(text, /Recommendation|Maximum reliable/);
  assert.match(text, /For 5,000 connections: no estimate without a passing point/);
  assert.match(text, /Phase timings at 10 sessions/, 'timings of the last step when none passed');
});

test('refinement steps are marked', () => {
  const steps = [step(0, 100, 100, 1), step(1, 200, 100, 1), step(2, 150, 150, 1), step(3, 175, 120, 1)];
  const v = verdict(steps, 0.8, {
    maxReliable: 150,
    firstFailing: 175,
    safeLimit: 120,
    refined: true,
    points: [{}, {}, { refinement: true }, { refinement: true }] as CapacityVerdict['points'],
  });
  const lines = capacitySummary(v, steps, { target: 't' }).split('\n');
  assert.equal(lines[1], '✓   100 sessions:   100 successful (100.0%) in 0.00s');
  assert.equal(lines[3], '✓   150 sessions:   150 successful (100.0%) in 0.00s  [refinement]');
  assert.equal(lines[4], '✗   175 sessions:   120 successful ( 68.6%) in 0.00s  [refinement]');
  assert.ok(lines.includes('First failing point: 175 sessions (refined by bisection)'));
});

test('generator-side failures and saturation produce a warning with what to do', () => {
  const steps = [
    step(0, 1000, 1000, 1),
    step(1, 30000, 28000, 1, { failures: { ports_exhausted: 1900, timeout: 100 } }),
  ];
  const v = verdict(steps, 0.8, { maxReliable: 28000, safeLimit: 22400 });
  const text = capacitySummary(v, steps, { target: 't' });
  assert.match(text, /Warning: the load generator, not the target, was the limit/);
  assert.match(text, /at 30000 sessions: ports_exhausted 1900$/m);
  // The advice follows the cause: ports call for source addresses, not for more files or CPU.
  assert.match(text, /--local-address/);
  assert.doesNotMatch(text, /ulimit -n/);
  assert.doesNotMatch(text, /CPU of its own/);

  const sat = [
    step(0, 5000, 4000, 1, {
      generator: { ...step(0, 1, 1, 1).generator, saturated: true, maxCpuPct: 99.6, maxEldMs: 1500 },
    }),
  ];
  const t2 = capacitySummary(verdict(sat, 0.8, { maxReliable: 4000, safeLimit: 3200 }), sat, { target: 't' });
  assert.match(
    t2,
    /at 5000 sessions: generator saturated \(CPU up to 100%, event-loop delay up to 1500 ms\)/,
  );
  assert.match(t2, /give the generator a CPU of its own/);
  assert.doesNotMatch(t2, /--local-address|ulimit/);

  const fds = [step(0, 25000, 19900, 1, { failures: { fds_exhausted: 5100 } })];
  const t4 = capacitySummary(verdict(fds, 0.8, { maxReliable: null, safeLimit: null }), fds, { target: 't' });
  assert.match(t4, /ulimit -n 100000/);
  assert.doesNotMatch(t4, /--local-address/);

  const fine = [step(0, 10, 10, 1)];
  const t3 = capacitySummary(verdict(fine, 0.8, { maxReliable: 10, safeLimit: 8 }), fine, { target: 't' });
  assert.doesNotMatch(t3, /Warning/);
});

test('diagnosisLines', () => {
  assert.equal(diagnosisLines([]), '');
  assert.equal(diagnosisLines(['a.', 'b.']), 'Diagnosis:\n  - a.\n  - b.');
});
