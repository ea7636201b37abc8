import type { EarlyClose, IntervalSnapshot, StepResult, StepShard } from '../contract.js';
import type { ErrorCode } from '../errors.js';
import type { Phase, Transport, TransportSink } from '../transports/transport.js';
import { Recorder } from '../metrics/recorder.js';
import type { HttpSteps } from '../scenario/http-steps.js';
import { HealthSampler } from './health.js';
import { compileConnect, type ConnectPlan } from './connect-plan.js';
import { Ticker } from './ticker.js';
import { compile, type Template } from '../scenario/template.js';
import type { EngineApi, StepExtension } from './extension.js';
import { SessionLoop } from './session-loop.js';
import {
  Session,
  S_AWAIT_FIRST,
  S_CLOSING,
  S_CONNECTING,
  S_DONE,
  S_ENDED,
  S_ENDING,
  S_FAILED,
  S_HTTP,
  S_IDLE,
  S_OPEN,
} from './session.js';

export type TransportFactory = (sink: TransportSink<Session>) => Transport<Session>;

export interface EngineOptions {
  transport: TransportFactory;
  env: Record<string, string | undefined>;
  /** Variables every template can use (baseUrl, wsBaseUrl, …). */
  vars: Record<string, string>;
  /** How long closing sockets may take after the step is measured. */
  closeGraceMs?: number;
  /** Sockets this process may hold at once (open-file budget); more fail as fds_exhausted. */
  maxSockets?: number;
  /** Loads a scenario module's setup hook, when the scenario has one. */
  setup?: (ctx: { index: number; vars: Record<string, string> }) => Promise<Record<string, string>>;
}

const enum Stage {
  Establish,
  Hold,
  Closing,
  Done,
}

/**
 * One process's sessions for one step: open them (bounded concurrency and rate), hold the
 * established ones, measure, close. It records what happened and decides no verdicts.
 */
export class Engine implements TransportSink<Session> {
  private readonly rec: Recorder;
  private readonly health = new HealthSampler(() => this.sockets);
  private readonly transport: Transport<Session>;
  private http: HttpSteps | null = null; // loaded by run() when the scenario has HTTP steps
  private readonly connect: ConnectPlan;
  private readonly sessions: Session[];
  private readonly baseVars: Record<string, string>;
  private readonly httpAbort = new AbortController();
  private stage = Stage.Establish;
  private launched = 0;
  private inFlight = 0;
  private settled = 0;
  private open = 0;
  private closing = 0;
  private established = 0;
  private aborted = false;
  private startedAt = 0;
  private tStart = 0;
  private settleMs = 0;
  private successful = 0;
  private timers: NodeJS.Timeout[] = [];
  private launchTimer: NodeJS.Timeout | null = null;
  private finish: (() => void) | null = null;
  private readonly ticker: Ticker<Session> | null = null;
  private readonly hbMessage: Template | null = null;
  private readonly earlyCloses: EarlyClose[] = [];
  private setupDone = 0;
  private setupLastMs = 0;
  private holdStartedMs = 0;
  private heldMs = 0;
  private sockets = 0; // sessions that hold (or are opening) a socket
  private ended = 0; // sessions ended by their own plan (scenario `session:`): successful
  private readonly loop: SessionLoop | null;
  private ext: StepExtension | null = null; // loaded by run() when the step has settings for one
  /** URL and headers rendered once, when no template differs between sessions; else null. */
  private readonly fixedConnect: { url: string; headers: Record<string, string> } | null;
  private readonly onHttpTiming = (name: string, us: number): void => this.rec.latency(`http:${name}`, us);

  constructor(
    private readonly shard: StepShard,
    private readonly opts: EngineOptions,
  ) {
    const spec = shard.spec;
    this.rec = new Recorder(shard.worker, spec.index);
    this.transport = opts.transport(this);
    this.connect = compileConnect(spec.scenario.connect, opts.env);
    this.baseVars = { ...(spec.scenario.vars ?? {}), ...opts.vars, worker: String(shard.worker) };
    this.fixedConnect = this.renderFixedConnect();
    const hb = spec.heartbeat;
    if (hb) {
      this.ticker = new Ticker<Session>(
        (s, now) => this.beat(s, now),
        5,
        Math.max(65_536, hb.intervalMs * 2),
      );
      if (hb.kind === 'message') this.hbMessage = compile(hb.message ?? '{"type":"ping"}', { env: opts.env });
    }
    this.sessions = new Array(shard.sessions);
    for (let i = 0; i < shard.sessions; i++) this.sessions[i] = new Session(shard.firstSession + i);
    this.loop = spec.scenario.session
      ? new SessionLoop(
          spec.scenario.session,
          opts.env,
          {
            send: (s, data, now) => this.sendCounted(s, data, now),
            end: (s) => this.endSession(s),
            fail: (s, code, detail) => {
              this.transport.terminate(s);
              this.fail(s, code, detail);
            },
            vars: (s) => s.vars ?? this.baseVarsFor(s),
          },
          this.rec,
        )
      : null;
  }

  /**
   * The HTTP client and the plan extensions are loaded only for steps that use them: a step
   * that opens WebSockets and sends messages does not pay for undici (~0.2 s of CPU, ~12 MB).
   * A plan with an engine extension always passes it settings in `spec.ext`.
   */
  private async load(): Promise<void> {
    const spec = this.shard.spec;
    if (spec.scenario.http.length > 0 && this.http === null) {
      const { HttpSteps } = await import('../scenario/http-steps.js');
      this.http = new HttpSteps(spec.scenario.http, {
        env: this.opts.env,
        timeoutMs: spec.stepTimeoutMs,
        connections: spec.connectConcurrency,
      });
    }
    if (spec.ext !== undefined && this.ext === null) {
      const { EXTENSIONS } = await import('./extensions.js');
      const make = EXTENSIONS[spec.plan];
      this.ext = make ? make(this.api()) : null;
    }
  }

  private api(): EngineApi {
    const self = this;
    return {
      shard: this.shard,
      sessions: this.sessions,
      recorder: this.rec,
      env: this.opts.env,
      vars: this.baseVars,
      get tStart() {
        return self.tStart;
      },
      send: (s, data) => this.sendCounted(s, data, performance.now()),
      isOpen: (s) => s.state === S_OPEN,
      ticker: (fire, res) => new Ticker(fire, res),
      endHold: () => this.measure(),
    };
  }

  private sendCounted(s: Session, data: string | Buffer, now: number): boolean {
    if (!this.transport.send(s, data)) return false;
    markSent(s, now);
    this.rec.inc('msgsSent');
    this.rec.inc('bytesSent', typeof data === 'string' ? Buffer.byteLength(data) : data.length);
    return true;
  }

  /** Runs the step to its end: established, held, measured and closed. */
  async run(signal: AbortSignal): Promise<void> {
    await this.load();
    const spec = this.shard.spec;
    this.startedAt = Date.now();
    this.tStart = performance.now();
    return new Promise<void>((resolve) => {
      this.finish = resolve;
      const onAbort = (): void => this.abort();
      if (signal.aborted) {
        this.abort();
      } else {
        signal.addEventListener('abort', onAbort, { once: true });
      }
      const begin = (): void => {
        if (this.stage !== Stage.Establish) return;
        this.timers.push(setTimeout(() => this.endEstablish('timeout'), spec.stepTimeoutMs));
        this.launch();
        this.maybeEstablished();
      };
      if (this.ext?.prepare) {
        this.ext.prepare(this.httpAbort.signal).then(begin, (err: unknown) => {
          this.endEstablish('step_prepare_error', err instanceof Error ? err.message : String(err));
        });
      } else {
        begin();
      }
    });
  }

  snapshot(): IntervalSnapshot {
    return this.rec.snapshot(this.open, this.inFlight, this.health.sample());
  }

  result(): StepResult {
    const r = this.rec.result(this.shard.spec, {
      startedAt: this.startedAt,
      durationMs: Math.round(this.settleMs),
      successful: this.successful,
      established: this.established,
      generator: this.health.cost(),
      aborted: this.aborted,
      sessions: this.shard.sessions,
    });
    if (this.http || this.opts.setup)
      r.setup = { completed: this.setupDone, durationMs: Math.round(this.setupLastMs) };
    if (this.shard.spec.heartbeat || this.earlyCloses.length > 0) r.earlyCloses = this.earlyCloses;
    r.holdMs = Math.round(this.heldMs);
    this.ext?.finish?.(r);
    return r;
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.ticker?.clear();
    this.loop?.clear();
    if (this.launchTimer) clearTimeout(this.launchTimer);
    this.health.close();
    await this.ext?.close?.();
    await this.http?.close();
  }

  // ------------------------------------------------------------------ opening

  private launch(): void {
    const spec = this.shard.spec;
    const rate = spec.connectRate && spec.connectRate > 0 ? spec.connectRate / this.shard.workers : 0;
    // Absolute schedule: session k starts at tStart + k / rate, never "sleep then start".
    // Sessions due within the next LAUNCH_TICK_MS start now, in one batch (a session starts at
    // most that much early), then one timer waits for the next one's due time.
    const n = this.sessions.length;
    const upTo =
      rate > 0
        ? Math.min(n, Math.floor(((performance.now() + LAUNCH_TICK_MS - this.tStart) * rate) / 1000) + 1)
        : n;
    this.startUpTo(upTo, spec.connectConcurrency);
    if (rate > 0 && this.launched >= upTo && this.launched < n) this.armLaunch(rate);
  }

  /** The hot loop, on its own: small, so the optimizer keeps it (and keeps it optimized). */
  private startUpTo(upTo: number, concurrency: number): void {
    while (this.stage === Stage.Establish && this.launched < upTo && this.inFlight < concurrency) {
      this.start(this.sessions[this.launched++]);
    }
  }

  private armLaunch(rate: number): void {
    if (this.launchTimer || this.stage !== Stage.Establish) return;
    const wait = this.tStart + (this.launched * 1000) / rate - performance.now();
    this.launchTimer = setTimeout(this.onLaunchTimer, Math.max(0, Math.ceil(wait)));
  }

  private readonly onLaunchTimer = (): void => {
    this.launchTimer = null;
    this.launch();
  };

  private start(s: Session): void {
    this.inFlight++;
    this.rec.inc('started');
    s.t0 = performance.now();
    s.state = S_HTTP; // starting: in flight from here on, whatever comes next
    if (this.http || this.opts.setup) {
      void this.runHttp(s);
    } else {
      this.openTransport(s, null);
    }
  }

  /**
   * Without captures (HTTP steps, setup hook) and without per-session placeholders, every session
   * connects with the same URL and headers: render them once, not once per session. A template
   * that fails renders per session, so the failure is reported as before.
   */
  private renderFixedConnect(): { url: string; headers: Record<string, string> } | null {
    if (this.shard.spec.scenario.http.length > 0 || this.opts.setup) return null;
    const templates = [this.connect.url, ...this.connect.headers.map(([, t]) => t)];
    if (templates.some((t) => t.vars.some((v) => PER_SESSION_VARS.has(v)))) return null;
    try {
      const headers: Record<string, string> = {};
      for (const [k, t] of this.connect.headers) headers[k] = t.render(this.baseVars);
      return Object.freeze({ url: this.connect.url.render(this.baseVars), headers: Object.freeze(headers) });
    } catch {
      return null;
    }
  }

  private baseVarsFor(s: Session): Record<string, string> {
    return { ...this.baseVars, index: String(s.index) };
  }

  private async runHttp(s: Session): Promise<void> {
    let vars = this.baseVarsFor(s);
    if (this.http) {
      const r = await this.http.run(vars, this.onHttpTiming, this.httpAbort.signal);
      if (s.state !== S_HTTP) return; // the step ended meanwhile
      if (!r.ok) return this.fail(s, r.code as ErrorCode, r.detail);
      vars = r.vars;
    }
    if (this.opts.setup) {
      try {
        vars = { ...vars, ...(await this.opts.setup({ index: s.index, vars })) };
      } catch (err) {
        if (s.state !== S_HTTP) return;
        return this.fail(s, 'step_setup_error', err instanceof Error ? err.message : String(err));
      }
      if (s.state !== S_HTTP) return;
    }
    s.vars = vars;
    this.setupDone++;
    this.setupLastMs = performance.now() - this.tStart;
    this.openTransport(s, vars);
  }

  /** `vars`: the session's variables, or null to make them only if a template needs them. */
  private openTransport(s: Session, vars: Record<string, string> | null): void {
    if (this.opts.maxSockets !== undefined && this.sockets >= this.opts.maxSockets) {
      // Keep descriptors for the result file and the process itself: the generator is the limit.
      return this.fail(
        s,
        'fds_exhausted',
        `the generator's open-file budget (${this.opts.maxSockets} sockets) is used up`,
      );
    }
    this.sockets++;
    s.state = S_CONNECTING;
    let url: string;
    let headers: Record<string, string>;
    if (this.fixedConnect !== null) {
      ({ url, headers } = this.fixedConnect);
    } else {
      const v = vars ?? this.baseVarsFor(s);
      headers = {};
      try {
        url = this.connect.url.render(v);
        for (const [k, t] of this.connect.headers) headers[k] = t.render(v);
      } catch (err) {
        return this.fail(s, 'step_connect_template', err instanceof Error ? err.message : String(err));
      }
    }
    this.transport.open(s, url, {
      headers,
      protocols: this.shard.spec.scenario.connect.protocols,
      localAddress: pickAddress(this.shard.spec.localAddresses, s.index),
    });
  }

  // ------------------------------------------------------------------ sink

  phase(_s: Session, p: Phase, us: number): void {
    this.rec.latency(p, us);
  }

  opened(s: Session): void {
    if (s.state !== S_CONNECTING) return;
    this.established++;
    this.rec.inc('established');
    const vars = this.connect.send.length > 0 ? (s.vars ?? this.baseVarsFor(s)) : null;
    for (const t of this.connect.send) {
      let data: string;
      try {
        data = t.render(vars!);
      } catch (err) {
        this.transport.terminate(s);
        return this.fail(s, 'step_connect_template', err instanceof Error ? err.message : String(err));
      }
      this.sendCounted(s, data, performance.now());
    }
    if (this.connect.expect) {
      s.state = S_AWAIT_FIRST;
    } else {
      this.becomeOpen(s);
    }
  }

  message(s: Session, data: Buffer, isBinary: boolean): void {
    this.rec.inc('msgsRecv');
    this.rec.inc('bytesRecv', data.length);
    // The next message after a send is its reply: a session message's or a heartbeat's,
    // whichever went first when both wait.
    if (s.msgAt > 0 && (s.hbSent === 0 || s.msgAt <= s.hbSent)) this.loop!.reply(s, performance.now());
    else if (s.hbSent > 0) this.pong(s);
    if (s.state === S_OPEN) {
      this.ext?.message?.(s, data, isBinary, performance.now());
      return;
    }
    if (s.state === S_AWAIT_FIRST) {
      const problem = this.connect.expect!.check(data);
      if (problem) {
        this.transport.terminate(s);
        this.fail(s, 'expect_failed', problem);
      } else {
        this.becomeOpen(s);
      }
    }
  }

  pong(s: Session): void {
    if (s.hbSent > 0) {
      this.rec.latency('heartbeat_rtt', (performance.now() - s.hbSent) * 1000);
      s.hbSent = 0;
    }
  }

  closed(s: Session, code: number, reason: string): void {
    if (s.state === S_CLOSING || s.state === S_ENDING) {
      // Our close completed (the handshake, or the peer simply closing after it).
      this.rec.latency('close', (performance.now() - s.tSent) * 1000);
      return this.closedByUs(s);
    }
    if (s.state === S_DONE || s.state === S_FAILED || s.state === S_ENDED) return;
    const cls = `closed_${code}`;
    if (s.state === S_OPEN) this.recordEarly(s, cls, code, reason);
    this.fail(s, cls, reason);
  }

  failed(s: Session, code: ErrorCode, detail: string): void {
    // An error while we close it: the session already counted as successful.
    if (s.state === S_CLOSING || s.state === S_ENDING) return this.closedByUs(s);
    if (s.state === S_DONE || s.state === S_FAILED || s.state === S_ENDED) return;
    if (s.state === S_OPEN) this.recordEarly(s, code, 1006, detail);
    this.fail(s, code, detail);
  }

  private closedByUs(s: Session): void {
    s.state = s.state === S_ENDING ? S_ENDED : S_DONE;
    this.sockets--;
    this.closing--;
    this.maybeClosed();
  }

  private recordEarly(s: Session, cls: string, closeCode: number, reason: string): void {
    this.rec.inc('closedEarly');
    const now = performance.now();
    this.ext?.lost?.(s, now);
    this.earlyCloses.push({
      session: s.index,
      atMs: Math.round(now - this.tStart),
      ageMs: Math.round(now - s.tOpen),
      idleMs: Math.round(idleBeforeClose(s, now)),
      code: cls,
      closeCode,
      reason: reason.slice(0, 200),
    });
  }

  // ------------------------------------------------------------------ heartbeats

  private beat(s: Session, now: number): void {
    if (s.state !== S_OPEN) return; // closed meanwhile: drop it from the schedule
    const hb = this.shard.spec.heartbeat!;
    if (hb.kind === 'ping') {
      this.transport.ping(s);
      markSent(s, now);
      if (hb.expectReply) s.hbSent = now;
    } else {
      const t = this.hbMessage!;
      let data: string;
      try {
        data = t.constant ? t.source : t.render(s.vars ?? this.baseVarsFor(s));
      } catch (err) {
        this.transport.terminate(s);
        return this.fail(s, 'step_heartbeat_template', err instanceof Error ? err.message : String(err));
      }
      if (!this.sendCounted(s, data, now)) return;
      if (hb.expectReply) s.hbSent = now;
    }
    s.heartbeats++;
    this.rec.inc('heartbeats');
    // Absolute schedule: the next beat is one interval after the intended one.
    s.due += hb.intervalMs;
    if (s.due <= now) s.due = now + hb.intervalMs;
    this.ticker!.add(s);
  }

  // ------------------------------------------------------------------ bookkeeping

  private becomeOpen(s: Session): void {
    s.state = S_OPEN;
    s.tOpen = performance.now();
    this.rec.latency('session', (s.tOpen - s.t0) * 1000);
    this.open++;
    const hb = this.shard.spec.heartbeat;
    if (hb) {
      // Spread first beats over one interval by session index, so N sessions that open in
      // the same second do not beat in the same millisecond forever after.
      const n = this.shard.spec.sessions;
      s.due = s.tOpen + (hb.intervalMs * ((s.index % n) + 0.5)) / n;
      this.ticker!.add(s);
    }
    this.ext?.opened?.(s, s.tOpen);
    this.loop?.opened(s, s.tOpen);
    this.settleOne();
  }

  /** The session's own plan is complete (lifetime, or its messages done): close it, successful. */
  private endSession(s: Session): void {
    if (s.state !== S_OPEN) return;
    this.loop!.stop(s);
    s.state = S_ENDING;
    this.open--;
    this.ended++;
    this.closing++;
    s.tSent = performance.now(); // the close frame: times the close handshake
    this.transport.close(s, 1000);
    // Every session ended or failed: the step is done (during establishment, endEstablish checks).
    if (this.open === 0 && this.stage === Stage.Hold) this.measure();
  }

  private fail(s: Session, code: ErrorCode | string, detail: string): void {
    if (s.state >= S_CONNECTING && s.state <= S_OPEN) this.sockets--;
    const wasOpen = s.state === S_OPEN;
    const wasInFlight = s.state >= S_HTTP && s.state <= S_AWAIT_FIRST;
    if (wasOpen) this.loop?.stop(s);
    s.state = S_FAILED;
    this.rec.inc('failed');
    this.rec.fail(code, detail);
    if (wasOpen) this.open--;
    if (wasInFlight) this.settleOne();
    // Nothing left to hold: measuring now changes no figure and saves the rest of the hold.
    if (wasOpen && this.open === 0 && this.stage === Stage.Hold) this.measure();
  }

  private settleOne(): void {
    this.inFlight--;
    this.settled++;
    if (this.stage === Stage.Establish) {
      this.launch();
      this.maybeEstablished();
    }
  }

  private maybeEstablished(): void {
    if (this.stage === Stage.Establish && this.settled === this.sessions.length) this.endEstablish(null);
  }

  /**
   * Every session is settled, or the deadline passed (`timeout`), or the user stopped
   * (`aborted`), or the extension could not prepare the step: the stragglers fail with that class.
   */
  private endEstablish(cause: 'timeout' | 'aborted' | 'step_prepare_error' | null, detail?: string): void {
    if (this.stage !== Stage.Establish) return;
    this.settleMs = performance.now() - this.tStart;
    this.stage = Stage.Hold; // before failing the stragglers, so nothing new is launched
    if (cause) {
      this.httpAbort.abort();
      const why = detail ?? (cause === 'timeout' ? 'not established before the step timeout' : 'stopped');
      for (const s of this.sessions) {
        if (s.state === S_IDLE || s.state === S_HTTP) {
          this.fail(s, cause, why);
        } else if (s.state === S_CONNECTING || s.state === S_AWAIT_FIRST) {
          this.fail(s, cause, why);
          this.transport.terminate(s);
        }
      }
    }
    this.holdStartedMs = performance.now();
    if (cause === 'aborted' || cause === 'step_prepare_error') return this.measure();
    this.ext?.holdStart?.(this.holdStartedMs);
    this.timers.push(setTimeout(() => this.measure(), this.shard.spec.holdMs));
    // Sessions with a plan of their own may all have ended already.
    if (this.loop !== null && this.open === 0) this.measure();
  }

  private measure(): void {
    if (this.stage !== Stage.Hold) return;
    this.stage = Stage.Closing;
    this.heldMs = performance.now() - this.holdStartedMs;
    this.ticker?.clear();
    this.loop?.clear();
    this.ext?.measure?.(performance.now());
    this.successful = this.open + this.ended;
    const now = performance.now();
    for (const s of this.sessions) {
      if (s.state === S_OPEN) {
        this.loop?.stop(s);
        s.state = S_CLOSING;
        this.closing++;
        s.tSent = now; // the close frame: times the close handshake
        this.transport.close(s, 1000);
      }
    }
    this.open = 0;
    const grace = this.aborted ? 1000 : (this.opts.closeGraceMs ?? 3000);
    this.timers.push(setTimeout(() => this.forceClose(), grace));
    this.maybeClosed();
  }

  private forceClose(): void {
    for (const s of this.sessions) {
      if (s.state !== S_CLOSING && s.state !== S_ENDING) continue;
      s.state = s.state === S_ENDING ? S_ENDED : S_DONE;
      this.sockets--;
      this.transport.terminate(s);
    }
    this.closing = 0;
    this.done();
  }

  private maybeClosed(): void {
    if (this.stage === Stage.Closing && this.closing === 0) this.done();
  }

  private done(): void {
    if (this.stage === Stage.Done) return;
    this.stage = Stage.Done;
    const f = this.finish;
    this.finish = null;
    f?.();
  }

  private abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    if (this.stage === Stage.Establish) this.endEstablish('aborted');
    else if (this.stage === Stage.Hold) this.measure();
  }
}

/** Placeholders whose value differs from one session to the next. */
const PER_SESSION_VARS = new Set(['index', 'random', 'randomInt', 'uuid', 'timestamp']);
/** Opens due within this many ms are started together (see launch()). */
const LAUNCH_TICK_MS = 5;

/** A send this close to a close may have crossed it: the server decided on the silence before. */
const CROSSED_MS = 1000;

function markSent(s: Session, now: number): void {
  s.gapPrev = now - Math.max(s.tOpen, s.tSent);
  s.tSent = now;
}

/**
 * The silence the server most likely saw when it closed: since this session last sent, or, when
 * that send came less than CROSSED_MS before the close (an idle timeout already on its way, a
 * heartbeat too late to count), the silence that send ended.
 */
function idleBeforeClose(s: Session, now: number): number {
  const idle = now - Math.max(s.tOpen, s.tSent);
  return idle < CROSSED_MS && s.gapPrev > idle ? s.gapPrev : idle;
}

function pickAddress(pool: string[] | undefined, index: number): string | undefined {
  return pool && pool.length > 0 ? pool[index % pool.length] : undefined;
}
