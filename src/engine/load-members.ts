import { groupIndex, groupOf } from './load-model.js';

// Who is in which group right now, for one process's sessions: the source of every message's
// expected deliveries. A membership counts from its acknowledged join (or from the join being
// sent, when the protocol has no acknowledgement) until its session is lost. Typed arrays indexed
// by local session (and session·k + j for the j-th group): no object per session.

export class Members {
  /** n·k: the j-th group of local session i is joined (acknowledged, session alive). */
  private readonly joined: Uint8Array;
  private readonly joinedOf: Uint16Array; // groups joined per session
  private readonly acksSeen: Uint16Array; // join acks per session (for acks that name no group)
  private readonly joinsOut: Uint16Array; // joins sent and not acknowledged, per session
  private readonly live: Uint8Array;
  private readonly rotate: Uint16Array; // which of its groups a session sends to next
  /** Live members per used group. */
  private readonly groupLive: Int32Array;
  private cursor = 0;
  /** Sessions open now. */
  active = 0;
  /** Live sessions with at least one joined group: possible senders. */
  senders = 0;
  /** Joins sent by live sessions and not acknowledged yet. */
  pendingJoins = 0;
  established = 0;
  lost = 0;
  joinsSent = 0;
  joinsAcked = 0;

  /**
   * @param n local sessions, the first with global index `first`
   * @param k groups per session; `used` groups carry traffic (see usedGroups)
   */
  constructor(
    readonly n: number,
    readonly first: number,
    readonly k: number,
    readonly used: number,
    private readonly prefix: string,
  ) {
    this.joined = new Uint8Array(n * k);
    this.joinedOf = new Uint16Array(n);
    this.acksSeen = new Uint16Array(n);
    this.joinsOut = new Uint16Array(n);
    this.live = new Uint8Array(n);
    this.rotate = new Uint16Array(n);
    this.groupLive = new Int32Array(used);
  }

  /** The j-th group of the session with global index `index`. */
  group(index: number, j: number): number {
    return groupOf(index, j, this.k, this.used);
  }

  opened(index: number): void {
    this.live[index - this.first] = 1;
    this.active++;
    this.established++;
  }

  /** A join was sent; `acked` false means it counts at once. */
  joinSent(index: number, j: number, acked: boolean): void {
    const i = index - this.first;
    this.joinsSent++;
    if (acked) {
      this.joinsOut[i]++;
      this.pendingJoins++;
    } else {
      this.mark(i, j, this.group(index, j));
    }
  }

  /** A join acknowledgement naming group `name`, or none (acks come in the order of the joins). */
  ack(index: number, name: string | null): void {
    const i = index - this.first;
    this.joinsAcked++;
    let j: number;
    let g: number;
    if (name === null) {
      j = this.acksSeen[i]++;
      if (j >= this.k) return;
      g = this.group(index, j);
    } else {
      g = groupIndex(this.prefix, name);
      if (g < 0 || g >= this.used) return;
      j = (((g - index * this.k) % this.used) + this.used) % this.used;
      if (j >= this.k) return; // not one of this session's groups
    }
    if (this.mark(i, j, g) && this.joinsOut[i] > 0) {
      this.joinsOut[i]--;
      this.pendingJoins--;
    }
  }

  /** The session closed before the end: its memberships end now. False if it was not live. */
  lose(index: number): boolean {
    const i = index - this.first;
    if (this.live[i] === 0) return false;
    this.live[i] = 0;
    this.active--;
    this.lost++;
    if (this.joinedOf[i] > 0) this.senders--;
    for (let j = 0; j < this.k; j++) {
      if (this.joined[i * this.k + j] === 0) continue;
      this.joined[i * this.k + j] = 0;
      this.groupLive[this.group(index, j)]--;
    }
    this.joinedOf[i] = 0;
    this.pendingJoins -= this.joinsOut[i];
    this.joinsOut[i] = 0;
    return true;
  }

  /** The next live session that has joined a group, round-robin (local index); -1 when none. */
  nextSender(): number {
    if (this.senders === 0) return -1;
    for (let tries = 0; tries < this.n; tries++) {
      const i = this.cursor;
      this.cursor = i + 1 === this.n ? 0 : i + 1;
      if (this.joinedOf[i] > 0) return i;
    }
    return -1;
  }

  /** The group local session `i` sends to next: its joined groups in turn. */
  nextGroup(i: number): number {
    let j = this.rotate[i] % this.k;
    while (this.joined[i * this.k + j] === 0) j = (j + 1) % this.k;
    this.rotate[i] = j + 1;
    return this.group(this.first + i, j);
  }

  /** Members of group g connected now, the sender included. */
  liveIn(g: number): number {
    return this.groupLive[g];
  }

  private mark(i: number, j: number, g: number): boolean {
    const at = i * this.k + j;
    if (this.joined[at] === 1 || this.live[i] === 0) return false;
    this.joined[at] = 1;
    this.groupLive[g]++;
    if (this.joinedOf[i]++ === 0) this.senders++;
    return true;
  }
}
