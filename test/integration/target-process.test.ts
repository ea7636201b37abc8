import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import http from 'node:http';
import { targetCommand } from '../../src/cli/commands/target.js';
import type { CliIO } from '../../src/cli/io.js';
import { UserError } from '../../src/errors.js';
import { spawnTarget } from '../../src/target/spawn.js';
import { nextJson, openWs, waitFor } from '../helpers/target.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** GET on a fresh connection each time (so cluster workers take turns). */
function getJson(url: string): Promise<Record<string, any>> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve(JSON.parse(body) as Record<string, any>));
      })
      .on('error', reject);
  });
}

test('spawnTarget: the child prints its line, serves, and dies on kill()', async () => {
  const t = await spawnTarget({ options: { auth: 'none' } });
  assert.match(t.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.equal(t.wsUrl, `ws://127.0.0.1:${t.port}/ws`);
  const h = await getJson(`${t.url}/health`);
  assert.equal(h.pid, t.pid);
  const ws = await openWs(t.wsUrl);
  const closed = new Promise<number>((resolve) => ws.once('close', resolve));
  t.kill();
  assert.deepEqual(await t.exited, { code: null, signal: 'SIGKILL' });
  assert.equal(await closed, 1006);
  assert.equal(alive(t.pid), false);
  await assert.rejects(getJson(`${t.url}/health`), /ECONNREFUSED/);
  await t.close(); // a no-op once exited
});

test('spawnTarget: close() stops the child gracefully (SIGTERM, exit 0); env reaches the child', async () => {
  const t = await spawnTarget({ env: { MAX_TOTAL_CONNECTIONS: '7', AUTH: 'none' } });
  const h = await getJson(`${t.url}/health`);
  assert.equal(h.limits.maxTotalConnections, 7);
  await t.close();
  assert.deepEqual(await t.exited, { code: 0, signal: null });
});

test('spawnTarget: bad settings fail fast with a UserError that says what is wrong', async () => {
  const err = await spawnTarget({ env: { MAX_TOTAL_CONNECTIONS: 'lots', IDLE_TIMEOUT: 'soon' } }).then(
    () => assert.fail('started'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof UserError, String(err));
  assert.match(err.message, /MAX_TOTAL_CONNECTIONS="lots": expected a whole number/);
  assert.match(err.message, /IDLE_TIMEOUT="soon": expected a duration/);
});

test('the spawned target exits when its parent process dies', async () => {
  const spawnJs = new URL('../../src/target/spawn.js', import.meta.url).href;
  const parent = spawn(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `const { spawnTarget } = await import(${JSON.stringify(spawnJs)});
       const t = await spawnTarget();
       process.stdout.write(t.pid + '\\n');
       process.exit(0);`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  parent.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
  await new Promise((resolve) => parent.once('exit', resolve));
  const pid = Number(out.trim());
  assert.ok(pid > 0, `parent printed ${JSON.stringify(out)}`);
  await waitFor(() => !alive(pid), `target ${pid} to exit after its parent`, 5000);
});

test('cluster mode: 2 workers share the port, split MAX_TOTAL_CONNECTIONS and accept WebSockets', async () => {
  const t = await spawnTarget({
    env: { WORKERS: '2', MAX_TOTAL_CONNECTIONS: '401', AUTH: 'none', WELCOME: '1' },
  });
  try {
    // Turns are handed to whichever worker is free, so a busy machine may favour one for a while.
    const seen = new Map<number, number>(); // pid → its share of the cap
    for (let i = 0; i < 200 && seen.size < 2; i++) {
      const h = await getJson(`${t.url}/health`);
      seen.set(h.pid, h.limits.maxTotalConnections);
    }
    assert.equal(seen.size, 2, 'both workers answered');
    assert.ok(!seen.has(t.pid), 'the primary serves nothing itself');
    assert.deepEqual([...seen.values()].sort(), [200, 201]);

    const workers = new Set<string>();
    const sockets = [];
    for (let i = 0; i < 100 && workers.size < 2; i++) {
      const ws = await openWs(t.wsUrl);
      sockets.push(ws);
      const hello = await nextJson(ws);
      assert.equal(hello.type, 'welcome');
      workers.add(String(hello.connId).split('-')[0]);
    }
    assert.equal(workers.size, 2, `WebSockets reached ${[...workers].join(', ')}`);
    for (const ws of sockets) ws.terminate();
  } finally {
    await t.close();
  }
  assert.deepEqual(await t.exited, { code: 0, signal: null });
});

function cliIO(): { io: CliIO; out: () => string; abort: () => void } {
  let out = '';
  const ac = new AbortController();
  return {
    io: {
      stdout: { write: (s: string) => (out += s) },
      stderr: { write: (s: string) => (out += s) },
      env: {},
      cwd: process.cwd(),
      signal: ac.signal,
      exit: { code: 0 },
    },
    out: () => out,
    abort: () => ac.abort(),
  };
}

test('holdline target: flags and env, one line when listening, stops on abort', async () => {
  const { io, out, abort } = cliIO();
  io.env.IDLE_TIMEOUT = '5s';
  const run = targetCommand(io).parseAsync(['--port', '0', '--host', '127.0.0.1', '--auth', 'none'], {
    from: 'user',
  });
  await waitFor(() => out().includes('\n'), 'the listening line');
  const m = /listening on 127\.0\.0\.1:(\d+) \(auth none\): (http:\S+)\s+(ws:\S+)/.exec(out());
  assert.ok(m, out());
  const h = await getJson(`${m[2]}/health`);
  assert.equal(h.limits.idleTimeoutMs, 5000);
  const ws = await openWs(m[3]);
  ws.terminate();
  abort();
  await run;
  await assert.rejects(getJson(`${m[2]}/health`), /ECONNREFUSED/);
});

test('holdline target: a bad flag value is a UserError naming every bad flag', async () => {
  const { io } = cliIO();
  io.env.WS_MAX_MESSAGE_SIZE = 'huge';
  await assert.rejects(
    targetCommand(io).parseAsync(['--port', '0', '--idle-timeout', 'soon', '--auth', 'maybe'], {
      from: 'user',
    }),
    (err: unknown) =>
      err instanceof UserError &&
      /--idle-timeout="soon"/.test(err.message) &&
      /WS_MAX_MESSAGE_SIZE="huge"/.test(err.message) &&
      /--auth: must be token or none/.test(err.message),
  );
  await assert.rejects(
    targetCommand(cliIO().io).parseAsync(['--auth', 'maybe', '--workers', '0'], { from: 'user' }),
    (err: unknown) =>
      err instanceof UserError &&
      /--auth: must be token or none/.test(err.message) &&
      /--workers/.test(err.message),
  );
  const help = targetCommand(io).helpInformation();
  for (const s of [
    '--max-total-connections <n>',
    'MAX_TOTAL_CONNECTIONS',
    '--idle-timeout',
    'IDLE_TIMEOUT',
    '--workers',
  ]) {
    assert.ok(help.includes(s), `help mentions ${s}`);
  }
});

test('cluster primary replaces a worker that crashes', async () => {
  const { startCluster } = await import('../../src/target/cluster.js');
  const { resolveTargetOptions } = await import('../../src/target/options.js');
  const logs: string[] = [];
  const c = await startCluster(
    resolveTargetOptions({ values: { host: '127.0.0.1', port: 0, workers: 2, auth: 'none' } }),
    {
      log: (l) => logs.push(l),
      restartBackoffMs: 0,
    },
  );
  try {
    const [victim, survivor] = c.pids();
    process.kill(victim, 'SIGKILL');
    await waitFor(() => c.pids().length === 2 && !c.pids().includes(victim), 'a replacement worker', 5000);
    assert.ok(c.pids().includes(survivor));
    assert.match(
      logs.join('\n'),
      new RegExp(`worker ${victim} exited \\(SIGKILL\\); started \\d+ after 0 ms \\(restart 1\\)`),
    );
    assert.equal(c.restarts(), 1);
    // The replacement serves: keep asking on fresh connections until it answers.
    const replacement = c.pids().find((p) => p !== survivor)!;
    await waitFor(() => alive(replacement), 'the replacement process');
    const ws = await openWs(c.wsUrl);
    ws.terminate();
  } finally {
    await c.close();
  }
  assert.deepEqual(c.pids(), []);
});

test('holdline target --workers 2 prints one line once every worker listens', async () => {
  const { io, out, abort } = cliIO();
  const run = targetCommand(io).parseAsync(
    ['--port', '0', '--host', '127.0.0.1', '--auth', 'none', '--workers', '2'],
    {
      from: 'user',
    },
  );
  await waitFor(() => out().includes('\n'), 'the listening line', 10_000);
  const m = /listening on 127\.0\.0\.1:(\d+) \(2 workers, auth none\): (http:\S+)/.exec(out());
  assert.ok(m, out());
  const pids = new Set<number>();
  for (let i = 0; i < 200 && pids.size < 2; i++) pids.add((await getJson(`${m[2]}/health`)).pid);
  assert.equal(pids.size, 2);
  abort();
  await run;
  assert.equal(out().trim().split('\n').length, 1, out());
  for (const pid of pids) assert.equal(alive(pid), false);
});
