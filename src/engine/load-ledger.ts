// The message ledger of one process: every message sent, how many deliveries it expects, how many
// arrived in time. State lives in typed arrays indexed by sequence number modulo a power-of-two
// ring, so a message costs a few numbers and no object; timeouts are found by a sweep from the
// oldest unsettled message (messages are sent in order of intended time, so the sweep stops at the
// first one whose deadline has not come), driven by the engine's ticker.
//
// Accounting (every count adds up exactly):
//   sent       = delivered + failed + noRecipients + unresolved
//   expected   = onTime + late + missing          (deliveries to members connected at send time)
//   received   = onTime + late + duplicate + extra + stale + foreign

const PENDING = 1;
const DELIVERED = 2;
const FAILED = 3;
const NO_RECIPIENTS = 4;
const UNRESOLVED = 5;

export const enum Receipt {
  OnTime,
  Late,
  Duplicate,
  Extra,
  Stale,
  Foreign,
}

export class MessageLedger {
  private cap: number;
  private seqOf: Float64Array;
  private intended: Float64Array; // performance.now() ms
  private expected: Int32Array;
  private got: Int32Array;
  private state: Uint8Array;
  /** Next sequence number to hand out; also the number of messages recorded. */
  next = 0;
  /** Oldest message that may still be pending. */
  private oldest = 0;
  pending = 0;

  delivered = 0;
  failed = 0;
  noRecipients = 0;
  unresolved = 0;
  expectedDeliveries = 0;
  onTime = 0;
  late = 0;
  duplicate = 0;
  extra = 0;
  stale = 0;
  foreign = 0;
  /** Deliveries of messages that timed out, not (yet) received late: shrinks as late ones arrive. */
  private lostOpen = 0;

  constructor(
    readonly timeoutMs: number,
    initialCapacity = 1024,
  ) {
    this.cap = pow2(Math.max(16, initialCapacity));
    this.seqOf = new Float64Array(this.cap).fill(-1);
    this.intended = new Float64Array(this.cap);
    this.expected = new Int32Array(this.cap);
    this.got = new Int32Array(this.cap);
    this.state = new Uint8Array(this.cap);
  }

  get received(): number {
    return this.onTime + this.late + this.duplicate + this.extra + this.stale + this.foreign;
  }

  get missing(): number {
    return this.lostOpen;
  }

  /** Records a message sent, intended at `intendedMs`, expecting `expected` deliveries; returns its sequence number. */
  add(intendedMs: number, expected: number): number {
    const seq = this.next;
    let slot = seq % this.cap;
    if (this.seqOf[slot] >= 0 && this.state[slot] === PENDING) {
      this.grow();
      slot = seq % this.cap;
    }
    this.next++;
    this.seqOf[slot] = seq;
    this.intended[slot] = intendedMs;
    this.expected[slot] = expected;
    this.got[slot] = 0;
    this.expectedDeliveries += expected;
    if (expected === 0) {
      this.state[slot] = NO_RECIPIENTS;
      this.noRecipients++;
    } else {
      this.state[slot] = PENDING;
      this.pending++;
    }
    return seq;
  }

  /**
   * One delivery of message `seq` arrived at `nowMs`. Returns its kind, and the latency in ms
   * from the intended send time through `latency` (NaN when unknown).
   */
  receive(seq: number, nowMs: number): Receipt {
    if (!(seq >= 0 && seq < this.next) || !Number.isInteger(seq)) {
      this.foreign++;
      return Receipt.Foreign;
    }
    const slot = seq % this.cap;
    if (this.seqOf[slot] !== seq) {
      // Recorded so long ago that its slot was reused: it cannot be judged any more.
      this.stale++;
      return Receipt.Stale;
    }
    this.lastLatencyMs = nowMs - this.intended[slot];
    const st = this.state[slot];
    if (st === PENDING) {
      if (this.lastLatencyMs > this.timeoutMs) {
        // Past its deadline, the sweep has just not run yet: settle it now, then count it late.
        this.settleFailed(slot);
        return this.lateOne(slot);
      }
      this.got[slot]++;
      this.onTime++;
      if (this.got[slot] === this.expected[slot]) {
        this.state[slot] = DELIVERED;
        this.pending--;
        this.delivered++;
      }
      return Receipt.OnTime;
    }
    if (st === FAILED) {
      if (this.got[slot] < this.expected[slot]) return this.lateOne(slot);
      this.extra++;
      return Receipt.Extra;
    }
    if (st === DELIVERED) {
      this.duplicate++;
      return Receipt.Duplicate;
    }
    if (st === UNRESOLVED) {
      this.stale++;
      return Receipt.Stale;
    }
    this.extra++; // a member we did not count at send time (it joined meanwhile)
    return Receipt.Extra;
  }

  /** Latency of the last receipt that had one (ms from the intended send time). */
  lastLatencyMs = NaN;

  /** Settles every pending message whose deadline (intended + timeout) is before `nowMs`. */
  sweep(nowMs: number): void {
    while (this.oldest < this.next) {
      const slot = this.oldest % this.cap;
      if (this.state[slot] === PENDING) {
        if (this.intended[slot] + this.timeoutMs >= nowMs) return;
        this.settleFailed(slot);
      }
      this.oldest++;
    }
  }

  /** The run stopped: whatever is pending can no longer be judged. */
  abandon(): void {
    for (let seq = this.oldest; seq < this.next; seq++) {
      const slot = seq % this.cap;
      if (this.state[slot] !== PENDING) continue;
      // Its deliveries so far were on time; the rest are neither late nor missing: unresolved.
      this.expectedDeliveries -= this.expected[slot] - this.got[slot];
      this.state[slot] = UNRESOLVED;
      this.pending--;
      this.unresolved++;
    }
    this.oldest = this.next;
  }

  /** Deadline of the oldest pending message, or Infinity. */
  nextDeadline(): number {
    for (let seq = this.oldest; seq < this.next; seq++) {
      const slot = seq % this.cap;
      if (this.state[slot] === PENDING) return this.intended[slot] + this.timeoutMs;
    }
    return Infinity;
  }

  private settleFailed(slot: number): void {
    this.state[slot] = FAILED;
    this.pending--;
    this.failed++;
    this.lostOpen += this.expected[slot] - this.got[slot];
  }

  private lateOne(slot: number): Receipt {
    this.got[slot]++;
    this.late++;
    this.lostOpen--;
    return Receipt.Late;
  }

  /** Doubles the ring, keeping every message at its sequence number. */
  private grow(): void {
    const old = { seqOf: this.seqOf, intended: this.intended, expected: this.expected, got: this.got };
    const oldState = this.state;
    this.cap *= 2;
    this.seqOf = new Float64Array(this.cap).fill(-1);
    this.intended = new Float64Array(this.cap);
    this.expected = new Int32Array(this.cap);
    this.got = new Int32Array(this.cap);
    this.state = new Uint8Array(this.cap);
    for (let i = 0; i < old.seqOf.length; i++) {
      const seq = old.seqOf[i];
      if (seq < 0) continue;
      const j = seq % this.cap;
      this.seqOf[j] = seq;
      this.intended[j] = old.intended[i];
      this.expected[j] = old.expected[i];
      this.got[j] = old.got[i];
      this.state[j] = oldState[i];
    }
  }
}

function pow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}
