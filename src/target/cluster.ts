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
/** A worker that lived this long before crashing is replaced at once (its crash was not a loop). */
const STABLE_UPTIME_MS = 10_000;
const RESTART_BACKOFF_MS = 250;
const MAX_RESTART_BACKOFF_MS = 30_000;

export interface RunningCluster {
  url: string;
  wsUrl: string;
  port: number;
  workers: number;
  pids(): number[];
  /** Workers replaced after a crash since the start. */
  restarts(): number;
  close(): Promise<void>;
}

export interface ClusterHooks {
  /** Worker deaths and respawns (one line each). */
  log?: (line: string) => void;
  startTimeoutMs?: number;
  /**
   * Delay before replacing a worker that crashed within 10 s of its start; it doubles with each
   * such crash in a row, up to 30 s (default 250 ms).
   */
  restartBackoffMs?: number;
}

/** The wait before restart number `quick` (1, 2, … crashes in a row, each soon after its start). */
export function restartDelay(quick: number, baseMs: number): number {
  if (quick <= 0) return 0;
  return Math.min(MAX_RESTART_BACKOFF_MS, baseMs * 2 ** Math.min(quick - 1, 20));
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

  // After start-up: replace a worker that crashes, at once when it had been up a while, else
  // after a delay that doubles with each quick crash in a row (a crash loop must not spin the
  // primary). One that exited cleanly was stopped on purpose.
  let restarts = 0;
  let quickCrashes = 0;
  const pending = new Set<NodeJS.Timeout>();
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
    quickCrashes = Date.now() - entry.startedAt < STABLE_UPTIME_MS ? quickCrashes + 1 : 0;
    const delay = restartDelay(quickCrashes, hooks.restartBackoffMs ?? RESTART_BACKOFF_MS);
    const t = setTimeout(() => {
      pending.delete(t);
      if (closing) return;
      const next = fork(entry.env);
      restarts++;
      hooks.log?.(
        `target worker ${worker.process.pid} exited (${how}); started ${next.process.pid} after ${delay} ms (restart ${restarts})`,
      );
    }, delay);
    pending.add(t);
  }

  const host = connectHost(o.host);
  let closed: Promise<void> | null = null;
  return {
    url: `http://${host}:${port}`,
    wsUrl: `ws://${host}:${port}/ws`,
    port,
    workers: o.workers,
    pids: () => [...live.values()].map((e) => e.worker.process.pid ?? 0),
    restarts: () => restarts,
    close: () =>
      (closed ??= (async () => {
        closing = true;
        for (const t of pending) clearTimeout(t);
        pending.clear();
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
