import cluster, { type Worker } from 'node:cluster';
import { fileURLToPath } from 'node:url';
import { HoldlineError } from '../errors.js';
import { CLUSTER_BUS_ENV, ClusterRelay } from './bus-cluster.js';
import { optionsToEnv, type TargetOptions } from './options.js';
import { connectHost } from './server.js';

// Multi-process mode: N workers share one port through node:cluster (the primary accepts and
// hands connections round-robin), because one process can hold only as many sockets as its
// open-file limit allows. The primary resolves the options once, so every worker gets the same
// token secret, and splits MAX_TOTAL_CONNECTIONS between them. Without Redis the primary also
// relays the workers' bus (bus-cluster.ts), so groups and codes are shared between them.

const WORKER_ENTRY = fileURLToPath(new URL('./child.js', import.meta.url));
const STOP_GRACE_MS = 5000;
const MIN_UPTIME_FOR_RESPAWN_MS = 2000;

export interface RunningCluster {
  url: string;
  wsUrl: string;
  port: number;
  workers: number;
  pids(): number[];
  close(): Promise<void>;
}

export interface ClusterHooks {
  /** Worker deaths and respawns (one line each). */
  log?: (line: string) => void;
  startTimeoutMs?: number;
  /** A worker that crashes sooner after its start is not replaced (default 2 s). */
  minUptimeForRespawnMs?: number;
}

/** Worker i's share of a total cap (0 stays 0: no cap). */
export function shareOf(total: number, workers: number, i: number): number {
  if (total === 0) return 0;
  return Math.floor(total / workers) + (i < total % workers ? 1 : 0);
}

export async function startCluster(
  o: Readonly<TargetOptions>,
  hooks: ClusterHooks = {},
): Promise<RunningCluster> {
  if (!cluster.isPrimary) throw new Error('startCluster() must run in the primary process');
  cluster.setupPrimary({
    exec: WORKER_ENTRY,
    args: [],
    execArgv: process.execArgv.filter((a) => !a.startsWith('--test')),
    silent: false,
  });
  const live = new Map<number, { worker: Worker; env: Record<string, string>; startedAt: number }>();
  let closing = false;
  let port = 0;

  const fork = (env: Record<string, string>): Worker => {
    const worker = cluster.fork(env);
    live.set(worker.id, { worker, env, startedAt: Date.now() });
    return worker;
  };
  const envs = Array.from({ length: o.workers }, (_, i) => ({
    ...optionsToEnv({ ...o, workers: 1, maxTotalConnections: shareOf(o.maxTotalConnections, o.workers, i) }),
    ...(o.redisUrl ? {} : { [CLUSTER_BUS_ENV]: '1' }),
  }));
  const relay = new ClusterRelay(() => [...live.values()].map((e) => e.worker));
  const onMessage = (worker: Worker, m: unknown): void => relay.handle(worker, m);
  cluster.on('message', onMessage);

  await new Promise<void>((resolve, reject) => {
    let listening = 0;
    const timeoutMs = hooks.startTimeoutMs ?? 15_000;
    const deadline = setTimeout(() => {
      fail(new HoldlineError('target_start', `target workers did not listen within ${timeoutMs} ms`));
    }, timeoutMs);
    const fail = (err: Error): void => {
      clearTimeout(deadline);
      closing = true;
      cluster.removeListener('message', onMessage);
      for (const { worker } of live.values()) worker.process.kill('SIGKILL');
      reject(err);
    };
    for (const env of envs) {
      const w = fork(env);
      w.once('listening', (addr: { port: number }) => {
        port = addr.port;
        if (++listening === o.workers) {
          clearTimeout(deadline);
          resolve();
        }
      });
      w.once('exit', (code, signal) => {
        if (listening < o.workers && !closing) {
          fail(
            new HoldlineError(
              'target_start',
              `target worker ${w.id} exited with ${signal ?? `code ${code}`} before listening`,
            ),
          );
        }
      });
    }
  });

  // After start-up: replace a worker that crashes, unless it crashed right after starting (a loop);
  // one that exited cleanly was stopped on purpose.
  cluster.on('exit', onExit);
  function onExit(worker: Worker, code: number | null, signal: string | null): void {
    const entry = live.get(worker.id);
    if (!entry) return;
    live.delete(worker.id);
    if (closing) return;
    const how = signal ?? `code ${code}`;
    if (code === 0) {
      hooks.log?.(`target worker ${worker.process.pid} exited (${how}); not restarting it`);
      return;
    }
    if (Date.now() - entry.startedAt < (hooks.minUptimeForRespawnMs ?? MIN_UPTIME_FOR_RESPAWN_MS)) {
      hooks.log?.(
        `target worker ${worker.process.pid} exited (${how}) right after starting; not restarting it`,
      );
      return;
    }
    const next = fork(entry.env);
    hooks.log?.(`target worker ${worker.process.pid} exited (${how}); started ${next.process.pid}`);
  }

  const host = connectHost(o.host);
  let closed: Promise<void> | null = null;
  return {
    url: `http://${host}:${port}`,
    wsUrl: `ws://${host}:${port}/ws`,
    port,
    workers: o.workers,
    pids: () => [...live.values()].map((e) => e.worker.process.pid ?? 0),
    close: () =>
      (closed ??= (async () => {
        closing = true;
        cluster.removeListener('exit', onExit);
        cluster.removeListener('message', onMessage);
        await Promise.all([...live.values()].map(({ worker }) => stopWorker(worker)));
        live.clear();
      })()),
  };
}

function stopWorker(worker: Worker): Promise<void> {
  if (worker.process.exitCode !== null || worker.process.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => worker.process.kill('SIGKILL'), STOP_GRACE_MS);
    worker.process.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    worker.process.kill('SIGTERM');
  });
}
