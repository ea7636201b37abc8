import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { V, type StepResult } from '../../src/contract.js';
import { MessageLedger, Receipt } from '../../src/engine/load-ledger.js';
import { Members } from '../../src/engine/load-members.js';
import { SendSchedule } from '../../src/engine/load-schedule.js';
import {
  groupIndex,
  groupName,
  groupOf,
  membersOf,
  usedGroups,
  type LoadFindings,
  type LoadSettings,
} from '../../src/engine/load-model.js';
import { parseChatProtocol } from '../../src/engine/load-chat-file.js';
import { messageId, parseMessageId, referenceProtocol } from '../../src/engine/load-protocol.js';
import { Payloads } from '../../src/engine/load-payload.js';
import { LOAD_CRITERIA, LoadPlan, judge } from '../../src/plans/load.js';
import { loadSummary } from '../../src/report/load-text.js';
import { parseRate } from '../../src/cli/commands/load.js';
import { parseSize } from '../../src/cli/parse.js';

// ------------------------------------------------------------------ membership

test('memberships: every used group has at least 2 members, sizes differ by at most one', () => {
  for (const [n, k, g] of [
    [5000, 1, 50_000],
    [5000, 10, 50_000],
    [20, 1, 30],
    [7, 3, 4],
    [100, 1, 1],
    [2, 5, 10],
    [3, 1, 1000],
  ]) {
    const u = usedGroups(n, k, g);
    assert.ok(u >= 1 && u <= g);
    const sizes = new Array<number>(u).fill(0);
    for (let i = 0; i < n; i++) {
      const mine = new Set<number>();
      for (let j = 0; j < k; j++) mine.add(groupOf(i, j, k, u));
      assert.equal(mine.size, k, `connection ${i} joins ${k} distinct groups`);
      for (const x of mine) sizes[x]++;
    }
    const min = Math.min(...sizes);
    const max = Math.max(...sizes);
    assert.ok(min >= 2, `N=${n} k=${k} G=${g}: smallest group has ${min}`);
    assert.ok(max - min <= 1);
    for (let x = 0; x < u; x++) assert.equal(membersOf(x, n, k, u), sizes[x]);
  }
  assert.equal(usedGroups(5000, 1, 50_000), 2500, '5,000 connections in pairs');
  assert.equal(usedGroups(5000, 10, 50_000), 25_000);
  assert.equal(usedGroups(5000, 1, 100), 100, 'few groups: all used, 50 members each');
});

test('group names and message ids round-trip', () => {
  assert.equal(groupName('load', 17), 'load-17');
  assert.equal(groupIndex('load', 'load-17'), 17);
  assert.equal(groupIndex('load', 'load-'), -1);
  assert.equal(groupIndex('load', 'loads-1'), -1);
  assert.equal(groupIndex('load', 'load-01'), -1);
  assert.equal(parseMessageId(messageId(3, 42), 3), 42);
  assert.equal(parseMessageId(messageId(2, 42), 3), -1, "another worker's message");
  assert.ok(Number.isNaN(parseMessageId('hello', 0)));
});

// ------------------------------------------------------------------ the ledger

test('ledger: on time, late, missing, duplicates and extras add up', () => {
  const L = new MessageLedger(100, 16);
  const a = L.add(0, 2); // two recipients
  const b = L.add(10, 1);
  const c = L.add(20, 0); // nobody else in the group
  const d = L.add(30, 1);
  assert.deepEqual([a, b, c, d], [0, 1, 2, 3]);
  assert.equal(L.receive(a, 5), Receipt.OnTime);
  assert.equal(L.lastLatencyMs, 5);
  assert.equal(L.receive(a, 50), Receipt.OnTime); // a complete
  assert.equal(L.receive(a, 60), Receipt.Duplicate);
  assert.equal(L.receive(c, 25), Receipt.Extra);
  assert.equal(L.receive(99, 25), Receipt.Foreign);
  L.sweep(115); // b's deadline (110) passed; d's (130) not
  assert.equal(L.failed, 1);
  assert.equal(L.pending, 1);
  assert.equal(L.receive(b, 150), Receipt.Late);
  assert.equal(L.lastLatencyMs, 140);
  assert.equal(L.receive(d, 140), Receipt.Late, 'past the deadline before the sweep ran');
  assert.equal(L.pending, 0);
  assert.equal(L.delivered, 1);
  assert.equal(L.failed, 2);
  assert.equal(L.noRecipients, 1);
  assert.equal(L.expectedDeliveries, 4);
  assert.equal(L.onTime + L.late + L.missing, L.expectedDeliveries);
  assert.equal(L.missing, 0);
  assert.equal(L.received, L.onTime + L.late + L.duplicate + L.extra + L.stale + L.foreign);
  assert.equal(L.received, 7);
});

test('ledger: grows past its first capacity, sweeps in order, abandons what is pending', () => {
  const L = new MessageLedger(1000, 16);
  for (let i = 0; i < 100; i++) L.add(i, 1);
  for (let i = 0; i < 100; i += 2) assert.equal(L.receive(i, i + 1), Receipt.OnTime);
  L.sweep(1050); // messages 0..49 (intended < 50) are past their deadline
  assert.equal(L.failed, 25);
  assert.equal(L.missing, 25);
  L.abandon();
  assert.equal(L.unresolved, 25);
  assert.equal(L.delivered + L.failed + L.noRecipients + L.unresolved, 100);
  assert.equal(L.onTime + L.late + L.missing, L.expectedDeliveries);
  assert.equal(L.receive(99, 2000), Receipt.Stale, 'unresolved: cannot be judged');
});

// ------------------------------------------------------------------ members and the schedule

test('members: counted from the acknowledged join until lost; senders round-robin', () => {
  // 4 sessions (global 10..13) of 8, 1 group each, 4 used groups: session i is in group i mod 4.
  const m = new Members(4, 10, 1, 4, 'load');
  for (const idx of [10, 11, 12]) {
    m.opened(idx);
    m.joinSent(idx, 0, true);
  }
  assert.equal(m.pendingJoins, 3);
  assert.equal(m.nextSender(), -1, 'nobody joined yet');
  m.ack(10, 'load-2'); // session 10 is in group 10 mod 4 = 2
  m.ack(11, 'load-3');
  m.ack(12, 'load-1'); // not its group (12 mod 4 = 0): ignored
  assert.equal(m.joinsAcked, 3);
  assert.equal(m.pendingJoins, 1);
  assert.equal(m.liveIn(2), 1);
  assert.equal(m.senders, 2);
  assert.deepEqual([m.nextSender(), m.nextSender(), m.nextSender()], [0, 1, 0]);
  assert.equal(m.nextGroup(1), 3);
  assert.equal(m.lose(10), true);
  assert.equal(m.lose(10), false, 'only once');
  assert.equal(m.liveIn(2), 0);
  assert.equal(m.senders, 1);
  assert.equal(m.lose(12), true);
  assert.equal(m.pendingJoins, 0, "a lost session's unacknowledged joins are not waited for");
  const fifo = new Members(1, 0, 3, 6, 'load');
  fifo.opened(0);
  for (let j = 0; j < 3; j++) fifo.joinSent(0, j, true);
  fifo.ack(0, null);
  fifo.ack(0, null);
  assert.deepEqual(
    [fifo.liveIn(0), fifo.liveIn(1), fifo.liveIn(2)],
    [1, 1, 0],
    'acks without a group, in order',
  );
  const noAck = new Members(1, 0, 2, 4, 'load');
  noAck.opened(0);
  noAck.joinSent(0, 0, false);
  assert.equal(noAck.liveIn(0), 1, 'no acknowledgement in the protocol: joined once sent');
});

test('schedule: absolute due times; what was due and never taken is counted', () => {
  const s = new SendSchedule(100, 1, 2); // 2 workers at 100/s: this one every 20 ms, offset 10 ms
  s.start(1000, 100);
  assert.equal(s.nextDue(), 1010);
  assert.equal(s.take(1012), 1010);
  assert.equal(s.nextDue(), 1030, 'a late send does not move the next one');
  assert.equal(s.take(1030), 1030);
  assert.equal(s.stop(1065), 1, 'due at 1050, never taken');
  assert.equal(s.taken, 3);
  assert.equal(s.lagSummary().maxMs, 2);
  const done = new SendSchedule(100, 0, 1);
  done.start(0, 30);
  for (let k = 0; k < 3; k++) done.take(done.nextDue());
  assert.equal(done.nextDue(), Infinity, 'over after duration × rate messages');
});

// ------------------------------------------------------------------ payloads

test('payloads: exact size, JSON-safe text, different per message, deterministic', () => {
  const p = new Payloads(5000);
  const a = p.get(0);
  const b = p.get(1);
  assert.equal(a.length, 5000);
  assert.equal(b.length, 5000);
  assert.notEqual(a, b);
  assert.equal(new Payloads(5000).get(1), b);
  assert.match(a, /^[A-Za-z ,.?!]+$/);
  assert.equal(JSON.parse(`"${a}"`), a);
  assert.equal(new Payloads(0).get(5), '');
  assert.equal(new Payloads(64).get(123_456_789).length, 64);
});

// ------------------------------------------------------------------ chat protocol files

const EXAMPLES = fileURLToPath(new URL('../../../examples/', import.meta.url));

test('chat files: the reference example equals the built-in protocol; the action example parses', () => {
  const ref = parseChatProtocol(parseYaml(readFileSync(`${EXAMPLES}load-reference.yaml`, 'utf8')), 'x');
  assert.ok(ref.ok, JSON.stringify(!ref.ok && ref.problems));
  assert.deepEqual(ref.protocol, referenceProtocol());
  const act = parseChatProtocol(parseYaml(readFileSync(`${EXAMPLES}load-action-chat.yaml`, 'utf8')), 'x');
  assert.ok(act.ok, JSON.stringify(!act.ok && act.problems));
  assert.equal(act.protocol.join.ack, undefined);
  assert.deepEqual(act.protocol.create?.exists, [409]);
  assert.equal(act.protocol.message.receive.id, 'message.messageId');
});

test('chat files: every problem is reported with its path', () => {
  const r = parseChatProtocol(
    {
      setup: [{ name: 'token', request: 'FETCH x' }],
      groups: { create: { request: 'POST {{baseUrl}}/g/{{grup}}', json: {}, body: 'x' }, batchh: {} },
      join: { send: 42 },
      message: { send: '{"text":"{{payload}}"}', receive: { match: {}, id: 'a..b' } },
    },
    'x',
  );
  assert.equal(r.ok, false);
  const text = !r.ok ? r.problems.map((p) => `${p.path}: ${p.message}`).join('\n') : '';
  assert.match(text, /groups\.batchh: unknown field; did you mean batch\?/);
  assert.match(text, /join\.send: expected the frame as text.*got number 42/);
  assert.match(text, /setup\[0\]\.request: expected "METHOD URL"/);
  const again = parseChatProtocol(
    {
      groups: { create: { request: 'POST {{baseUrl}}/g/{{grup}}', json: {}, body: 'x' } },
      join: { send: 'j' },
      message: { send: '{"text":"{{payload}}"}', receive: { match: {}, id: 'a..b' } },
    },
    'x',
  );
  const t2 = !again.ok ? again.problems.map((p) => `${p.path}: ${p.message}`).join('\n') : '';
  assert.match(t2, /groups\.create\.request: unknown variable \{\{grup\}\}/);
  assert.match(t2, /groups\.create: give either json/);
  assert.match(t2, /message\.send: the frame must carry \{\{id\}\}/);
  assert.match(t2, /message\.receive\.match: expected at least one/);
  assert.match(t2, /message\.receive\.id: invalid JSON path/);
});

// ------------------------------------------------------------------ the plan and its verdict

function settings(over: Partial<LoadSettings> = {}): LoadSettings {
  return {
    connections: 100,
    groups: 1000,
    groupPrefix: 'load',
    groupsPerConnection: 1,
    createGroups: true,
    groupBatch: 1000,
    groupConcurrency: 8,
    rate: 50,
    payloadChars: 100,
    durationMs: 10_000,
    messageTimeoutMs: 5000,
    rampUpMs: 4000,
    joinGraceMs: 5000,
    protocol: referenceProtocol(),
    compression: false,
    ...over,
  };
}

const STEP = {
  connectConcurrency: 500,
  stepTimeoutMs: 34_000,
  scenario: { http: [], connect: { transport: 'ws' as const, url: 'ws://127.0.0.1:1/ws' } },
};

test('plan: one step; ramp-up sets the connect rate; the hold leaves time for the last messages', () => {
  const plan = new LoadPlan({ settings: settings(), criteria: LOAD_CRITERIA, step: STEP });
  const spec = plan.first();
  assert.equal(spec.plan, 'load');
  assert.equal(spec.sessions, 100);
  assert.equal(spec.connectRate, 25, '100 connections over 4 s');
  assert.equal(spec.holdMs, 5000 + 10_000 + 5000 + 2000, 'join grace, messaging, last timeout, margin');
  assert.deepEqual(spec.ext?.load, settings());
  assert.equal(plan.next(), null);
  const explicit = new LoadPlan({
    settings: settings(),
    criteria: LOAD_CRITERIA,
    step: { ...STEP, connectRate: 7 },
  });
  assert.equal(explicit.first().connectRate, 7);
  assert.equal(
    new LoadPlan({ settings: settings({ rampUpMs: 0 }), criteria: LOAD_CRITERIA, step: STEP }).first()
      .connectRate,
    undefined,
  );
});

function findingsOf(o: {
  established: number;
  lost?: number;
  delivered: number;
  failed: number;
}): LoadFindings {
  const sent = o.delivered + o.failed;
  return {
    groups: {
      skipped: false,
      requested: 1000,
      created: 1000,
      existing: 0,
      failed: 0,
      requests: 1,
      failedRequests: 0,
      batchSize: 1000,
      durationMs: 100,
      groupsPerSec: 10_000,
      used: 50,
      membersMin: 2,
      membersMax: 2,
    },
    ramp: {
      requested: 100,
      established: o.established,
      failed: 100 - o.established,
      successRate: o.established / 100,
      durationMs: 4000,
      connectRate: 25,
      targetRate: 25,
      joinsSent: o.established,
      joinsAcked: o.established,
      lost: o.lost ?? 0,
      joinWaitMs: 3,
    },
    messages: {
      rate: 50,
      payloadChars: 100,
      timeoutMs: 5000,
      durationMs: 10_000,
      scheduled: sent,
      sent,
      dropped: { noSender: 0, notWritable: 0, invalid: 0, behind: 0 },
      delivered: o.delivered,
      failed: o.failed,
      noRecipients: 0,
      unresolved: 0,
      successRate: sent > 0 ? o.delivered / sent : 0,
      deliveries: { expected: sent, onTime: o.delivered, late: 0, missing: o.failed },
      received: o.delivered,
      receipts: { duplicate: 0, extra: 0, stale: 0, foreign: 0 },
      achievedRate: 50,
      receivedPerSec: 50,
      sendLag: { p50Ms: 0.5, p99Ms: 1, maxMs: 2 },
      behind: false,
      acks: { count: 0, recipients: 0 },
      errors: 0,
    },
    http: null,
    history: [
      {
        t: 1,
        active: o.established,
        sent: 50,
        received: 50,
        dropped: 0,
        p50: 1,
        p95: 2,
        p99: 3,
        max: 4,
        cpuPct: 10,
        eldMs: 1,
        rssBytes: 1e8,
      },
    ],
    errors: [],
    wire: { connections: 0, sentBytes: 0, recvBytes: 0, compressed: 0 },
    target: null,
    latency: null,
  };
}

function result(
  established: number,
  p95: number,
  f: LoadFindings,
  failures: Record<string, number> = {},
): StepResult {
  const zero = {
    started: 0,
    established: 0,
    failed: 0,
    closedEarly: 0,
    msgsSent: 0,
    msgsRecv: 0,
    bytesSent: 0,
    bytesRecv: 0,
    heartbeats: 0,
  };
  const lat = { count: 10, min: 1, mean: 2, p50: 2, p90: 3, p95, p99: p95, p999: p95, max: p95 };
  return {
    v: V,
    spec: new LoadPlan({ settings: settings(), criteria: LOAD_CRITERIA, step: STEP }).first(),
    workers: 1,
    startedAt: 0,
    durationMs: 1,
    sessions: 100,
    established,
    successful: established,
    failed: 100 - established,
    failures,
    counters: zero,
    hist: {},
    phases: { message: lat },
    errorSamples: [],
    generator: {
      peakRssBytes: 1e8,
      cpuUserMs: 100,
      cpuSystemMs: 10,
      maxCpuPct: 50,
      maxEldMs: 5,
      maxFds: 10,
      saturated: false,
    },
    aborted: false,
    ext: { load: f },
  };
}

test('verdict: the four criteria, each against its limit', () => {
  const ok = result(100, 20, findingsOf({ established: 100, delivered: 500, failed: 0 }));
  const v = judge(ok, ok.ext!.load as LoadFindings, LOAD_CRITERIA, settings());
  assert.equal(v.passed, true);
  assert.deepEqual(
    v.criteria.map((c) => [c.name, c.passed]),
    [
      ['connection_success', true],
      ['message_success', true],
      ['p95_latency', true],
      ['critical_errors', true],
    ],
  );
  const at95 = result(95, 20, findingsOf({ established: 95, delivered: 500, failed: 0 }));
  assert.equal(
    judge(at95, at95.ext!.load as LoadFindings, LOAD_CRITERIA, settings()).criteria[0].passed,
    false,
    'needs above 95%',
  );
  const slow = result(100, 500, findingsOf({ established: 100, delivered: 500, failed: 0 }));
  assert.equal(
    judge(slow, slow.ext!.load as LoadFindings, LOAD_CRITERIA, settings()).criteria[2].passed,
    false,
    'needs below 500 ms',
  );
  const lossy = result(100, 20, findingsOf({ established: 100, delivered: 450, failed: 50 }));
  const lv = judge(lossy, lossy.ext!.load as LoadFindings, LOAD_CRITERIA, settings());
  assert.equal(lv.criteria[1].actual, 0.9);
  assert.equal(lv.criteria[1].passed, false, 'needs above 90%');
  const dropped = result(100, 20, findingsOf({ established: 100, lost: 20, delivered: 500, failed: 0 }), {
    fds_exhausted: 0,
  });
  const dv = judge(dropped, dropped.ext!.load as LoadFindings, LOAD_CRITERIA, settings());
  assert.equal(dv.passed, false);
  assert.match(dv.critical.join('\n'), /20 of 100 connections \(20\.0%\) were closed before the end/);
  const allowed = judge(
    dropped,
    dropped.ext!.load as LoadFindings,
    { ...LOAD_CRITERIA, failOnCritical: false },
    settings(),
  );
  assert.equal(allowed.passed, true, '--allow-critical');
  const none = judge(ok, ok.ext!.load as LoadFindings, LOAD_CRITERIA, settings({ rate: 0 }));
  assert.equal(none.criteria[1].skipped, true);
});

test('report: the sections users read, from a result', () => {
  const r = result(100, 20, findingsOf({ established: 100, delivered: 450, failed: 50 }));
  const v = judge(r, r.ext!.load as LoadFindings, LOAD_CRITERIA, settings());
  const text = loadSummary(r, v, false);
  assert.match(
    text,
    /^Groups\n {2}created 1,000 · already existing 0 · failed 0 of 1,000 in 0\.10s \(10,000 groups\/s, 1 batch request of up to 1,000\)/m,
  );
  assert.match(text, /established 100 of 100 \(100\.0%\)/);
  assert.match(text, /message success 90\.0%: 450 of 500 reached every member within 5\.00s/);
  assert.match(text, /deliveries expected 500: on time 450 · late 0 · missing 50/);
  assert.match(text, /latency \(from the intended send time\): median 2\.00 ms · p95 20\.00 ms/);
  assert.match(text, /Throughput history/);
  assert.match(
    text,
    /Verdict: FAIL\n {2}✓ connection success 100\.0% \(needs above 95\.0%\)\n {2}✗ message success 90\.0%/,
  );
});

test('flags: rates and sizes', () => {
  assert.equal(parseRate('500'), 500);
  assert.equal(parseRate('2.5'), 2.5);
  assert.equal(parseRate('2k'), 2000);
  assert.equal(parseRate('0'), 0);
  assert.throws(() => parseRate('-1'));
  assert.throws(() => parseRate('fast'));
  assert.equal(parseSize('5k'), 5000);
  assert.equal(parseSize('5000'), 5000);
  assert.equal(parseSize('4KiB'), 4096);
  assert.equal(parseSize('1MiB'), 1024 * 1024);
  assert.equal(parseSize('64'), 64);
  assert.throws(() => parseSize('5x'));
});
