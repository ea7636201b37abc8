import {
  V,
  type RunCost,
  type RunVerdict,
  type ScenarioSpec,
  type StepResult,
  type StepSpec,
} from '../contract.js';
import type { Plan } from './plan.js';

export type { RunCost, RunVerdict } from '../contract.js';

// `holdline run`: N sessions of a scenario, once. One step; the verdict is the share of sessions
// that succeeded (default: all of them), plus the figures a user reads off such a run: messages,
// latency from the intended send time, and what the generator itself cost.

export const RUN_DEFAULTS = {
  threshold: 1,
  maxDurationMs: 600_000,
  /** Establishing deadline when no rate stretches it: every session must open within it. */
  stepTimeoutMs: 60_000,
} as const;

export interface RunSettings {
  sessions: number;
  connectConcurrency: number;
  connectRate?: number;
  /** Every session must be established within this (default: the ramp at connectRate + 60 s). */
  stepTimeoutMs?: number;
  /** Sessions with a plan of their own (scenario `session:`) may run this long after the last opened. */
  maxDurationMs: number;
  /** Share of sessions that must succeed, 0..1. */
  threshold: number;
  scenario: ScenarioSpec;
  scenarioModule?: string;
  localAddresses?: string[];
}

export class RunPlan implements Plan<RunVerdict> {
  constructor(private readonly s: RunSettings) {}

  first(): StepSpec {
    const s = this.s;
    const spec: StepSpec = {
      v: V,
      plan: 'run',
      index: 0,
      sessions: s.sessions,
      connectConcurrency: s.connectConcurrency,
      stepTimeoutMs: s.stepTimeoutMs ?? defaultStepTimeout(s.sessions, s.connectRate),
      // Without a session plan a session's job is done once it is established: measure at once.
      holdMs: s.scenario.session ? s.maxDurationMs : 0,
      scenario: s.scenario,
    };
    if (s.connectRate !== undefined) spec.connectRate = s.connectRate;
    if (s.scenarioModule !== undefined) spec.scenarioModule = s.scenarioModule;
    if (s.localAddresses !== undefined) spec.localAddresses = s.localAddresses;
    return spec;
  }

  next(): StepSpec | null {
    return null;
  }

  verdict(done: StepResult[]): RunVerdict {
    const r = done[0];
    const rate = r.sessions > 0 ? r.successful / r.sessions : 0;
    const c = r.counters;
    return {
      threshold: this.s.threshold,
      sessions: r.sessions,
      successful: r.successful,
      rate,
      // A tiny tolerance: 0.999 of 1000 sessions must not fail a 99.9% threshold by rounding.
      passed: !r.aborted && r.sessions > 0 && rate >= this.s.threshold - 1e-9,
      messages: {
        sent: c.msgsSent,
        received: c.msgsRecv,
        unanswered: c.msgsUnanswered ?? 0,
        replies: r.phases.message?.count ?? 0,
      },
      cost: runCost(r),
    };
  }
}

/** The ramp at the connect rate plus a minute for the slowest handshakes. */
export function defaultStepTimeout(sessions: number, connectRate?: number): number {
  const ramp = connectRate && connectRate > 0 ? Math.ceil((sessions * 1000) / connectRate) : 0;
  return ramp + RUN_DEFAULTS.stepTimeoutMs;
}

export function runCost(r: StepResult): RunCost {
  const g = r.generator;
  const cpuMs = g.cpuUserMs + g.cpuSystemMs;
  const held = r.successful;
  const sent = r.counters.msgsSent;
  return {
    rssPerSessionBytes:
      held > 0 && g.baseRssBytes !== undefined ? Math.max(0, g.peakRssBytes - g.baseRssBytes) / held : null,
    cpuPerSessionMs: r.established > 0 ? cpuMs / r.established : null,
    cpuPerMessageUs: sent > 0 ? (cpuMs * 1000) / sent : null,
    cpuMs,
    peakRssBytes: g.peakRssBytes,
    maxEldMs: g.maxEldMs,
    saturated: g.saturated,
  };
}
