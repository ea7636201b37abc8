// Idle timeout for every connection with ONE shared coarse timer: connections sit in buckets by
// the slot their deadline falls in. Activity only stamps `lastActive` (no re-bucketing on the hot
// path); when a slot comes due, each entry in it is either expired or moved to the slot of its
// new deadline. A connection is therefore visited about once per timeout period, never per tick.

export interface IdleEntry {
  /** performance.now() of the last frame received. */
  lastActive: number;
  /** True once closing or closed: the wheel drops it when its slot comes due. */
  closing: boolean;
}

export class IdleWheel<T extends IdleEntry> {
  private readonly slotMs: number;
  private readonly slots: T[][];
  private next: number; // absolute slot number to visit next
  private timer: NodeJS.Timeout | null = null;

  /**
   * @param timeoutMs idle time after which `expire` is called
   * @param expire called once for an entry idle for at least timeoutMs
   */
  constructor(
    private readonly timeoutMs: number,
    private readonly expire: (e: T) => void,
  ) {
    // Granularity ~1/10 of the timeout: a connection closes at most ~10% (at most 1 s) late.
    this.slotMs = Math.min(1000, Math.max(10, Math.floor(timeoutMs / 10)));
    this.slots = Array.from({ length: Math.ceil(timeoutMs / this.slotMs) + 2 }, () => []);
    this.next = Math.floor(performance.now() / this.slotMs);
  }

  start(): void {
    if (this.timer) return;
    this.next = Math.floor(performance.now() / this.slotMs);
    this.timer = setInterval(tick, this.slotMs, this);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    for (let i = 0; i < this.slots.length; i++) this.slots[i] = [];
  }

  /** Tracks an entry from its current lastActive. */
  add(e: T): void {
    this.place(e, e.lastActive + this.timeoutMs);
  }

  private place(e: T, due: number): void {
    let slot = Math.ceil(due / this.slotMs);
    if (slot < this.next) slot = this.next;
    this.slots[slot % this.slots.length].push(e);
  }

  /** Visits every slot that came due since the last visit. */
  advance(now: number): void {
    const upTo = Math.floor(now / this.slotMs);
    // After a long stall every slot is due once; more laps would revisit the same arrays.
    const from = Math.max(this.next, upTo - this.slots.length + 1);
    for (let s = from; s <= upTo; s++) {
      const i = s % this.slots.length;
      const due = this.slots[i];
      if (due.length === 0) continue;
      this.slots[i] = [];
      this.next = s + 1; // re-placed entries land in later slots
      for (let k = 0; k < due.length; k++) {
        const e = due[k];
        if (e.closing) continue;
        const deadline = e.lastActive + this.timeoutMs;
        if (deadline <= now) this.expire(e);
        else this.place(e, deadline);
      }
    }
    this.next = upTo + 1;
  }
}

function tick(w: { advance(now: number): void }): void {
  w.advance(performance.now());
}
