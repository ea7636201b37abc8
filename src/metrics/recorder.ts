import {
  COUNTERS,
  V,
  type CounterName,
  type Counters,
  type ErrorSample,
  type GeneratorCost,
  type Health,
  type HistName,
  type IntervalSnapshot,
  type LatencySummary,
  type StepResult,
  type StepSpec,
} from '../contract.js';
import { addInto, createHist, encode, record, reset, summarize, type Hist } from './histogram.js';

/** Distinct details kept per failure class; further details are counted in `failures` only. */
export const MAX_SAMPLES_PER_CLASS = 5;
const MAX_DETAIL_CHARS = 300;

const INDEX = Object.fromEntries(COUNTERS.map((c, i) => [c, i])) as Record<CounterName, number>;

export interface StepFacts {
  startedAt: number;
  durationMs: number;
  successful: number;
  established: number;
  generator: GeneratorCost;
  aborted: boolean;
  /** Sessions this recorder was responsible for (a worker's shard); default `spec.sessions`. */
  sessions?: number;
}

/**
 * Counters, failure classes and latency histograms of one engine for one step.
 *
 * The hot path (inc, latency) touches a typed array or one histogram. Each snapshot returns the
 * interval since the previous one and folds it into running totals, so `result()` always equals
 * the sum of every snapshot plus whatever was recorded after the last one.
 */
export class Recorder {
  private readonly cur = new Float64Array(COUNTERS.length);
  private readonly tot = new Float64Array(COUNTERS.length);
  private curFail: Record<string, number> = {};
  private readonly totFail: Record<string, number> = {};
  private readonly samples = new Map<string, ErrorSample[]>();
  private readonly curHist = new Map<HistName, Hist>();
  private readonly totHist = new Map<HistName, Hist>();
  private t0: number;

  constructor(
    readonly worker: number,
    readonly step: number,
    private readonly now: () => number = Date.now,
  ) {
    this.t0 = now();
  }

  inc(c: CounterName, n = 1): void {
    this.cur[INDEX[c]] += n;
  }

  latency(name: HistName, us: number): void {
    let h = this.curHist.get(name);
    if (h === undefined) {
      h = createHist();
      this.curHist.set(name, h);
    }
    record(h, us);
  }

  /** One session failed with this class. Every call counts; the first few details are kept. */
  fail(code: string, detail?: string): void {
    this.curFail[code] = (this.curFail[code] ?? 0) + 1;
    const d =
      detail === undefined
        ? ''
        : detail.length > MAX_DETAIL_CHARS
          ? detail.slice(0, MAX_DETAIL_CHARS)
          : detail;
    let list = this.samples.get(code);
    if (list === undefined) {
      list = [];
      this.samples.set(code, list);
    }
    for (const s of list) {
      if (s.detail === d) {
        s.count++;
        return;
      }
    }
    if (list.length < MAX_SAMPLES_PER_CLASS) list.push({ code, detail: d, count: 1 });
  }

  /** The interval since the previous snapshot; starts the next interval. */
  snapshot(active: number, pending: number, health: Health): IntervalSnapshot {
    const t1 = this.now();
    const counters = {} as Counters;
    for (let i = 0; i < COUNTERS.length; i++) {
      counters[COUNTERS[i]] = this.cur[i];
      this.tot[i] += this.cur[i];
      this.cur[i] = 0;
    }
    const failures = this.curFail;
    for (const code in failures) this.totFail[code] = (this.totFail[code] ?? 0) + failures[code];
    this.curFail = {};
    const hist: Record<HistName, string> = {};
    for (const [name, h] of this.curHist) {
      if (h.totalCount === 0) continue;
      hist[name] = encode(h);
      let tot = this.totHist.get(name);
      if (tot === undefined) {
        tot = createHist();
        this.totHist.set(name, tot);
      }
      addInto(tot, h);
      reset(h);
    }
    const snap: IntervalSnapshot = {
      v: V,
      worker: this.worker,
      step: this.step,
      t0: this.t0,
      t1,
      active,
      pending,
      counters,
      failures,
      hist,
      health: { ...health },
    };
    this.t0 = t1;
    return snap;
  }

  /** Totals of the whole step: every snapshot so far plus the interval still open. */
  result(spec: StepSpec, f: StepFacts): StepResult {
    const counters = {} as Counters;
    for (let i = 0; i < COUNTERS.length; i++) counters[COUNTERS[i]] = this.tot[i] + this.cur[i];
    const failures: Record<string, number> = { ...this.totFail };
    for (const code in this.curFail) failures[code] = (failures[code] ?? 0) + this.curFail[code];
    const hist: Record<HistName, string> = {};
    const phases: Record<HistName, LatencySummary> = {};
    const names = new Set([...this.totHist.keys(), ...this.curHist.keys()]);
    for (const name of names) {
      const h = createHist();
      const tot = this.totHist.get(name);
      const cur = this.curHist.get(name);
      if (tot) addInto(h, tot);
      if (cur) addInto(h, cur);
      if (h.totalCount === 0) continue;
      hist[name] = encode(h);
      phases[name] = summarize(h);
    }
    const errorSamples: ErrorSample[] = [];
    for (const list of this.samples.values()) for (const s of list) errorSamples.push({ ...s });
    const sessions = f.sessions ?? spec.sessions;
    return {
      v: V,
      spec,
      workers: 1,
      startedAt: f.startedAt,
      durationMs: f.durationMs,
      sessions,
      established: f.established,
      successful: f.successful,
      failed: sessions - f.successful,
      failures,
      counters,
      hist,
      phases,
      errorSamples,
      generator: { ...f.generator },
      aborted: f.aborted,
    };
  }
}
