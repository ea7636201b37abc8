import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { EXIT, HoldlineError, UserError } from '../errors.js';
import { optionsToEnv, TARGET_ENV_KEYS, type TargetOptions } from './options.js';

// Starts the reference target in a child process: the embedded target of the test commands,
// and a target tests can kill mid-run. Waits for the child's {"listening": url} line.

const CHILD_ENTRY = fileURLToPath(new URL('./child.js', import.meta.url));
const STDERR_TAIL = 8192;

export interface SpawnTargetOptions {
  /** Environment for the target (PORT, AUTH, MAX_TOTAL_CONNECTIONS, ...); wins over `options`. */
  env?: Record<string, string | undefined>;
  /** The same settings, typed. Default host 127.0.0.1 and port 0 (any free port). */
  options?: Partial<TargetOptions>;
  /** Flags for the child, as for `holdline target`. */
  args?: string[];
  /** How long to wait for the listening line. Default 15 s. */
  timeoutMs?: number;
  /** Node flags for the child; default none. */
  execArgv?: string[];
}

export interface SpawnedTarget {
  /** `http://127.0.0.1:PORT` */
  url: string;
  /** `ws://127.0.0.1:PORT/ws` */
  wsUrl: string;
  port: number;
  pid: number;
  /** SIGTERM, then SIGKILL after a grace period; resolves once the process has exited. */
  close(): Promise<void>;
  /** Sends a signal at once (default SIGKILL: a crash, for tests that kill the target mid-run). */
  kill(signal?: NodeJS.Signals): void;
  /** Settles when the child exits, for whatever reason. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The last few KiB the child wrote to stderr. */
  stderr(): string;
}

export function spawnTarget(opts: SpawnTargetOptions = {}): Promise<SpawnedTarget> {
  const env: Record<string, string | undefined> = { ...process.env };
  // The parent's own target settings (say PORT=3000 in the user's shell) must not leak in.
  for (const k of TARGET_ENV_KEYS) delete env[k];
  Object.assign(env, { HOST: '127.0.0.1', PORT: '0' }, optionsToEnv(opts.options ?? {}));
  for (const [k, v] of Object.entries(opts.env ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }

  const child = fork(CHILD_ENTRY, opts.args ?? [], {
    env,
    execArgv: opts.execArgv ?? [],
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  let errTail = '';
  child.stderr!.setEncoding('utf8').on('data', (s: string) => {
    errTail = (errTail + s).slice(-STDERR_TAIL);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  const timeoutMs = opts.timeoutMs ?? 15_000;

  return new Promise<SpawnedTarget>((resolve, reject) => {
    let buf = '';
    let settled = false;
    const done = (err: Error | null, url?: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.stdout!.removeListener('data', onData);
      child.stdout!.resume(); // keep draining: a full pipe would block the child
      if (err) {
        reject(err);
        return;
      }
      const u = new URL(url!);
      resolve({
        url: u.origin,
        wsUrl: `ws://${u.host}/ws`,
        port: Number(u.port),
        pid: child.pid!,
        close: () => stopChild(child, exited),
        kill: (signal: NodeJS.Signals = 'SIGKILL') => {
          if (child.exitCode === null && child.signalCode === null) child.kill(signal);
        },
        exited,
        stderr: () => errTail,
      });
    };
    const onData = (chunk: string): void => {
      buf += chunk;
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        const url = listeningUrl(line);
        if (url) return done(null, url);
      }
      if (buf.length > 65_536) buf = buf.slice(-1024);
    };
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      done(
        new HoldlineError(
          'target_start',
          `the reference target did not start within ${timeoutMs} ms`,
          tail(errTail),
        ),
      );
    }, timeoutMs);
    child.stdout!.setEncoding('utf8').on('data', onData);
    child.once('error', (err) =>
      done(new HoldlineError('target_start', `cannot start the reference target: ${err.message}`)),
    );
    void exited.then(({ code, signal }) => {
      const why = errTail.trim() || `exited with ${signal ?? `code ${code}`}`;
      const msg = `the reference target did not start: ${why}`;
      // Bad settings passed down to the target are the user's to fix.
      done(code === EXIT.usage ? new UserError(msg) : new HoldlineError('target_start', msg, tail(errTail)));
    });
  });
}

function listeningUrl(line: string): string | null {
  if (!line.startsWith('{')) return null;
  try {
    const v = JSON.parse(line) as { listening?: unknown };
    return typeof v.listening === 'string' ? v.listening : null;
  } catch {
    return null;
  }
}

function tail(s: string): string | undefined {
  const t = s.trim();
  return t ? t.split('\n').slice(-5).join('\n') : undefined;
}

async function stopChild(child: ChildProcess, exited: Promise<unknown>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(kill);
}
