import type { Worker } from 'node:cluster';
import { Topics, type Bus, type BusHandler, type BusHealth } from './bus.js';

// The bus of `--workers N` without Redis: the workers of one primary share groups, group messages
// and codes through it. A worker sends each publish to the primary over the cluster IPC channel;
// the primary numbers what needs numbers and forwards every message, in one order, to every
// worker (the sender included). Workers learn this bus from HOLDLINE_CLUSTER_BUS in their env.

export const CLUSTER_BUS_ENV = 'HOLDLINE_CLUSTER_BUS';

type ToPrimary =
  | { hl: 'pub'; topic: string; payload: string }
  | { hl: 'num'; id: number; topic: string; counter: string; floor: number; parts: string[] }
  | { hl: 'sync'; id: number };
type ToWorker = { hl: 'msg'; topic: string; payload: string } | { hl: 'ack'; id: number; n: number };

interface Pending {
  resolve(n: number): void;
  reject(err: Error): void;
}

/** A worker's side. */
export class ClusterBus implements Bus {
  private readonly topics = new Topics();
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private published = 0;
  private received = 0;
  private errors = 0;
  private readonly onMessage = (m: unknown): void => this.handle(m as ToWorker);
  private readonly onDisconnect = (): void => this.failAll();

  async start(): Promise<void> {
    process.on('message', this.onMessage);
    process.on('disconnect', this.onDisconnect);
  }

  private send(m: ToPrimary): boolean {
    if (!process.connected || process.send === undefined) {
      this.errors++;
      return false;
    }
    process.send(m);
    return true;
  }

  publish(topic: string, payload: string): void {
    this.published++;
    this.send({ hl: 'pub', topic, payload });
  }

  publishNumbered(topic: string, counter: string, floor: number, parts: string[]): Promise<number> {
    this.published++;
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      if (!this.send({ hl: 'num', id, topic, counter, floor, parts })) {
        reject(new Error('the cluster primary is gone'));
        return;
      }
      this.pending.set(id, { resolve, reject });
    });
  }

  subscribe(topic: string, handler: BusHandler): void {
    this.topics.add(topic, handler);
  }

  unsubscribe(topic: string, handler: BusHandler): void {
    this.topics.remove(topic, handler);
  }

  /** Resolves once the primary forwarded everything this worker published before. */
  async rememberGroups(): Promise<void> {
    const id = this.nextId++;
    await new Promise<number>((resolve, reject) => {
      if (!this.send({ hl: 'sync', id })) reject(new Error('the cluster primary is gone'));
      else this.pending.set(id, { resolve, reject });
    });
  }

  async knowsGroup(): Promise<boolean> {
    return false; // every worker hears every creation; a replaced worker starts empty
  }

  private handle(m: ToWorker): void {
    if (m === null || typeof m !== 'object') return;
    if (m.hl === 'msg') {
      this.received++;
      this.topics.deliver(m.topic, m.payload);
    } else if (m.hl === 'ack') {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      p.resolve(m.n);
    }
  }

  private failAll(): void {
    const err = new Error('the cluster primary is gone');
    for (const p of this.pending.values()) p.reject(err);
    this.errors += this.pending.size;
    this.pending.clear();
  }

  health(): BusHealth {
    return {
      kind: 'cluster',
      connected: process.connected,
      published: this.published,
      received: this.received,
      errors: this.errors,
      reconnects: 0,
    };
  }

  async close(): Promise<void> {
    process.off('message', this.onMessage);
    process.off('disconnect', this.onDisconnect);
    this.topics.clear();
    this.failAll();
  }
}

/** The primary's side: numbers and forwards what its workers publish. */
export class ClusterRelay {
  /** Last number of each counter (group ids and `codes`). */
  private readonly counters = new Map<string, number>();

  constructor(private readonly workers: () => Iterable<Worker>) {}

  /** Handles one message of worker `from` (other messages are ignored). */
  handle(from: Worker, raw: unknown): void {
    const m = raw as ToPrimary;
    if (m === null || typeof m !== 'object') return;
    if (m.hl === 'pub') {
      this.forward({ hl: 'msg', topic: m.topic, payload: m.payload });
    } else if (m.hl === 'num') {
      const n = Math.max(this.counters.get(m.counter) ?? 0, m.floor) + 1;
      this.counters.set(m.counter, n);
      this.forward({ hl: 'msg', topic: m.topic, payload: m.parts.join(String(n)) });
      reply(from, { hl: 'ack', id: m.id, n });
    } else if (m.hl === 'sync') {
      reply(from, { hl: 'ack', id: m.id, n: 0 });
    }
  }

  private forward(m: ToWorker): void {
    for (const w of this.workers()) reply(w, m);
  }
}

function reply(w: Worker, m: ToWorker): void {
  if (w.isConnected()) w.send(m);
}
