// The seam between what one instance receives and what every instance delivers: group messages
// and broadcasts are published on a topic and delivered to the local subscribers of every
// instance. The in-memory bus serves one process; a Redis bus can implement the same interface
// for several instances.

export type BusHandler = (topic: string, payload: string) => void;

export interface Bus {
  /** Delivers to subscribers of `topic` (on every instance sharing the bus). */
  publish(topic: string, payload: string): void;
  subscribe(topic: string, handler: BusHandler): void;
  unsubscribe(topic: string, handler: BusHandler): void;
  close(): Promise<void>;
}

/** One process: delivery is synchronous, in subscription order. */
export class MemoryBus implements Bus {
  private readonly topics = new Map<string, BusHandler[]>();

  publish(topic: string, payload: string): void {
    const hs = this.topics.get(topic);
    if (!hs) return;
    // A handler may unsubscribe while we deliver: iterate over the array as it was.
    for (const h of hs.length === 1 ? hs : hs.slice()) h(topic, payload);
  }

  subscribe(topic: string, handler: BusHandler): void {
    const hs = this.topics.get(topic);
    if (hs) hs.push(handler);
    else this.topics.set(topic, [handler]);
  }

  unsubscribe(topic: string, handler: BusHandler): void {
    const hs = this.topics.get(topic);
    if (!hs) return;
    const i = hs.indexOf(handler);
    if (i >= 0) hs.splice(i, 1);
    if (hs.length === 0) this.topics.delete(topic);
  }

  async close(): Promise<void> {
    this.topics.clear();
  }
}
