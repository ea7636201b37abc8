import { unsentMessages, type StepResult } from '../contract.js';
import type { EngineApi, ExtensionFactory, StepExtension } from './extension.js';
import type { Session } from './session.js';
import type { Ticker } from './ticker.js';
import { ApiLoad } from './load-api.js';
import { createGroups, runSetup } from './load-groups.js';
import { ErrorLog, History } from './load-history.js';
import { MessageLedger, Receipt } from './load-ledger.js';
import { Members } from './load-members.js';
import {
  groupName,
  membersOf,
  usedGroups,
  type GroupFindings,
  type LoadFindings,
  type LoadSettings,
} from './load-model.js';
import { Payloads } from './load-payload.js';
import { HealthProbe, wireOf } from './load-probe.js';
import { CompiledProtocol, Kind, MESSAGE_VARS, messageId, parseMessageId } from './load-protocol.js';
import { PRECISE_STEP_MS, SendClock, SendSchedule } from './load-schedule.js';

// The chat load on top of the engine (plan kind `load`): groups over HTTP before the first
// session, joins as sessions open, then the open-model message schedule of this process (see
// load-schedule.ts): each message goes out from the next open session, round-robin, to one of its
// groups, and its receivers time it from its intended send time. The parts: Members (who is in
// which group now), MessageLedger (what each message expects and got), History and ErrorLog
// (what is reported), ApiLoad and HealthProbe (HTTP beside the sockets). One ticker drives
// timeouts, history rows and the HTTP load; sending has its own single timer. Neither makes a
// timer per message or per connection. This file wires the hooks to those parts (longer than most:
// the hooks, the send path and the findings share this state).

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
const HEALTH_MS = 2000;
const ACK_WAIT_MS = 1000;

export const loadExtension: ExtensionFactory = (api) => new LoadExtension(api);

export function loadSettingsOf(ext: Record<string, unknown> | undefined): LoadSettings {
  const s = ext?.load as LoadSettings | undefined;
  if (!s) throw new Error('a load step needs spec.ext.load');
  return s;
}

class LoadExtension implements StepExtension {
  private readonly s: LoadSettings;
  private readonly proto: CompiledProtocol;
  private readonly members: Members;
  private readonly ledger: MessageLedger;
  private readonly schedule: SendSchedule;
  private readonly clock: SendClock;
  private readonly history = new History();
  private readonly errors = new ErrorLog();
  private readonly payloads: Payloads;
  private readonly ticker: Ticker<Entry>;
  private readonly entries: Entry[]; // one per kind; replacing one retires the old
  private readonly worker: number;
  private readonly epoch0 = Date.now();
  private readonly perf0 = performance.now();
  /** One vars object reused for every message, when the template needs nothing per session. */
  private readonly fastVars: Record<string, string> | null;
  private readonly groupsOut: GroupFindings;
  private vars: Record<string, string>;
  private apiLoad: ApiLoad | null = null;
  private probe: HealthProbe | null = null;
  private rampStart = NaN;
  private lastOpen = NaN;
  private holdAt = NaN; // establishment over
  private msgAt = NaN; // messaging started (every join acknowledged, or the grace passed)
  private endAt = 0;
  private waiting = false; // between the two
  private sending = false;
  private sent = 0;
  private noSender = 0;
  private notWritable = 0;
  private invalid = 0; // the frame could not be built (a template variable missing)
  private behind = 0;
  private acks = 0;
  private ackRecipients = 0;
  private errorFrames = 0;
  private settledAt = NaN;
  private ended = false;
  private measured = false;
  private wire: LoadFindings['wire'] = { connections: 0, sentBytes: 0, recvBytes: 0, compressed: 0 };

  constructor(private readonly api: EngineApi) {
    const s = loadSettingsOf(api.shard.spec.ext);
    const { worker, workers, firstSession, sessions } = api.shard;
    const total = api.shard.spec.sessions;
    this.s = s;
    this.worker = worker;
    const used = usedGroups(total, s.groupsPerConnection, s.groups);
    const k = Math.min(s.groupsPerConnection, used);
    this.members = new Members(sessions, firstSession, k, used, s.groupPrefix);
    this.proto = new CompiledProtocol(s.protocol, api.env);
    this.ledger = new MessageLedger(
      s.messageTimeoutMs,
      Math.ceil((s.rate / workers) * (s.messageTimeoutMs / 1000 + 2)),
    );
    this.schedule = new SendSchedule(s.rate, worker, workers);
    this.clock = new SendClock((now) => this.sendDue(now), this.schedule.stepMs >= PRECISE_STEP_MS);
    this.payloads = new Payloads(s.payloadChars);
    this.vars = { ...api.vars };
    const own = new Set<string>([...MESSAGE_VARS, ...Object.keys(api.vars)]);
    this.fastVars = this.proto.send.vars.every((v) => own.has(v) || v.startsWith('env.'))
      ? { ...api.vars }
      : null;
    this.ticker = api.ticker<Entry>((e, now) => this.fire(e, now), 5);
    this.entries = [K_BEGIN, K_SWEEP, K_ROW, K_API, K_HEALTH].map((kind) => ({ due: 0, kind, armed: false }));
    const creates = s.createGroups && worker === 0;
    this.groupsOut = {
      skipped: !creates,
      requested: creates ? s.groups : 0,
      created: 0,
      existing: 0,
      failed: 0,
      requests: 0,
      failedRequests: 0,
      batchSize: 0,
      durationMs: 0,
      groupsPerSec: 0,
      used,
      membersMin: membersOf(used - 1, total, k, used),
      membersMax: membersOf(0, total, k, used),
    };
  }

  // ------------------------------------------------------------------ hooks

  async prepare(signal: AbortSignal): Promise<void> {
    const s = this.s;
    const { env, recorder } = this.api;
    this.vars = await runSetup(s, this.api.vars, env, recorder, signal);
    if (!this.groupsOut.skipped)
      await createGroups(s, this.vars, env, recorder, this.errors, signal, this.groupsOut);
    if (s.http && s.http.rate > 0) {
      const { worker, workers } = this.api.shard;
      this.apiLoad = new ApiLoad(s.http, worker, workers, this.vars, env, recorder, this.errors);
      this.apiLoad.check(this.vars); // a template error fails the step before any socket opens
    }
    if (s.healthUrl) this.probe = new HealthProbe(s.healthUrl, this.vars, env);
    this.rampStart = performance.now();
    this.arm(K_ROW, this.rampStart + 1000);
    if (this.probe) this.arm(K_HEALTH, this.rampStart);
  }

  opened(s: Session, now: number): void {
    const m = this.members;
    m.opened(s.index);
    this.lastOpen = now;
    const base = s.vars ?? { ...this.api.vars, index: String(s.index) };
    for (let j = 0; j < m.k; j++) {
      let frame: string;
      try {
        frame = this.proto.join.render({
          ...base,
          group: groupName(this.s.groupPrefix, m.group(s.index, j)),
        });
      } catch (err) {
        this.errors.add('join_template', err instanceof Error ? err.message : String(err));
        continue;
      }
      if (!this.api.send(s, frame)) {
        this.errors.add('join_not_sent', `session ${s.index}: socket not writable`);
        continue;
      }
      m.joinSent(s.index, j, this.proto.joinAcked);
    }
  }

  message(s: Session, data: Buffer, isBinary: boolean, now: number): void {
    if (isBinary) return;
    const p = this.proto;
    switch (p.classify(data)) {
      case Kind.Delivery:
        return this.delivery(p.id, p.ts, now);
      case Kind.JoinAck:
        this.members.ack(s.index, p.group);
        return this.maybeBegin();
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
    if (this.members.lose(s.index)) this.maybeBegin();
  }

  holdStart(now: number): void {
    this.holdAt = now;
    this.arm(K_SWEEP, now + SWEEP_MS);
    if (this.members.pendingJoins > 0) {
      // Members count from their acknowledged join: start once they all are (or the grace ends).
      this.waiting = true;
      this.arm(K_BEGIN, now + this.s.joinGraceMs);
    } else {
      this.begin(now);
    }
  }

  measure(now: number): void {
    if (this.measured) return;
    this.measured = true;
    this.waiting = false;
    this.clock.stop();
    if (this.sending) {
      // Stopped early (Ctrl-C) or still behind at the deadline: what was due but never sent.
      const missed = this.schedule.stop(now);
      this.behind += missed;
      this.history.countDropped(missed);
      this.sending = false;
    }
    this.ledger.sweep(now);
    this.ledger.abandon();
    this.wire = wireOf(this.api.sessions, (s) => this.api.isOpen(s));
    if (!Number.isNaN(this.rampStart)) this.history.row(now, this.members.active);
    this.ticker.clear();
  }

  finish(r: StepResult): void {
    r.ext = { ...(r.ext ?? {}), load: this.findings(r) };
  }

  async close(): Promise<void> {
    this.ticker.clear();
    this.clock.stop();
    this.history.close();
    await this.apiLoad?.close();
    await this.probe?.close();
  }

  // ------------------------------------------------------------------ messaging

  private maybeBegin(): void {
    if (this.waiting && this.members.pendingJoins <= 0) this.begin(performance.now());
  }

  private begin(now: number): void {
    this.waiting = false;
    this.msgAt = now;
    this.endAt = now + this.s.durationMs;
    this.schedule.start(now, this.s.durationMs);
    if (this.s.rate > 0) {
      this.sending = true;
      this.clock.at(this.schedule.nextDue());
    }
    if (this.apiLoad) this.arm(K_API, this.apiLoad.start(now, this.endAt));
    // History rows from here on are whole seconds of messaging: close the partial ramp-up second
    // and start a fresh row entry (the old one is ignored when it fires).
    if (!Number.isNaN(this.rampStart)) this.history.row(now, this.members.active);
    this.entries[K_ROW] = { due: 0, kind: K_ROW, armed: false };
    this.arm(K_ROW, now + 1000);
  }

  /** Sends every message due by `now` (the send timer fired). */
  private sendDue(now: number): void {
    // A bounded burst per firing, so a process that fell behind still reads its sockets.
    let budget = Math.max(64, Math.ceil(this.s.rate / 200));
    while (this.sending) {
      const due = this.schedule.nextDue();
      if (due === Infinity) {
        this.sending = false;
        break;
      }
      if (due > now) return this.clock.at(due);
      if (budget-- === 0) return this.clock.soon();
      this.sendOne(this.schedule.take(now));
    }
    this.maybeEnd(now);
  }

  private sendOne(intended: number): void {
    const m = this.members;
    const i = m.nextSender();
    if (i < 0) {
      this.noSender++;
      this.history.countDropped();
      return;
    }
    const s = this.api.sessions[i];
    const g = m.nextGroup(i);
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
    this.ledger.add(intended, m.liveIn(g) - 1);
    this.sent++;
    this.history.countSent();
  }

  private delivery(id: string, ts: number, now: number): void {
    const seq = parseMessageId(id, this.worker);
    const r = this.ledger.receive(Number.isNaN(seq) ? -1 : seq, now);
    if (r === Receipt.OnTime || r === Receipt.Late) {
      const ms = this.ledger.lastLatencyMs;
      this.api.recorder.latency('message', ms * 1000);
      this.history.countReceived(ms);
      if (!this.sending && this.ledger.pending === 0) this.maybeEnd(now);
    } else if (r === Receipt.Foreign && !Number.isNaN(ts)) {
      // Sent by another process (a worker): timed from the send time it carries, on the wall clock.
      this.api.recorder.latency('message_foreign', (this.epoch0 + (now - this.perf0) - ts) * 1000);
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

  // ------------------------------------------------------------------ the ticker

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
        this.history.row(now, this.members.active);
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

  // ------------------------------------------------------------------ findings

  private findings(r: StepResult): LoadFindings {
    const s = this.s;
    const L = this.ledger;
    const m = this.members;
    const sec = (ms: number): number => ms / 1000;
    const rampMs =
      Number.isNaN(this.lastOpen) || Number.isNaN(this.rampStart) ? 0 : this.lastOpen - this.rampStart;
    const last = this.schedule.lastDue;
    const msgMs = Number.isNaN(this.msgAt)
      ? 0
      : Math.max(
          0,
          (Number.isNaN(last) ? this.endAt : Math.min(this.endAt, last + this.schedule.stepMs)) - this.msgAt,
        );
    const lag = this.schedule.lagSummary();
    const dropped = {
      noSender: this.noSender,
      notWritable: this.notWritable,
      invalid: this.invalid,
      behind: this.behind,
    };
    // Over what was scheduled: a message that never went out failed as surely as a lost one.
    const judged = L.delivered + L.failed + unsentMessages(dropped);
    const origin = Number.isNaN(this.msgAt)
      ? Number.isNaN(this.holdAt)
        ? this.rampStart
        : this.holdAt
      : this.msgAt;
    return {
      groups: { ...this.groupsOut },
      ramp: {
        requested: m.n,
        established: m.established,
        failed: m.n - m.established,
        successRate: m.n > 0 ? m.established / m.n : 0,
        durationMs: Math.round(rampMs),
        connectRate: rampMs > 0 ? round1(m.established / sec(rampMs)) : 0,
        targetRate: s.rampUpMs > 0 ? round1(s.connections / sec(s.rampUpMs)) : 0,
        joinsSent: m.joinsSent,
        joinsAcked: this.proto.joinAcked ? m.joinsAcked : m.joinsSent,
        lost: m.lost,
        joinWaitMs: Number.isNaN(this.msgAt) ? 0 : Math.round(this.msgAt - this.holdAt),
      },
      messages: {
        rate: s.rate,
        payloadChars: s.payloadChars,
        timeoutMs: s.messageTimeoutMs,
        durationMs: Math.round(msgMs),
        scheduled: this.sent + unsentMessages(dropped),
        sent: this.sent,
        dropped,
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
        sendLag: lag,
        behind: this.behind > 0 || lag.p99Ms > 100,
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
