import { createHist, record, summarize, type Hist } from '../metrics/histogram.js';

// The open-model message schedule of one process, and the one timer that keeps it. Message k of
// worker w (of W) is due at t0 + (k·W + w) / rate, whatever happened before: nothing waits for a
// reply, a late send does not move the next one, and what falls due is either sent (late if it
// must) or counted as never sent.

/** Message spacing (ms) from which sends are timed to the sub-millisecond (see SendClock). */
export const PRECISE_STEP_MS = 5;

export class SendSchedule {
  private t0 = 0;
  private endAt = 0;
  readonly stepMs: number;
  private readonly offsetMs: number;
  /** Messages taken (sent or dropped) so far. */
  taken = 0;
  /** How late each message left, from its due time (µs histogram). */
  readonly lag: Hist = createHist();
  lastDue = NaN;

  constructor(rate: number, worker: number, workers: number) {
    this.stepMs = rate > 0 ? (1000 * workers) / rate : Infinity;
    this.offsetMs = rate > 0 ? (1000 * worker) / rate : 0;
  }

  start(now: number, durationMs: number): void {
    this.t0 = now + this.offsetMs;
    this.endAt = now + durationMs;
  }

  /** When the next message is due; Infinity when the schedule is over. */
  nextDue(): number {
    const due = this.t0 + this.taken * this.stepMs;
    return due < this.endAt ? due : Infinity;
  }

  /** Takes the next message (due by now); returns its due time. */
  take(now: number): number {
    const due = this.t0 + this.taken * this.stepMs;
    this.taken++;
    this.lastDue = due;
    record(this.lag, (now - due) * 1000);
    return due;
  }

  /** The schedule stops at `now`: how many messages were due by then and never taken. */
  stop(now: number): number {
    const by = Math.min(now, this.endAt);
    const due = by > this.t0 && this.stepMs !== Infinity ? Math.ceil((by - this.t0) / this.stepMs) : 0;
    const missed = Math.max(0, due - this.taken);
    this.taken += missed;
    return missed;
  }

  lagSummary(): { p50Ms: number; p99Ms: number; maxMs: number } {
    const l = summarize(this.lag);
    return { p50Ms: l.p50, p99Ms: l.p99, maxMs: l.max };
  }
}

const SLEEP = new Int32Array(new SharedArrayBuffer(4));

/**
 * The send timer: one per process. Every millisecond a send is late is measured latency, and
 * timers have millisecond resolution and fire up to about a millisecond late. So when messages
 * are PRECISE_STEP_MS or more apart, the timer is armed just before the due time and the last
 * fraction of a millisecond is slept precisely (Atomics.wait: no CPU; the loop is held under a
 * millisecond, at most once per message). Closer together, messages leave in per-millisecond
 * batches and the timer is armed at or after the due time.
 */
export class SendClock {
  private timer: NodeJS.Timeout | null = null;
  private due = 0;
  private stopped = false;

  constructor(
    private readonly fire: (now: number) => void,
    private readonly precise: boolean,
  ) {}

  at(due: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.due = due;
    const wait = due - performance.now();
    this.timer = setTimeout(this.onTimer, Math.max(0, this.precise ? Math.floor(wait) : Math.ceil(wait)));
  }

  /** Fell behind: go on after pending I/O, without waiting for a timer. */
  soon(): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.due = 0;
    setImmediate(this.onTimer);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private readonly onTimer = (): void => {
    this.timer = null;
    if (this.stopped) return;
    const early = this.due - performance.now();
    if (this.precise && early > 0 && early <= 1) Atomics.wait(SLEEP, 0, 0, early);
    this.fire(performance.now());
  };
}
