import assert from 'node:assert/strict';
import http from 'node:http';
import { test } from 'node:test';
import {
  assertSurvives,
  frame,
  rawWs,
  FULL,
  getHealth,
  mib,
  procStatus,
  SIZES,
  startHostileTarget,
} from '../helpers/hostile.js';
import { getToken } from '../helpers/target.js';

// Issue 21, point 4: every collection a client can grow has a cap and a 4xx (or 507 for groups)
// past it. Distinct members had none (~240 B each, ~8 MB/s from one client). The figures printed
// here are the per-member and per-group costs docs/target.md states.

const CONCURRENCY = 16;

/** POSTs `n` JSON bodies from `body(i)` with CONCURRENCY keep-alive requests; counts by status. */
async function postMany(
  url: string,
  token: string,
  n: number,
  path: (i: number) => string,
  body: (i: number) => string,
): Promise<Map<number, number>> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const statuses = new Map<number, number>();
  let next = 0;
  const one = (i: number): Promise<void> =>
    new Promise((resolve, reject) => {
      const req = http.request(
        `${url}${path(i)}`,
        {
          method: 'POST',
          agent,
          headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
        },
        (res) => {
          statuses.set(res.statusCode!, (statuses.get(res.statusCode!) ?? 0) + 1);
          res.resume();
          res.on('end', resolve);
        },
      );
      req.on('error', reject);
      req.end(body(i));
    });
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < n) await one(next++);
    }),
  );
  agent.destroy();
  return statuses;
}

test(`${SIZES.members} distinct members: capped by MAX_TOTAL_MEMBERS, 403 member_limit past it`, async (t) => {
  const cap = Math.floor(SIZES.members * 0.9);
  const tgt = await startHostileTarget({ maxTotalMembers: cap });
  t.after(() => tgt.close());
  const token = await getToken(tgt.url, 'grower');
  const groups = 10;
  await postMany(
    tgt.url,
    token,
    1,
    () => '/groups/batch',
    () => `{"count":${groups},"prefix":"m"}`,
  );
  const before = procStatus(tgt.pid).rss;
  const user = (i: number): string => `u${String(i).padStart(127, '0')}`; // 128-character ids
  const statuses = await postMany(
    tgt.url,
    token,
    SIZES.members,
    (i) => `/groups/m-${i % groups}/members`,
    (i) => `{"userId":"${user(i)}"}`,
  );
  const grown = procStatus(tgt.pid).rss - before;
  process.stdout.write(
    `# hostile members: ${SIZES.members} distinct members (128-char ids): ${statuses.get(200) ?? 0} held, ` +
      `${statuses.get(403) ?? 0} refused; RSS +${mib(grown)} (${Math.round(grown / cap)} B per member)\n`,
  );
  assert.deepEqual(Object.fromEntries(statuses), { 200: cap, 403: SIZES.members - cap });
  const res = await fetch(`${tgt.url}/groups/m-0/members`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: '{"userId":"one-more"}',
  });
  assert.equal(res.status, 403);
  assert.equal(((await res.json()) as { error: string }).error, 'member_limit');
  assert.equal((await getHealth(tgt.url)).limits.maxTotalMembers, cap);
  await assertSurvives(tgt, Infinity);
});

test('groups with 128-character ids: MAX_TOTAL_GROUPS holds, 507 past it; the cost per group', async (t) => {
  const count = FULL ? 100_000 : 5000;
  const tgt = await startHostileTarget({ maxTotalGroups: count });
  t.after(() => tgt.close());
  const token = await getToken(tgt.url, 'grower');
  const names = Array.from({ length: count }, (_, i) => `g${String(i).padStart(127, '0')}`);
  const before = procStatus(tgt.pid).rss;
  const ok = await postMany(
    tgt.url,
    token,
    1,
    () => '/groups/batch',
    () => JSON.stringify({ names }),
  );
  const grown = procStatus(tgt.pid).rss - before;
  process.stdout.write(
    `# hostile groups: ${count} groups (128-char ids) in one batch: RSS +${mib(grown)} (${Math.round(grown / count)} B per group, the batch's transient memory included)\n`,
  );
  assert.deepEqual(Object.fromEntries(ok), { 201: 1 });
  const full = await postMany(
    tgt.url,
    token,
    1,
    () => '/groups',
    () => '{"name":"one-more"}',
  );
  assert.deepEqual(Object.fromEntries(full), { 507: 1 });
  await assertSurvives(tgt, Infinity);
});

test('joins: MAX_TOTAL_JOINS caps connections in groups over all connections; join_limit past it', async (t) => {
  const cap = 50;
  const tgt = await startHostileTarget({ maxTotalJoins: cap });
  t.after(() => tgt.close());
  const token = await getToken(tgt.url, 'joiner');
  await postMany(
    tgt.url,
    token,
    1,
    () => '/groups/batch',
    () => '{"count":60,"prefix":"j"}',
  );
  const a = await rawWs(tgt.port, `/ws?token=${token}`);
  const b = await rawWs(tgt.port, `/ws?token=${token}`);
  t.after(() => [a, b].forEach((w) => w.socket.destroy()));
  const replies: string[] = [];
  for (let i = 0; i < 60; i++) {
    const w = i % 2 === 0 ? a : b;
    w.socket.write(frame(1, `{"type":"join","group":"j-${i}"}`));
    const m = JSON.parse((await w.read()).payload.toString()) as { type: string; error?: string };
    replies.push(m.error ?? m.type);
  }
  assert.deepEqual(
    [replies.filter((r) => r === 'joined').length, replies.filter((r) => r === 'join_limit').length],
    [cap, 60 - cap],
  );
  // A leave makes room again.
  a.socket.write(frame(1, '{"type":"leave","group":"j-0"}'));
  assert.equal(JSON.parse((await a.read()).payload.toString()).type, 'left');
  a.socket.write(frame(1, '{"type":"join","group":"j-58"}'));
  assert.equal(JSON.parse((await a.read()).payload.toString()).type, 'joined');
  await assertSurvives(tgt);
});
