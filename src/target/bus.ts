// The seam between what one instance receives and what every instance delivers: group messages,
// codes and group changes are published on a topic and delivered to the local subscribers of
// every instance. The in-memory bus serves one process; the Redis bus (bus-redis.ts) implements
// the same interface for several instances.

export type BusHandler = (topic: string, payload: string) => void;

/** What /health and /metrics say about the bus. */
export interface BusHealth {
  kind: 'memory' | 'cluster' | 'redis';
  /** Redis: both connections ready and subscribed. Always true in memory. */
  connected: boolean;
  /** Messages handed to the bus by this instance. */
  published: number;
  /** Messages the bus delivered to this instance (its own included). */
  received: number;
  /** Bus commands that failed (their messages are lost), e.g. while Redis is down. */
  errors: number;
  /** Times the bus came back after being down. */
  reconnects: number;
}

export interface Bus {
  /** Connects (Redis); resolves once messages flow. */
  start(): Promise<void>;
  /** Delivers to subscribers of `topic` (on every instance sharing the bus). */
  publish(topic: string, payload: string): void;
  /**
   * Takes the next number n of counter `counter` (at least `floor` + 1, so numbers keep growing
   * after the bus lost its counters) and publishes `parts` joined by n, in one step: every
   * subscriber sees the numbers of one counter in increasing order. In memory the result is
   * synchronous; a Redis bus resolves once Redis answered (and rejects when it is down).
   */
  publishNumbered(topic: string, counter: string, floor: number, parts: string[]): number | Promise<number>;
  subscribe(topic: string, handler: BusHandler): void;
  unsubscribe(topic: string, handler: BusHandler): void;
  /**
   * Called after announcing new groups: resolves once other instances can find them (Redis: ids
   * recorded in a set that late instances consult; cluster: the announcement was forwarded).
   */
  rememberGroups(ids: readonly string[]): Promise<void>;
  /** Whether any instance created this group (false in memory: this process knows them all). */
  knowsGroup(id: string): Promise<boolean>;
  health(): BusHealth;
  close(): Promise<void>;
}

/** Local subscriptions by topic; delivery is synchronous, in subscription order. */
export class Topics {
  private readonly topics = new Map<string, BusHandler[]>();

  deliver(topic: string, payload: string): boolean {
    const hs = this.topics.get(topic);
    if (!hs) return false;
    // A handler may unsubscribe while we deliver: iterate over the array as it was.
    for (const h of hs.length === 1 ? hs : hs.slice()) h(topic, payload);
    return true;
  }

  add(topic: string, handler: BusHandler): void {
    const hs = this.topics.get(topic);
    if (hs) hs.push(handler);
    else this.topics.set(topic, [handler]);
  }

  remove(topic: string, handler: BusHandler): void {
    const hs = this.topics.get(topic);
    if (!hs) return;
    const i = hs.indexOf(handler);
    if (i >= 0) hs.splice(i, 1);
    if (hs.length === 0) this.topics.delete(topic);
  }

  clear(): void {
    this.topics.clear();
  }
}

/** One process: delivery is synchronous, in subscription order. */
export class MemoryBus implements Bus {
  private readonly topics = new Topics();
  private published = 0;
  private received = 0;

  async start(): Promise<void> {}

  publish(topic: string, payload: string): void {
    this.published++;
    if (this.topics.deliver(topic, payload)) this.received++;
  }

  /** The only instance: the caller's floor is the counter's last value. */
  publishNumbered(topic: string, _counter: string, floor: number, parts: string[]): number {
    const n = floor + 1;
    this.publish(topic, parts.length === 1 ? parts[0] : parts.join(String(n)));
    return n;
  }

  subscribe(topic: string, handler: BusHandler): void {
    this.topics.add(topic, handler);
  }

  unsubscribe(topic: string, handler: BusHandler): void {
    this.topics.remove(topic, handler);
  }

  async rememberGroups(): Promise<void> {}

  async knowsGroup(): Promise<boolean> {
    return false;
  }

  health(): BusHealth {
    return {
      kind: 'memory',
      connected: true,
      published: this.published,
      received: this.received,
      errors: 0,
      reconnects: 0,
    };
  }

  async close(): Promise<void> {
    this.topics.clear();
  }
}
