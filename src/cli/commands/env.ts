import { Command } from 'commander';
import { collectHostFacts } from '../../host/facts.js';
import { raiseFdLimit } from '../../host/limits.js';
import { preflight } from '../../host/preflight.js';
import { renderEnv } from '../../host/render.js';
import { UserError } from '../../errors.js';
import { parseCount, parseDuration, parseStringList, parseUrl } from '../parse.js';
import type { CliIO } from '../io.js';

interface EnvOptions {
  json?: boolean;
  raise: boolean;
  ecsTimeout: number;
  sessions?: number;
  target?: URL;
  localAddress?: string[];
}

const SCHEMES = ['ws:', 'wss:', 'http:', 'https:'];

export function envCommand(io: CliIO): Command {
  return new Command('env')
    .description(
      'can this host generate (or serve) the load: container limits, open files, ports, ECS/Kubernetes metadata, advice',
    )
    .option('--json', 'print the facts as JSON (the same object every result file records)')
    .option('--no-raise', 'do not raise the open-file limit before reading it')
    .option('--ecs-timeout <duration>', 'deadline for the ECS task metadata endpoint', parseDuration, 1500)
    .option('--sessions <n>', 'also check a planned run of N concurrent sessions (with --target)', parseCount)
    .option('--target <url>', 'the URL the planned run connects to', (raw: string) => parseUrl(raw, SCHEMES))
    .option('--local-address <list>', 'source addresses the planned run spreads over', parseStringList)
    .action(async (o: EnvOptions) => {
      if (o.target && o.sessions === undefined)
        throw new UserError('--target needs --sessions N (how many sessions the run will hold)');
      const fdRaise = o.raise ? raiseFdLimit() : undefined;
      const facts = await collectHostFacts({ env: io.env, fdRaise, ecsTimeoutMs: o.ecsTimeout });
      let warnings: string[] | undefined;
      if (o.sessions !== undefined) {
        const targets = o.target ? [{ host: o.target.hostname, port: portOf(o.target) }] : [];
        warnings = preflight(facts, { sessions: o.sessions, targets, localAddresses: o.localAddress });
      }
      if (o.json) {
        io.stdout.write(`${JSON.stringify(warnings ? { ...facts, preflight: warnings } : facts, null, 2)}\n`);
        return;
      }
      let text = renderEnv(facts, { width: io.stdout.columns });
      if (warnings) {
        const what = `${o.sessions} sessions${o.target ? ` to ${o.target.host}` : ''}`;
        text += `\nPreflight for ${what}\n`;
        text += warnings.length
          ? warnings.map((w) => `  ! ${w}\n`).join('')
          : '  nothing on this host stands in the way\n';
      }
      io.stdout.write(text);
    });
}

function portOf(u: URL): number {
  if (u.port) return Number(u.port);
  return u.protocol === 'wss:' || u.protocol === 'https:' ? 443 : 80;
}
