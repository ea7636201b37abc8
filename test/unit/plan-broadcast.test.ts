import { test } from 'node:test';
import assert from 'node:assert/strict';
import { V, type IntervalSnapshot, type StepResult } from '../../src/contract.js';
import { counters, stepResult } from '../helpers/steps.js';
import { createHist, decode, encode, record } from '../../src/metrics/histogram.js';
import {
  BroadcastPlan,
  CODE_ALPHABET,
  combineFindings,
  gradeBroadcast,
  makeCodes,
  scheduleOffsets,
  type BroadcastFindings,
  type BroadcastSettings,
  type BroadcastThresholds,
} from '../../src/plans/broadcast.js';
import { BroadcastProgress, broadcastSummary } from '../../src/report/broadcast-text.js';

const SETTINGS: BroadcastSettings = {
  codes: ['HLAAAAAAAAAA', 'HLBBBBBBBBBB', 'HLCCCCCCCCCC', 'HLDDDDDDDDDD'],
  codePrefix: 'HL',
  codeAlphabet: CODE_ALPHABET,
  durationMs: 4000,
  collectMs: 1000,
  publish: { http: [], method: 'POST', url: 'http://x/p', headers: {}, body: '{}', timeoutMs: 5000 },
  match: { kind: 'substring' },
  listLimit: 100,
};
const T: BroadcastThresholds = { failOn: 'issues' };

function findings(p: Partial<BroadcastFindings> = {}): BroadcastFindings {
  const n = SETTINGS.codes.length;
  return {
    v: 1,
    worker: 0,
    clients: 100,
    firstClient: 0,
    holdStartMs: 500,
    scheduledMs: scheduleOffsets(n, SETTINGS.durationMs),
    publishedAtMs: [500, 1500, 2500, 3500],
    publish: SETTINGS.codes.map(() => ({ ok: true, status: 'ok', detail: '', ms: 2, lagMs: 0 })),
    connectedAtPublish: [100, 100, 100, 100],
    received: [100, 100, 100, 100],
    late: [0, 0, 0, 0],
    firstMs: [1, 1, 1, 1],
    lastMs: [3, 4, 5, 6],
    duplicates: 0,
    unknown: 0,
    unknownSamples: [],
    otherMessages: 0,
    missed: [],
    missedClients: 0,
    missedPairs: 0,
    drops: [],
    dropCount: 0,
    reconnects: 0,
    collectMs: 10,
    endedEarly: true,
    ...p,
  };
}

function step(f: BroadcastFindings | BroadcastFindings[], p: Partial<StepResult> = {}): StepResult {
  const plan = new BroadcastPlan({
    sessions: 100,
    connectConcurrency: 20,
    stepTimeoutMs: 60_000,
    scenario: { http: [], connect: { transport: 'sse', url: 'http://x/e' } },
    settings: SETTINGS,
    thresholds: T,
  });
  return stepResult(plan.first(), {
    durationMs: 800,
    phases: {
      delivery: { count: 400, min: 0.5, mean: 2, p50: 2, p90: 3, p95: 3.5, p99: 4, p999: 6, max: 6 },
    },
    earlyCloses: [],
    ext: { broadcast: f },
    ...p,
  });
}

test('codes: unique, prefixed, from the unambiguous alphabet, even when the random source repeats', () => {
  let draw = 0;
  // A source that gives every value twice in a row: duplicates must be drawn again.
  const rnd = (n: number): Uint8Array => {
    const v = Math.floor(draw++ / 2);
    return Uint8Array.from({ length: n }, (_, j) => (v >> (5 * j)) & 31);
  };
  const codes = makeCodes(50, 'HL', rnd);
  assert.equal(draw, 99, 'each duplicate was drawn again');
  assert.equal(codes.length, 50);
  assert.equal(new Set(codes).size, 50);
  for (const c of codes) assert.match(c, /^HL[0-9A-HJKMNP-TV-Z]{10}$/);
  assert.equal(CODE_ALPHABET.length, 32);
  assert.doesNotMatch(CODE_ALPHABET, /[ILOU]/);
});

test('schedule: the middle of n equal slots of the duration', () => {
  assert.deepEqual(scheduleOffsets(4, 4000), [500, 1500, 2500, 3500]);
  assert.deepEqual(scheduleOffsets(1, 60_000), [30_000]);
});

test('one step whose hold covers publishing, publish timeout and collect window; then done', () => {
  const r = step(findings());
  assert.equal(r.spec.plan, 'broadcast');
  assert.equal(r.spec.holdMs, 4000 + 5000 + 1000 + 5000);
  assert.deepEqual(r.spec.ext, { broadcast: SETTINGS });
  const plan = new BroadcastPlan({
    sessions: 1,
    connectConcurrency: 1,
    stepTimeoutMs: 1,
    scenario: r.spec.scenario,
    settings: SETTINGS,
    thresholds: T,
  });
  assert.equal(plan.next(), null);
});

test('GOOD: >95% connected, every code to every client, <1% errors', () => {
  const v = gradeBroadcast(step(findings()), SETTINGS, T);
  assert.equal(v.grade, 'good');
  assert.equal(v.expected, 400);
  assert.equal(v.received, 400);
  assert.equal(v.deliveryRate, 1);
  assert.equal(v.errorRate, 0);
  assert.deepEqual(
    v.reasons.map((r) => r.grade),
    ['good', 'good', 'good'],
  );
  assert.deepEqual(v.spread, { p50Ms: 3, maxMs: 5 });
  assert.equal(v.passed, true);
  const text = broadcastSummary(v, step(findings()), { target: 'T' });
  assert.match(text, /Verdict: GOOD\n {2}✓ connected 100\/100 clients \(100\.0%\): above 95%/);
});

test('WARNING: some codes missing; exact rate; the missed pairs as listed', () => {
  const f = findings({
    received: [100, 98, 100, 99],
    missed: [
      { client: 5, codes: [1] },
      { client: 9, codes: [1, 3] },
    ],
    missedClients: 2,
    missedPairs: 3,
  });
  const v = gradeBroadcast(step(f), SETTINGS, T);
  assert.equal(v.grade, 'warning');
  assert.equal(v.missing, 3);
  assert.equal(v.deliveryRate, 397 / 400);
  assert.equal(v.reasons[1].text, '3 of 400 deliveries missing (99.3% delivered)');
  assert.deepEqual(
    v.perCode.map((c) => c.missing),
    [0, 2, 0, 1],
  );
  const text = broadcastSummary(v, step(f), { target: 'T' });
  assert.match(text, /client 9: #2 HLBBBBBBBBBB, #4 HLDDDDDDDDDD/);
});

test('WARNING at 80–95% connected; ISSUES below 80%, below 90% delivered, or frequent errors', () => {
  const at = (established: number): string =>
    gradeBroadcast(step(findings(), { established }), SETTINGS, T).grade;
  assert.equal(at(96), 'warning', '4 failed connections are 3.8% errors');
  assert.equal(at(90), 'issues', '10 failed connections are 9.6% errors');
  const f = findings({ received: [80, 80, 80, 80] });
  assert.equal(gradeBroadcast(step(f), SETTINGS, T).grade, 'issues');
  const c = gradeBroadcast(step(findings(), { established: 79 }), SETTINGS, T);
  assert.equal(c.grade, 'issues');
  assert.equal(c.reasons[0].text, 'connected 79/100 clients (79.0%): below 80%');
  const w = gradeBroadcast(step(findings(), { sessions: 1000, established: 900 }), SETTINGS, T);
  assert.equal(w.reasons[0].grade, 'warning');
});

test('a failed publish is an error, not a missing delivery; its receipts do not count', () => {
  const f = findings({
    publish: [
      { ok: true, status: 'ok', detail: '', ms: 2, lagMs: 0 },
      { ok: false, status: 'step_publish_500', detail: 'boom', ms: 2, lagMs: 0 },
      { ok: true, status: 'ok', detail: '', ms: 2, lagMs: 0 },
      { ok: true, status: 'ok', detail: '', ms: 2, lagMs: 0 },
    ],
    received: [100, 3, 100, 100],
  });
  const v = gradeBroadcast(step(f), SETTINGS, T);
  assert.equal(v.published, 3);
  assert.equal(v.publishFailed, 1);
  assert.equal(v.expected, 300);
  assert.equal(v.received, 300);
  assert.equal(v.errors, 1);
  assert.equal(v.perCode[1].status, 'step_publish_500');
  assert.equal(v.perCode[1].missing, 0);
});

test('drops: final losses from the engine and reopened streams, in time order, counted as errors', () => {
  const f = findings({
    drops: [{ client: 3, atMs: 2000, reason: 'closed_1006', reconnected: true }],
    dropCount: 1,
    reconnects: 1,
  });
  const r = step(f, {
    earlyCloses: [
      { session: 8, atMs: 1500, ageMs: 1000, idleMs: 1000, code: 'reset', closeCode: 1006, reason: '' },
    ],
  });
  const v = gradeBroadcast(r, SETTINGS, T);
  assert.deepEqual(
    v.drops.map((d) => [d.client, d.reason, d.reconnected]),
    [
      [8, 'reset', false],
      [3, 'closed_1006', true],
    ],
  );
  assert.equal(v.dropCount, 2);
  assert.equal(v.errors, 2);
  assert.equal(v.grade, 'warning', '2 errors of 104 operations');
});

test('thresholds: each unmet one is named; --fail-on warning and never', () => {
  const f = findings({ received: [100, 99, 100, 100] });
  const t: BroadcastThresholds = {
    minDelivery: 0.999,
    minConnected: 0.99,
    maxErrorRate: 0.001,
    maxP99Ms: 3,
    failOn: 'warning',
  };
  const v = gradeBroadcast(step(f, { established: 99 }), SETTINGS, t);
  assert.deepEqual(v.failed, [
    'delivery 99.8% is below --min-delivery 99.9%',
    'error rate 1.0% is above --max-error-rate 0.1%',
    'delivery p99 4 ms is above --max-p99 3 ms',
    'the verdict is warning (--fail-on warning)',
  ]);
  assert.equal(v.passed, false);
  const lenient = gradeBroadcast(step(f), SETTINGS, { failOn: 'never' });
  assert.equal(lenient.grade, 'warning');
  assert.equal(lenient.passed, true);
  const issues = gradeBroadcast(step(findings({ received: [0, 0, 0, 0] })), SETTINGS, { failOn: 'never' });
  assert.equal(issues.grade, 'issues');
  assert.equal(issues.passed, true, 'never: only thresholds fail the run');
});

test('findings of several workers combine: sums per code, earliest first, latest last', () => {
  const a = findings({ clients: 50, connectedAtPublish: [50, 50, 50, 50], received: [50, 49, 50, 50] });
  const b = findings({
    worker: 1,
    clients: 50,
    firstClient: 50,
    publish: null,
    connectedAtPublish: [50, 50, 50, 40],
    received: [50, 50, 50, 40],
    firstMs: [0.5, 2, 2, 2],
    lastMs: [9, 1, 1, 1],
    missed: [{ client: 60, codes: [0] }],
    missedClients: 1,
    missedPairs: 1,
  });
  const c = combineFindings([a, b], 4);
  assert.deepEqual(c.connectedAtPublish, [100, 100, 100, 90]);
  assert.deepEqual(c.received, [100, 99, 100, 90]);
  assert.deepEqual(c.firstMs, [0.5, 1, 1, 1]);
  assert.deepEqual(c.lastMs, [9, 4, 5, 6]);
  assert.equal(c.publish, a.publish);
  assert.equal(c.clients, 100);
  const v = gradeBroadcast(step([a, b]), SETTINGS, T);
  assert.equal(v.expected, 390);
  assert.equal(v.received, 389);
});

test('progress: connected, codes sent, receipts and errors add up over snapshots (TTY only)', () => {
  let text = '';
  const p = new BroadcastProgress({
    out: { write: (s: string) => (text += s), isTTY: true },
    isTTY: true,
    count: (h) => decode(h).totalCount,
  });
  const hist = (n: number): string => {
    const h = createHist();
    for (let i = 0; i < n; i++) record(h, 1000 + i);
    return encode(h);
  };
  const snap = (established: number, failed: number, sent: number, receipts: number): IntervalSnapshot => {
    return {
      v: V,
      worker: 0,
      step: 0,
      t0: 1000,
      t1: 2000,
      active: 0,
      pending: 0,
      counters: counters({ established, failed }),
      failures: {},
      hist: {
        ...(sent ? { publish_lag: hist(sent) } : {}),
        ...(receipts ? { delivery: hist(receipts) } : {}),
      },
      health: { cpuPct: 0, eldP99Ms: 0, eldMaxMs: 0, rssBytes: 0, fds: 0 },
    };
  };
  p.stepStart(step(findings()).spec);
  p.interval(snap(60, 1, 0, 0));
  p.interval({ ...snap(39, 0, 2, 150), active: 99 });
  assert.match(text, /connected 99\/100 · codes sent 2\/4 · receipts 150 · errors 1 · 1\.0s\x1b\[K$/);
  p.runEnd();
  assert.ok(text.endsWith('\r\x1b[K'), 'the line is cleared at the end');
});
