import type { TemplateEnv } from '../scenario/template.js';
import { HttpCaller, RequestTemplate, type Rendered } from './load-http.js';
import type { LoadFindings, TargetHealth } from './load-model.js';
import type { Session } from './session.js';

// What the chat load reads besides its own counters: the reference target's event-loop delay
// (from its /health), so a saturated target is reported as such, and the bytes that really
// crossed the sockets (frame headers, handshakes, permessage-deflate) of the connections still
// open when messaging ends.

const MAX_SAMPLES = 1800; // an hour at one reading every 2 s

export class HealthProbe {
  private readonly req: Rendered;
  private readonly caller = new HttpCaller({ connections: 1, timeoutMs: 5000 });
  private busy = false;
  private probes = 0;
  private failures = 0;
  private eldP99Max = 0;
  private eldMax = 0;
  private worstAt = 0;
  private readonly samples: { at: number; p99Ms: number; maxMs: number }[] = [];

  constructor(url: string, vars: Record<string, string>, env: TemplateEnv) {
    this.req = new RequestTemplate({ method: 'GET', url }, env).render(vars);
  }

  /** One request at a time: a target too busy to answer is not asked again meanwhile. */
  poll(): void {
    if (this.busy) return;
    this.busy = true;
    const at = performance.now();
    void this.caller.call(this.req, true).then((r) => {
      this.busy = false;
      this.probes++;
      const eld = r.status === 200 ? eldOf(r.text) : null;
      if (!eld) {
        this.failures++;
        return;
      }
      if (eld.p99 > this.eldP99Max) {
        this.eldP99Max = eld.p99;
        this.worstAt = at;
      }
      this.eldMax = Math.max(this.eldMax, eld.max);
      if (this.samples.length < MAX_SAMPLES) this.samples.push({ at, p99Ms: eld.p99, maxMs: eld.max });
    });
  }

  /** Times in seconds since `originMs` (the start of messaging). */
  findings(originMs: number): TargetHealth {
    const s = (at: number): number => Math.round((at - originMs) / 100) / 10;
    return {
      probes: this.probes,
      failures: this.failures,
      eldP99MaxMs: Math.round(this.eldP99Max * 10) / 10,
      eldMaxMs: Math.round(this.eldMax * 10) / 10,
      worstAtS: s(this.worstAt),
      samples: this.samples.map((x) => ({ t: s(x.at), p99Ms: x.p99Ms, maxMs: x.maxMs })),
    };
  }

  close(): Promise<void> {
    return this.caller.close();
  }
}

function eldOf(text: string | null): { p99: number; max: number } | null {
  if (!text) return null;
  try {
    const e = (JSON.parse(text) as { eventLoopDelayMs?: { p99?: unknown; max?: unknown } }).eventLoopDelayMs;
    if (!e || typeof e.p99 !== 'number' || typeof e.max !== 'number') return null;
    return { p99: e.p99, max: e.max };
  } catch {
    return null;
  }
}

interface ByteCounts {
  bytesRead: number;
  bytesWritten: number;
}

/**
 * The socket under a transport handle: the lean client keeps it as `sock`, the ws library as
 * `_socket`. Read duck-typed, as the Transport interface has no byte counts yet.
 */
function socketOf(handle: unknown): ByteCounts | null {
  if (handle === null || typeof handle !== 'object') return null;
  const h = handle as { sock?: unknown; _socket?: unknown };
  const sock = (h.sock ?? h._socket) as Partial<ByteCounts> | undefined | null;
  return sock && typeof sock.bytesRead === 'number' && typeof sock.bytesWritten === 'number'
    ? (sock as ByteCounts)
    : null;
}

export function wireOf(sessions: readonly Session[], isOpen: (s: Session) => boolean): LoadFindings['wire'] {
  const out = { connections: 0, sentBytes: 0, recvBytes: 0, compressed: 0 };
  for (const s of sessions) {
    if (!isOpen(s)) continue;
    const sock = socketOf(s.handle);
    if (!sock) continue;
    out.connections++;
    out.sentBytes += sock.bytesWritten;
    out.recvBytes += sock.bytesRead;
    const ext = (s.handle as { extensions?: unknown }).extensions;
    if (typeof ext === 'string' && ext.includes('permessage-deflate')) out.compressed++;
  }
  return out;
}
