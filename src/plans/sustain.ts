import type { CloseAnalysis, EarlyClose, StepResult } from '../contract.js';

export type { CloseAnalysis };

export const SUSTAIN_DEFAULTS = {
  points: [50, 100, 200, 500, 1000, 2000, 5000],
  threshold: 0.8,
  stepTimeoutMs: 60_000,
  pauseMs: 2_000,
  durationMs: 120_000,
  heartbeatMs: 30_000,
} as const;

/**
 * What premature closes say: their distribution of time since open, and whether they cluster at
 * one age (an idle timeout when heartbeats were rarer than that age; a lifetime limit otherwise).
 */
export function analyzeCloses(closes: EarlyClose[], heartbeatMs: number | null): CloseAnalysis {
  const byClass: Record<string, number> = {};
  for (const c of closes) byClass[c.code] = (byClass[c.code] ?? 0) + 1;
  if (closes.length === 0)
    return { count: 0, byClass, ages: null, idle: null, buckets: [], cluster: null, advice: null };
  const ages = closes.map((c) => c.ageMs).sort((a, b) => a - b);
  // Clustering is judged on idle time (since the last frame sent): heartbeats spread over the
  // interval make ages differ while an idle timeout cuts every connection at the same idle time.
  const idles = closes.map((c) => c.idleMs).sort((a, b) => a - b);
  const p50 = median(idles);
  let cluster: CloseAnalysis['cluster'] = null;
  let advice: string | null = null;
  const idleCluster = clusterOf(idles);
  // An idle cut is only possible when heartbeats left the connection idle that long.
  if (
    idleCluster &&
    idleCluster.center >= 1000 &&
    (heartbeatMs === null || heartbeatMs >= idleCluster.center - idleCluster.tol)
  ) {
    cluster = { count: idleCluster.count, ageMs: idleCluster.low, kind: 'idle' };
    const s = fmtSeconds(idleCluster.low);
    advice = `${idleCluster.count} connections closed after ~${s} idle: this looks like an idle timeout of ${s}; send heartbeats more often than that (--heartbeat below ${s}).`;
  } else {
    const ageCluster = clusterOf(ages);
    if (ageCluster) {
      cluster = { count: ageCluster.count, ageMs: ageCluster.low, kind: 'lifetime' };
      const s = fmtSeconds(ageCluster.low);
      advice = `${ageCluster.count} connections closed ~${s} after opening while heartbeats kept them busy: this looks like a connection lifetime limit of ${s} on the server or a proxy.`;
    }
  }
  return {
    count: closes.length,
    byClass,
    ages: { minMs: ages[0], p50Ms: median(ages), maxMs: ages[ages.length - 1] },
    idle: { p50Ms: p50 },
    buckets: bucketize(ages),
    cluster,
    advice,
  };
}

function median(sorted: number[]): number {
  return sorted[Math.floor((sorted.length - 1) / 2)];
}

/**
 * Most values near the median. A timeout of T cuts at >= T, late by the enforcer's granularity
 * (a sweep every second is common; the reference target's is a tenth of the timeout) and by
 * event-loop delays on both sides: the cuts spread over [T, T + granularity + delays] with the
 * median anywhere in it (seen: 5.0-5.9 s, median 5.8 s, for a 5 s timeout swept every 0.5 s).
 * So the cluster reaches that far on both sides, a little further above, and its low edge
 * estimates T better than the middle.
 */
function clusterOf(sorted: number[]): { count: number; center: number; tol: number; low: number } | null {
  const center = median(sorted);
  const tol = Math.max(500, center * 0.15);
  const late = Math.max(1000, center * 0.2);
  const inside = sorted.filter((a) => a >= center - tol && a <= center + late);
  if (inside.length < 3 || inside.length < sorted.length * 0.6) return null;
  return { count: inside.length, center, tol, low: roundAge(inside[0]) };
}

/** Up to 10 equal-width buckets over the observed ages, each at least 1 s wide. */
function bucketize(sorted: number[]): CloseAnalysis['buckets'] {
  const lo = Math.floor(sorted[0] / 1000) * 1000;
  const hi = sorted[sorted.length - 1];
  const width = Math.max(1000, Math.ceil((hi - lo + 1) / 10 / 1000) * 1000);
  const out: CloseAnalysis['buckets'] = [];
  for (const a of sorted) {
    const from = lo + Math.floor((a - lo) / width) * width;
    const last = out[out.length - 1];
    if (last && last.fromMs === from) last.count++;
    else out.push({ fromMs: from, toMs: from + width, count: 1 });
  }
  return out;
}

function roundAge(ms: number): number {
  return ms >= 3_000 ? Math.round(ms / 1000) * 1000 : Math.round(ms / 100) * 100;
}

export function fmtSeconds(ms: number): string {
  const s = ms / 1000;
  return `${Number.isInteger(s) ? s : s.toFixed(1)}s`;
}

/** Heartbeats must come more often than the idle timeout they are meant to beat. */
export function heartbeatWarning(heartbeatMs: number, idleTimeoutMs: number | undefined): string | null {
  if (idleTimeoutMs === undefined || heartbeatMs < idleTimeoutMs) return null;
  return `--heartbeat ${fmtSeconds(heartbeatMs)} is not shorter than --idle-timeout ${fmtSeconds(idleTimeoutMs)}: idle connections will be closed before their next heartbeat.`;
}

export function avgHeartbeats(r: StepResult): number {
  return r.established > 0 ? r.counters.heartbeats / r.established : 0;
}
