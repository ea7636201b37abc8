import {
  COUNTERS,
  V,
  type Counters,
  type GeneratorCost,
  type StepResult,
  type StepSpec,
} from '../../src/contract.js';

// A StepResult for plan tests: every counter 0, a generator that cost nothing, no histograms;
// the test sets only the fields its plan reads.

export const QUIET_GENERATOR: GeneratorCost = {
  peakRssBytes: 0,
  cpuUserMs: 0,
  cpuSystemMs: 0,
  maxCpuPct: 0,
  maxEldMs: 0,
  maxFds: 0,
  saturated: false,
};

export function counters(over: Partial<Counters> = {}): Counters {
  return { ...(Object.fromEntries(COUNTERS.map((c) => [c, 0])) as Counters), ...over };
}

/** A measured step of `spec` where every session was established and held, unless `over` says otherwise. */
export function stepResult(spec: StepSpec, over: Partial<StepResult> = {}): StepResult {
  return {
    v: V,
    spec,
    workers: 1,
    startedAt: 0,
    durationMs: 1,
    sessions: spec.sessions,
    established: spec.sessions,
    successful: spec.sessions,
    failed: 0,
    failures: {},
    counters: counters(),
    hist: {},
    phases: {},
    errorSamples: [],
    generator: { ...QUIET_GENERATOR },
    aborted: false,
    ...over,
  };
}
