import cluster from 'node:cluster';
import { parseArgs } from 'node:util';
import { EXIT, UserError } from '../errors.js';
import { ClusterBus, CLUSTER_BUS_ENV } from './bus-cluster.js';
import { startCluster } from './cluster.js';
import { resolveTargetOptions, TARGET_OPTIONS, type TargetOptions } from './options.js';
import { startTarget } from './server.js';

// Process entry of the target, for spawnTarget() and for cluster workers. Options come from the
// environment and from flags (same names as `holdline target`). Once listening it writes one line,
// {"listening":"http://127.0.0.1:PORT"}, to stdout (cluster workers stay silent: their primary
// speaks). It exits cleanly on SIGTERM/SIGINT and when its parent disconnects or exits.

const SHUTDOWN_DEADLINE_MS = 5000;

async function main(): Promise<void> {
  let opts: Readonly<TargetOptions>;
  try {
    opts = resolveTargetOptions({ env: process.env, flags: parseFlags(process.argv.slice(2)) });
  } catch (err) {
    process.stderr.write(`holdline target: ${(err as Error).message}\n`);
    if (err instanceof UserError && err.hint) process.stderr.write(`  ${err.hint}\n`);
    process.exit(EXIT.usage);
  }

  let close: () => Promise<void>;
  if (cluster.isWorker) {
    // Without Redis, the workers of one primary share groups and codes through it.
    const bus = !opts.redisUrl && process.env[CLUSTER_BUS_ENV] === '1' ? new ClusterBus() : undefined;
    close = (await startTarget(opts, { bus })).close;
  } else if (opts.workers > 1) {
    const c = await startCluster(opts, { log: (line) => process.stderr.write(`holdline target: ${line}\n`) });
    close = c.close;
    process.stdout.write(`${JSON.stringify({ listening: c.url, workers: c.workers, pid: process.pid })}\n`);
  } else {
    const t = await startTarget(opts);
    close = t.close;
    process.stdout.write(`${JSON.stringify({ listening: t.url, pid: process.pid })}\n`);
  }

  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    setTimeout(() => process.exit(0), SHUTDOWN_DEADLINE_MS).unref();
    close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', stop);
  // Ctrl-C reaches every process of the terminal's group: a worker leaves it to its primary,
  // which stops the workers in order (and must not mistake them for crashes).
  process.on('SIGINT', cluster.isWorker ? ignore : stop);
  // Forked with an IPC channel: the channel closes when the parent exits, however it exits.
  if (process.send !== undefined) process.on('disconnect', stop);
}

function ignore(): void {}

function parseFlags(args: string[]): Partial<Record<keyof TargetOptions, string | boolean>> {
  const options: Record<string, { type: 'string' | 'boolean' }> = {};
  for (const d of TARGET_OPTIONS) options[d.flag.slice(2)] = { type: d.arg ? 'string' : 'boolean' };
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({ args, options, strict: true, allowPositionals: false }).values;
  } catch (err) {
    throw new UserError((err as Error).message);
  }
  const flags: Partial<Record<keyof TargetOptions, string | boolean>> = {};
  for (const d of TARGET_OPTIONS) {
    const v = values[d.flag.slice(2)];
    if (v !== undefined) flags[d.key] = v;
  }
  return flags;
}

main().catch((err: unknown) => {
  process.stderr.write(`holdline target: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
