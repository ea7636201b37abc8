import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UserError } from '../../src/errors.js';
import { TokenAuth, bearer, checkUserId } from '../../src/target/auth.js';
import { MemoryBus } from '../../src/target/bus.js';
import { restartDelay, shareOf } from '../../src/target/cluster.js';
import { IdleWheel, type IdleEntry } from '../../src/target/idle.js';
import { ConnectionLimits, takeToken } from '../../src/target/limits.js';
import {
  optionsToEnv,
  parseBytes,
  parseDurationMs,
  resolveTargetOptions,
  TARGET_DEFAULTS,
} from '../../src/target/options.js';

// The target's pure parts, without sockets.

test('options: defaults < env < flags < values; frozen; random secret unless given', () => {
  const a = resolveTargetOptions({});
  assert.equal(a.port, 8080);
  assert.equal(a.host, '127.0.0.1');
  assert.equal(a.auth, 'token');
  assert.equal(a.tokenTtlMs, 3_600_000);
  assert.equal(a.wsMaxMessageSize, 1024 * 1024);
  assert.equal(a.idleTimeoutMs, 0);
  assert.equal(a.welcome, false);
  assert.ok(Object.isFrozen(a));
  assert.notEqual(a.tokenSecret, resolveTargetOptions({}).tokenSecret);

  const env = {
    PORT: '9000',
    AUTH: 'None',
    IDLE_TIMEOUT: '1m30s',
    WS_MAX_MESSAGE_SIZE: '64KiB',
    WELCOME: 'yes',
  };
  const b = resolveTargetOptions({
    env,
    flags: { port: '9100', welcome: false },
    values: { host: '127.0.0.1' },
  });
  assert.equal(b.port, 9100, 'flag wins over env');
  assert.equal(b.auth, 'none');
  assert.equal(b.idleTimeoutMs, 90_000);
  assert.equal(b.wsMaxMessageSize, 65_536);
  assert.equal(b.welcome, true, 'an absent switch leaves the env value');
  assert.equal(b.host, '127.0.0.1');
  assert.equal(resolveTargetOptions({ env: { MAX_TOTAL_CONNECTIONS: '20k' } }).maxTotalConnections, 20_000);
});

test('options: every problem is reported at once as a UserError', () => {
  assert.throws(
    () =>
      resolveTargetOptions({
        env: { PORT: 'http', TOKEN_SECRET: 'short', RATE_LIMIT_MSGS_PER_SEC: '-1' },
        flags: { sendBufferLimit: '12 parsecs' },
      }),
    (err: unknown) => {
      assert.ok(err instanceof UserError);
      for (const s of [
        'PORT="http"',
        'RATE_LIMIT_MSGS_PER_SEC="-1"',
        '--send-buffer-limit="12 parsecs"',
        'TOKEN_SECRET: must be at least 16',
      ]) {
        assert.ok(err.message.includes(s), `${s} in ${err.message}`);
      }
      return true;
    },
  );
  assert.throws(
    () => resolveTargetOptions({ values: { workers: 4, maxTotalConnections: 3 } }),
    /at least WORKERS/,
  );
  assert.throws(() => resolveTargetOptions({ values: { port: 70000 } }), /port/);
});

test('options: optionsToEnv round-trips through the env parser', () => {
  const o = resolveTargetOptions({
    values: { ...TARGET_DEFAULTS, port: 0, idleTimeoutMs: 300, welcome: true, maxConnectionsPerClient: 3 },
  });
  assert.deepEqual(resolveTargetOptions({ env: optionsToEnv(o) }), o);
});

test('parsers: durations and sizes', () => {
  assert.equal(parseDurationMs('300ms'), 300);
  assert.equal(parseDurationMs('5'), 5000);
  assert.equal(parseDurationMs('1h'), 3_600_000);
  assert.equal(parseDurationMs('off'), 0);
  assert.throws(() => parseDurationMs('5 s'));
  assert.throws(() => parseDurationMs('5x'));
  assert.equal(parseBytes('1MiB'), 1_048_576);
  assert.equal(parseBytes('1mb'), 1_000_000);
  assert.equal(parseBytes('64k'), 65_536);
  assert.equal(parseBytes('4096'), 4096);
  assert.throws(() => parseBytes('-1'));
  assert.throws(() => parseBytes('1 parsec'));
});

test('tokens: verify accepts its own, refuses tampered, foreign, expired and junk', () => {
  const now = 1_700_000_000_000;
  const auth = new TokenAuth('a'.repeat(32), 60_000);
  const { token, expiresIn, userId } = auth.issue('alice', now);
  assert.equal(expiresIn, 60);
  assert.equal(userId, 'alice');
  assert.equal(auth.verify(token, now), 'alice');
  assert.equal(auth.verify(token, now + 59_000), 'alice');
  assert.equal(auth.verify(token, now + 61_000), null, 'expired');
  assert.equal(new TokenAuth('b'.repeat(32), 60_000).verify(token, now), null, 'other secret');
  const [payload, sig] = token.split('.');
  const forged = Buffer.from(JSON.stringify({ sub: 'mallory', exp: 9e9 })).toString('base64url');
  assert.equal(auth.verify(`${forged}.${sig}`, now), null, 'payload swapped');
  const flipped = sig.slice(0, -1) + (sig.endsWith('A') ? 'B' : 'A');
  assert.equal(auth.verify(`${payload}.${flipped}`, now), null, 'signature changed');
  for (const junk of ['', '.', 'abc', `${payload}.`, `.${sig}`, 'x'.repeat(5000), `${payload}.${sig}x`]) {
    assert.equal(auth.verify(junk, now), null, JSON.stringify(junk.slice(0, 20)));
  }
  assert.equal(bearer('Bearer abc'), 'abc');
  assert.equal(bearer('bearer  abc '), 'abc');
  assert.equal(bearer('Basic abc'), undefined);
  assert.equal(checkUserId('ok.user@x').ok, true);
  assert.equal(checkUserId('').ok, false);
  assert.equal(checkUserId(7).ok, false);
});

test('limits: total and per-client caps, released exactly', () => {
  const l = new ConnectionLimits(3, 2);
  assert.equal(l.check('a'), 'ok');
  l.acquire('a');
  l.acquire('a');
  assert.equal(l.check('a'), 'client_limit');
  assert.equal(l.check('b'), 'ok');
  l.acquire('b');
  assert.equal(l.check('c'), 'total_limit');
  l.release('a');
  assert.equal(l.check('a'), 'ok');
  l.release('a');
  l.release('b');
  assert.equal(l.total, 0);
  assert.equal(l.clients, 0, 'no entries left behind');
});

test('rate: a token bucket of one second, refilled continuously', () => {
  const s = { tokens: 5, tokensAt: 0 };
  let ok = 0;
  for (let i = 0; i < 10; i++) if (takeToken(s, 0, 5)) ok++;
  assert.equal(ok, 5);
  assert.equal(takeToken(s, 100, 5), false, '0.5 token after 100 ms');
  assert.equal(takeToken(s, 200, 5), true, '1 token after 200 ms');
});

test('idle wheel: expires each idle entry once, never early, and re-buckets active ones', () => {
  // Driven by hand with synthetic clock readings (start() is not called): deterministic.
  interface E extends IdleEntry {
    id: number;
    expiredAt: number;
  }
  const timeout = 1000;
  let now = performance.now();
  const expired: E[] = [];
  const wheel = new IdleWheel<E>(timeout, (e) => {
    e.closing = true;
    e.expiredAt = now;
    expired.push(e);
  });
  const t0 = now;
  const entries: E[] = Array.from({ length: 300 }, (_, id) => ({
    id,
    lastActive: t0 + (id % 100) * 7, // spread over 700 ms of openings
    closing: false,
    expiredAt: 0,
  }));
  for (const e of entries) wheel.add(e);
  entries[0].closing = true; // closed before its deadline: never expired
  const busy = entries[1];
  let visitsOfBusy = 0;
  // 5 s in 13 ms steps; the busy one is active every 200 ms.
  for (let step = 1; now < t0 + 5 * timeout; step++) {
    now = t0 + step * 13;
    if (step % 15 === 0) {
      busy.lastActive = now;
      visitsOfBusy++;
    }
    wheel.advance(now);
  }
  assert.ok(visitsOfBusy > 20);
  assert.equal(expired.length, 298);
  assert.ok(!expired.includes(entries[0]) && !expired.includes(busy));
  assert.equal(new Set(expired).size, expired.length, 'each expires once');
  for (const e of expired) {
    const idle = e.expiredAt - e.lastActive;
    assert.ok(idle >= timeout, `entry ${e.id} expired early (${idle} ms)`);
    assert.ok(idle < timeout + timeout / 10 + 13, `entry ${e.id} expired late (${idle} ms)`);
  }
  // After a stall far longer than the timeout, everything due expires on the next visit.
  const late: E = { id: -1, lastActive: now, closing: false, expiredAt: 0 };
  wheel.add(late);
  now += 10 * timeout;
  wheel.advance(now);
  assert.equal(late.expiredAt, now);
  wheel.stop();
});

test('bus: delivers to the topic subscribers only, survives unsubscribe during delivery', async () => {
  const bus = new MemoryBus();
  const got: string[] = [];
  const a = (_t: string, p: string): void => {
    got.push(`a:${p}`);
    bus.unsubscribe('x', a);
  };
  const b = (_t: string, p: string): void => void got.push(`b:${p}`);
  bus.subscribe('x', a);
  bus.subscribe('x', b);
  bus.subscribe('y', b);
  bus.publish('x', '1');
  bus.publish('x', '2');
  bus.publish('z', '3');
  assert.deepEqual(got, ['a:1', 'b:1', 'b:2']);
  await bus.close();
});

test('cluster: MAX_TOTAL_CONNECTIONS shares add up to the total', () => {
  for (const [total, n] of [
    [5, 2],
    [20_000, 3],
    [7, 7],
    [0, 4],
  ]) {
    const shares = Array.from({ length: n }, (_, i) => shareOf(total, n, i));
    assert.equal(
      shares.reduce((a, b) => a + b, 0),
      total,
    );
    assert.ok(Math.max(...shares) - Math.min(...shares) <= 1);
  }
});

test('cluster restart backoff: none after a stable run, then 250 ms doubling per quick crash, at most 30 s', () => {
  assert.deepEqual(
    [0, 1, 2, 3, 4, 8, 30].map((n) => restartDelay(n, 250)),
    [0, 250, 500, 1000, 2000, 30_000, 30_000],
  );
});
