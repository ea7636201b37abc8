import { test } from 'node:test';
import assert from 'node:assert/strict';
import { V, type StepResult } from '../../src/contract.js';
import { UserError } from '../../src/errors.js';
import { EmfReporter } from '../../src/report/emf.js';

const connect = { count: 48, min: 0.2, mean: 0.5, p50: 0.4, p90: 0.9, p95: 1.25, p99: 2.5, p999: 3, max: 3 };

function result(withConnect: boolean): StepResult {
  return {
    v: V,
    spec: {
      v: V,
      plan: 'capacity',
      index: 3,
      sessions: 50,
      connectConcurrency: 10,
      stepTimeoutMs: 1000,
      holdMs: 0,
      scenario: { http: [], connect: { transport: 'ws', url: 'ws://127.0.0.1:1/' } },
    },
    workers: 1,
    startedAt: 1_700_000_000_000,
    durationMs: 5670,
    sessions: 50,
    established: 49,
    successful: 48,
    failed: 2,
    failures: { http_503: 1, timeout: 1 },
    counters: {
      started: 50,
      established: 49,
      failed: 2,
      closedEarly: 0,
      msgsSent: 0,
      msgsRecv: 0,
      bytesSent: 0,
      bytesRecv: 0,
      heartbeats: 0,
    },
    hist: {},
    phases: withConnect ? { connect } : {},
    errorSamples: [],
    generator: {
      peakRssBytes: 1,
      cpuUserMs: 1,
      cpuSystemMs: 1,
      maxCpuPct: 1,
      maxEldMs: 1,
      maxFds: 1,
      saturated: false,
    },
    aborted: false,
  };
}

function run(o: ConstructorParameters<typeof EmfReporter>[1], r: StepResult) {
  const lines: string[] = [];
  const rep = new EmfReporter({ write: (s: string) => lines.push(s) }, o);
  rep.runStart?.({ v: V, id: 'run-1', command: 'capacity', target: 't', startedAt: 0, config: {}, host: {} });
  rep.stepEnd(r);
  assert.equal(lines.length, 1);
  assert.ok(lines[0].endsWith('\n'));
  assert.equal(lines[0].indexOf('\n'), lines[0].length - 1, 'exactly one line');
  return JSON.parse(lines[0]) as Record<string, any>;
}

test('one EMF document per step, following the specification', () => {
  const doc = run(
    { namespace: 'holdline-test', dimensions: { Command: 'capacity', Service: 'chat' } },
    result(true),
  );
  const aws = doc._aws;
  assert.equal(aws.Timestamp, 1_700_000_000_000 + 5670);
  assert.equal(aws.CloudWatchMetrics.length, 1);
  const d = aws.CloudWatchMetrics[0];
  assert.deepEqual(Object.keys(d).sort(), ['Dimensions', 'Metrics', 'Namespace']);
  assert.equal(d.Namespace, 'holdline-test');
  assert.deepEqual(d.Dimensions, [['Command', 'Service', 'Step']]);
  // Every dimension is a root member holding a string.
  for (const name of d.Dimensions[0]) assert.equal(typeof doc[name], 'string', name);
  assert.deepEqual([doc.Command, doc.Service, doc.Step], ['capacity', 'chat', '3']);
  assert.deepEqual(d.Metrics, [
    { Name: 'Sessions', Unit: 'Count' },
    { Name: 'Successful', Unit: 'Count' },
    { Name: 'SuccessRate', Unit: 'Percent' },
    { Name: 'Failed', Unit: 'Count' },
    { Name: 'ConnectP50', Unit: 'Milliseconds' },
    { Name: 'ConnectP95', Unit: 'Milliseconds' },
    { Name: 'ConnectP99', Unit: 'Milliseconds' },
  ]);
  // Every metric is a root member holding a number.
  for (const m of d.Metrics) assert.equal(typeof doc[m.Name], 'number', m.Name);
  assert.equal(doc.Sessions, 50);
  assert.equal(doc.Successful, 48);
  assert.equal(doc.SuccessRate, 96);
  assert.equal(doc.Failed, 2);
  assert.deepEqual([doc.ConnectP50, doc.ConnectP95, doc.ConnectP99], [0.4, 1.25, 2.5]);
  assert.deepEqual(doc.Failures, { http_503: 1, timeout: 1 });
  assert.equal(doc.RunId, 'run-1');
});

test('defaults, and no connect metrics without connect timings', () => {
  const doc = run({}, result(false));
  const d = doc._aws.CloudWatchMetrics[0];
  assert.equal(d.Namespace, 'holdline');
  assert.deepEqual(d.Dimensions, [['Step']]);
  assert.deepEqual(
    d.Metrics.map((m: { Name: string }) => m.Name),
    ['Sessions', 'Successful', 'SuccessRate', 'Failed'],
  );
  assert.equal(doc.ConnectP50, undefined);
});

test('dimension names that would clash or exceed the limit are refused', () => {
  const out = { write: () => true };
  assert.throws(() => new EmfReporter(out, { dimensions: { Sessions: 'x' } }), UserError);
  const many: Record<string, string> = {};
  for (let i = 0; i < 30; i++) many[`D${i}`] = 'v';
  assert.throws(() => new EmfReporter(out, { dimensions: many }), UserError);
});

test('sustained runs: one EMF line per interval with the open-connection gauge', () => {
  const lines: string[] = [];
  const r = new EmfReporter(
    { write: (s: string) => lines.push(s) },
    { dimensions: { Command: 'sustain' }, intervals: true },
  );
  r.stepStart?.({ sessions: 500 } as never);
  r.interval?.({
    v: 1,
    worker: 0,
    step: 2,
    t0: 1000,
    t1: 2000,
    active: 480,
    pending: 0,
    counters: {
      started: 0,
      established: 0,
      failed: 0,
      closedEarly: 3,
      msgsSent: 0,
      msgsRecv: 0,
      bytesSent: 0,
      bytesRecv: 0,
      heartbeats: 17,
    },
    failures: {},
    hist: {},
    health: { cpuPct: 1, eldP99Ms: 1, eldMaxMs: 1, rssBytes: 1, fds: 1 },
  });
  assert.equal(lines.length, 1);
  const doc = JSON.parse(lines[0]);
  assert.equal(doc.ActiveConnections, 480);
  assert.equal(doc.ClosedEarly, 3);
  assert.equal(doc.Step, '2');
  assert.equal(doc._aws.Timestamp, 2000);
  assert.deepEqual(doc._aws.CloudWatchMetrics[0].Dimensions, [['Command', 'Step']]);
  assert.deepEqual(
    doc._aws.CloudWatchMetrics[0].Metrics.map((m: { Name: string }) => m.Name),
    ['ActiveConnections', 'ClosedEarly', 'Heartbeats'],
  );
});
