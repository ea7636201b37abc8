import { Command, Option } from 'commander';
import { UserError } from '../../errors.js';
import { startCluster } from '../../target/cluster.js';
import { resolveTargetOptions, TARGET_OPTIONS, type TargetOptions } from '../../target/options.js';
import { startTarget } from '../../target/server.js';
import type { CliIO } from '../io.js';

// `holdline target`: the reference server in the foreground until Ctrl-C. Every flag has an env
// var of the same meaning (flags win); both are parsed and checked by the target's option table,
// so a bad value is one UserError listing every problem.

export function targetCommand(io: CliIO): Command {
  const cmd = new Command('target')
    .description(
      'the reference real-time server: tokens, chats, WebSocket chat and groups, SSE broadcast, limits, Redis, metrics',
    )
    .addHelpText(
      'after',
      [
        '',
        'Every flag can also be set by the environment variable shown; flags win.',
        'Durations: 300ms, 5s, 1m, 1h (a bare number is seconds). Sizes: 65536, 64KiB, 1MiB.',
        'With --workers N, MAX_TOTAL_CONNECTIONS is split evenly between the workers.',
        'It listens on 127.0.0.1 unless --host says otherwise (--host 0.0.0.0 to accept other machines).',
        '',
        'Examples:',
        '  holdline target --port 8080',
        '  MAX_TOTAL_CONNECTIONS=300 holdline target --auth none',
        '  holdline target --workers 2 --idle-timeout 60s --token-secret "$SECRET"',
      ].join('\n'),
    );
  const attr = new Map<keyof TargetOptions, string>();
  for (const d of TARGET_OPTIONS) {
    const opt = new Option(
      d.arg ? `${d.flag} ${d.arg}` : d.flag,
      `${d.help} [env ${d.env}, default ${d.shown}]`,
    );
    attr.set(d.key, opt.attributeName());
    cmd.addOption(opt);
  }
  cmd.action(async (values: Record<string, string | boolean | undefined>) => {
    const flags: Partial<Record<keyof TargetOptions, string | boolean | undefined>> = {};
    for (const [key, name] of attr) flags[key] = values[name];
    await serve(resolveTargetOptions({ env: io.env, flags }), io);
  });
  return cmd;
}

async function serve(o: Readonly<TargetOptions>, io: CliIO): Promise<void> {
  let running: { url: string; wsUrl: string; port: number; close(): Promise<void> };
  try {
    running =
      o.workers > 1
        ? await startCluster(o, { log: (line) => io.stderr.write(`holdline target: ${line}\n`) })
        : await startTarget(o);
  } catch (err) {
    throw listenError(err, o);
  }
  const where = `${o.host.includes(':') ? `[${o.host}]` : o.host}:${running.port}`;
  const workers = o.workers > 1 ? `${o.workers} workers, ` : '';
  io.stdout.write(
    `holdline target listening on ${where} (${workers}auth ${o.auth}): ${running.url}  ${running.wsUrl}\n`,
  );
  if (o.auth === 'none' && !isLoopback(o.host)) {
    io.stderr.write(
      `holdline target: warning: --auth none on ${o.host}: anyone who can reach this address can use the target (use --auth token, or --host 127.0.0.1)\n`,
    );
  }
  await new Promise<void>((resolve) => {
    if (io.signal.aborted) resolve();
    else io.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  await running.close();
}

/** True for an address only this machine reaches. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

function listenError(err: unknown, o: Readonly<TargetOptions>): unknown {
  const code = (err as NodeJS.ErrnoException)?.code;
  if (code === 'EADDRINUSE') {
    return new UserError(
      `Port ${o.port} on ${o.host} is already in use.`,
      'Pick another --port (0 takes any free port).',
    );
  }
  if (code === 'EACCES') {
    return new UserError(
      `No permission to listen on port ${o.port}.`,
      'Ports below 1024 need privileges; use --port 8080.',
    );
  }
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') {
    return new UserError(
      `Cannot listen on ${o.host}: no such local address.`,
      'Use --host 0.0.0.0 or 127.0.0.1.',
    );
  }
  return err;
}
