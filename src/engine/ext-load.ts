import type { StepResult } from '../contract.js';
import { createHist, record, summarize } from '../metrics/histogram.js';
import type { EngineApi, ExtensionFactory, StepExtension } from './extension.js';
import type { Session } from './session.js';
import type { Ticker } from './ticker.js';
import { ApiLoad } from './load-api.js';
import { createGroups, runSetup } from './load-groups.js';
import { ErrorLog, History } from './load-history.js';
import { HealthProbe, wireOf } from './load-probe.js';
import { MessageLedger, Receipt } from './load-ledger.js';
import {
  groupIndex,
  groupName,
  groupOf,
  membersOf,
  usedGroups,
  type GroupFindings,
  type LoadFindings,
  type LoadSettings,
} from './load-model.js';
import { Payloads } from './load-payload.js';
import { CompiledProtocol, Kind, MESSAGE_VARS, messageId, parseMessageId } from './load-protocol.js';

// The chat load on top of the engine (plan kind `load`): groups over HTTP before the first
// session, joins as sessions open, then an open-model message schedule for the whole process.
// Message k of this worker is intended at t0 + (k·workers + worker) / rate and sent by the next
// open session (round-robin) to one of its groups; receivers time it from that intended instant.
// One ticker drives timeouts, the per-second history and the HTTP load; sending has one timer of
// its own (see sendAt). Neither makes a timer per message or per connection.

const K_BEGIN = 0; // the join grace is over
const K_SWEEP = 1;
const K_ROW = 2;
const K_API = 3;
const K_HEALTH = 4;

interface Entry {
  due: number;
  kind: number;
  armed: boolean;
}

const SWEEP_MS = 25;
const ACK_WAIT_MS = 1000;
/** Message spacing (ms) from which sends are timed to the sub-millisecond (see sendAt). */
const PRECISE_STEP_MS = 5;
const SLEEP = new Int32Array(new SharedArrayBuffer(4));
const HEALTH_MS = 2000;

export const loadExtension: ExtensionFactory = (api) => new LoadExtension(api);

export function loadSettingsOf(ext: Record<string, unknown> | undefined): LoadSettings {
  const s = ext?.load as LoadSettings | undefined;
  if (!s) throw new Error('a load step needs spec.ext.load');
  return s;
}

class LoadExtension implements StepExtension {
  private readonly s: LoadSettings;
  private readonly proto: CompiledProtocol;
  private readonly ledger: MessageLedger;
  private readonly history = new History();
  private readonly errors = new ErrorLog();
  private readonly payloads: Payloads;
  private readonly ticker: Ticker<Entry>;
  private readonly entries: Entry[]; // one per kind; replacing one retires the old
  private readonly worker: number;
  private readonly first: number;
  private readonly n: number;
  private readonly k: number; // groups per connection (effective)
  private readonly used: number;
  private readonly joined: Uint8Array; // n·k: membership acknowledged and session alive
  private readonly joinedOf: Uint16Array; // groups joined per session
  private readonly acksSeen: Uint16Array; // join acks per session (when acks carry no group)
  private readonly live: Uint8Array;
  private readonly rotate: Uint16Array;
  private readonly groupLive: Int32Array;
  private readonly lag = createHist();
  private readonly epoch0 = Date.now();
  private readonly perf0 = performance.now();
  private readonly fastVars: Record<string, string> | null;
  private readonly groupsOut: GroupFindings;
  private vars: Record<string, string>;
  private apiLoad: ApiLoad | null = null;
  private probe: HealthProbe | null = null;
  private active = 0;
  private senders = 0; // live sessions with at least one joined group
  private cursor = 0;
  private rampStart = NaN;
  private lastOpen = NaN;
  private established = 0;
  private lostCount = 0;
  private joinsSent = 0;
  private joinsAcked = 0;
  private holdAt = NaN; // establishment over
  private msgAt = NaN; // messaging started (every join acknowledged, or the grace passed)
  private waiting = false; // between the two
  private pendingJoins = 0; // joins sent by live sessions and not acknowledged yet
  private readonly joinsOut: Uint16Array;
  private t0 = 0;
  private endAt = 0;
  private stepMs = Infinity;
  private msgK = 0; // messages of this worker scheduled so far
  private sending = false;
  private lastIntended = NaN;
  private sent = 0;
  private noSender = 0;
  private notWritable = 0;
  private invalid = 0; // the frame could not be built (a template variable missing)
  private behind = 0;
  private acks = 0;
  private ackRecipients = 0;
  private errorFrames = 0;
  private ended = false;
  private sendTimer: NodeJS.Timeout | null = null;
  private nextDue = 0;
  private settledAt = NaN;
  private measured = false;
  private wire = { connections: 0, sentBytes: 0, recvBytes: 0, compressed: 0 };

  constructor(private readonly api: EngineApi) {
    const s = loadSettingsOf(api.shard.spec.ext);
    this.s = s;
    this.worker = api.shard.worker;
    this.first = api.shard.firstSession;
    this.n = api.shard.sessions;
    const total = api.shard.spec.sessions;
    this.used = usedGroups(total, s.groupsPerConnection, s.groups);
    this.k = Math.min(s.groupsPerConnection, this.used);
    this.proto = new CompiledProtocol(s.protocol, api.env);
    this.ledger = new MessageLedger(
      s.messageTimeoutMs,
      Math.ceil((s.rate / api.shard.workers) * (s.messageTimeoutMs / 1000 + 2)),
    );
    this.payloads = new Payloads(s.payloadChars);
    this.joined = new Uint8Array(this.n * this.k);
    this.joinedOf = new Uint16Array(this.n);
    this.acksSeen = new Uint16Array(this.n);
    this.joinsOut = new Uint16Array(this.n);
    this.live = new Uint8Array(this.n);
    this.rotate = new Uint16Array(this.n);
    this.groupLive = new Int32Array(this.used);
    this.vars = { ...api.vars };
    const own = new Set<string>([...MESSAGE_VARS, ...Object.keys(api.vars)]);
    // A message template that uses only these variables renders from one shared object.
    this.fastVars = this.proto.send.vars.every((v) => own.has(v) || v.startsWith('env.'))
      ? { ...api.vars }
      : null;
    this.ticker = api.ticker<Entry>((e, now) => this.fire(e, now), 1);
    this.entries = [K_BEGIN, K_SWEEP, K_ROW, K_API, K_HEALTH].map((kind) => ({ due: 0, kind, armed: false }));
    this.groupsOut = {
      skipped: !s.createGroups || this.worker !== 0,
      requested: s.createGroups && this.worker === 0 ? s.groups : 0,
      created: 0,
      existing: 0,
      failed: 0,
      requests: 0,
      failedRequests: 0,
      batchSize: 0,
      durationMs: 0,
      groupsPerSec: 0,
      used: this.used,
      membersMin: membersOf(this.used - 1, total, this.k, this.used),
      membersMax: membersOf(0, total, this.k, this.used),
    };
  }

  // ------------------------------------------------------------------ hooks

  async prepare(signal: AbortSignal): Promise<void> {
    const s = this.s;
    this.vars = await runSetup(s, this.api.vars, this.api.env, this.api.recorder, signal);
    if (!this.groupsOut.skipped) {
      await createGroups(s, this.vars, this.api.env, this.api.recorder, this.errors, signal, this.groupsOut);
    }
    if (s.http && s.http.rate > 0) {
      const { worker, workers } = this.api.shard;
      this.apiLoad = new ApiLoad(
        s.http,
        worker,
        workers,
        this.vars,
        this.api.env,
        this.api.recorder,
        this.errors,
      );
      this.apiLoad.check(this.vars); // a template error fails the step before any socket opens
    }
    if (s.healthUrl) this.probe = new HealthProbe(s.healthUrl, this.vars, this.api.env);
    this.rampStart = performance.now();
    this.arm(K_ROW, this.rampStart + 1000);
    if (this.probe) this.arm(K_HEALTH, this.rampStart);
  }

  opened(s: Session, now: number): void {
    const i = s.index - this.first;
    this.live[i] = 1;
    this.active++;
    this.established++;
    this.lastOpen = now;
    const base = s.vars ?? { ...this.api.vars, index: String(s.index) };
    for (let j = 0; j < this.k; j++) {
      const g = groupOf(s.index, j, this.k, this.used);
      let frame: string;
      try {
        frame = this.proto.join.render({ ...base, group: groupName(this.s.groupPrefix, g) });
      } catch (err) {
        this.errors.add('join_template', err instanceof Error ? err.message : String(err));
        continue;
      }
      if (!this.api.send(s, frame)) {
        this.errors.add('join_not_sent', `session ${s.index}: socket not writable`);
        continue;
      }
      this.joinsSent++;
      if (this.proto.joinAcked) {
        this.joinsOut[i]++;
        this.pendingJoins++;
      } else {
        this.markJoined(i, j, g);
      }
    }
  }

  message(s: Session, data: Buffer, isBinary: boolean, now: number): void {
    if (isBinary) return;
    const p = this.proto;
    switch (p.classify(data)) {
      case Kind.Delivery:
        return this.delivery(p.id, now);
      case Kind.JoinAck:
        return this.joinAck(s, p.group);
      case Kind.SendAck:
        this.acks++;
        if (p.recipients >= 0) this.ackRecipients += p.recipients;
        return;
      case Kind.Error:
        this.errorFrames++;
        this.errors.add(`frame_${p.code}`, p.detail);
        return;
    }
  }

  lost(s: Session): void {
    const i = s.index - this.first;
    if (this.live[i] === 0) return;
    this.live[i] = 0;
    this.active--;
    this.lostCount++;
    if (this.joinedOf[i] > 0) this.senders--;
    for (let j = 0; j < this.k; j++) {
      if (this.joined[i * this.k + j] === 0) continue;
      this.joined[i * this.k + j] = 0;
      this.groupLive[groupOf(s.index, j, this.k, this.used)]--;
    }
    this.joinedOf[i] = 0;
    this.pendingJoins -= this.joinsOut[i];
    this.joinsOut[i] = 0;
    if (this.waiting && this.pendingJoins <= 0) this.begin(performance.now());
  }

  holdStart(now: number): void {
    this.holdAt = now;
    this.arm(K_SWEEP, now + SWEEP_MS);
    if (this.pendingJoins > 0) {
      // Members count from their acknowledged join: start once they all are (or the grace ends).
      this.waiting = true;
      this.arm(K_BEGIN, now + this.s.joinGraceMs);
    } else {
      this.begin(now);
    }
  }

  private begin(now: number): void {
    const s = this.s;
    const { worker, workers } = this.api.shard;
    this.waiting = false;
    this.msgAt = now;
    this.endAt = now + s.durationMs;
    if (s.rate > 0) {
      this.stepMs = (1000 * workers) / s.rate;
      this.t0 = now + (1000 * worker) / s.rate;
      this.sending = true;
      this.sendAt(this.t0);
    }
    if (this.apiLoad) this.arm(K_API, this.apiLoad.start(now, this.endAt));
    // History rows from here on are whole seconds of messaging: close the partial ramp-up second
    // and start a fresh row entry (the old one is ignored when it fires).
    if (!Number.isNaN(this.rampStart)) this.history.row(now, this.active);
    this.entries[K_ROW] = { due: 0, kind: K_ROW, armed: false };
    this.arm(K_ROW, now + 1000);
  }

  measure(now: number): void {
    if (this.measured) return;
    this.measured = true;
    this.waiting = false;
    if (this.sending) {
      // Stopped early (Ctrl-C) or still behind at the deadline: what was due but never sent.
      const dueBy = Math.min(now, this.endAt);
      const due = dueBy > this.t0 ? Math.ceil((dueBy - this.t0) / this.stepMs) : 0;
      if (due > this.msgK) {
        this.behind += due - this.msgK;
        this.history.countDropped(due - this.msgK);
        this.msgK = due;
      }
      this.sending = false;
    }
    this.ledger.sweep(now);
    this.ledger.abandon();
    this.wire = wireOf(this.api.sessions, (s) => this.api.isOpen(s));
    if (!Number.isNaN(this.rampStart)) this.history.row(now, this.active);
    this.ticker.clear();
    if (this.sendTimer) clearTimeout(this.sendTimer);
    this.sendTimer = null;
  }

  finish(r: StepResult): void {
    r.ext = { ...(r.ext ?? {}), load: this.findings(r) };
  }

  async close(): Promise<void> {
    this.ticker.clear();
    if (this.sendTimer) clearTimeout(this.sendTimer);
    this.history.close();
    await this.apiLoad?.close();
    await this.probe?.close();
  }

  // ------------------------------------------------------------------ sessions and groups

  private markJoined(i: number, j: number, g: number): boolean {
    const at = i * this.k + j;
    if (this.joined[at] === 1 || this.live[i] === 0) return false;
    this.joined[at] = 1;
    this.groupLive[g]++;
    if (this.joinedOf[i]++ === 0) this.senders++;
    return true;
  }

  private joinAck(s: Session, name: string | null): void {
    const i = s.index - this.first;
    this.joinsAcked++;
    let j: number;
    let g: number;
    if (name === null) {
      j = this.acksSeen[i]++; // acks without a group name come in the order of the joins
      if (j >= this.k) return;
      g = groupOf(s.index, j, this.k, this.used);
    } else {
      g = groupIndex(this.s.groupPrefix, name);
      if (g < 0 || g >= this.used) return;
      j = (((g - s.index * this.k) % this.used) + this.used) % this.used;
      if (j >= this.k) return; // not one of this session's groups
    }
    if (this.markJoined(i, j, g) && this.joinsOut[i] > 0) {
      this.joinsOut[i]--;
      this.pendingJoins--;
      if (this.waiting && this.pendingJoins === 0) this.begin(performance.now());
    }
  }

  /** The next open session that has joined a group, round-robin; -1 when there is none. */
  private nextSender(): number {
    if (this.senders === 0) return -1;
    for (let tries = 0; tries < this.n; tries++) {
      const i = this.cursor;
      this.cursor = i + 1 === this.n ? 0 : i + 1;
      if (this.joinedOf[i] > 0) return i;
    }
    return -1;
  }

  // ------------------------------------------------------------------ messages

  private sendDue(now: number): void {
    // A bounded burst per firing, so a process that fell behind still reads its sockets.
    let budget = Math.max(64, Math.ceil(this.s.rate / 200));
    while (this.sending) {
      const due = this.t0 + this.msgK * this.stepMs;
      if (due >= this.endAt) {
        this.sending = false;
        break;
      }
      if (due > now) return this.sendAt(due);
      if (budget-- === 0) return this.sendSoon();
      this.msgK++;
      record(this.lag, (now - due) * 1000);
      this.sendOne(due);
    }
    this.maybeEnd(now);
  }

  private sendOne(intended: number): void {
    this.lastIntended = intended;
    const i = this.nextSender();
    if (i < 0) {
      this.noSender++;
      this.history.countDropped();
      return;
    }
    const s = this.api.sessions[i];
    let j = this.rotate[i] % this.k;
    while (this.joined[i * this.k + j] === 0) j = (j + 1) % this.k;
    this.rotate[i] = j + 1;
    const g = groupOf(s.index, j, this.k, this.used);
    const seq = this.ledger.next;
    const epochMs = this.epoch0 + (intended - this.perf0);
    const v = this.fastVars ?? { ...(s.vars ?? this.api.vars), index: String(s.index) };
    v.group = groupName(this.s.groupPrefix, g);
    v.id = messageId(this.worker, seq);
    v.ts = String(Math.round(epochMs));
    v.tsUs = String(Math.round(epochMs * 1000));
    v.seq = String(seq);
    v.payload = this.payloads.get(seq);
    let frame: string;
    try {
      frame = this.proto.send.render(v);
    } catch (err) {
      this.invalid++;
      this.history.countDropped();
      this.errors.add('message_template', err instanceof Error ? err.message : String(err));
      return;
    }
    if (!this.api.send(s, frame)) {
      this.notWritable++;
      this.history.countDropped();
      this.errors.add('message_not_sent', `session ${s.index}: socket not writable (send buffer full)`);
      return;
    }
    // Expected deliveries: the group's members connected (join acknowledged) now, minus the sender.
    this.ledger.add(intended, this.groupLive[g] - 1);
    this.sent++;
    this.history.countSent();
  }

  private delivery(id: string, now: number): void {
    const seq = parseMessageId(id, this.worker);
    const r = this.ledger.receive(Number.isNaN(seq) ? -1 : seq, now);
    if (r === Receipt.OnTime || r === Receipt.Late) {
      const ms = this.ledger.lastLatencyMs;
      this.api.recorder.latency('message', ms * 1000);
      this.history.countReceived(ms);
      if (r === Receipt.OnTime && !this.sending && this.ledger.pending === 0) this.maybeEnd(now);
    }
  }

  // ------------------------------------------------------------------ timers

  /**
   * Sending has its own timer (one per process): every millisecond a send is late is measured
   * latency. Timers have millisecond resolution and fire up to about a millisecond late, so at
   * modest rates (a message every PRECISE_STEP_MS or more) the timer is armed just before the
   * due time and the last fraction of a millisecond is slept precisely (Atomics.wait: no CPU,
   * the loop held for under a millisecond, at most once per message). At higher rates messages
   * leave in per-millisecond batches and the timer is armed at or after the due time.
   */
  private sendAt(due: number): void {
    if (this.measured) return;
    if (this.sendTimer) clearTimeout(this.sendTimer);
    this.nextDue = due;
    const wait = due - performance.now();
    const ms = this.stepMs >= PRECISE_STEP_MS ? Math.floor(wait) : Math.ceil(wait);
    this.sendTimer = setTimeout(this.onSendTimer, Math.max(0, ms));
  }

  /** Fell behind: go on after pending I/O, without waiting for a timer. */
  private sendSoon(): void {
    if (this.measured) return;
    if (this.sendTimer) clearTimeout(this.sendTimer);
    this.sendTimer = null;
    setImmediate(this.onSendTimer);
  }

  private readonly onSendTimer = (): void => {
    this.sendTimer = null;
    if (this.measured) return;
    const early = this.nextDue - performance.now();
    if (early > 0 && early <= 1 && this.stepMs >= PRECISE_STEP_MS) Atomics.wait(SLEEP, 0, 0, early);
    this.sendDue(performance.now());
  };

  private arm(kind: number, due: number): void {
    const e = this.entries[kind];
    if (e.armed || this.measured) return;
    e.armed = true;
    e.due = due;
    this.ticker.add(e);
  }

  private fire(e: Entry, now: number): void {
    e.armed = false;
    if (this.measured || e !== this.entries[e.kind]) return;
    switch (e.kind) {
      case K_BEGIN:
        if (this.waiting) this.begin(now);
        return;
      case K_SWEEP:
        this.ledger.sweep(now);
        this.maybeEnd(now);
        return this.arm(K_SWEEP, now + SWEEP_MS);
      case K_ROW:
        this.history.row(now, this.active);
        return this.arm(K_ROW, e.due + 1000 <= now ? now + 1000 : e.due + 1000);
      case K_API: {
        const next = this.apiLoad!.fire(now);
        if (next !== Infinity) this.arm(K_API, next);
        return;
      }
      case K_HEALTH:
        this.probe!.poll();
        return this.arm(K_HEALTH, now + HEALTH_MS);
    }
  }

  /** Sending is over and every message settled: end the hold now instead of at its deadline. */
  private maybeEnd(now: number): void {
    if (this.ended || this.sending || Number.isNaN(this.msgAt) || now < this.endAt) return;
    if (this.ledger.pending > 0 || (this.apiLoad?.inFlight ?? 0) > 0) return;
    // The target's acknowledgements of the last sends may trail their deliveries: a moment for them.
    if (this.proto.sendAcked && this.acks < this.sent) {
      if (Number.isNaN(this.settledAt)) this.settledAt = now;
      if (now - this.settledAt < ACK_WAIT_MS) return;
    }
    this.ended = true;
    queueMicrotask(() => this.api.endHold());
  }

  // ------------------------------------------------------------------ findings

  private findings(r: StepResult): LoadFindings {
    const s = this.s;
    const L = this.ledger;
    const requested = this.n;
    const rampMs =
      Number.isNaN(this.lastOpen) || Number.isNaN(this.rampStart) ? 0 : this.lastOpen - this.rampStart;
    const msgMs = Number.isNaN(this.msgAt)
      ? 0
      : Math.max(0, Math.min(this.endAt, (this.lastIntended || 0) + this.stepMs) - this.msgAt);
    const lag = summarize(this.lag);
    const judged = L.delivered + L.failed;
    const sec = (ms: number): number => ms / 1000;
    const origin = Number.isNaN(this.msgAt)
      ? Number.isNaN(this.holdAt)
        ? this.rampStart
        : this.holdAt
      : this.msgAt;
    const scheduled = this.sent + this.noSender + this.notWritable + this.invalid + this.behind;
    return {
      groups: { ...this.groupsOut },
      ramp: {
        requested,
        established: this.established,
        failed: requested - this.established,
        successRate: requested > 0 ? this.established / requested : 0,
        durationMs: Math.round(rampMs),
        connectRate: rampMs > 0 ? round1(this.established / sec(rampMs)) : 0,
        targetRate: s.rampUpMs > 0 ? round1(s.connections / sec(s.rampUpMs)) : 0,
        joinsSent: this.joinsSent,
        joinsAcked: this.proto.joinAcked ? this.joinsAcked : this.joinsSent,
        lost: this.lostCount,
        joinWaitMs: Number.isNaN(this.msgAt) ? 0 : Math.round(this.msgAt - this.holdAt),
      },
      messages: {
        rate: s.rate,
        payloadChars: s.payloadChars,
        timeoutMs: s.messageTimeoutMs,
        durationMs: Math.round(msgMs),
        scheduled,
        sent: this.sent,
        dropped: {
          noSender: this.noSender,
          notWritable: this.notWritable,
          invalid: this.invalid,
          behind: this.behind,
        },
        delivered: L.delivered,
        failed: L.failed,
        noRecipients: L.noRecipients,
        unresolved: L.unresolved,
        successRate: judged > 0 ? L.delivered / judged : 0,
        deliveries: { expected: L.expectedDeliveries, onTime: L.onTime, late: L.late, missing: L.missing },
        received: L.received,
        receipts: { duplicate: L.duplicate, extra: L.extra, stale: L.stale, foreign: L.foreign },
        achievedRate: msgMs > 0 ? round1(this.sent / sec(msgMs)) : 0,
        receivedPerSec: msgMs > 0 ? round1(L.received / sec(msgMs)) : 0,
        sendLag: { p50Ms: lag.p50, p99Ms: lag.p99, maxMs: lag.max },
        behind: this.behind > 0 || lag.p99 > 100,
        acks: { count: this.acks, recipients: this.ackRecipients },
        errors: this.errorFrames,
      },
      http: this.apiLoad ? this.apiLoad.findings() : null,
      history: this.history.rebased(origin),
      errors: this.errors.list(),
      wire: this.wire,
      target: this.probe ? this.probe.findings(origin) : null,
      latency: r.phases.message ?? null,
    };
  }
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}
