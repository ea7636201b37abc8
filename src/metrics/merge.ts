import {
  COUNTERS,
  V,
  type Counters,
  type ErrorSample,
  type GeneratorCost,
  type Health,
  type HistName,
  type IntervalSnapshot,
  type LatencySummary,
  type StepResult,
} from '../contract.js';
import { HoldlineError } from '../errors.js';
import { addInto, createHist, decode, encode, summarize, type Hist } from './histogram.js';
import { MAX_SAMPLES_PER_CLASS } from './recorder.js';

// Merging is associative and loses nothing: counts add, histograms add, late data from any
// worker is folded in like any other. Mixed versions are refused before anything is merged.

function checkVersions(items: { v: number }[], what: string): void {
  if (items.length === 0) throw new HoldlineError('internal', `nothing to merge: no ${what}`);
  for (const it of items) {
    if (it.v !== V) {
      throw new HoldlineError(
        'version_mismatch',
        `cannot merge ${what} of format version ${String(it.v)} with version ${V}`,
        'run the same holdline version on every worker and agent',
      );
    }
  }
}

function sumCounters(items: { counters: Counters }[]): Counters {
  const out = {} as Counters;
  for (const c of COUNTERS) {
    let n = 0;
    for (const it of items) n += it.counters[c] ?? 0;
    out[c] = n;
  }
  return out;
}

function sumRecords(items: Record<string, number>[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of items) for (const k in r) out[k] = (out[k] ?? 0) + r[k];
  return out;
}

function addHists(items: Record<HistName, string>[]): Map<HistName, Hist> {
  const out = new Map<HistName, Hist>();
  for (const r of items) {
    for (const name in r) {
      let h = out.get(name);
      if (h === undefined) {
        h = createHist();
        out.set(name, h);
      }
      addInto(h, decode(r[name]));
    }
  }
  return out;
}

function encodeAll(hists: Map<HistName, Hist>): Record<HistName, string> {
  const out: Record<HistName, string> = {};
  for (const [name, h] of hists) out[name] = encode(h);
  return out;
}

// ------------------------------------------------------------------ snapshots

/**
 * Health is per process: one worker's late snapshots take the max of that worker, while different
 * workers add up (RSS, fds) or take the max (CPU %, event-loop delay). A merged snapshot remembers
 * its per-worker health here, so merging in any grouping gives the same answer.
 */
const healthByGroup = new WeakMap<IntervalSnapshot, Map<string, Health>>();
let anonymous = 0;

function healthGroups(s: IntervalSnapshot): Map<string, Health> {
  const known = healthByGroup.get(s);
  if (known) return known;
  // An already merged snapshot from elsewhere (worker -1) stands for its own group of workers.
  const key = s.worker >= 0 ? `w${s.worker}` : `m${anonymous++}`;
  const m = new Map<string, Health>([[key, s.health]]);
  healthByGroup.set(s, m);
  return m;
}

function maxHealth(a: Health, b: Health): Health {
  return {
    cpuPct: Math.max(a.cpuPct, b.cpuPct),
    eldP99Ms: Math.max(a.eldP99Ms, b.eldP99Ms),
    eldMaxMs: Math.max(a.eldMaxMs, b.eldMaxMs),
    rssBytes: Math.max(a.rssBytes, b.rssBytes),
    fds: Math.max(a.fds, b.fds),
  };
}

function combineGroups(groups: Map<string, Health>): Health {
  const h: Health = { cpuPct: 0, eldP99Ms: 0, eldMaxMs: 0, rssBytes: 0, fds: -1 };
  for (const g of groups.values()) {
    h.cpuPct = Math.max(h.cpuPct, g.cpuPct);
    h.eldP99Ms = Math.max(h.eldP99Ms, g.eldP99Ms);
    h.eldMaxMs = Math.max(h.eldMaxMs, g.eldMaxMs);
    h.rssBytes += g.rssBytes;
    if (g.fds >= 0) h.fds = (h.fds < 0 ? 0 : h.fds) + g.fds; // -1 means unknown
  }
  return h;
}

/** Sums counters, failures and gauges, adds histograms; health as described above. */
export function mergeSnapshots(snaps: IntervalSnapshot[]): IntervalSnapshot {
  checkVersions(snaps, 'snapshots');
  const groups = new Map<string, Health>();
  let worker = snaps[0].worker;
  let step = snaps[0].step;
  let t0 = snaps[0].t0;
  let t1 = snaps[0].t1;
  let active = 0;
  let pending = 0;
  for (const s of snaps) {
    if (s.worker !== worker) worker = -1;
    step = Math.max(step, s.step);
    t0 = Math.min(t0, s.t0);
    t1 = Math.max(t1, s.t1);
    active += s.active;
    pending += s.pending;
    for (const [k, h] of healthGroups(s)) {
      const prev = groups.get(k);
      groups.set(k, prev ? maxHealth(prev, h) : h);
    }
  }
  const merged: IntervalSnapshot = {
    v: V,
    worker,
    step,
    t0,
    t1,
    active,
    pending,
    counters: sumCounters(snaps),
    failures: sumRecords(snaps.map((s) => s.failures)),
    hist: encodeAll(addHists(snaps.map((s) => s.hist))),
    health: combineGroups(groups),
  };
  healthByGroup.set(merged, groups);
  return merged;
}

// ------------------------------------------------------------------ step results

/** Same code and detail add up; at most MAX_SAMPLES_PER_CLASS distinct details per class, first come first kept. */
function mergeSamples(lists: ErrorSample[][]): ErrorSample[] {
  const out: ErrorSample[] = [];
  const byKey = new Map<string, ErrorSample>();
  const perClass = new Map<string, number>();
  for (const list of lists) {
    for (const s of list) {
      const key = `${s.code}\u0000${s.detail}`;
      const have = byKey.get(key);
      if (have) {
        have.count += s.count;
        continue;
      }
      const n = perClass.get(s.code) ?? 0;
      if (n >= MAX_SAMPLES_PER_CLASS) continue;
      perClass.set(s.code, n + 1);
      const copy = { code: s.code, detail: s.detail, count: s.count };
      byKey.set(key, copy);
      out.push(copy);
    }
  }
  return out;
}

function mergeGenerator(gs: GeneratorCost[]): GeneratorCost {
  const out: GeneratorCost = {
    peakRssBytes: 0,
    cpuUserMs: 0,
    cpuSystemMs: 0,
    maxCpuPct: 0,
    maxEldMs: 0,
    maxFds: 0,
    saturated: false,
  };
  for (const g of gs) {
    if (g.baseRssBytes !== undefined) out.baseRssBytes = (out.baseRssBytes ?? 0) + g.baseRssBytes;
    out.peakRssBytes += g.peakRssBytes;
    out.cpuUserMs += g.cpuUserMs;
    out.cpuSystemMs += g.cpuSystemMs;
    out.maxCpuPct = Math.max(out.maxCpuPct, g.maxCpuPct);
    out.maxEldMs = Math.max(out.maxEldMs, g.maxEldMs);
    out.maxFds += Math.max(0, g.maxFds); // processes hold their fds at once
    out.saturated ||= g.saturated;
  }
  return out;
}

/** Results of the same step from several workers (or agents) as one result. */
export function mergeResults(results: StepResult[]): StepResult {
  checkVersions(results, 'step results');
  let startedAt = results[0].startedAt;
  let endAt = results[0].startedAt + results[0].durationMs;
  let workers = 0;
  let sessions = 0;
  let established = 0;
  let successful = 0;
  let failed = 0;
  let aborted = false;
  for (const r of results) {
    startedAt = Math.min(startedAt, r.startedAt);
    endAt = Math.max(endAt, r.startedAt + r.durationMs);
    workers += r.workers;
    sessions += r.sessions;
    established += r.established;
    successful += r.successful;
    failed += r.failed;
    aborted ||= r.aborted;
  }
  const hists = addHists(results.map((r) => r.hist));
  const phases: Record<HistName, LatencySummary> = {};
  for (const [name, h] of hists) phases[name] = summarize(h);
  return {
    v: V,
    spec: results[0].spec,
    workers,
    startedAt,
    durationMs: endAt - startedAt,
    sessions,
    established,
    successful,
    failed,
    failures: sumRecords(results.map((r) => r.failures)),
    counters: sumCounters(results),
    hist: encodeAll(hists),
    phases,
    errorSamples: mergeSamples(results.map((r) => r.errorSamples)),
    generator: mergeGenerator(results.map((r) => r.generator)),
    aborted,
    ...mergeExtras(results, startedAt),
  };
}

/** Optional per-step facts: setup completion, early closes (re-based on the merged start), hold. */
function mergeExtras(results: StepResult[], startedAt: number): Partial<StepResult> {
  const out: Partial<StepResult> = {};
  const withSetup = results.filter((r) => r.setup);
  if (withSetup.length > 0) {
    out.setup = {
      completed: withSetup.reduce((n, r) => n + r.setup!.completed, 0),
      durationMs: Math.max(...withSetup.map((r) => r.startedAt - startedAt + r.setup!.durationMs)),
    };
  }
  const withCloses = results.filter((r) => r.earlyCloses);
  if (withCloses.length > 0) {
    out.earlyCloses = withCloses
      .flatMap((r) => r.earlyCloses!.map((c) => ({ ...c, atMs: c.atMs + r.startedAt - startedAt })))
      .sort((a, b) => a.atMs - b.atMs || a.session - b.session);
  }
  const holds = results.filter((r) => r.holdMs !== undefined).map((r) => r.holdMs!);
  if (holds.length > 0) out.holdMs = Math.max(...holds);
  return out;
}
