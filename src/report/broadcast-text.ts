import type {
  BroadcastGrade,
  BroadcastSettings,
  BroadcastVerdict,
  CodeRow,
  IntervalSnapshot,
  LatencySummary,
  RunResult,
  StepResult,
  StepSpec,
} from '../contract.js';
import type { Out, Reporter } from './reporter.js';
import { diagnosisLines } from './terminal.js';
import { elapsed, grouped, millis, seconds } from './duration.js';

// The broadcast test in its three phases (connect; broadcast; collect and disconnect), then the
// per-code and per-client evidence and the verdict in the users' own grading. Pure renderers
// plus thin reporters; every number comes from the verdict or the step result.

const PER_CODE_ALL = 30; // up to this many codes, every code gets a row
const PER_CODE_WORST = 15;
const MISSED_SHOWN = 25;
const DROPS_SHOWN = 15;

const GRADE_NAME: Record<BroadcastGrade, string> = { good: 'GOOD', warning: 'WARNING', issues: 'ISSUES' };
const MARK: Record<BroadcastGrade, string> = { good: '✓', warning: '!', issues: '✗' };
const COLOR: Record<BroadcastGrade, [number, number]> = {
  good: [32, 39],
  warning: [33, 39],
  issues: [31, 39],
};

function paint(on: boolean, g: BroadcastGrade, s: string): string {
  return on ? `\x1b[${COLOR[g][0]}m${s}\x1b[${COLOR[g][1]}m` : s;
}

/** `96.0` (one decimal, never 100.0 below one). */
function pc(x: number): string {
  const v = Math.round(x * 1000) / 10;
  return (x < 1 && v >= 100 ? 99.9 : v).toFixed(1);
}

function ms(x: number | null): string {
  return x === null ? '–' : `${millis(x)} ms`;
}

function latencyLine(l: LatencySummary): string {
  return (
    `p50 ${millis(l.p50)} · p90 ${millis(l.p90)} · p95 ${millis(l.p95)} · p99 ${millis(l.p99)} · ` +
    `p99.9 ${millis(l.p999)} · max ${millis(l.max)} ms`
  );
}

function settingsOf(spec: StepSpec): BroadcastSettings | null {
  return (spec.ext?.broadcast as BroadcastSettings | undefined) ?? null;
}

/** `500 SSE clients, 20 codes over 20.00s` */
export function broadcastHeadline(spec: StepSpec): string {
  const s = settingsOf(spec);
  const kind = spec.scenario.connect.transport === 'sse' ? 'SSE' : 'WebSocket';
  const codes = s ? s.codes.length : 0;
  return `${grouped(spec.sessions)} ${kind} clients, ${codes} ${codes === 1 ? 'code' : 'codes'} over ${seconds(s?.durationMs ?? 0)}`;
}

/** The three phases, one line each. */
export function phaseLines(v: BroadcastVerdict, r: StepResult): string[] {
  const pub = v.publishLatency;
  const failed = v.publishFailed > 0 ? `, ${v.publishFailed} failed` : '';
  const collect = v.endedEarly
    ? `collect window ${seconds(v.collectMs)} (ended early: every connected client had every code)`
    : `collect window ${seconds(v.collectMs)}`;
  return [
    `Phase 1 – connect: ${grouped(v.connected)}/${grouped(v.clients)} clients connected (${pc(v.connectRate)}%) ` +
      `in ${seconds(v.connectMs)}, at most ${r.spec.connectConcurrency} connecting at a time`,
    `Phase 2 – broadcast: ${v.published}/${v.codes} codes published over ${seconds(v.durationMs)}${failed}` +
      (pub && pub.count > 0
        ? ` (publish request p50 ${millis(pub.p50)} ms · p99 ${millis(pub.p99)} ms)`
        : ''),
    `Phase 3 – collect and disconnect: ${grouped(v.received)}/${grouped(v.expected)} expected receipts ` +
      `(${pc(v.deliveryRate)}%), ${collect}`,
  ];
}

export function deliveryLines(v: BroadcastVerdict): string[] {
  const out = [
    'Delivery',
    `  Delivery rate: ${pc(v.deliveryRate)}% = ${grouped(v.received)} received / ${grouped(v.expected)} expected ` +
      `(${v.published} published codes × the clients connected when each was published)`,
  ];
  if (v.latency && v.latency.count > 0) {
    out.push(
      `  Latency, publish → receipt: ${latencyLine(v.latency)} (${grouped(v.latency.count)} receipts)`,
    );
  } else {
    out.push('  Latency, publish → receipt: no receipt');
  }
  if (v.spread) {
    out.push(
      `  Spread, first → last client per code: median ${ms(v.spread.p50Ms)} · max ${ms(v.spread.maxMs)}`,
    );
  }
  out.push(
    `  Duplicates: ${grouped(v.duplicates)} · codes never published: ${grouped(v.unknownCodes)}` +
      (v.unknownSamples.length > 0 ? ` (${v.unknownSamples.slice(0, 3).join(', ')})` : '') +
      ` · received by clients that connected after the publish: ${grouped(v.late)}`,
  );
  return out;
}

function codeRow(c: CodeRow): string {
  const status = c.status === 'ok' ? 'ok' : c.status;
  return (
    `  ${String(c.index + 1).padStart(4)}  ${c.code.padEnd(14)} ${seconds(c.scheduledMs).padStart(8)}  ` +
    `${status.padEnd(7)} ${`${c.received}/${c.connected}`.padStart(11)} ${String(c.missing).padStart(8)}  ` +
    `${ms(c.firstMs).padStart(10)} ${ms(c.lastMs).padStart(10)} ${ms(c.spreadMs).padStart(10)}`
  );
}

/** Every code when there are few; otherwise the ones with problems first. */
export function perCodeLines(v: BroadcastVerdict): string[] {
  if (v.perCode.length === 0) return [];
  const head = `  ${'#'.padStart(4)}  ${'code'.padEnd(14)} ${'at'.padStart(8)}  ${'status'.padEnd(7)} ${'received'.padStart(11)} ${'missing'.padStart(8)}  ${'first'.padStart(10)} ${'last'.padStart(10)} ${'spread'.padStart(10)}`;
  if (v.perCode.length <= PER_CODE_ALL) return ['Per code', head, ...v.perCode.map(codeRow)];
  const bad = v.perCode.filter((c) => c.missing > 0 || c.status !== 'ok');
  const shown = (bad.length > 0 ? bad : v.perCode)
    .slice()
    .sort((a, b) => b.missing - a.missing || a.index - b.index)
    .slice(0, PER_CODE_WORST)
    .sort((a, b) => a.index - b.index);
  const rest = v.perCode.length - shown.length;
  const note =
    bad.length === 0
      ? `  … and ${rest} more codes, all delivered`
      : `  … ${bad.length} codes with problems in all, ${v.perCode.length - bad.length} delivered to every client`;
  return [
    `Per code (${v.perCode.length} codes; the full table is in the JSON result)`,
    head,
    ...shown.map(codeRow),
    note,
  ];
}

export function missedLines(v: BroadcastVerdict): string[] {
  if (v.missedClients === 0) return ['Clients that missed codes: none'];
  const codes = v.perCode;
  const out = [
    `Clients that missed codes: ${grouped(v.missedClients)} clients, ${grouped(v.missedPairs)} (client, code) pairs`,
  ];
  for (const m of v.missed.slice(0, MISSED_SHOWN)) {
    const list = m.codes.map((k) => `#${k + 1} ${codes[k]?.code ?? '?'}`);
    const shown = list.length > 8 ? [...list.slice(0, 8), `… ${list.length - 8} more`] : list;
    out.push(`  client ${m.client}: ${shown.join(', ')}`);
  }
  const listed = Math.min(v.missed.length, MISSED_SHOWN);
  if (v.missedClients > listed)
    out.push(`  … ${grouped(v.missedClients - listed)} more clients (see the JSON result)`);
  return out;
}

export function stabilityLines(v: BroadcastVerdict, r: StepResult): string[] {
  const reconnect = v.reconnects > 0 ? `, ${v.reconnects} reconnected` : '';
  const out = [
    v.dropCount === 0
      ? 'Connection stability: no connection dropped during the test'
      : `Connection stability: ${grouped(v.dropCount)} drops during the test${reconnect}`,
  ];
  for (const d of v.drops.slice(0, DROPS_SHOWN)) {
    out.push(
      `  ${seconds(d.atMs).padStart(9)}  client ${d.client}: ${d.reason}${d.reconnected ? ' (reconnected)' : ''}`,
    );
  }
  if (v.dropCount > Math.min(v.drops.length, DROPS_SHOWN))
    out.push(`  … ${v.dropCount - Math.min(v.drops.length, DROPS_SHOWN)} more`);
  const failures = Object.entries(r.failures)
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1]);
  if (failures.length > 0) {
    out.push('Failed sessions:');
    for (const [code, n] of failures) {
      const sample = r.errorSamples.find((x) => x.code === code && x.detail !== '');
      out.push(`  ${code}: ${n}${sample ? `  (${sample.detail.replace(/\s+/g, ' ').slice(0, 100)})` : ''}`);
    }
  }
  const pubFailed = v.perCode.filter((c) => c.status !== 'ok' && c.publishedAtMs !== null);
  if (pubFailed.length > 0) {
    out.push(`Publish failures: ${pubFailed.map((c) => `#${c.index + 1} ${c.status}`).join(', ')}`);
  }
  return out;
}

export function verdictLines(v: BroadcastVerdict, color = false): string[] {
  const out = [paint(color, v.grade, `Verdict: ${GRADE_NAME[v.grade]}`)];
  for (const r of v.reasons) out.push(`  ${paint(color, r.grade, MARK[r.grade])} ${r.text}`);
  const t = v.thresholds;
  const asked =
    t.minDelivery !== undefined ||
    t.minConnected !== undefined ||
    t.maxErrorRate !== undefined ||
    t.maxP99Ms !== undefined;
  if (v.failed.length > 0) {
    out.push('Not passed:');
    for (const f of v.failed) out.push(`  - ${f}`);
  } else if (asked) {
    out.push('Thresholds: all met');
  }
  return out;
}

/** The whole report of a finished run. */
export function broadcastSummary(
  v: BroadcastVerdict,
  r: StepResult,
  o: { target: string; color?: boolean },
): string {
  const out = [`Broadcast of ${o.target}: ${broadcastHeadline(r.spec)}`];
  out.push(...phaseLines(v, r), '', ...deliveryLines(v));
  const codes = perCodeLines(v);
  if (codes.length > 0) out.push('', ...codes);
  out.push('', ...missedLines(v), '', ...stabilityLines(v, r), '', ...verdictLines(v, o.color === true));
  return out.join('\n');
}

export interface BroadcastTextOptions {
  out: Out;
  target: string;
  color: boolean;
}

/** The broadcast report on stdout: a line when it starts, everything at the end. */
export class BroadcastTextReporter implements Reporter {
  constructor(private readonly o: BroadcastTextOptions) {}

  stepStart(spec: StepSpec): void {
    this.o.out.write(
      `Testing ${this.o.target}: ${broadcastHeadline(spec)}, at most ${spec.connectConcurrency} connecting at a time\n`,
    );
  }

  runEnd(result: RunResult): void {
    const r = result.steps[0];
    const v = result.verdict as BroadcastVerdict | null;
    const out: string[] = [''];
    if (result.interrupted) out.push('Interrupted: results so far.', '');
    if (r && v) out.push(broadcastSummary(v, r, { target: this.o.target, color: this.o.color }));
    else out.push('No result: the test did not run.');
    const d = diagnosisLines(result.diagnosis);
    if (d) out.push('', d);
    this.o.out.write(out.join('\n') + '\n');
  }
}

/** `  connected 480/500 · codes sent 7/20 · receipts 3,360 · errors 0 · 8.2s` */
export function broadcastProgressText(p: {
  clients: number;
  connected: number;
  open: number;
  codes: number;
  sent: number;
  receipts: number;
  errors: number;
  elapsedMs: number;
}): string {
  const open = p.open < p.connected ? ` (open ${grouped(p.open)})` : '';
  return (
    `  connected ${grouped(p.connected)}/${grouped(p.clients)}${open} · codes sent ${p.sent}/${p.codes}` +
    ` · receipts ${grouped(p.receipts)} · errors ${grouped(p.errors)} · ${elapsed(p.elapsedMs)}`
  );
}

/**
 * Live progress on stderr (TTY only), once per interval snapshot. `count` reads how many values a
 * snapshot's histogram holds (codes sent: `publish_lag`, receipts: `delivery`).
 */
export class BroadcastProgress implements Reporter {
  private clients = 0;
  private codes = 0;
  private connected = 0;
  private errors = 0;
  private sent = 0;
  private receipts = 0;
  private t0 = 0;
  private shown = false;
  private live = false;

  constructor(private readonly o: { out: Out; isTTY: boolean; count: (encoded: string) => number }) {}

  stepStart(spec: StepSpec): void {
    this.clients = spec.sessions;
    this.codes = settingsOf(spec)?.codes.length ?? 0;
    this.connected = this.errors = this.sent = this.receipts = 0;
    this.t0 = 0;
    this.live = true;
  }

  interval(s: IntervalSnapshot): void {
    if (!this.live) return;
    this.connected += s.counters.established;
    this.errors += s.counters.failed;
    if (s.hist.publish_lag) this.sent += this.o.count(s.hist.publish_lag);
    if (s.hist.delivery) this.receipts += this.o.count(s.hist.delivery);
    if (this.t0 === 0 || s.t0 < this.t0) this.t0 = s.t0;
    if (!this.o.isTTY) return;
    let line = broadcastProgressText({
      clients: this.clients,
      connected: this.connected,
      open: s.active,
      codes: this.codes,
      sent: this.sent,
      receipts: this.receipts,
      errors: this.errors,
      elapsedMs: s.t1 - this.t0,
    });
    const cols = this.o.out.columns;
    if (cols !== undefined && cols > 1 && line.length >= cols) line = line.slice(0, cols - 1);
    this.o.out.write(`\r${line}\x1b[K`);
    this.shown = true;
  }

  stepEnd(): void {
    this.end();
  }

  runEnd(): void {
    this.end();
  }

  private end(): void {
    this.live = false;
    if (this.shown) this.o.out.write('\r\x1b[K');
    this.shown = false;
  }
}
