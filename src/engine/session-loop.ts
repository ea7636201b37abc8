import type { SessionSpec } from '../contract.js';
import type { Recorder } from '../metrics/recorder.js';
import { compile, type Template, type TemplateEnv } from '../scenario/template.js';
import { Ticker } from './ticker.js';
import { S_OPEN, type Session } from './session.js';

// A scenario's `session:` block: what every open session does on its own, and when it ends.
//
// - Messages: one template sent on an absolute schedule (open loop: open + start + k × every) or
//   in a closed loop (the next one waits for the reply to the previous one). The next message
//   received after a send is its reply; its latency runs from the INTENDED send time, so a late
//   generator shows up as latency instead of hiding it (from the actual send when it went up to
//   SEND_WINDOW_MS early with others: never less than the real round trip). One reply is
//   outstanding per session: in the open loop a reply that has not come by the next send (or by
//   the session's end) is counted unanswered, as is a message that could not be written
//   (connection backed up) or a slot skipped because the generator fell more than one interval
//   behind. So every message of the loop is either a reply's latency or one unanswered:
//   replies + unanswered = messages.
// - Lifetime: every session closes `duration` after its own open. All lifetimes are equally
//   long, so end times are in open order: a FIFO of sessions with one timer for its head.
// Sends use one Ticker per engine; nothing here makes a timer or closure per session.

/** What the loop needs of its engine. */
export interface LoopHost {
  /** Sends on an open session and counts it; false when it could not be written. */
  send(s: Session, data: string, now: number): boolean;
  /** The session's plan is complete: stop() it, close it normally; it counts as successful. */
  end(s: Session): void;
  /** A message could not be built (template): the session fails with this class. */
  fail(s: Session, code: string, detail: string): void;
  /** Template variables of this session. */
  vars(s: Session): Record<string, string>;
}

/** A session's place in the send schedule (one per session, reused). */
class Entry {
  due = -0; // a double from the start (see Session)
  constructor(readonly s: Session) {}
}

/** Lifetime ends are batched on this grid (ms): closing a session up to 10 ms late is harmless. */
const LIFE_GRID_MS = 10;
/**
 * Sends due within this long after a firing go with it (ms). Each firing is an event-loop wakeup
 * (~25 µs of CPU, measured): W3's 500 sends a second, each due at its own millisecond, made 500
 * wakeups a second when each waited for its time; a 5 ms window makes at most 200, like a 5 ms
 * tick. A send that goes early is timed from its write, so no latency is ever less than the real
 * round trip. Short intervals get a narrower window (a tenth of the interval, at least 1 ms), so
 * no message goes out more than a tenth of its interval ahead of its slot.
 */
const SEND_WINDOW_MS = 5;
/** Retry delay of a closed loop whose message could not be written. */
const RETRY_MS = 5;

export class SessionLoop {
  private readonly msg: Template | null = null;
  private readonly everyMs: number;
  private readonly startMs: number;
  private readonly count: number;
  private readonly closedLoop: boolean;
  private readonly lifeMs: number;
  private readonly ticker: Ticker<Entry> | null = null;
  private readonly lifeQ: Session[] = [];
  private lifeHead = 0;
  private lifeTimer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(
    spec: SessionSpec,
    env: TemplateEnv,
    private readonly host: LoopHost,
    private readonly rec: Recorder,
  ) {
    const m = spec.messages;
    this.lifeMs = spec.durationMs ?? 0;
    this.everyMs = m?.everyMs ?? 0;
    this.startMs = m?.startMs ?? 0;
    this.closedLoop = m?.await === true;
    this.count = m?.count ?? (this.everyMs > 0 || this.closedLoop ? Infinity : 1);
    if (m) {
      this.msg = compile(m.send, { env });
      const sendWindow = this.everyMs > 0 ? Math.min(SEND_WINDOW_MS, Math.max(1, this.everyMs / 10)) : 1;
      const horizon = Math.max(65_536, 2 * (this.everyMs + this.startMs));
      this.ticker = new Ticker<Entry>(this.onDue, 5, horizon, sendWindow);
    }
  }

  /** The session just became open at `now` (its tOpen). */
  opened(s: Session, now: number): void {
    if (this.lifeMs > 0) {
      this.lifeQ.push(s);
      if (this.lifeTimer === null) this.armLife();
    }
    if (this.msg === null) return;
    if (this.startMs > 0) this.schedule(s, now + this.startMs);
    else this.sendNext(s, now, now);
  }

  /** A message arrived on an open session with a send outstanding (`s.msgAt > 0`): its reply. */
  reply(s: Session, now: number): void {
    const at = s.msgAt;
    s.msgAt = 0;
    this.rec.latency('message', (now - at) * 1000);
    if (s.msgCount < this.count) {
      if (!this.closedLoop) return;
      // Closed loop: the next one now, or at its slot when `every` paces the loop.
      const slot = at + this.everyMs;
      if (this.everyMs > 0 && slot > now) this.schedule(s, slot);
      else this.sendNext(s, now, now);
    } else if (this.lifeMs === 0) {
      this.host.end(s); // the last reply came: the loop is done
    }
  }

  /** The session leaves the open state (ended, failed, or measured): an outstanding reply never came. */
  stop(s: Session): void {
    if (s.msgAt > 0) {
      s.msgAt = 0;
      this.rec.inc('msgsUnanswered');
    }
  }

  /** Drops every schedule (the step is measured or closed). */
  clear(): void {
    this.stopped = true;
    this.ticker?.clear();
    if (this.lifeTimer !== null) clearTimeout(this.lifeTimer);
    this.lifeTimer = null;
  }

  // ------------------------------------------------------------------ messages

  private sendNext(s: Session, intended: number, now: number): void {
    if (s.msgAt > 0) {
      // Open loop: the previous reply did not come before this send.
      s.msgAt = 0;
      this.rec.inc('msgsUnanswered');
    }
    const t = this.msg!;
    let data: string;
    if (t.constant) data = t.source;
    else {
      try {
        data = t.render(this.host.vars(s));
      } catch (err) {
        return this.host.fail(s, 'step_message_template', err instanceof Error ? err.message : String(err));
      }
    }
    s.msgCount++;
    // Timed from the intended time when sent late (a late generator shows as latency), from the
    // actual send when sent early (joining a firing up to SEND_WINDOW_MS before its time): never
    // less than the real round trip.
    if (this.host.send(s, data, now)) s.msgAt = intended < now ? intended : now;
    else this.rec.inc('msgsUnanswered');
    if (this.closedLoop) {
      if (s.msgAt === 0 && s.msgCount < this.count) this.schedule(s, now + Math.max(RETRY_MS, this.everyMs));
      return;
    }
    // Open loop: the next send on the absolute schedule. A generator more than one interval
    // behind sends once (above, timed from the oldest slot it missed) and skips the other
    // missed slots, counting them unanswered: a burst of catch-up sends would only be matched to
    // the wrong replies. After the last send, without a lifetime, the session waits one more
    // interval for the last reply (reply() ends it sooner).
    let next = intended + this.everyMs;
    while (this.everyMs > 0 && next <= now && s.msgCount < this.count) {
      s.msgCount++;
      this.rec.inc('msgsUnanswered');
      next += this.everyMs;
    }
    if (s.msgCount < this.count || (this.lifeMs === 0 && this.everyMs > 0)) this.schedule(s, next);
  }

  private schedule(s: Session, due: number): void {
    let e = s.msgEntry as Entry | null;
    if (e === null) {
      e = new Entry(s);
      s.msgEntry = e;
    }
    e.due = due;
    this.ticker!.add(e);
  }

  private readonly onDue = (e: Entry, now: number): void => {
    const s = e.s;
    if (s.state !== S_OPEN) return; // ended or failed meanwhile: it leaves the schedule
    if (s.msgCount < this.count) return this.sendNext(s, e.due, now);
    this.host.end(s); // open loop, the last reply's deadline: an outstanding one counts unanswered
  };

  // ------------------------------------------------------------------ lifetimes

  private armLife(): void {
    const q = this.lifeQ;
    while (this.lifeHead < q.length && q[this.lifeHead].state !== S_OPEN) this.lifeHead++;
    if (this.stopped || this.lifeHead >= q.length) return;
    const due = q[this.lifeHead].tOpen + this.lifeMs;
    const at = Math.ceil(due / LIFE_GRID_MS) * LIFE_GRID_MS;
    this.lifeTimer = setTimeout(this.onLife, Math.max(0, Math.ceil(at - performance.now())));
  }

  private readonly onLife = (): void => {
    this.lifeTimer = null;
    const now = performance.now();
    const q = this.lifeQ;
    while (this.lifeHead < q.length && !this.stopped) {
      const s = q[this.lifeHead];
      if (s.state === S_OPEN) {
        if (s.tOpen + this.lifeMs > now) break;
        this.host.end(s);
      }
      this.lifeHead++;
    }
    this.armLife();
  };
}
