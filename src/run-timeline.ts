import type { IntervalSnapshot, TimelineRow } from './contract.js';
import { isSaturated } from './engine/health.js';
import { decode, summarize } from './metrics/histogram.js';

/** One interval snapshot as a timeline row: what the charts of a report plot over time. */
export function timelineRow(s: IntervalSnapshot, runStartedAt: number): TimelineRow {
  const row: TimelineRow = {
    t: s.t1 - runStartedAt,
    step: s.step,
    worker: s.worker,
    active: s.active,
    pending: s.pending,
    started: s.counters.started,
    failed: s.counters.failed,
    failures: { ...s.failures },
    sent: s.counters.msgsSent,
    recv: s.counters.msgsRecv,
    cpuPct: s.health.cpuPct,
    eldP99Ms: round1(s.health.eldP99Ms),
    rssBytes: s.health.rssBytes,
    saturated: isSaturated(s.health),
  };
  const hb = s.hist.heartbeat_rtt;
  if (hb) {
    const h = summarize(decode(hb));
    if (h.count > 0) row.heartbeat = { count: h.count, p50Ms: h.p50, p99Ms: h.p99 };
  }
  return row;
}

function round1(n: number): number {
  return Math.round(n * 10) / 10;
}
