// The documented metric names of --threshold and `holdline compare`: each one reads a figure
// from a saved result (never from live sockets), so a result file can be judged again later.
import type {
  BroadcastVerdict,
  CapacityVerdict,
  LatencySummary,
  MessageFindings,
  PlanKind,
  RunResult,
  RunVerdict,
  StepResult,
} from '../contract.js';
import { addInto, createHist, decode, summarize } from '../metrics/histogram.js';

export type MetricUnit = 'fraction' | 'ms' | 'count';

export interface MetricDef {
  name: string;
  unit: MetricUnit;
  /** Which way is better: a regression moves the other way. */
  better: 'higher' | 'lower';
  /** Commands whose results have this figure. */
  commands: readonly PlanKind[];
  help: string;
  value(r: RunResult): number | null;
}

const ALL: readonly PlanKind[] = ['capacity', 'sustain', 'load', 'broadcast', 'run'];
const LADDER: readonly PlanKind[] = ['capacity', 'sustain'];

const sum = (steps: StepResult[], f: (s: StepResult) => number): number =>
  steps.reduce((a, s) => a + f(s), 0);

function share(part: number, whole: number): number | null {
  return whole > 0 ? part / whole : null;
}

function loadMessages(r: RunResult): MessageFindings | null {
  const last = r.steps[r.steps.length - 1] as StepResult | undefined;
  const f = last?.ext?.load as { messages?: MessageFindings } | undefined;
  return f?.messages ?? null;
}

/** A histogram over every step (steps measure different sessions: their samples add up). */
function mergedHist(r: RunResult, name: string): LatencySummary | null {
  const h = createHist();
  for (const s of r.steps) if (s.hist[name]) addInto(h, decode(s.hist[name]));
  return h.totalCount > 0 ? summarize(h) : null;
}

/** Where each latency family lives in a result. */
const LATENCY: Record<
  string,
  { help: string; commands: readonly PlanKind[]; of(r: RunResult): LatencySummary | null }
> = {
  connect: { help: 'TCP connect', commands: ALL, of: (r) => mergedHist(r, 'connect') },
  upgrade: {
    help: 'WebSocket upgrade or SSE response headers',
    commands: ALL,
    of: (r) => mergedHist(r, 'upgrade'),
  },
  first_message: { help: 'first message received', commands: ALL, of: (r) => mergedHist(r, 'first_message') },
  session: {
    help: 'session established (start to open)',
    commands: ALL,
    of: (r) => mergedHist(r, 'session'),
  },
  heartbeat: { help: 'heartbeat round trip', commands: ALL, of: (r) => mergedHist(r, 'heartbeat_rtt') },
  message: {
    help: 'message latency (load, run)',
    commands: ['load', 'run'],
    of: (r) => mergedHist(r, 'message'),
  },
  delivery: {
    help: 'publish to receipt (broadcast)',
    commands: ['broadcast'],
    of: (r) => (r.verdict as BroadcastVerdict | null)?.latency ?? null,
  },
};

/** The latency a bare `p95` means for each command: what its report leads with. */
const MAIN_LATENCY: Record<PlanKind, string> = {
  capacity: 'session',
  sustain: 'session',
  load: 'message',
  run: 'message',
  broadcast: 'delivery',
};

const PERCENTILES = { p50: 'p50', p90: 'p90', p95: 'p95', p99: 'p99', p999: 'p999', max: 'max' } as const;

function latencyMetric(family: string | null, pct: keyof typeof PERCENTILES): MetricDef {
  const fam = family === null ? null : LATENCY[family];
  return {
    name: family === null ? pct : `${family}_${pct}`,
    unit: 'ms',
    better: 'lower',
    commands: fam?.commands ?? ALL,
    help:
      family === null
        ? `${pct} of the command's main latency (capacity, sustain: session; load, run: message; broadcast: delivery)`
        : `${pct} of ${fam!.help}`,
    value: (r) => {
      const of = LATENCY[family ?? MAIN_LATENCY[r.info.command]];
      return of?.of(r)?.[PERCENTILES[pct]] ?? null;
    },
  };
}

const BASE: MetricDef[] = [
  {
    name: 'success',
    unit: 'fraction',
    better: 'higher',
    commands: ALL,
    help: 'sessions successful / sessions, over every step',
    value: (r) =>
      share(
        sum(r.steps, (s) => s.successful),
        sum(r.steps, (s) => s.sessions),
      ),
  },
  {
    name: 'errors',
    unit: 'fraction',
    better: 'lower',
    commands: ALL,
    help: 'sessions failed / sessions, over every step (while running: failed / started so far)',
    value: (r) =>
      share(
        sum(r.steps, (s) => s.failed),
        sum(r.steps, (s) => s.sessions),
      ),
  },
  {
    name: 'failed',
    unit: 'count',
    better: 'lower',
    commands: ALL,
    help: 'sessions failed, over every step',
    value: (r) => sum(r.steps, (s) => s.failed),
  },
  {
    name: 'closed_early',
    unit: 'count',
    better: 'lower',
    commands: ALL,
    help: 'connections closed by the peer or the network before their step ended',
    value: (r) => sum(r.steps, (s) => s.counters.closedEarly),
  },
  {
    name: 'capacity',
    unit: 'count',
    better: 'higher',
    commands: LADDER,
    help: 'maximum reliable session count (0 when no point passed)',
    value: (r) =>
      (r.verdict as CapacityVerdict | null) ? ((r.verdict as CapacityVerdict).maxReliable ?? 0) : null,
  },
  {
    name: 'safe_limit',
    unit: 'count',
    better: 'higher',
    commands: LADDER,
    help: 'safe limit: the maximum reliable count × the safety factor',
    value: (r) =>
      (r.verdict as CapacityVerdict | null) ? ((r.verdict as CapacityVerdict).safeLimit ?? 0) : null,
  },
  {
    name: 'message_success',
    unit: 'fraction',
    better: 'higher',
    commands: ['load', 'run'],
    help: 'load: messages delivered on time / judged; run: messages answered / sent',
    value: (r) => {
      if (r.info.command === 'run') {
        const m = (r.verdict as RunVerdict | null)?.messages;
        return m ? share(m.sent - m.unanswered, m.sent) : null;
      }
      const m = loadMessages(r);
      return m && m.delivered + m.failed > 0 ? m.successRate : null;
    },
  },
  {
    name: 'delivery',
    unit: 'fraction',
    better: 'higher',
    commands: ['broadcast', 'load'],
    help: 'deliveries received / expected (broadcast: codes × connected clients; load: messages × members)',
    value: (r) => {
      if (r.info.command === 'broadcast') {
        const v = r.verdict as BroadcastVerdict | null;
        return v && v.expected > 0 ? v.deliveryRate : null;
      }
      const d = loadMessages(r)?.deliveries;
      return d ? share(d.expected - d.missing, d.expected) : null;
    },
  },
  {
    name: 'throughput',
    unit: 'count',
    better: 'higher',
    commands: ['load'],
    help: 'messages received per second of messaging',
    value: (r) => loadMessages(r)?.receivedPerSec ?? null,
  },
  {
    name: 'generator_cpu',
    unit: 'count',
    better: 'lower',
    commands: ALL,
    help: "the generator's highest CPU % of one core in any interval",
    value: (r) => (r.steps.length > 0 ? Math.max(...r.steps.map((s) => s.generator.maxCpuPct)) : null),
  },
  {
    name: 'generator_cpu_ms',
    unit: 'ms',
    better: 'lower',
    commands: ALL,
    help: 'CPU time the generator spent (user + system), over every step',
    value: (r) =>
      r.steps.length > 0 ? sum(r.steps, (s) => s.generator.cpuUserMs + s.generator.cpuSystemMs) : null,
  },
  {
    name: 'generator_rss_mb',
    unit: 'count',
    better: 'lower',
    commands: ALL,
    help: "the generator's peak resident memory, MB",
    value: (r) =>
      r.steps.length > 0
        ? Math.round(Math.max(...r.steps.map((s) => s.generator.peakRssBytes)) / 1e5) / 10
        : null,
  },
];

/** Every metric, in the order the documentation and `compare` list them. */
export const METRICS: readonly MetricDef[] = [
  ...BASE,
  ...(Object.keys(PERCENTILES) as (keyof typeof PERCENTILES)[]).map((p) => latencyMetric(null, p)),
  ...Object.keys(LATENCY).flatMap((fam) =>
    (Object.keys(PERCENTILES) as (keyof typeof PERCENTILES)[]).map((p) => latencyMetric(fam, p)),
  ),
];

const BY_NAME = new Map(METRICS.map((m) => [m.name, m]));

export function metricNamed(name: string): MetricDef | undefined {
  return BY_NAME.get(name);
}
