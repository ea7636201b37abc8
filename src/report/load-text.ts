import {
  judgedMessages,
  unsentMessages,
  type HistoryRow,
  type LatencySummary,
  type LoadCriterion,
  type LoadFindings,
  type LoadSettings,
  type LoadVerdict,
  type RunResult,
  type StepResult,
  type StepSpec,
} from '../contract.js';
import type { Out, Reporter } from './reporter.js';
import { diagnosisLines } from './terminal.js';
import { bytes, grouped, millis, percent, seconds } from './duration.js';

// The chat load in the shape its users know: groups, connections, messages (rates, success,
// latency percentiles), throughput history, error samples, generator health, then the verdict.
// Pure renderers; the reporter only writes what they return.

export interface LoadTextOptions {
  color?: boolean;
  /** At most this many history rows; longer runs show every n-th second (all are in the JSON). */
  historyRows?: number;
}

const ANSI = { green: [32, 39], red: [31, 39], yellow: [33, 39], bold: [1, 22], dim: [2, 22] } as const;

function paint(on: boolean | undefined, style: keyof typeof ANSI, s: string): string {
  if (!on) return s;
  const [a, b] = ANSI[style];
  return `\x1b[${a}m${s}\x1b[${b}m`;
}

function n(x: number): string {
  return grouped(x);
}

function rate(x: number): string {
  return x >= 100 ? grouped(x) : (Math.round(x * 10) / 10).toFixed(1);
}

function ms(x: number): string {
  return `${millis(x)} ms`;
}

/** `5,000 connections (ramp-up 10s), 50,000 groups (1 per connection), 500 msg/s of 5,000 chars for 2m, timeout 5s` */
export function loadSettingsLine(s: LoadSettings, spec?: StepSpec): string {
  const ramp = s.rampUpMs > 0 ? `ramp-up ${seconds(s.rampUpMs)}` : 'opened at once';
  const parts = [
    `${n(s.connections)} connections (${ramp})`,
    `${n(s.groups)} groups (${s.groupsPerConnection} per connection)`,
    s.rate > 0
      ? `${rate(s.rate)} msg/s of ${n(s.payloadChars)} chars for ${seconds(s.durationMs)}, timeout ${seconds(s.messageTimeoutMs)}`
      : `no messages, held ${seconds(s.durationMs)}`,
  ];
  if (s.http) parts.push(`HTTP API ${rate(s.http.rate)} req/s`);
  if (s.compression) parts.push('permessage-deflate');
  if (spec?.heartbeat) parts.push(`ping every ${seconds(spec.heartbeat.intervalMs)}`);
  if (s.protocol.name !== 'reference') parts.push(`protocol ${s.protocol.name}`);
  return parts.join(', ');
}

function latencyLine(l: LatencySummary | undefined): string {
  if (!l || l.count === 0) return 'none measured';
  return `median ${ms(l.p50)} · p95 ${ms(l.p95)} · p99 ${ms(l.p99)} · p99.9 ${ms(l.p999)} · max ${ms(l.max)}`;
}

export function groupLines(r: StepResult, f: LoadFindings): string[] {
  const g = f.groups;
  const out = ['Groups'];
  if (g.skipped) {
    out.push(`  not created (--no-create-groups${r.workers > 1 ? ' or another worker created them' : ''})`);
  } else if (g.requests === 0) {
    out.push(`  not created: the run stopped before (${n(g.requested)} asked)`);
  } else {
    const reqs = `${n(g.requests)} ${g.batchSize > 1 ? 'batch ' : ''}request${g.requests === 1 ? '' : 's'}`;
    const how = g.batchSize > 1 ? `${reqs} of up to ${n(g.batchSize)}` : reqs;
    out.push(
      `  created ${n(g.created)} · already existing ${n(g.existing)} · failed ${n(g.failed)} of ${n(g.requested)}` +
        ` in ${seconds(g.durationMs)} (${rate(g.groupsPerSec)} groups/s, ${how})`,
    );
    out.push(`  API response time: ${latencyLine(r.phases['http:groups'])}`);
  }
  const members = g.membersMin === g.membersMax ? `${g.membersMin}` : `${g.membersMin}–${g.membersMax}`;
  out.push(`  ${n(g.used)} groups carry messages, ${members} members each`);
  return out;
}

export function connectionLines(r: StepResult, f: LoadFindings): string[] {
  const p = f.ramp;
  const out = ['Connections'];
  out.push(
    `  established ${n(p.established)} of ${n(p.requested)} (${percent(p.successRate)}%) · failed ${n(p.failed)}` +
      ` · ramp-up ${seconds(p.durationMs)} at ${rate(p.connectRate)}/s` +
      (p.targetRate > 0 ? ` (asked ${rate(p.targetRate)}/s)` : ''),
  );
  out.push(
    `  joins acknowledged ${n(p.joinsAcked)} of ${n(p.joinsSent)}` +
      (p.joinWaitMs >= 10 ? ` (messaging waited ${seconds(p.joinWaitMs)} for them)` : '') +
      ` · closed before the end ${n(p.lost)}`,
  );
  const fails = Object.entries(r.failures).sort((a, b) => b[1] - a[1]);
  if (fails.length > 0) out.push(`  failures: ${fails.map(([c, k]) => `${c} ${n(k)}`).join(', ')}`);
  if (r.phases.connect || r.phases.upgrade) {
    const c = r.phases.connect;
    const u = r.phases.upgrade;
    out.push(
      `  connect p50 ${c ? ms(c.p50) : '–'} · upgrade p50 ${u ? ms(u.p50) : '–'}, p99 ${u ? ms(u.p99) : '–'}`,
    );
  }
  return out;
}

export function messageLines(r: StepResult, f: LoadFindings): string[] {
  const m = f.messages;
  const out = ['Messages'];
  if (m.rate === 0) return [...out, '  none sent (--rate 0)'];
  const d = m.dropped;
  const dropped = unsentMessages(d);
  out.push(
    `  sent ${n(m.sent)} of ${n(m.scheduled)} scheduled (${rate(m.achievedRate)}/s of ${rate(m.rate)}/s asked)` +
      (dropped > 0
        ? ` · not sent ${n(dropped)} (no open sender ${n(d.noSender)}, send buffer full ${n(d.notWritable)}, frame not built ${n(d.invalid)}, behind schedule ${n(d.behind)})`
        : ''),
  );
  out.push(`  received ${n(m.received)} (${rate(m.receivedPerSec)}/s)`);
  const judged = judgedMessages(m);
  out.push(
    `  message success ${percent(m.successRate)}%: ${n(m.delivered)} of ${n(judged)} reached every member within ${seconds(m.timeoutMs)}` +
      (dropped > 0 ? ` (${n(dropped)} not sent count as failed)` : '') +
      (m.noRecipients > 0 ? ` (${n(m.noRecipients)} had no other member, not judged)` : '') +
      (m.unresolved > 0 ? ` (${n(m.unresolved)} unresolved when stopped)` : ''),
  );
  const dl = m.deliveries;
  out.push(
    `  deliveries expected ${n(dl.expected)}: on time ${n(dl.onTime)} · late ${n(dl.late)} · missing ${n(dl.missing)}`,
  );
  const rc = m.receipts;
  const odd = [
    rc.duplicate > 0 ? `duplicates ${n(rc.duplicate)}` : '',
    rc.extra > 0 ? `to members not counted at send time ${n(rc.extra)}` : '',
    rc.stale > 0 ? `too old to judge ${n(rc.stale)}` : '',
    rc.foreign > 0 ? `not sent by this run ${n(rc.foreign)}` : '',
  ].filter((s) => s);
  if (odd.length > 0) out.push(`  also received: ${odd.join(' · ')}`);
  out.push(`  latency (from the intended send time): ${latencyLine(r.phases.message)}`);
  if (m.acks.count > 0) {
    out.push(
      `  the target acknowledged ${n(m.acks.count)} of ${n(m.sent)} sends, reporting ${n(m.acks.recipients)} recipients`,
    );
  }
  out.push(`  send delay behind schedule: p99 ${ms(m.sendLag.p99Ms)} · max ${ms(m.sendLag.maxMs)}`);
  const c = r.counters;
  const w = f.wire;
  out.push(
    `  bytes: payload sent ${bytes(c.bytesSent)} · received ${bytes(c.bytesRecv)}` +
      (w.connections > 0
        ? ` · on the wire (${n(w.connections)} open connections${w.compressed > 0 ? `, ${n(w.compressed)} compressed` : ''}) sent ${bytes(w.sentBytes)} · received ${bytes(w.recvBytes)}`
        : ''),
  );
  return out;
}

export function httpLines(r: StepResult, f: LoadFindings): string[] {
  const h = f.http;
  if (!h) return [];
  const classes = Object.entries(h.byClass)
    .sort()
    .map(([k, v]) => `${k} ${n(v)}`)
    .join(' · ');
  return [
    `HTTP API (${h.request} at ${rate(h.rate)}/s)`,
    `  sent ${n(h.sent)} of ${n(h.scheduled)} scheduled${h.dropped > 0 ? ` (${n(h.dropped)} not sent: too many in flight)` : ''} · ${classes || 'no answers'}`,
    `  response time (from the intended send time): ${latencyLine(r.phases['http:api'])}`,
  ];
}

/** Per-second throughput; every row when short, else every n-th second. */
export function historyLines(rows: HistoryRow[], max = 40): string[] {
  if (rows.length === 0) return [];
  const every = Math.max(1, Math.ceil(rows.length / max));
  const out = [
    `Throughput history${every > 1 ? ` (one row every ${every} s; all of them in the JSON result)` : ''}`,
  ];
  const cols = ['t', 'active', 'sent/s', 'recv/s', 'p50', 'p95', 'p99', 'max', 'cpu%', 'eld', 'rss'];
  const w = [7, 8, 8, 8, 8, 8, 8, 8, 6, 6, 9];
  out.push('  ' + cols.map((c, i) => c.padStart(w[i])).join(''));
  rows.forEach((row, i) => {
    if (i % every !== 0 && i !== rows.length - 1) return;
    const cells = [
      `${row.t.toFixed(1)}s`,
      n(row.active),
      n(row.sent),
      n(row.received),
      row.received > 0 ? millis(row.p50) : '–',
      row.received > 0 ? millis(row.p95) : '–',
      row.received > 0 ? millis(row.p99) : '–',
      row.received > 0 ? millis(row.max) : '–',
      row.cpuPct.toFixed(0),
      row.eldMs.toFixed(0),
      bytes(row.rssBytes),
    ];
    out.push('  ' + cells.map((c, k) => c.padStart(w[k])).join(''));
  });
  return out;
}

export function errorLines(r: StepResult, f: LoadFindings): string[] {
  const list = [
    ...f.errors.map((e) => ({ code: e.code, count: e.count, sample: e.samples[0] ?? '' })),
    ...r.errorSamples.map((e) => ({ code: e.code, count: r.failures[e.code] ?? e.count, sample: e.detail })),
  ];
  const seen = new Set<string>();
  const out: string[] = [];
  for (const e of list) {
    if (seen.has(e.code)) continue;
    seen.add(e.code);
    out.push(`  ${e.code}: ${n(e.count)}${e.sample ? `  (${oneLine(e.sample)})` : ''}`);
  }
  return out.length > 0 ? ['Errors (first sample of each class)', ...out] : [];
}

function oneLine(s: string): string {
  const flat = s.replace(/\s+/g, ' ').trim();
  return flat.length > 110 ? `${flat.slice(0, 109)}…` : flat;
}

export function healthLines(r: StepResult, f: LoadFindings): string[] {
  const g = r.generator;
  const cpuS = (g.cpuUserMs + g.cpuSystemMs) / 1000;
  const out = [
    `Generator: CPU up to ${g.maxCpuPct.toFixed(0)}% of a core (${cpuS.toFixed(1)} CPU s) · event-loop delay up to ${millis(g.maxEldMs)} ms · RSS up to ${bytes(g.peakRssBytes)}` +
      (g.saturated ? ' · SATURATED' : ''),
  ];
  if (f.target) {
    const t = f.target;
    out.push(
      t.probes > t.failures
        ? `Target: event-loop delay p99 up to ${millis(t.eldP99MaxMs)} ms, max ${millis(t.eldMaxMs)} ms (${t.probes} health probes${t.failures > 0 ? `, ${t.failures} unanswered` : ''})`
        : `Target: no health probe answered (${t.probes} tried)`,
    );
  }
  return out;
}

function criterionLine(c: LoadCriterion, color: boolean | undefined): string {
  const mark = c.skipped ? '-' : c.passed ? paint(color, 'green', '✓') : paint(color, 'red', '✗');
  const frac = (x: number | null): string => (x === null ? 'not measured' : `${percent(x)}%`);
  switch (c.name) {
    case 'connection_success':
      return `  ${mark} connection success ${frac(c.actual)} (needs above ${percent(c.limit)}%)`;
    case 'message_success':
      return c.skipped
        ? `  ${mark} message success: no messages`
        : `  ${mark} message success ${frac(c.actual)} (needs above ${percent(c.limit)}%)`;
    case 'p95_latency':
      return c.skipped
        ? `  ${mark} p95 latency: no messages`
        : `  ${mark} p95 latency ${c.actual === null ? 'not measured' : ms(c.actual)} (needs below ${ms(c.limit)})`;
    case 'critical_errors':
      return c.actual === 0
        ? `  ${mark} no critical errors`
        : `  ${mark} ${c.actual} critical error${c.actual === 1 ? '' : 's'}${c.skipped ? ' (allowed)' : ''}`;
  }
}

export function verdictLines(v: LoadVerdict, interrupted: boolean, color?: boolean): string[] {
  const head = interrupted
    ? paint(color, 'yellow', 'Verdict: INTERRUPTED (partial results)')
    : v.passed
      ? paint(color, 'green', 'Verdict: PASS')
      : paint(color, 'red', 'Verdict: FAIL');
  const out = [head, ...v.criteria.map((c) => criterionLine(c, color))];
  for (const e of v.critical) out.push(`    - ${e}`);
  if (v.warnings.length > 0) {
    out.push(paint(color, 'yellow', 'Warnings:'));
    for (const w of v.warnings) out.push(`  - ${w}`);
  }
  return out;
}

/** The whole report of a finished run. */
export function loadSummary(
  r: StepResult,
  v: LoadVerdict | null,
  interrupted: boolean,
  o: LoadTextOptions = {},
): string {
  const f = r.ext?.load as LoadFindings | undefined;
  const out: string[] = [];
  if (f) {
    // A step that could not be prepared never opened a connection: its groups and errors tell why.
    const prepared = (r.failures.step_prepare_error ?? 0) === 0;
    const blocks = prepared
      ? [
          groupLines(r, f),
          connectionLines(r, f),
          messageLines(r, f),
          httpLines(r, f),
          historyLines(f.history, o.historyRows),
          errorLines(r, f),
          healthLines(r, f),
        ]
      : [groupLines(r, f), errorLines(r, f)];
    for (const b of blocks) if (b.length > 0) out.push(b.join('\n'));
  } else {
    out.push(`No chat load findings: ${r.established} of ${r.sessions} connections established.`);
  }
  if (v) out.push(verdictLines(v, interrupted, o.color).join('\n'));
  return out.join('\n\n');
}

export class LoadTextReporter implements Reporter {
  constructor(private readonly o: { out: Out; target: string; color?: boolean; historyRows?: number }) {}

  runStart(): void {
    this.o.out.write(`Chat load against ${this.o.target}\n`);
  }

  stepStart(spec: StepSpec): void {
    const s = spec.ext?.load as LoadSettings | undefined;
    if (s) this.o.out.write(`  ${loadSettingsLine(s, spec)}\n`);
  }

  runEnd(result: RunResult): void {
    const r = result.steps[0];
    const out: string[] = [''];
    if (r) out.push(loadSummary(r, result.verdict as LoadVerdict | null, result.interrupted, this.o));
    else out.push('Interrupted before the first step.');
    const d = diagnosisLines(result.diagnosis);
    if (d) out.push('', d);
    this.o.out.write(out.join('\n') + '\n');
  }
}
