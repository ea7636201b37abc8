import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';

// A throwaway redis-server for tests: on 127.0.0.1 and a free port, nothing saved to disk. It can
// be restarted on the same port (empty again: no persistence), as a crashed Redis comes back.

export interface TestRedis {
  url: string;
  port: number;
  /** Stops it (SIGTERM, then SIGKILL); resolves once it exited. */
  stop(): Promise<void>;
  /** Stops it and starts it again, empty, on the same port; resolves once it answers PING. */
  restart(): Promise<void>;
  /** Starts it again after stop(), empty, on the same port. */
  start(): Promise<void>;
}

const START_TIMEOUT_MS = 10_000;

export async function startRedis(): Promise<TestRedis> {
  const port = await freePort();
  let child = await launch(port);
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    stop: () => halt(child),
    restart: async () => {
      await halt(child);
      child = await launch(port);
    },
    start: async () => {
      if (child.exitCode === null && child.signalCode === null) return;
      child = await launch(port);
    },
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

async function launch(port: number): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--loglevel',
      'warning',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr = (stderr + s).slice(-2000)));
  const failed = new Promise<never>((_, reject) => {
    child.once('error', (err) =>
      reject(new Error(`cannot run redis-server (install Debian's redis-server): ${err.message}`)),
    );
    child.once('exit', (code, signal) =>
      reject(new Error(`redis-server exited with ${signal ?? `code ${code}`}: ${stderr.trim()}`)),
    );
  });
  failed.catch(() => {}); // only raced below; a later exit is the test's business
  const deadline = performance.now() + START_TIMEOUT_MS;
  for (;;) {
    const ok = await Promise.race([ping(port), failed]);
    if (ok) return child;
    if (performance.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`redis-server on port ${port} did not answer PING within ${START_TIMEOUT_MS} ms`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** True when a server on the port answers PING with +PONG. */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let got = '';
    const done = (ok: boolean): void => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(1000, () => done(false));
    s.once('error', () => done(false));
    s.once('connect', () => s.write('PING\r\n'));
    s.on('data', (b) => {
      got += b.toString('latin1');
      if (got.includes('\r\n')) done(got.startsWith('+PONG'));
    });
  });
}

function halt(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 3000);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
