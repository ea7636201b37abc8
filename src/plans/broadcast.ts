import {
  V,
  type BroadcastGrade,
  type BroadcastSettings,
  type BroadcastThresholds,
  type BroadcastVerdict,
  type CodeRow,
  type MissedClient,
  type ScenarioSpec,
  type StepResult,
  type StepSpec,
  type StreamDrop,
} from '../contract.js';
import type { Plan } from './plan.js';

export type {
  BroadcastGrade,
  BroadcastMatchSpec as MatchSpec,
  BroadcastSettings,
  BroadcastThresholds,
  BroadcastVerdict,
  CodeRow,
  MissedClient,
  PublishSpec,
  StreamDrop,
} from '../contract.js';

// Fan-out verification: one step in which N clients subscribe, codes are published over HTTP at
// evenly spread times, and every (client, code) receipt is checked. The plan only builds the step
// and grades its result; the engine extension (engine/ext-broadcast.ts) does the work.
// The plain data it shares with the extension and the reporter is in contract.ts.

export const BROADCAST_DEFAULTS = {
  connections: 50,
  codes: 10,
  durationMs: 60_000,
  connectConcurrency: 20,
  collectMs: 5_000,
  stepTimeoutMs: 60_000,
  publishTimeoutMs: 10_000,
  codePrefix: 'HL',
  listLimit: 100,
} as const;

/** Crockford base32: no I, L, O, U, so a code read aloud or off a screen is not confused. */
export const CODE_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
/** Random characters after the prefix (50 bits). */
export const CODE_RANDOM_CHARS = 10;

// ---------------------------------------------------------------- findings (result.ext.broadcast)

export interface PublishOutcome {
  ok: boolean;
  /** `ok`, or the failure class (step_publish_<status>, step_publish_timeout, …). */
  status: string;
  detail: string;
  /** Intended publish time → response. */
  ms: number;
  /** Intended publish time → request sent (the generator's lateness). */
  lagMs: number;
}

/** One worker's findings; per-code arrays are indexed like the codes. */
export interface BroadcastFindings {
  v: 1;
  worker: number;
  clients: number;
  firstClient: number;
  holdStartMs: number; // since the step started
  scheduledMs: number[]; // intended publish times, since the hold started
  publishedAtMs: (number | null)[]; // when the publish started (null: never, e.g. interrupted)
  /** Outcomes of the publish requests (the publishing worker only). */
  publish: (PublishOutcome | null)[] | null;
  connectedAtPublish: number[]; // clients connected when the code was published
  received: number[]; // of those, how many received it
  late: number[]; // receipts by clients not connected at its publish time
  firstMs: (number | null)[]; // first receipt, since the intended publish time
  lastMs: (number | null)[];
  duplicates: number;
  unknown: number; // receipts of codes that were never published
  unknownSamples: string[];
  otherMessages: number; // messages holding no code
  missed: MissedClient[]; // the first `listLimit` clients that missed a code
  missedClients: number;
  missedPairs: number;
  drops: StreamDrop[]; // streams that dropped and were reopened (final losses are earlyCloses)
  dropCount: number;
  reconnects: number;
  collectMs: number;
  endedEarly: boolean; // every connected client had every code before the window closed
}

// ---------------------------------------------------------------- plan

export interface BroadcastPlanOptions {
  sessions: number;
  connectConcurrency: number;
  connectRate?: number;
  stepTimeoutMs: number;
  scenario: ScenarioSpec;
  scenarioModule?: string;
  localAddresses?: string[];
  settings: BroadcastSettings;
  thresholds: BroadcastThresholds;
}

export class BroadcastPlan implements Plan<BroadcastVerdict> {
  constructor(private readonly o: BroadcastPlanOptions) {}

  first(): StepSpec {
    const o = this.o;
    const s = o.settings;
    const spec: StepSpec = {
      v: V,
      plan: 'broadcast',
      index: 0,
      sessions: o.sessions,
      connectConcurrency: o.connectConcurrency,
      stepTimeoutMs: o.stepTimeoutMs,
      // An upper bound: the extension ends the hold once the codes are published and collected.
      holdMs: s.durationMs + s.publish.timeoutMs + s.collectMs + 5_000,
      scenario: o.scenario,
      ext: { broadcast: s },
    };
    if (o.connectRate !== undefined) spec.connectRate = o.connectRate;
    if (o.scenarioModule !== undefined) spec.scenarioModule = o.scenarioModule;
    if (o.localAddresses !== undefined) spec.localAddresses = o.localAddresses;
    return spec;
  }

  next(): StepSpec | null {
    return null;
  }

  verdict(done: StepResult[]): BroadcastVerdict {
    return gradeBroadcast(done[0], this.o.settings, this.o.thresholds);
  }
}

/** `n` unique codes: prefix + CODE_RANDOM_CHARS characters of CODE_ALPHABET from `random`. */
export function makeCodes(n: number, prefix: string, random: (bytes: number) => Uint8Array): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (let draws = 0; out.length < n; draws++) {
    if (draws > n * 100 + 1000) throw new Error('the random source keeps repeating itself');
    const r = random(CODE_RANDOM_CHARS);
    let code = prefix;
    for (let i = 0; i < CODE_RANDOM_CHARS; i++) code += CODE_ALPHABET[r[i] & 31];
    if (seen.has(code)) continue;
    seen.add(code);
    out.push(code);
  }
  return out;
}

/** Intended publish offsets from the start of the broadcast phase: the middle of n equal slots. */
export function scheduleOffsets(n: number, durationMs: number): number[] {
  return Array.from({ length: n }, (_, k) => ((k + 0.5) * durationMs) / n);
}

// ---------------------------------------------------------------- grading

const RANK: Record<BroadcastGrade, number> = { good: 0, warning: 1, issues: 2 };

/** Findings of several workers as one (sums per code; the publishing worker's outcomes). */
export function combineFindings(list: BroadcastFindings[], n: number): BroadcastFindings {
  const zeros = (): number[] => new Array<number>(n).fill(0);
  const nulls = (): (number | null)[] => new Array<number | null>(n).fill(null);
  const out: BroadcastFindings = {
    v: 1,
    worker: 0,
    clients: 0,
    firstClient: 0,
    holdStartMs: 0,
    scheduledMs: list[0]?.scheduledMs ?? zeros(),
    publishedAtMs: nulls(),
    publish: null,
    connectedAtPublish: zeros(),
    received: zeros(),
    late: zeros(),
    firstMs: nulls(),
    lastMs: nulls(),
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
    collectMs: 0,
    endedEarly: list.length > 0,
  };
  const min = (a: number | null, b: number | null): number | null =>
    a === null ? b : b === null ? a : Math.min(a, b);
  const max = (a: number | null, b: number | null): number | null =>
    a === null ? b : b === null ? a : Math.max(a, b);
  for (const f of list) {
    out.clients += f.clients;
    out.holdStartMs = Math.max(out.holdStartMs, f.holdStartMs);
    if (f.publish) out.publish = f.publish;
    for (let k = 0; k < n; k++) {
      out.publishedAtMs[k] = min(out.publishedAtMs[k], f.publishedAtMs[k]);
      out.connectedAtPublish[k] += f.connectedAtPublish[k];
      out.received[k] += f.received[k];
      out.late[k] += f.late[k];
      out.firstMs[k] = min(out.firstMs[k], f.firstMs[k]);
      out.lastMs[k] = max(out.lastMs[k], f.lastMs[k]);
    }
    out.duplicates += f.duplicates;
    out.unknown += f.unknown;
    out.unknownSamples.push(...f.unknownSamples);
    out.otherMessages += f.otherMessages;
    out.missed.push(...f.missed);
    out.missedClients += f.missedClients;
    out.missedPairs += f.missedPairs;
    out.drops.push(...f.drops);
    out.dropCount += f.dropCount;
    out.reconnects += f.reconnects;
    out.collectMs = Math.max(out.collectMs, f.collectMs);
    out.endedEarly &&= f.endedEarly;
  }
  out.missed.sort((a, b) => a.client - b.client);
  out.unknownSamples = [...new Set(out.unknownSamples)].slice(0, 10);
  return out;
}

/** The users' grading (Good / Warning / Issues) with the numbers behind it, and the CI thresholds. */
export function gradeBroadcast(
  r: StepResult,
  s: BroadcastSettings,
  t: BroadcastThresholds,
): BroadcastVerdict {
  const n = s.codes.length;
  const raw = r.ext?.broadcast as BroadcastFindings | BroadcastFindings[] | undefined;
  const f = combineFindings(Array.isArray(raw) ? raw : raw ? [raw] : [], n);
  const perCode: CodeRow[] = s.codes.map((code, k) => {
    const sent = f.publishedAtMs[k];
    const outcome = f.publish?.[k] ?? null;
    // Without the publishing worker's outcomes (another process published), a sent code counts.
    const status = sent === null ? 'not sent' : outcome ? outcome.status : f.publish ? 'pending' : 'ok';
    const ok = status === 'ok';
    const first = f.firstMs[k];
    const last = f.lastMs[k];
    return {
      index: k,
      code,
      scheduledMs: f.scheduledMs[k],
      publishedAtMs: sent,
      status,
      connected: f.connectedAtPublish[k],
      received: f.received[k],
      missing: ok ? f.connectedAtPublish[k] - f.received[k] : 0,
      late: f.late[k],
      firstMs: first,
      lastMs: last,
      spreadMs: first !== null && last !== null ? last - first : null,
    };
  });
  const okRows = perCode.filter((c) => c.status === 'ok');
  const published = okRows.length;
  const publishFailed = perCode.filter((c) => c.status !== 'ok' && c.publishedAtMs !== null).length;
  const expected = okRows.reduce((a, c) => a + c.connected, 0);
  const received = okRows.reduce((a, c) => a + c.received, 0);
  const missing = expected - received;
  const deliveryRate = expected > 0 ? received / expected : 0;
  const clients = r.sessions;
  const connected = r.established;
  const connectRate = clients > 0 ? connected / clients : 0;
  const final: StreamDrop[] = (r.earlyCloses ?? []).map((e) => ({
    client: e.session,
    atMs: e.atMs,
    reason: e.code,
    reconnected: false,
  }));
  const dropCount = (r.earlyCloses?.length ?? r.counters.closedEarly) + f.dropCount;
  const drops = [...final, ...f.drops].sort((a, b) => a.atMs - b.atMs).slice(0, s.listLimit);
  const errors = clients - connected + dropCount + publishFailed;
  const errorRate = clients + n > 0 ? errors / (clients + n) : 0;
  const spreads = perCode
    .map((c) => c.spreadMs)
    .filter((x): x is number => x !== null)
    .sort((a, b) => a - b);

  const reasons: BroadcastVerdict['reasons'] = [];
  let grade: BroadcastGrade = 'good';
  const judge = (g: BroadcastGrade, text: string): void => {
    reasons.push({ grade: g, text });
    if (RANK[g] > RANK[grade]) grade = g;
  };
  const cLine = `connected ${connected}/${clients} clients (${pct(connectRate)}%)`;
  if (connectRate > 0.95) judge('good', `${cLine}: above 95%`);
  else if (connectRate >= 0.8) judge('warning', `${cLine}: 80–95%`);
  else judge('issues', `${cLine}: below 80%`);
  if (n > 0 && published === 0) {
    judge('issues', `no code was published (${publishFailed} publish requests failed)`);
  } else if (expected === 0) {
    judge('issues', 'no client was connected when the codes were published');
  } else if (missing === 0) {
    judge('good', `every published code reached every connected client (${received}/${expected})`);
  } else {
    const line = `${missing} of ${expected} deliveries missing (${pct(deliveryRate)}% delivered)`;
    judge(
      deliveryRate >= 0.9 ? 'warning' : 'issues',
      deliveryRate >= 0.9 ? line : `${line}: many codes missing`,
    );
  }
  const eLine =
    `errors ${errors} (${pct(errorRate)}% of ${clients} connections and ${n} publishes: ` +
    `${clients - connected} failed to connect, ${dropCount} dropped, ${publishFailed} publishes failed)`;
  if (errorRate < 0.01) judge('good', `${eLine}: below 1%`);
  else if (errorRate < 0.05) judge('warning', `${eLine}: 1–5%`);
  else judge('issues', `${eLine}: frequent`);
  if (f.duplicates > 0)
    judge('warning', `${f.duplicates} duplicate receipts (a code delivered twice to one client)`);

  const latency = r.phases.delivery ?? null;
  const failed: string[] = [];
  if (t.minDelivery !== undefined && deliveryRate < t.minDelivery)
    failed.push(`delivery ${pct(deliveryRate)}% is below --min-delivery ${pct(t.minDelivery)}%`);
  if (t.minConnected !== undefined && connectRate < t.minConnected)
    failed.push(`connected ${pct(connectRate)}% is below --min-connected ${pct(t.minConnected)}%`);
  if (t.maxErrorRate !== undefined && errorRate > t.maxErrorRate)
    failed.push(`error rate ${pct(errorRate)}% is above --max-error-rate ${pct(t.maxErrorRate)}%`);
  if (t.maxP99Ms !== undefined) {
    if (!latency) failed.push('no delivery latency was measured (--max-p99)');
    else if (latency.p99 > t.maxP99Ms)
      failed.push(`delivery p99 ${latency.p99} ms is above --max-p99 ${t.maxP99Ms} ms`);
  }
  if (t.failOn !== 'never' && RANK[grade] >= RANK[t.failOn])
    failed.push(`the verdict is ${grade} (--fail-on ${t.failOn})`);

  return {
    grade,
    reasons,
    clients,
    connected,
    connectRate,
    connectMs: r.durationMs,
    codes: n,
    published,
    publishFailed,
    expected,
    received,
    missing,
    deliveryRate,
    duplicates: f.duplicates,
    unknownCodes: f.unknown,
    unknownSamples: f.unknownSamples,
    late: f.late.reduce((a, b) => a + b, 0),
    otherMessages: f.otherMessages,
    errors,
    errorRate,
    drops,
    dropCount,
    reconnects: f.reconnects,
    latency,
    publishLatency: r.phases.publish ?? null,
    spread:
      spreads.length > 0
        ? { p50Ms: spreads[Math.floor((spreads.length - 1) / 2)], maxMs: spreads[spreads.length - 1] }
        : null,
    perCode,
    missed: f.missed,
    missedClients: f.missedClients,
    missedPairs: f.missedPairs,
    durationMs: s.durationMs,
    collectMs: f.collectMs,
    endedEarly: f.endedEarly,
    thresholds: t,
    failed,
    passed: failed.length === 0,
  };
}

/** A share as a percentage with one decimal, never rounded up to 100.0 when below 1. */
export function pct(x: number): string {
  const v = Math.round(x * 1000) / 10;
  return (x < 1 && v >= 100 ? 99.9 : v).toFixed(1);
}
