import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { TargetContext } from './context.js';
import { DROP_REASONS, REJECT_REASONS } from './stats.js';

// Prometheus text exposition (format 0.0.4) of the target's counters, and the event-loop delay
// over a rolling window (a cumulative histogram would hide a stall that happened an hour ago).

const WINDOW_MS = 10_000;

export interface LoopDelaySummary {
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Length of the window the figures cover. */
  windowMs: number;
}

export class LoopDelay {
  private readonly h: IntervalHistogram = monitorEventLoopDelay({ resolution: 10 });
  private last: LoopDelaySummary = { p50Ms: 0, p99Ms: 0, maxMs: 0, windowMs: 0 };
  private since = performance.now();
  private timer: NodeJS.Timeout | null = null;

  start(): void {
    this.h.enable();
    this.since = performance.now();
    this.timer = setInterval(rotate, WINDOW_MS, this);
    this.timer.unref();
  }

  stop(): void {
    this.h.disable();
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** The last complete window, or the current one while no window has completed yet. */
  summary(): LoopDelaySummary {
    return this.last.windowMs > 0 ? this.last : this.read();
  }

  rotate(): void {
    this.last = this.read();
    this.h.reset();
    this.since = performance.now();
  }

  private read(): LoopDelaySummary {
    const h = this.h;
    const ms = (ns: number): number => (Number.isFinite(ns) && h.count > 0 ? Math.round(ns / 1e4) / 100 : 0);
    return {
      p50Ms: ms(h.percentile(50)),
      p99Ms: ms(h.percentile(99)),
      maxMs: ms(h.max),
      windowMs: Math.round(performance.now() - this.since),
    };
  }
}

function rotate(l: LoopDelay): void {
  l.rotate();
}

/** The whole /metrics body. */
export function renderMetrics(ctx: TargetContext): string {
  const st = ctx.stats;
  const out: string[] = [];
  const head = (name: string, type: string, help: string): void => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
  };
  const p = 'holdline_target_';

  head(`${p}connections`, 'gauge', 'Open long-lived connections by kind.');
  out.push(`${p}connections{kind="ws"} ${st.open.ws}`, `${p}connections{kind="sse"} ${st.open.sse}`);

  head(`${p}connections_accepted_total`, 'counter', 'Connections accepted by kind.');
  out.push(`${p}connections_accepted_total{kind="ws"} ${st.accepted.ws}`);
  out.push(`${p}connections_accepted_total{kind="sse"} ${st.accepted.sse}`);

  head(`${p}connections_closed_total`, 'counter', 'Connections closed (for any reason) by kind.');
  out.push(`${p}connections_closed_total{kind="ws"} ${st.closed.ws}`);
  out.push(`${p}connections_closed_total{kind="sse"} ${st.closed.sse}`);

  head(
    `${p}connections_rejected_total`,
    'counter',
    'Connection attempts refused at the handshake, by reason.',
  );
  for (const r of REJECT_REASONS) out.push(`${p}connections_rejected_total{reason="${r}"} ${st.rejected[r]}`);

  head(`${p}connections_dropped_total`, 'counter', 'Open connections closed by the target, by reason.');
  for (const r of DROP_REASONS) out.push(`${p}connections_dropped_total{reason="${r}"} ${st.dropped[r]}`);

  head(`${p}messages_total`, 'counter', 'WebSocket messages by direction.');
  out.push(
    `${p}messages_total{direction="in"} ${st.msgsIn}`,
    `${p}messages_total{direction="out"} ${st.msgsOut}`,
  );

  head(`${p}bytes_total`, 'counter', 'WebSocket message payload bytes by direction.');
  out.push(
    `${p}bytes_total{direction="in"} ${st.bytesIn}`,
    `${p}bytes_total{direction="out"} ${st.bytesOut}`,
  );

  head(`${p}tokens_issued_total`, 'counter', 'Tokens issued by POST /auth/token.');
  out.push(`${p}tokens_issued_total ${st.tokensIssued}`);
  head(`${p}chats_created_total`, 'counter', 'Chats created by POST /chats.');
  out.push(`${p}chats_created_total ${st.chatsCreated}`);

  const g = ctx.groups;
  head(`${p}groups`, 'gauge', 'Groups held by this instance.');
  out.push(`${p}groups ${g.size}`);
  head(`${p}groups_limit`, 'gauge', 'MAX_TOTAL_GROUPS in effect.');
  out.push(`${p}groups_limit ${g.max}`);
  head(`${p}groups_created_total`, 'counter', 'Groups created here (creations of other instances included).');
  out.push(`${p}groups_created_total ${g.created}`);
  head(
    `${p}group_messages_total`,
    'counter',
    'Group messages: in = accepted from senders here, out = deliveries written here.',
  );
  out.push(
    `${p}group_messages_total{direction="in"} ${st.groupMsgsIn}`,
    `${p}group_messages_total{direction="out"} ${st.groupMsgsOut}`,
  );
  head(
    `${p}group_messages_missed_total`,
    'counter',
    'Group message numbers skipped on arrival from the bus (lost on the way, e.g. while Redis was down).',
  );
  out.push(`${p}group_messages_missed_total ${st.groupMsgsMissed}`);
  head(
    `${p}codes_total`,
    'counter',
    'Codes: published = accepted by POST /codes here, fanned_out = sent to subscribers here.',
  );
  out.push(
    `${p}codes_total{stage="published"} ${st.codesPublished}`,
    `${p}codes_total{stage="fanned_out"} ${st.codesFannedOut}`,
  );
  head(`${p}codes_missed_total`, 'counter', 'Code numbers skipped on arrival from the bus.');
  out.push(`${p}codes_missed_total ${st.codesMissed}`);
  head(`${p}sse_events_total`, 'counter', 'SSE events written, one per stream per event (replays included).');
  out.push(`${p}sse_events_total ${st.sseEventsOut}`);
  head(`${p}sse_heartbeats_total`, 'counter', 'SSE heartbeat comments written.');
  out.push(`${p}sse_heartbeats_total ${st.sseHeartbeats}`);
  head(`${p}ws_codes_total`, 'counter', 'Code frames written to subscribed WebSockets.');
  out.push(`${p}ws_codes_total ${st.wsCodesOut}`);

  const bus = ctx.bus.health();
  head(`${p}bus_connected`, 'gauge', '1 while the bus delivers (Redis: both connections up and subscribed).');
  out.push(`${p}bus_connected{kind="${bus.kind}"} ${bus.connected ? 1 : 0}`);
  head(`${p}bus_messages_total`, 'counter', 'Bus messages published by this instance and received by it.');
  out.push(
    `${p}bus_messages_total{direction="published"} ${bus.published}`,
    `${p}bus_messages_total{direction="received"} ${bus.received}`,
  );
  head(`${p}bus_errors_total`, 'counter', 'Bus commands that failed; a failed publish is a lost message.');
  out.push(`${p}bus_errors_total ${bus.errors}`);
  head(`${p}bus_reconnects_total`, 'counter', 'Times the bus came back after being down.');
  out.push(`${p}bus_reconnects_total ${bus.reconnects}`);

  head(`${p}faults_total`, 'counter', 'Test faults that fired (FAULT_* settings), by kind.');
  out.push(
    `${p}faults_total{kind="dropped"} ${st.faults.dropped}`,
    `${p}faults_total{kind="stall"} ${st.faults.stalls}`,
    `${p}faults_total{kind="closed"} ${st.faults.closed}`,
  );

  head(`${p}http_responses_total`, 'counter', 'HTTP responses by route and status.');
  for (const [k, n] of st.http) {
    const sp = k.lastIndexOf(' ');
    out.push(`${p}http_responses_total{route="${k.slice(0, sp)}",status="${k.slice(sp + 1)}"} ${n}`);
  }

  const eld = ctx.loopDelay.summary();
  head(
    `${p}event_loop_delay_seconds`,
    'gauge',
    `Event-loop delay over the last ${WINDOW_MS / 1000}s window.`,
  );
  out.push(`${p}event_loop_delay_seconds{quantile="0.5"} ${eld.p50Ms / 1000}`);
  out.push(`${p}event_loop_delay_seconds{quantile="0.99"} ${eld.p99Ms / 1000}`);
  out.push(`${p}event_loop_delay_seconds{quantile="1"} ${eld.maxMs / 1000}`);

  const mem = process.memoryUsage();
  head(`${p}resident_memory_bytes`, 'gauge', 'Resident set size of this process.');
  out.push(`${p}resident_memory_bytes ${mem.rss}`);
  head(`${p}heap_used_bytes`, 'gauge', 'V8 heap in use.');
  out.push(`${p}heap_used_bytes ${mem.heapUsed}`);
  const cpu = process.cpuUsage();
  head(`${p}cpu_seconds_total`, 'counter', 'CPU time of this process, user and system.');
  out.push(`${p}cpu_seconds_total ${(cpu.user + cpu.system) / 1e6}`);
  head(`${p}uptime_seconds`, 'gauge', 'Seconds since this target started.');
  out.push(`${p}uptime_seconds ${(Date.now() - st.startedAt) / 1000}`);
  head(`${p}info`, 'gauge', 'Constant 1, labelled with this process.');
  out.push(`${p}info{pid="${process.pid}",worker="${ctx.worker}"} 1`);
  return out.join('\n') + '\n';
}
