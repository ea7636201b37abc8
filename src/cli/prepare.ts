import type { Fleet } from '../fleet/fleet.js';
import { LocalFleet } from '../fleet/local.js';
import { loadSetupHook } from '../scenario/module.js';
import { WsClientTransport } from '../transports/wsclient.js';
import { WsLibTransport } from '../transports/ws.js';
import type { Session } from '../engine/session.js';
import type { TransportFactory } from '../engine/engine.js';
import { raiseFdLimit } from '../host/limits.js';
import { collectHostFacts } from '../host/facts.js';
import { preflight } from '../host/preflight.js';
import { resolveTarget, type ResolvedTarget } from './target-resolve.js';
import type { CommonOptions } from './common.js';
import type { CliIO } from './io.js';

export interface RunContext {
  target: ResolvedTarget;
  fleet: Fleet;
  hostFacts: Record<string, unknown>;
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
}): Promise<RunContext> {
  const { o, io } = a;
  const fd = raiseFdLimit();
  const target = await resolveTarget(
    { url: a.url, scenario: o.scenario, headers: o.header, targetEnv: a.targetEnv },
    io,
  );
  try {
    const facts = await collectHostFacts({ env: io.env, fdRaise: fd });
    const warnings = preflight(facts, {
      sessions: a.maxSessions,
      targets: [{ host: target.host, port: target.port }],
      localAddresses: o.localAddress,
    });
    for (const w of warnings) io.stderr.write(`warning: ${w}\n`);
    const setup = target.scenarioModule ? await loadSetupHook(target.scenarioModule) : undefined;
    const transport: TransportFactory = o.compression
      ? (sink) => new WsLibTransport<Session>(sink)
      : (sink) => new WsClientTransport<Session>(sink);
    const fleet = new LocalFleet({ transport, env: io.env, vars: target.vars, setup });
    return {
      target,
      fleet,
      hostFacts: facts as unknown as Record<string, unknown>,
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
