import type { IntervalSnapshot, RunResult, StepSpec } from '../contract.js';
import type { Out, Reporter } from './reporter.js';
import { elapsed } from './duration.js';

const CLEAR_EOL = '\x1b[K';

/** The live line for one step: `  [ 500] established 312 · failed 3 · pending 185 · 4.2s`. */
export function progressText(p: {
  sessions: number;
  established: number;
  failed: number;
  pending: number;
  active: number;
  closedEarly: number;
  elapsedMs: number;
  heartbeats?: number; // sustained steps: the hold is what matters
  messages?: { sent: number; received: number }; // chat load: frames out and in
}): string {
  if (p.heartbeats !== undefined) {
    return (
      `  [${String(p.sessions).padStart(4)}] open ${p.active} · closed early ${p.closedEarly} · failed ${p.failed}` +
      ` · pending ${p.pending} · heartbeats ${p.heartbeats} · ${elapsed(p.elapsedMs)}`
    );
  }
  if (p.messages !== undefined) {
    return (
      `  [${String(p.sessions).padStart(4)}] open ${p.active} · failed ${p.failed} · pending ${p.pending}` +
      ` · frames out ${p.messages.sent} in ${p.messages.received} · ${elapsed(p.elapsedMs)}`
    );
  }
  // `open` shows only once sessions were lost after establishing, to keep the usual line short.
  const open = p.closedEarly > 0 ? ` · open ${p.active}` : '';
  return (
    `  [${String(p.sessions).padStart(4)}] established ${p.established} · failed ${p.failed}` +
    `${open} · pending ${p.pending} · ${elapsed(p.elapsedMs)}`
  );
}

/**
 * Live progress on stderr, rewritten in place once per (merged) interval snapshot. Only on a
 * TTY: piped stderr gets nothing, since the step lines on stdout already tell the story.
 */
export class ProgressLine implements Reporter {
  private readonly out: Out;
  private readonly isTTY: boolean;
  private step = -1;
  private sessions = 0;
  private established = 0;
  private failed = 0;
  private closedEarly = 0;
  private heartbeats: number | undefined = undefined;
  private messages: { sent: number; received: number } | undefined = undefined;
  private firstT0 = 0;
  private shown = false;
  private live = false;

  constructor(o: { out: Out; isTTY: boolean }) {
    this.out = o.out;
    this.isTTY = o.isTTY;
  }

  stepStart(spec: StepSpec): void {
    this.step = spec.index;
    this.sessions = spec.sessions;
    this.established = 0;
    this.failed = 0;
    this.closedEarly = 0;
    this.heartbeats = spec.heartbeat ? 0 : undefined;
    this.messages = spec.plan === 'load' ? { sent: 0, received: 0 } : undefined;
    this.firstT0 = 0;
    this.live = true;
  }

  interval(s: IntervalSnapshot): void {
    if (!this.live || s.step !== this.step) return; // a late snapshot of a finished step
    this.established += s.counters.established;
    this.failed += s.counters.failed;
    this.closedEarly += s.counters.closedEarly;
    if (this.heartbeats !== undefined) this.heartbeats += s.counters.heartbeats;
    if (this.messages !== undefined) {
      this.messages.sent += s.counters.msgsSent;
      this.messages.received += s.counters.msgsRecv;
    }
    if (this.firstT0 === 0 || s.t0 < this.firstT0) this.firstT0 = s.t0;
    if (!this.isTTY) return;
    let line = progressText({
      sessions: this.sessions,
      established: this.established,
      failed: this.failed,
      pending: s.pending,
      active: s.active,
      closedEarly: this.closedEarly,
      elapsedMs: s.t1 - this.firstT0,
      heartbeats: this.heartbeats,
      messages: this.messages,
    });
    // A wrapped line cannot be rewritten with \r.
    const cols = this.out.columns;
    if (cols !== undefined && cols > 1 && line.length >= cols) line = line.slice(0, cols - 1);
    this.out.write(`\r${line}${CLEAR_EOL}`);
    this.shown = true;
  }

  stepEnd(): void {
    this.live = false;
    this.clear();
  }

  runEnd(_r: RunResult): void {
    this.live = false;
    this.clear();
  }

  private clear(): void {
    if (!this.shown) return;
    this.out.write(`\r${CLEAR_EOL}`);
    this.shown = false;
  }
}
