import { Redis, type RedisOptions } from 'ioredis';
import { HoldlineError } from '../errors.js';
import { Topics, type Bus, type BusHandler, type BusHealth } from './bus.js';

// Several target instances share one Redis: one publisher and one subscriber connection per
// instance, one channel per topic (`holdline:group` carries every group's messages, with the
// group id in the payload: a SUBSCRIBE per group would not scale to millions of groups).
//
// Numbered messages go through one Lua script that increments the counter and publishes in the
// same step, so every subscriber sees a group's numbers in order. The caller passes the last
// number it saw as a floor: after Redis restarts empty, numbering continues instead of going back.
//
// While Redis is down nothing is queued (that memory would have no bound): a publish fails at
// once, is counted in `errors`, and its message is lost; messages another instance published
// while this one's subscriber was reconnecting are lost too, and show as skipped numbers. ioredis
// reconnects both connections; the bus resubscribes itself, so that it counts as connected again
// only once Redis confirmed the subscriptions.

const NUMBERED = `
local n = redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
local floor = tonumber(ARGV[2])
if n <= floor then
  n = floor + 1
  redis.call('HSET', KEYS[1], ARGV[1], n)
end
local parts = {}
for i = 4, #ARGV do parts[#parts + 1] = ARGV[i] end
redis.call('PUBLISH', ARGV[3], table.concat(parts, string.format('%d', n)))
return n
`;

const SADD_CHUNK = 10_000;

export interface RedisBusOptions {
  url: string;
  /** Prefix of every key and channel; default `holdline:`. */
  prefix?: string;
  /** How long start() waits for Redis. Default 5 s. */
  connectTimeoutMs?: number;
}

type Numbered = (
  key: string,
  counter: string,
  floor: number,
  channel: string,
  ...parts: string[]
) => Promise<number>;

export class RedisBus implements Bus {
  private readonly pub: Redis;
  private readonly sub: Redis;
  private readonly prefix: string;
  private readonly topics = new Topics();
  private readonly channels = new Set<string>();
  private readonly connectTimeoutMs: number;
  private published = 0;
  private received = 0;
  private errors = 0;
  private reconnects = 0;
  private started = false;
  private down = false;
  private subscribed = false;
  /** The last connection error, for a start-up failure's message. */
  private lastError = '';

  constructor(o: RedisBusOptions) {
    this.prefix = o.prefix ?? 'holdline:';
    this.connectTimeoutMs = o.connectTimeoutMs ?? 5000;
    const common: RedisOptions = {
      lazyConnect: true,
      connectTimeout: this.connectTimeoutMs,
      // Reconnect quickly, then every second, for as long as it takes.
      retryStrategy: (times: number) => Math.min(50 * times, 1000),
      maxRetriesPerRequest: 0,
    };
    this.pub = new Redis(o.url, {
      ...common,
      enableOfflineQueue: false,
      autoResendUnfulfilledCommands: false,
    });
    this.sub = new Redis(o.url, { ...common, autoResubscribe: false });
    this.pub.defineCommand('holdlineNumbered', { numberOfKeys: 1, lua: NUMBERED });
    for (const r of [this.pub, this.sub]) {
      // Connection errors while reconnecting: the status tells; kept for start-up failures.
      r.on('error', (err: Error) => (this.lastError = err.message));
      r.on('close', () => this.wentDown());
    }
    this.pub.on('ready', () => this.cameUp());
    this.sub.on('ready', () => this.resubscribe());
    this.sub.on('message', (channel: string, payload: string) => {
      this.received++;
      this.topics.deliver(channel.slice(this.prefix.length), payload);
    });
  }

  async start(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no answer within ${this.connectTimeoutMs} ms`)),
        this.connectTimeoutMs,
      );
    });
    try {
      await Promise.race([
        (async () => {
          await Promise.all([this.pub.connect(), this.sub.connect()]);
          if (this.channels.size > 0) await this.sub.subscribe(...this.channels);
        })(),
        timeout,
      ]);
    } catch (err) {
      this.pub.disconnect();
      this.sub.disconnect();
      throw new HoldlineError(
        'target_start',
        `cannot use Redis at ${this.urlOf()}: ${this.lastError || (err as Error).message}`,
        'Check --redis / REDIS_URL, and that redis-server is running and reachable.',
      );
    } finally {
      clearTimeout(timer);
    }
    this.started = true;
    this.subscribed = true;
    this.down = false;
  }

  /** Where Redis is, without credentials (for messages). */
  private urlOf(): string {
    const o = this.pub.options;
    return `redis://${o.host ?? '?'}:${o.port ?? '?'}`;
  }

  private wentDown(): void {
    if (!this.started) return;
    this.down = true;
    if (this.sub.status !== 'ready') this.subscribed = false;
  }

  private resubscribe(): void {
    if (!this.started) return; // start() subscribes the first time
    this.subscribed = false;
    if (this.channels.size === 0) return;
    this.sub.subscribe(...this.channels).then(
      () => {
        this.subscribed = true;
        this.cameUp();
      },
      () => this.errors++,
    );
  }

  private get connected(): boolean {
    return this.pub.status === 'ready' && this.sub.status === 'ready' && this.subscribed;
  }

  private cameUp(): void {
    if (this.down && this.connected) {
      this.down = false;
      this.reconnects++;
    }
  }

  publish(topic: string, payload: string): void {
    this.published++;
    this.pub.publish(this.prefix + topic, payload).catch(() => this.errors++);
  }

  publishNumbered(topic: string, counter: string, floor: number, parts: string[]): Promise<number> {
    this.published++;
    const run = (this.pub as unknown as { holdlineNumbered: Numbered }).holdlineNumbered;
    return run
      .call(this.pub, `${this.prefix}seq`, counter, floor, this.prefix + topic, ...parts)
      .then(Number, (err: unknown) => {
        this.errors++;
        throw err;
      });
  }

  subscribe(topic: string, handler: BusHandler): void {
    this.topics.add(topic, handler);
    const ch = this.prefix + topic;
    if (this.channels.has(ch)) return;
    this.channels.add(ch);
    if (this.started) this.sub.subscribe(ch).catch(() => this.errors++);
  }

  unsubscribe(topic: string, handler: BusHandler): void {
    // The channel stays subscribed: other handlers of this process may come back to it.
    this.topics.remove(topic, handler);
  }

  async rememberGroups(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    const p = this.pub.pipeline();
    for (let i = 0; i < ids.length; i += SADD_CHUNK)
      p.sadd(`${this.prefix}groups`, ...ids.slice(i, i + SADD_CHUNK));
    let results: [Error | null, unknown][] | null;
    try {
      results = await p.exec();
    } catch (err) {
      this.errors++;
      throw err;
    }
    const failed = results?.find(([e]) => e !== null);
    if (failed) {
      this.errors++;
      throw failed[0];
    }
  }

  async knowsGroup(id: string): Promise<boolean> {
    try {
      return (await this.pub.sismember(`${this.prefix}groups`, id)) === 1;
    } catch (err) {
      this.errors++;
      throw err;
    }
  }

  health(): BusHealth {
    return {
      kind: 'redis',
      connected: this.connected,
      published: this.published,
      received: this.received,
      errors: this.errors,
      reconnects: this.reconnects,
    };
  }

  async close(): Promise<void> {
    this.started = false;
    this.topics.clear();
    this.pub.disconnect();
    this.sub.disconnect();
  }
}
