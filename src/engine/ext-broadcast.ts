import type { StepResult } from '../contract.js';
import type {
  BroadcastFindings,
  BroadcastSettings,
  MissedClient,
  PublishOutcome,
  StreamDrop,
} from '../plans/broadcast.js';
import { HttpSteps } from '../scenario/http-steps.js';
import { compilePath, type JsonPath } from '../scenario/json-path.js';
import { sseInfo } from '../transports/sse.js';
import type { EngineApi, StepExtension } from './extension.js';
import type { Session } from './session.js';
import type { Ticker } from './ticker.js';

// The broadcast step's work inside one engine: the publishing worker (0) publishes the codes at
// absolute times spread over the duration once the hold starts; every worker matches the messages
// of its sessions against the codes and records receipts per (client, code) in a bitmap, with
// per-code first/last times and the delivery latency (HDR `delivery`, from the intended publish
// time: a late generator cannot hide its lateness). After the last publish a collect window runs,
// ending early once every connected client has every code it was expected to get.
//
// "Expected" means: the client was open when the code's publish started (and not lost before).
// `outByCode` counts each code's expected pairs not received yet, and `outstanding` their sum
// over codes still awaited (a failed publish is not), kept exact as codes fire, receipts arrive
// and sessions drop, so the early end needs no scan.

interface Due {
  due: number;
  k: number;
}

const MAX_UNKNOWN_SAMPLES = 10;

export function broadcastExtension(api: EngineApi): StepExtension {
  return new BroadcastExtension(api);
}

class BroadcastExtension implements StepExtension {
  private readonly s: BroadcastSettings;
  private readonly n: number;
  private readonly m: number;
  private readonly first: number;
  private readonly publisher: boolean;
  private readonly codeIndex = new Map<string, number>();
  private readonly bits: Uint8Array;
  private readonly openAt: Float64Array;
  private readonly lostAt: Float64Array;
  private readonly intended: Float64Array;
  private readonly firedAt: Float64Array;
  private readonly firstRecv: Float64Array;
  private readonly lastRecv: Float64Array;
  private readonly outcomes: (PublishOutcome | null)[];
  private readonly outByCode: Int32Array;
  private readonly awaited: Uint8Array;
  // substring matching: prefix bytes, whole code length, allowed characters after the prefix
  private readonly prefix: Buffer;
  private readonly codeLen: number;
  private readonly okChar = new Uint8Array(256);
  private readonly path: JsonPath | null;
  private duplicates = 0;
  private unknown = 0;
  private readonly unknownSamples: string[] = [];
  private other = 0;
  private outstanding = 0;
  private fired = 0;
  private pending = 0;
  private holdStartAt = 0;
  private collecting = false;
  private collectStart = 0;
  private collectMs = 0;
  private ended = false;
  private endedEarly = false;
  private collectTimer: NodeJS.Timeout | null = null;
  private ticker: Ticker<Due> | null = null;
  private setup: HttpSteps | null = null;
  private publishStep: HttpSteps | null = null;
  private publishVars: Record<string, string> = {};
  private readonly abort = new AbortController();
  private readonly drops: StreamDrop[] = [];
  private dropCount = 0;
  private reconnects = 0;

  constructor(private readonly api: EngineApi) {
    const s = api.shard.spec.ext?.broadcast as BroadcastSettings | undefined;
    if (!s || !Array.isArray(s.codes)) throw new Error('broadcast step without ext.broadcast settings');
    this.s = s;
    this.n = s.codes.length;
    this.m = api.shard.sessions;
    this.first = api.shard.firstSession;
    this.publisher = api.shard.worker === 0;
    s.codes.forEach((c, k) => this.codeIndex.set(c, k));
    this.bits = new Uint8Array(Math.ceil((this.m * this.n) / 8));
    this.openAt = new Float64Array(this.m);
    this.lostAt = new Float64Array(this.m);
    this.intended = new Float64Array(this.n);
    this.firedAt = new Float64Array(this.n);
    this.firstRecv = new Float64Array(this.n);
    this.lastRecv = new Float64Array(this.n);
    this.outcomes = new Array<PublishOutcome | null>(this.n).fill(null);
    this.outByCode = new Int32Array(this.n);
    this.awaited = new Uint8Array(this.n);
    this.prefix = Buffer.from(s.codePrefix, 'latin1');
    this.codeLen = s.codes[0]?.length ?? s.codePrefix.length;
    for (const ch of s.codeAlphabet) this.okChar[ch.charCodeAt(0)] = 1;
    this.path = s.match.kind === 'json' ? compilePath(s.match.path) : null;
  }

  async prepare(signal: AbortSignal): Promise<void> {
    if (!this.publisher) return;
    const p = this.s.publish;
    const env = this.api.env;
    let vars: Record<string, string> = { ...this.api.vars, index: 'publisher' };
    if (p.http.length > 0) {
      this.setup = new HttpSteps(p.http, { env, timeoutMs: p.timeoutMs, connections: 4 });
      const r = await this.setup.run(
        vars,
        (name, us) => this.api.recorder.latency(`http:${name}`, us),
        signal,
      );
      if (!r.ok) throw new Error(`publish setup: ${r.code}: ${r.detail}`);
      vars = r.vars;
    }
    this.publishVars = vars;
    this.publishStep = new HttpSteps(
      [
        {
          name: 'publish',
          method: p.method,
          url: p.url,
          headers: p.headers,
          ...(p.body === null ? {} : { body: p.body }),
          timeoutMs: p.timeoutMs,
        },
      ],
      { env, timeoutMs: p.timeoutMs, connections: 16 },
    );
  }

  opened(s: Session, now: number): void {
    this.openAt[s.index - this.first] = now;
  }

  lost(s: Session, now: number): void {
    const c = s.index - this.first;
    this.lostAt[c] = now;
    this.readStream(s, c, true);
    // Its expected codes not received yet are no longer awaited.
    const t0 = this.openAt[c];
    for (let k = 0; k < this.n; k++) {
      if (this.firedAt[k] > 0 && t0 <= this.firedAt[k] && !this.has(c * this.n + k)) this.settlePair(k);
    }
    this.maybeDone();
  }

  holdStart(now: number): void {
    this.holdStartAt = now;
    if (this.n === 0) return this.startCollect(now);
    this.ticker = this.api.ticker<Due>((e, t) => this.fire(e.k, t), 10);
    for (let k = 0; k < this.n; k++) {
      this.intended[k] = now + ((k + 0.5) * this.s.durationMs) / this.n;
      this.ticker.add({ due: this.intended[k], k });
    }
  }

  message(s: Session, data: Buffer, _isBinary: boolean, now: number): void {
    const c = s.index - this.first;
    if (this.path) this.matchJson(c, data, now);
    else this.matchSubstring(c, data, now);
  }

  measure(now: number): void {
    this.ticker?.clear();
    if (this.collectTimer) clearTimeout(this.collectTimer);
    this.collectTimer = null;
    if (!this.ended) {
      this.ended = true;
      this.collectMs = this.collecting ? now - this.collectStart : 0;
    }
    for (const s of this.api.sessions)
      if (this.api.isOpen(s)) this.readStream(s, s.index - this.first, false);
  }

  finish(r: StepResult): void {
    const n = this.n;
    const connected = new Array<number>(n).fill(0);
    const received = new Array<number>(n).fill(0);
    const late = new Array<number>(n).fill(0);
    const missed: MissedClient[] = [];
    let missedClients = 0;
    let missedPairs = 0;
    for (let c = 0; c < this.m; c++) {
      const t0 = this.openAt[c];
      const t1 = this.lostAt[c];
      let list: number[] | null = null;
      for (let k = 0; k < n; k++) {
        const has = this.has(c * n + k);
        const at = this.firedAt[k];
        const expected = t0 > 0 && at > 0 && t0 <= at && (t1 === 0 || t1 > at);
        if (!expected) {
          if (has) late[k]++;
          continue;
        }
        connected[k]++;
        if (has) received[k]++;
        else if (this.counts(k)) (list ??= []).push(k);
      }
      if (list) {
        missedClients++;
        missedPairs += list.length;
        if (missed.length < this.s.listLimit) missed.push({ client: c + this.first, codes: list });
      }
    }
    const since = (t: number, from: number): number | null => (t > 0 ? round(t - from) : null);
    const f: BroadcastFindings = {
      v: 1,
      worker: this.api.shard.worker,
      clients: this.m,
      firstClient: this.first,
      holdStartMs: this.holdStartAt > 0 ? round(this.holdStartAt - this.api.tStart) : 0,
      scheduledMs: Array.from({ length: n }, (_, k) => round(((k + 0.5) * this.s.durationMs) / n)),
      publishedAtMs: Array.from({ length: n }, (_, k) => since(this.firedAt[k], this.holdStartAt)),
      publish: this.publisher ? this.outcomes : null,
      connectedAtPublish: connected,
      received,
      late,
      firstMs: Array.from({ length: n }, (_, k) => since(this.firstRecv[k], this.intended[k])),
      lastMs: Array.from({ length: n }, (_, k) => since(this.lastRecv[k], this.intended[k])),
      duplicates: this.duplicates,
      unknown: this.unknown,
      unknownSamples: this.unknownSamples,
      otherMessages: this.other,
      missed,
      missedClients,
      missedPairs,
      drops: this.drops,
      dropCount: this.dropCount,
      reconnects: this.reconnects,
      collectMs: round(this.collectMs),
      endedEarly: this.endedEarly,
    };
    r.ext = { ...r.ext, broadcast: f };
  }

  async close(): Promise<void> {
    this.ticker?.clear();
    if (this.collectTimer) clearTimeout(this.collectTimer);
    this.abort.abort();
    await this.setup?.close();
    await this.publishStep?.close();
  }

  // ------------------------------------------------------------------ publishing

  private fire(k: number, now: number): void {
    this.firedAt[k] = now;
    this.fired++;
    this.api.recorder.latency('publish_lag', (now - this.intended[k]) * 1000);
    const n = this.n;
    let waiting = 0;
    for (let c = 0; c < this.m; c++) {
      if (this.openAt[c] > 0 && this.lostAt[c] === 0 && !this.has(c * n + k)) waiting++;
    }
    this.outByCode[k] = waiting;
    this.awaited[k] = 1;
    this.outstanding += waiting;
    if (this.publisher && this.publishStep) {
      this.pending++;
      void this.publish(k, now);
    }
    if (this.fired === n && this.pending === 0) this.startCollect(now);
  }

  private async publish(k: number, sentAt: number): Promise<void> {
    const vars = { ...this.publishVars, code: this.s.codes[k], codeIndex: String(k) };
    const r = await this.publishStep!.run(vars, noTiming, this.abort.signal);
    this.pending--;
    if (!r.ok && r.code === 'aborted') return; // the run stopped first: no answer ('pending')
    const now = performance.now();
    const ms = now - this.intended[k];
    if (r.ok) this.api.recorder.latency('publish', ms * 1000);
    this.outcomes[k] = {
      ok: r.ok,
      status: r.ok ? 'ok' : r.code,
      detail: r.ok ? '' : r.detail,
      ms: round(ms),
      lagMs: round(sentAt - this.intended[k]),
    };
    if (!r.ok && this.awaited[k] === 1) {
      // A failed publish is not waited for (its receipts, if any, do not count either).
      this.awaited[k] = 0;
      this.outstanding -= this.outByCode[k];
      this.maybeDone();
    }
    if (this.fired === this.n && this.pending === 0) this.startCollect(now);
  }

  /** A code counts for delivery once its publish succeeded (or another worker published it). */
  private counts(k: number): boolean {
    if (!this.publisher) return this.firedAt[k] > 0;
    return this.outcomes[k]?.ok === true;
  }

  private startCollect(now: number): void {
    if (this.collecting || this.ended) return;
    this.collecting = true;
    this.collectStart = now;
    if (!this.maybeDone()) this.collectTimer = setTimeout(this.endCollect, this.s.collectMs, false);
  }

  /** One expected pair of code k is settled (received, or its client lost). */
  private settlePair(k: number): void {
    this.outByCode[k]--;
    if (this.awaited[k] === 1) this.outstanding--;
  }

  /** Ends the collect window early when nothing expected is outstanding. */
  private maybeDone(): boolean {
    if (!this.collecting || this.ended || this.outstanding > 0) return false;
    this.endCollect(true);
    return true;
  }

  private readonly endCollect = (early: boolean): void => {
    if (this.ended) return;
    this.ended = true;
    this.endedEarly = early;
    const now = performance.now();
    this.collectMs = now - this.collectStart;
    if (this.collectTimer) clearTimeout(this.collectTimer);
    this.collectTimer = null;
    // Not from inside a transport callback: measuring closes every connection.
    setImmediate(this.api.endHold);
  };

  // ------------------------------------------------------------------ receipts

  private matchSubstring(c: number, data: Buffer, now: number): void {
    const p = this.prefix;
    const len = this.codeLen;
    let found = false;
    for (let at = data.indexOf(p); at !== -1; at = data.indexOf(p, at + 1)) {
      const end = at + len;
      if (end > data.length) break;
      let ok = true;
      for (let i = at + p.length; i < end; i++) {
        if (this.okChar[data[i]] === 0) {
          ok = false;
          break;
        }
      }
      if (!ok) continue;
      found = true;
      const code = data.toString('latin1', at, end);
      const k = this.codeIndex.get(code);
      if (k === undefined) this.unknownCode(code);
      else this.receipt(c, k, now);
      at = end - 1;
    }
    if (!found) this.other++;
  }

  private matchJson(c: number, data: Buffer, now: number): void {
    let doc: unknown;
    try {
      doc = JSON.parse(data.toString('utf8'));
    } catch {
      this.other++;
      return;
    }
    const v = this.path!.get(doc);
    if (typeof v !== 'string' && typeof v !== 'number') {
      this.other++;
      return;
    }
    const code = String(v);
    const k = this.codeIndex.get(code);
    if (k === undefined) this.unknownCode(code);
    else this.receipt(c, k, now);
  }

  private unknownCode(code: string): void {
    this.unknown++;
    if (this.unknownSamples.length < MAX_UNKNOWN_SAMPLES && !this.unknownSamples.includes(code)) {
      this.unknownSamples.push(code.slice(0, 64));
    }
  }

  private receipt(c: number, k: number, now: number): void {
    const bit = c * this.n + k;
    if (this.has(bit)) {
      this.duplicates++;
      return;
    }
    this.bits[bit >> 3] |= 1 << (bit & 7);
    if (this.firstRecv[k] === 0 || now < this.firstRecv[k]) this.firstRecv[k] = now;
    if (now > this.lastRecv[k]) this.lastRecv[k] = now;
    const at = this.firedAt[k];
    if (at === 0) return; // before its publish started: nothing to time it from
    this.api.recorder.latency('delivery', (now - this.intended[k]) * 1000);
    if (this.openAt[c] <= at) {
      this.settlePair(k);
      this.maybeDone();
    }
  }

  private has(bit: number): boolean {
    return (this.bits[bit >> 3] & (1 << (bit & 7))) !== 0;
  }

  /** SSE reconnections and reopened drops of a session (final: it is lost, its last drop is the engine's). */
  private readStream(s: Session, c: number, final: boolean): void {
    const info = sseInfo(s);
    if (!info) return;
    this.reconnects += info.reconnects;
    const reopened = final ? info.reconnects : info.dropCount;
    this.dropCount += reopened;
    const list = info.drops ?? [];
    for (let i = 0; i < list.length && i < reopened; i++) {
      if (this.drops.length >= this.s.listLimit) break;
      this.drops.push({
        client: c + this.first,
        atMs: round(list[i].at - this.api.tStart),
        reason: list[i].reason,
        reconnected: i < info.reconnects,
      });
    }
  }
}

function noTiming(): void {}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
