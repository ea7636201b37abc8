/**
 * One timer for a whole process: a hashed wheel of due times. Each entry is an object with a
 * numeric `due` (performance.now() ms); a firing visits only the buckets whose time has come,
 * never every entry (a per-tick scan of every connection costs more than the heartbeats).
 * Entries never fire early, unless the owner allows it (`earlyMs`).
 */
export interface Due {
  due: number;
}

/** How long before the earliest due a timer is armed when early firing is allowed (ms). */
const LEAD_MS = 1;

export class Ticker<T extends Due> {
  private readonly buckets: T[][];
  private readonly res: number;
  private readonly horizon: number;
  private overflow: T[] = []; // due beyond the wheel's horizon (rare)
  private cursor: number; // absolute bucket number visited next
  private size = 0;
  private timer: NodeJS.Timeout | null = null;
  private armedFor = Infinity;
  /** Inside onTimer: entries added by fire() are armed for once, at the end of the firing. */
  private firing = false;
  private readonly lead: number;

  /**
   * @param fire called once per entry whose due time has come; it may add() entries again
   * @param resolutionMs bucket width
   * @param horizonMs delays up to this go straight into the wheel
   * @param earlyMs entries due within this much after a firing fire with it (default 0: never
   *   early). Each firing is an event-loop wakeup of its own (~25 µs of CPU on a busy 2-core VM,
   *   measured), so a window of a few milliseconds makes far fewer, fuller firings; the caller
   *   must time an early entry from its actual firing. With a window the timer is also armed up
   *   to LEAD_MS before the earliest due, as timers fire up to about a millisecond late.
   */
  constructor(
    private readonly fire: (entry: T, now: number) => void,
    resolutionMs = 5,
    horizonMs = 65_536,
    private readonly earlyMs = 0,
  ) {
    this.lead = Math.min(earlyMs, LEAD_MS);
    this.res = resolutionMs;
    this.horizon = horizonMs;
    this.buckets = Array.from({ length: Math.ceil(horizonMs / resolutionMs) + 2 }, () => []);
    this.cursor = Math.floor(performance.now() / this.res);
  }

  get pending(): number {
    return this.size + this.overflow.length;
  }

  add(entry: T): void {
    if (entry.due - performance.now() >= this.horizon) {
      this.overflow.push(entry);
      if (!this.firing) this.arm(performance.now() + this.horizon / 2);
      return;
    }
    let b = Math.floor(entry.due / this.res);
    if (b < this.cursor) b = this.cursor;
    this.buckets[b % this.buckets.length].push(entry);
    this.size++;
    if (!this.firing) this.arm(Math.max(entry.due, b * this.res));
  }

  /** Drops every entry and the timer. */
  clear(): void {
    for (const b of this.buckets) b.length = 0;
    this.overflow = [];
    this.size = 0;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.armedFor = Infinity;
  }

  private arm(at: number): void {
    if (at >= this.armedFor) return;
    if (this.timer) clearTimeout(this.timer);
    this.armedFor = at;
    this.timer = setTimeout(this.onTimer, Math.max(0, Math.ceil(at - this.lead - performance.now())));
  }

  private readonly onTimer = (): void => {
    this.timer = null;
    this.armedFor = Infinity;
    const now = performance.now();
    const upTo = now + this.earlyMs; // entries due by then fire now
    const last = Math.floor(upTo / this.res);
    const n = this.buckets.length;
    let earliestKept = Infinity;
    this.firing = true;
    try {
      while (this.cursor <= last && this.size > 0) {
        const bucket = this.buckets[this.cursor % n];
        let keep = 0;
        // The length is re-read: fire() may append entries due now to this very bucket.
        for (let i = 0; i < bucket.length; i++) {
          const e = bucket[i];
          if (e.due <= upTo) {
            this.size--;
            this.fire(e, now);
          } else {
            bucket[keep++] = e;
            if (e.due < earliestKept) earliestKept = e.due;
          }
        }
        bucket.length = keep;
        if (keep > 0) break; // only the current bucket can hold entries not yet due
        this.cursor++;
      }
    } finally {
      this.firing = false;
    }
    if (this.size === 0) this.cursor = last;
    if (this.overflow.length > 0) {
      const later = this.overflow;
      this.overflow = [];
      for (const e of later) this.add(e);
    }
    if (earliestKept !== Infinity) this.arm(earliestKept);
    else if (this.size > 0) this.armNext();
  };

  /** Arms for the earliest entry of the next non-empty bucket (not its start: one firing, not two). */
  private armNext(): void {
    const n = this.buckets.length;
    for (let c = this.cursor, i = 0; i < n; c++, i++) {
      const bucket = this.buckets[c % n];
      if (bucket.length > 0) {
        let earliest = Infinity;
        for (const e of bucket) if (e.due < earliest) earliest = e.due;
        this.arm(Math.max(earliest, c * this.res));
        return;
      }
    }
  }
}
