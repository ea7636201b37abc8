import { createHist, record, reset, summarize, type Hist } from '../metrics/histogram.js';
import { HealthSampler } from './health.js';
import type { HistoryRow, LoadErrorClass } from './load-model.js';

// What the chat load keeps besides counters: one row per second (throughput, latency percentiles,
// active connections, the generator's health) and bounded error samples.

const MAX_ROWS = 86_400;
const SAMPLES_PER_CLASS = 5;
const MAX_CLASSES = 50;
const MAX_DETAIL = 300;

export class History {
  readonly rows: HistoryRow[] = [];
  private readonly hist: Hist = createHist();
  // Rows carry no descriptor count: a constant socket count spares listing /proc/self/fd each second.
  private readonly health = new HealthSampler(() => 0);
  private sent = 0;
  private received = 0;
  private dropped = 0;
  private lastAt = -Infinity;

  countSent(): void {
    this.sent++;
  }

  countDropped(n = 1): void {
    this.dropped += n;
  }

  /** A delivery received, `ms` after its intended send time. */
  countReceived(ms: number): void {
    this.received++;
    record(this.hist, ms * 1000);
  }

  /** Closes the second that just ended at `nowMs` (performance.now()); see rebased(). Counts
   * carry over to the next row when this one would be a near-empty sliver. */
  row(nowMs: number, active: number): void {
    // A sliver of a second with nothing in it (the phase just changed) would only add noise.
    const empty = this.sent === 0 && this.received === 0 && this.dropped === 0;
    if (empty && nowMs - this.lastAt < 250) return;
    this.lastAt = nowMs;
    const h = this.health.sample();
    const lat = summarize(this.hist);
    reset(this.hist);
    if (this.rows.length >= MAX_ROWS) this.rows.shift();
    this.rows.push({
      t: nowMs,
      active,
      sent: this.sent,
      received: this.received,
      dropped: this.dropped,
      p50: lat.p50,
      p95: lat.p95,
      p99: lat.p99,
      max: lat.max,
      cpuPct: h.cpuPct,
      eldMs: Math.round(h.eldP99Ms * 10) / 10,
      rssBytes: h.rssBytes,
    });
    this.sent = 0;
    this.received = 0;
    this.dropped = 0;
  }

  /** The rows with `t` in seconds since `originMs` (the start of messaging). */
  rebased(originMs: number): HistoryRow[] {
    return this.rows.map((r) => ({ ...r, t: Math.round((r.t - originMs) / 100) / 10 }));
  }

  close(): void {
    this.health.close();
  }
}

/** Error classes with counts and their first few distinct details. */
export class ErrorLog {
  private readonly byCode = new Map<string, LoadErrorClass>();

  add(code: string, detail: string): void {
    let c = this.byCode.get(code);
    if (c === undefined) {
      if (this.byCode.size >= MAX_CLASSES) {
        code = 'other';
        c = this.byCode.get(code);
      }
      if (c === undefined) {
        c = { code, count: 0, samples: [] };
        this.byCode.set(code, c);
      }
    }
    c.count++;
    const d = detail.length > MAX_DETAIL ? `${detail.slice(0, MAX_DETAIL)}…` : detail;
    if (d && c.samples.length < SAMPLES_PER_CLASS && !c.samples.includes(d)) c.samples.push(d);
  }

  count(code: string): number {
    return this.byCode.get(code)?.count ?? 0;
  }

  list(): LoadErrorClass[] {
    return [...this.byCode.values()].map((c) => ({ ...c, samples: [...c.samples] }));
  }
}
