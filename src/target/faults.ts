import type { Conn } from './chat.js';
import { closeConn, kConn, onConnAttach } from './chat.js';
import type { TargetContext } from './context.js';
import type { TargetOptions } from './options.js';

// Test aids, all off by default, so a load test can be checked against a target that misbehaves
// in a known way: a delay per group message, every k-th delivery dropped, one event-loop stall,
// every k-th connection closed once. Deterministic, so tests can assert exact counts.

export class Faults {
  readonly delayMs: number;
  readonly dropEvery: number;
  /** Group message deliveries counted so far (only while dropEvery is set). */
  private deliveries = 0;
  private stallArmed = false;
  private closeArmed = false;
  private readonly timers: NodeJS.Timeout[] = [];

  constructor(private readonly o: Readonly<TargetOptions>) {
    this.delayMs = o.faultGroupDelayMs;
    this.dropEvery = o.faultDropEvery;
  }

  /** Counts one delivery; true when this one is to be dropped (the k-th, 2k-th, …). */
  dropDelivery(): boolean {
    return ++this.deliveries % this.dropEvery === 0;
  }

  /** Called for every group message sent here: arms the one stall at the first. */
  groupMessage(ctx: TargetContext): void {
    if (this.stallArmed || this.o.faultStallMs === 0) return;
    this.stallArmed = true;
    this.timers.push(setTimeout(stall, this.o.faultStallAtMs, ctx));
  }

  /** Called for every WebSocket opened: arms the one round of closes at the first. */
  connected(ctx: TargetContext): void {
    if (this.closeArmed || this.o.faultCloseEvery === 0) return;
    this.closeArmed = true;
    this.timers.push(setTimeout(closeEveryKth, this.o.faultCloseAtMs, ctx));
  }

  stop(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.length = 0;
  }
}

function stall(ctx: TargetContext): void {
  ctx.stats.faults.stalls++;
  const until = performance.now() + ctx.opts.faultStallMs;
  // The fault itself: nothing else runs in this process meanwhile.
  while (performance.now() < until);
}

function closeEveryKth(ctx: TargetContext): void {
  const k = ctx.opts.faultCloseEvery;
  let i = 0;
  // ctx.sockets keeps connection order; collect first, as closing edits the set.
  const victims: Conn[] = [];
  for (const ws of ctx.sockets) {
    const c = (ws as unknown as { [kConn]: Conn })[kConn];
    if (c.closing) continue;
    if (++i % k === 0) victims.push(c);
  }
  for (const c of victims) {
    ctx.stats.faults.closed++;
    closeConn(c, 1001, 'going away', 'fault');
  }
}

onConnAttach(armCloseFault);

function armCloseFault(c: Conn): void {
  c.ctx.faults.connected(c.ctx);
}
