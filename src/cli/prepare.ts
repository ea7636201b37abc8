import type { Fleet } from '../fleet/fleet.js';
import { LocalFleet } from '../fleet/local.js';
import { loadSetupHook } from '../scenario/module.js';
import { WsClientTransport } from '../transports/wsclient.js';
import type { SseDefaults } from '../transports/sse.js';
import type { Session } from '../engine/session.js';
import type { TransportFactory } from '../engine/engine.js';
import type { Transport } from '../transports/transport.js';
import { countOpenFds, FD_RESERVE, raiseFdLimit } from '../host/limits.js';
import { collectHostFacts } from '../host/facts.js';
import { preflight } from '../host/preflight.js';
import { resolveTarget, type ResolvedTarget } from './target-resolve.js';
import { Redactor } from '../report/redact.js';
import type { CommonOptions } from './common.js';
import type { CliIO } from './io.js';

/**
 * Sockets this process may open and still write its results: the soft open-file limit less what
 * is open now and a reserve. Past it, sessions fail as fds_exhausted instead of starving the run.
 */
function socketBudget(soft: number | 'unlimited' | undefined): number | undefined {
  if (soft === undefined || soft === 'unlimited') return undefined;
  return Math.max(0, soft - (countOpenFds() ?? 0) - FD_RESERVE);
}

export interface RunContext {
  target: ResolvedTarget;
  fleet: Fleet;
  hostFacts: Record<string, unknown>;
  /** What is wrong on this host for the planned run, one line each (empty: nothing). */
  preflight: string[];
  /** Hides secrets (built-in names and --redact) in every output of the run. */
  redact: Redactor;
  close(): Promise<void>;
}

/**
 * Everything a test command needs before its first step: the open-file limit raised, the
 * target resolved (or the built-in one started), a preflight of this host, and the fleet.
 */
export async function prepareRun(a: {
  url?: string;
  o: CommonOptions & { compression?: boolean };
  io: CliIO;
  maxSessions: number;
  targetEnv?: Record<string, string>;
  /** The session transport; default: the scenario's (ws or sse). */
  transport?: 'ws' | 'sse';
  /** SSE settings (reconnection) when the transport is sse. */
  sse?: SseDefaults;
  /** Leave the preflight warnings to the caller (`suite` prints them as its first stage). */
  quietPreflight?: boolean;
}): Promise<RunContext> {
  const { o, io } = a;
  // Sockets plus headroom for HTTP connections, the result file and the process itself.
  const fd = raiseFdLimit({ need: a.maxSessions + 1024 });
  const redact = new Redactor(o.redact);
  const target = await resolveTarget(
    {
      url: a.url,
      redact,
      scenario: o.scenario,
      headers: o.header,
      // --compression: the built-in target offers permessage-deflate too.
      targetEnv: o.compression ? { PER_MESSAGE_DEFLATE: '1', ...a.targetEnv } : a.targetEnv,
    },
    io,
  );
  try {
    const facts = await collectHostFacts({ env: io.env, fdRaise: fd });
    const warnings = preflight(facts, {
      sessions: a.maxSessions,
      targets: [{ host: target.host, port: target.port }],
      localAddresses: o.localAddress,
    });
    if (!a.quietPreflight) for (const w of warnings) io.stderr.write(`warning: ${w}\n`);
    const setup = target.scenarioModule ? await loadSetupHook(target.scenarioModule) : undefined;
    const kind = a.transport ?? target.scenario.connect.transport;
    // The SSE (undici) and ws-library transports load only when used: a plain WebSocket run
    // does not pay for their modules.
    let transport: TransportFactory;
    if (kind === 'sse') {
      const { SseTransport } = await import('../transports/sse.js');
      transport = (sink) => new SseTransport<Session>(sink, a.sse);
    } else if (o.compression) {
      const { WsLibTransport } = await import('../transports/ws.js');
      transport = (sink) =>
        offerCompression(new WsLibTransport<Session>(sink, { maxPayload: o.maxMessageSize }));
    } else {
      transport = (sink) => new WsClientTransport<Session>(sink, { maxPayload: o.maxMessageSize });
    }
    const fleet = new LocalFleet({
      transport,
      env: io.env,
      vars: target.vars,
      setup,
      maxSockets: socketBudget(fd.after?.soft),
    });
    return {
      target,
      fleet,
      hostFacts: facts as unknown as Record<string, unknown>,
      preflight: warnings,
      redact,
      close: async () => {
        await fleet.close();
        await target.close();
      },
    };
  } catch (err) {
    await target.close();
    throw err;
  }
}

/** --compression: every connection offers permessage-deflate (the engine opens without options). */
function offerCompression<T extends Transport<Session>>(t: T): T {
  const open = t.open.bind(t);
  t.open = (s, url, opts) => open(s, url, { ...opts, compression: true });
  return t;
}
