import {
  V,
  judgedMessages,
  type LoadCriterion,
  type LoadVerdict,
  type StepResult,
  type StepSpec,
  type HistoryRow,
  type LoadFindings,
  type LoadSettings,
} from '../contract.js';
import type { Plan } from './plan.js';
import { grouped } from '../report/duration.js';

export type { LoadCriterion, LoadVerdict } from '../contract.js';

// The chat load: one step (connections, groups, messages) and the users' success criteria as
// the verdict. Pure: settings in, a StepSpec out; results in, a verdict out.

export interface LoadPreset {
  connections: number;
  groups: number;
  rate: number;
  payloadChars: number;
  durationMs: number;
  rampUpMs: number;
  httpRate: number;
  heartbeatMs: number; // 0: none
  /** Needs worker processes (the scale-out issue), which this version does not have. */
  needsWorkers: boolean;
}

/** Defaults when no preset is given: a run that finishes in well under a minute on a laptop. */
export const LOAD_DEFAULTS: LoadPreset & {
  groupsPerConnection: number;
  messageTimeoutMs: number;
  groupBatch: number;
  groupConcurrency: number;
  groupPrefix: string;
  httpRequest: string;
  httpTimeoutMs: number;
  connectConcurrency: number;
  joinGraceMs: number;
} = {
  connections: 100,
  groups: 1000,
  rate: 50,
  payloadChars: 1000,
  durationMs: 30_000,
  rampUpMs: 5_000,
  httpRate: 0,
  heartbeatMs: 0,
  needsWorkers: false,
  groupsPerConnection: 1,
  messageTimeoutMs: 5_000,
  groupBatch: 1000,
  groupConcurrency: 8,
  groupPrefix: 'load',
  httpRequest: 'GET {{baseUrl}}/groups/count',
  httpTimeoutMs: 10_000,
  connectConcurrency: 500,
  joinGraceMs: 5000,
};

/** The users' own programs: realistic, stress (the same with HTTP API load), extreme. */
export const LOAD_PRESETS: Record<'realistic' | 'stress' | 'extreme', LoadPreset> = {
  realistic: {
    connections: 5000,
    groups: 50_000,
    rate: 500,
    payloadChars: 5000,
    durationMs: 120_000,
    rampUpMs: 10_000,
    httpRate: 0,
    heartbeatMs: 0,
    needsWorkers: false,
  },
  stress: {
    connections: 5000,
    groups: 50_000,
    rate: 500,
    payloadChars: 5000,
    durationMs: 120_000,
    rampUpMs: 10_000,
    httpRate: 50,
    heartbeatMs: 0,
    needsWorkers: false,
  },
  extreme: {
    connections: 100_000,
    groups: 3_000_000,
    rate: 1000,
    payloadChars: 5000,
    durationMs: 300_000,
    rampUpMs: 300_000,
    httpRate: 0,
    heartbeatMs: 30_000,
    needsWorkers: true,
  },
};
export type LoadPresetName = keyof typeof LOAD_PRESETS;

export interface LoadCriteria {
  minConnectionSuccess: number; // fraction; passes when above
  minMessageSuccess: number;
  maxP95Ms: number; // passes when below
  failOnCritical: boolean;
}

export const LOAD_CRITERIA: LoadCriteria = {
  minConnectionSuccess: 0.95,
  minMessageSuccess: 0.9,
  maxP95Ms: 500,
  failOnCritical: true,
};

export interface LoadPlanOptions {
  settings: LoadSettings;
  criteria: LoadCriteria;
  /** Every field of the step but those the plan decides. */
  step: Omit<StepSpec, 'v' | 'plan' | 'index' | 'sessions' | 'holdMs' | 'ext' | 'connectRate'> & {
    connectRate?: number;
  };
}

/** Share of established connections that may be lost before it counts as a critical error. */
export const LOST_CRITICAL = 0.1;
/** Target event-loop delay (p99, ms) above which the target is reported as saturated. */
export const TARGET_SATURATED_MS = 100;

export class LoadPlan implements Plan<LoadVerdict> {
  constructor(private readonly o: LoadPlanOptions) {}

  first(): StepSpec {
    const s = this.o.settings;
    const rampRate = s.rampUpMs > 0 ? s.connections / (s.rampUpMs / 1000) : undefined;
    return {
      ...this.o.step,
      v: V,
      plan: 'load',
      index: 0,
      sessions: s.connections,
      connectRate: this.o.step.connectRate ?? rampRate,
      // Waiting for join acknowledgements, messaging, then up to one timeout for the last
      // messages to arrive; the step ends as soon as every message is settled.
      holdMs: s.joinGraceMs + s.durationMs + s.messageTimeoutMs + 2000,
      ext: { load: s },
    };
  }

  next(): StepSpec | null {
    return null;
  }

  verdict(done: StepResult[]): LoadVerdict {
    const r = done[0];
    return judge(r, loadFindings(r), this.o.criteria, this.o.settings);
  }
}

export function loadFindings(r: StepResult | undefined): LoadFindings | null {
  return ((r?.ext?.load as LoadFindings | undefined) ?? null) as LoadFindings | null;
}

/** The success criteria of the users' programs, each measured against its limit. */
export function judge(
  r: StepResult | undefined,
  f: LoadFindings | null,
  c: LoadCriteria,
  s: LoadSettings,
): LoadVerdict {
  const criteria: LoadCriterion[] = [];
  const connRate = r && r.sessions > 0 ? r.established / r.sessions : 0;
  criteria.push({
    name: 'connection_success',
    passed: connRate > c.minConnectionSuccess,
    actual: r ? connRate : null,
    limit: c.minConnectionSuccess,
    skipped: false,
  });
  const m = f?.messages;
  const judged = m ? judgedMessages(m) : 0;
  const noMessages = s.rate === 0;
  criteria.push({
    name: 'message_success',
    passed: noMessages || (judged > 0 && m!.successRate > c.minMessageSuccess),
    actual: judged > 0 ? m!.successRate : null,
    limit: c.minMessageSuccess,
    skipped: noMessages,
  });
  const lat = r?.phases.message;
  criteria.push({
    name: 'p95_latency',
    passed: noMessages || (lat !== undefined && lat.count > 0 && lat.p95 < c.maxP95Ms),
    actual: lat && lat.count > 0 ? lat.p95 : null,
    limit: c.maxP95Ms,
    skipped: noMessages,
  });
  const critical = criticalErrors(r, f);
  criteria.push({
    name: 'critical_errors',
    passed: !c.failOnCritical || critical.length === 0,
    actual: critical.length,
    limit: 0,
    skipped: !c.failOnCritical,
  });
  return {
    passed: !!r && !r.aborted && criteria.every((x) => x.passed),
    criteria,
    critical,
    warnings: warnings(r, f),
  };
}

/** What the users count as critical: the target gone or crashing, the generator out of resources. */
export function criticalErrors(r: StepResult | undefined, f: LoadFindings | null): string[] {
  const out: string[] = [];
  if (!r) return ['the step did not run'];
  const fail = r.failures;
  if ((fail.step_prepare_error ?? 0) > 0) {
    const d = r.errorSamples.find((e) => e.code === 'step_prepare_error')?.detail;
    out.push(`the load could not be prepared${d ? `: ${d}` : ''}`);
  } else if (r.sessions > 0 && r.established === 0 && !r.aborted) {
    out.push('no connection could be established');
  }
  const exhausted = (fail.fds_exhausted ?? 0) + (fail.ports_exhausted ?? 0);
  if (exhausted > 0)
    out.push(`the generator ran out of file descriptors or ports (${exhausted} connections)`);
  if (f && f.ramp.established > 0 && f.ramp.lost > f.ramp.established * LOST_CRITICAL) {
    out.push(
      `${f.ramp.lost} of ${f.ramp.established} connections (${pct(f.ramp.lost / f.ramp.established)}) were closed before the end: the target dropped them or went away`,
    );
  }
  if (f && f.messages.scheduled > 0 && f.messages.sent === 0 && r.established > 0) {
    out.push('no message could be sent');
  }
  return out;
}

function warnings(r: StepResult | undefined, f: LoadFindings | null): string[] {
  const out: string[] = [];
  if (!r || !f) return out;
  const m = f.messages;
  if (m.behind) {
    out.push(
      `the generator could not keep the schedule: ${num(m.achievedRate)} msg/s sent of ${num(m.rate)} requested ` +
        `(sent late by up to ${num(m.sendLag.maxMs)} ms, p99 ${num(m.sendLag.p99Ms)} ms; ${num(m.dropped.behind)} never sent); ` +
        'latencies still count from the intended send times',
    );
  }
  const g = r.generator;
  const busy = f.history.filter((row) => row.t > 0 && isBusy(row));
  if (busy.length > 0) {
    const cpu = Math.max(...busy.map((row) => row.cpuPct));
    const eld = Math.max(...busy.map((row) => row.eldMs));
    out.push(
      `the generator saturated while messaging (${busy.length} of ${f.history.filter((row) => row.t > 0).length} seconds, ` +
        `CPU up to ${Math.round(cpu)}%, event-loop delay p99 up to ${Math.round(eld)} ms): latencies include its own delay`,
    );
  } else if (g.saturated) {
    out.push(
      `the generator saturated while connections were opened (CPU up to ${Math.round(g.maxCpuPct)}%, ` +
        `event-loop delay up to ${Math.round(g.maxEldMs)} ms); it kept up while messaging`,
    );
  }
  const t = f.target;
  if (t && t.eldP99MaxMs > TARGET_SATURATED_MS) {
    const when =
      t.worstAtS < 0
        ? `read ${num(-t.worstAtS)} s before messaging began, while connections were opened`
        : `read ${num(t.worstAtS)} s into messaging`;
    out.push(
      `the target saturated: its event-loop delay reached p99 ${num(t.eldP99MaxMs)} ms, max ${num(t.eldMaxMs)} ms ` +
        `(${when}; each reading covers its last 10 s)`,
    );
  }
  if (m.dropped.notWritable > 0) {
    out.push(`${m.dropped.notWritable} messages were not sent because their socket's send buffer was full`);
  }
  if (f.ramp.joinsAcked < f.ramp.joinsSent) {
    out.push(
      `${f.ramp.joinsSent - f.ramp.joinsAcked} of ${f.ramp.joinsSent} group joins were not acknowledged`,
    );
  }
  if (f.ramp.lost > 0 && f.ramp.lost <= f.ramp.established * LOST_CRITICAL) {
    out.push(`${f.ramp.lost} connections were closed before the end`);
  }
  if (f.groups.failed > 0)
    out.push(`${f.groups.failed} of ${f.groups.requested} groups could not be created`);
  if (m.noRecipients > 0) {
    out.push(`${m.noRecipients} messages went to a group with no other member connected (not judged)`);
  }
  return out;
}

/** A second in which this process was the bottleneck (the same bounds as the engine's health). */
function isBusy(row: HistoryRow): boolean {
  return (row.cpuPct >= 90 && row.eldMs >= 50) || row.eldMs >= 1000;
}

/** `1,234` or `12.5`: whole above 100, one decimal below. */
function num(x: number): string {
  return x >= 100 ? grouped(x) : String(Math.round(x * 10) / 10);
}

function pct(x: number): string {
  return `${(Math.round(x * 1000) / 10).toFixed(1)}%`;
}

/** Exit status: 0 when every criterion passed, 1 otherwise, 130 when interrupted. */
export function loadExitCode(v: LoadVerdict | null, interrupted: boolean): number {
  if (interrupted) return 130;
  return v && v.passed ? 0 : 1;
}
