import type { ScenarioSpec } from '../contract.js';
import { UserError } from '../errors.js';
import { directScenario, referenceScenario } from '../scenario/builtin.js';
import { loadScenario } from './load-scenario.js';
import { spawnTarget } from '../target/spawn.js';
import { Redactor } from '../report/redact.js';
import type { CliIO } from './io.js';

export interface ResolvedTarget {
  scenario: ScenarioSpec;
  scenarioModule?: string;
  /** Variables every template can use: baseUrl, wsBaseUrl, wsUrl. */
  vars: Record<string, string>;
  /** What the user is testing, redacted, for output. */
  label: string;
  host: string;
  port: number;
  embedded: boolean;
  close(): Promise<void>;
}

export interface ResolveOptions {
  url?: string;
  scenario?: string;
  headers?: Record<string, string>;
  /** How the label hides secrets (default: the built-in names). */
  redact?: Redactor;
  /** Extra environment for the embedded target (e.g. MAX_TOTAL_CONNECTIONS). */
  targetEnv?: Record<string, string>;
}

/**
 * What the session connects to: the user's URL (directly or through a scenario file), or the
 * reference target started in a child process on a free loopback port.
 */
export async function resolveTarget(o: ResolveOptions, io: CliIO): Promise<ResolvedTarget> {
  const loaded = o.scenario ? await loadScenario(o.scenario, io.env) : null;
  const redact = o.redact ?? new Redactor();
  if (o.url) {
    const u = wsUrl(o.url, redact);
    const vars = baseVars(u);
    let scenario: ScenarioSpec = loaded ?? directScenario(u.href);
    if (!loaded && o.headers)
      scenario = { ...scenario, connect: { ...scenario.connect, headers: o.headers } };
    return {
      scenario,
      scenarioModule: loaded?.module,
      vars,
      label: redact.url(u.href),
      host: u.hostname.replace(/^\[|\]$/g, ''),
      port: Number(u.port) || (u.protocol === 'wss:' ? 443 : 80),
      embedded: false,
      close: async () => {},
    };
  }
  const t = await spawnTarget({ env: o.targetEnv });
  const u = new URL(t.wsUrl);
  const vars = baseVars(u);
  return {
    scenario: loaded ?? referenceScenario(vars.baseUrl, vars.wsBaseUrl),
    scenarioModule: loaded?.module,
    vars,
    label: `built-in reference target at ${vars.baseUrl}`,
    host: u.hostname,
    port: Number(u.port),
    embedded: true,
    close: () => t.close(),
  };
}

function wsUrl(raw: string, redact: Redactor): URL {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new UserError(
      `Not a URL: ${redact.url(raw)}`,
      'Give a WebSocket URL such as ws://127.0.0.1:8080/ws.',
    );
  }
  if (u.protocol === 'http:') u.protocol = 'ws:';
  else if (u.protocol === 'https:') u.protocol = 'wss:';
  if (u.protocol !== 'ws:' && u.protocol !== 'wss:') {
    throw new UserError(
      `Unsupported URL scheme ${u.protocol} in ${redact.url(raw)}`,
      'Use ws://, wss://, http:// or https://.',
    );
  }
  return u;
}

function baseVars(u: URL): Record<string, string> {
  const secure = u.protocol === 'wss:';
  return {
    baseUrl: `${secure ? 'https' : 'http'}://${u.host}`,
    wsBaseUrl: `${secure ? 'wss' : 'ws'}://${u.host}`,
    // The whole URL given, so one scenario runs unchanged against any service and path.
    wsUrl: u.href,
  };
}
