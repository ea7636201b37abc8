import type { StepResult } from '../contract.js';

/** One-line explanations of what the failures point to. Pure: steps in, sentences out. */
export function diagnose(steps: StepResult[], target: { host: string; port: number }): string[] {
  const out: string[] = [];
  const totals: Record<string, number> = {};
  let failed = 0;
  let sessions = 0;
  for (const s of steps) {
    sessions += s.sessions;
    for (const [code, n] of Object.entries(s.failures)) {
      totals[code] = (totals[code] ?? 0) + n;
      failed += n;
    }
  }
  if (failed === 0) return out;
  const where = `${target.host.includes(':') ? `[${target.host}]` : target.host}:${target.port}`;
  const refused = (totals.refused ?? 0) + sumPrefix(totals, '_refused');
  if (refused === sessions) {
    out.push(
      `Nothing is listening at ${where}: every connection was refused. Is the service running, and is the port right?`,
    );
  } else if (refused > 0 && (totals.reset ?? 0) + refused >= failed * 0.9 && steps.length > 0) {
    out.push(
      `Connections to ${where} were reset or refused: the target went away or restarted during the run.`,
    );
  }
  if ((totals.dns ?? 0) + sumPrefix(totals, '_dns') > 0)
    out.push(`The host name ${target.host} could not be resolved.`);
  if ((totals.tls ?? 0) > 0)
    out.push(`TLS handshakes with ${where} failed (certificate or protocol); see the error samples.`);
  const rejected = Object.keys(totals).filter((c) => /^http_(401|403)$/.test(c));
  if (rejected.length > 0)
    out.push(
      `The target rejected the upgrade (${rejected.join(', ')}): check the token or headers the session sends.`,
    );
  if ((totals.http_503 ?? 0) > 0 || (totals.http_429 ?? 0) > 0) {
    out.push(
      'The target refused connections over a limit (http_503 / http_429): that is its configured or natural capacity.',
    );
  }
  if ((totals.ports_exhausted ?? 0) > 0) {
    out.push(
      'The generator ran out of ephemeral ports: add source addresses with --local-address 127.0.0.2,127.0.0.3 or use more machines.',
    );
  }
  if ((totals.fds_exhausted ?? 0) > 0) {
    out.push(
      'The generator hit its open-file limit: raise `ulimit -n`, or split the load over worker processes.',
    );
  }
  return out;
}

function sumPrefix(totals: Record<string, number>, suffix: string): number {
  let n = 0;
  for (const [k, v] of Object.entries(totals)) if (k.startsWith('step_') && k.endsWith(suffix)) n += v;
  return n;
}
