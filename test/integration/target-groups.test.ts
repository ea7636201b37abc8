import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { getToken, startTarget } from '../helpers/target.js';

// Groups over HTTP: creation one by one and in batches, counting and listing, members, the
// MAX_TOTAL_GROUPS limit, and every kind of bad input.

interface Reply {
  status: number;
  body: Record<string, unknown>;
  headers: Headers;
}

async function call(
  url: string,
  method: string,
  body?: unknown,
  token?: string,
  raw?: string,
): Promise<Reply> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(url, {
    method,
    headers,
    body: raw ?? (body === undefined ? undefined : JSON.stringify(body)),
  });
  const text = await res.text();
  return {
    status: res.status,
    body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
    headers: res.headers,
  };
}

test('POST /groups: named, generated, 409 when it exists, 400 for a bad name; tokens required', async (t) => {
  const tgt = await startTarget();
  t.after(() => tgt.close());
  const token = await getToken(tgt.url, 'alice');
  const u = `${tgt.url}/groups`;

  const noToken = await call(u, 'POST', { name: 'room-1' });
  assert.equal(noToken.status, 401);
  assert.equal(noToken.body.error, 'unauthorized');
  assert.equal((await call(`${tgt.url}/groups/count`, 'GET', undefined, 'forged.x')).status, 401);

  const a = await call(u, 'POST', { name: 'room-1' }, token);
  assert.equal(a.status, 201);
  assert.deepEqual(a.body, { groupId: 'room-1' });
  const again = await call(u, 'POST', { name: 'room-1' }, token);
  assert.equal(again.status, 409);
  assert.equal(again.body.error, 'group_exists');

  const gen = await call(u, 'POST', undefined, token);
  assert.equal(gen.status, 201);
  assert.match(String(gen.body.groupId), /^g-[\w-]{12}$/);
  const gen2 = await call(u, 'POST', {}, token);
  assert.notEqual(gen2.body.groupId, gen.body.groupId);

  for (const name of ['', 'has space', 'x'.repeat(129), 42, 'a/b']) {
    const r = await call(u, 'POST', { name }, token);
    assert.equal(r.status, 400, `name ${JSON.stringify(name)}`);
    assert.equal(r.body.error, 'bad_request');
  }
  const badJson = await call(u, 'POST', undefined, token, '{"name": ');
  assert.equal(badJson.status, 400);
  assert.equal(badJson.body.error, 'bad_json');
  const notObject = await call(u, 'POST', undefined, token, '["room"]');
  assert.equal(notObject.status, 400);
  assert.equal(notObject.body.error, 'bad_request');

  const count = await call(`${tgt.url}/groups/count`, 'GET', undefined, token);
  assert.deepEqual(count.body, { count: 3 });
  assert.equal(tgt.stats().groups.count, 3);
});

test('POST /groups/batch: count + prefix, names; existing ids skipped and not counted', async (t) => {
  const tgt = await startTarget({ auth: 'none' });
  t.after(() => tgt.close());
  const u = `${tgt.url}/groups/batch`;

  const a = await call(u, 'POST', { count: 50_000 });
  assert.equal(a.status, 201);
  assert.deepEqual(a.body, { created: 50_000, first: 'load-0', last: 'load-49999' });
  // Overlapping range: only the new half is created.
  const b = await call(u, 'POST', { count: 100_000, prefix: 'load' });
  assert.deepEqual(b.body, { created: 50_000, first: 'load-0', last: 'load-99999' });
  const c = await call(u, 'POST', { count: 3, prefix: 'room.x' });
  assert.deepEqual(c.body, { created: 3, first: 'room.x-0', last: 'room.x-2' });
  const d = await call(u, 'POST', { names: ['load-5', 'n-1', 'n-2', 'n-1'] });
  assert.equal(d.status, 201);
  assert.deepEqual(d.body, { created: 2 });

  // 100,000 names of 60 characters: over the general 1 MiB body cap, within the batch's own.
  const long = Array.from({ length: 100_000 }, (_, i) => `${'n'.repeat(50)}-${String(i).padStart(9, '0')}`);
  const e = await call(u, 'POST', { names: long });
  assert.equal(e.status, 201);
  assert.deepEqual(e.body, { created: 100_000 });

  const count = await call(`${tgt.url}/groups/count`, 'GET');
  assert.equal(count.body.count, 200_005);
});

test('POST /groups/batch: bad and oversize batches are refused whole', async (t) => {
  const tgt = await startTarget({ auth: 'none' });
  t.after(() => tgt.close());
  const u = `${tgt.url}/groups/batch`;
  const cases: [unknown, number, string, RegExp][] = [
    [{ count: 100_001 }, 413, 'batch_too_large', /at most 100000/],
    [{ names: Array.from({ length: 100_001 }, (_, i) => `g${i}`) }, 413, 'batch_too_large', /100001/],
    [{}, 400, 'bad_request', /either "count"/],
    [{ count: 2, names: ['a'] }, 400, 'bad_request', /either "count"/],
    [{ count: 0 }, 400, 'bad_request', /count must be/],
    [{ count: 1.5 }, 400, 'bad_request', /count must be/],
    [{ count: '10' }, 400, 'bad_request', /count must be/],
    [{ count: 2, prefix: 'bad prefix' }, 400, 'bad_request', /prefix/],
    [{ count: 2, prefix: 'p'.repeat(101) }, 400, 'bad_request', /prefix/],
    [{ names: 'a,b' }, 400, 'bad_request', /names must be an array/],
    [{ names: ['ok', 'not ok'] }, 400, 'bad_request', /names\[1\]/],
    [{ names: ['ok', 7] }, 400, 'bad_request', /names\[1\]/],
  ];
  for (const [body, status, error, message] of cases) {
    const r = await call(u, 'POST', body);
    assert.equal(r.status, status, JSON.stringify(body).slice(0, 80));
    assert.equal(r.body.error, error);
    assert.match(String(r.body.message), message);
  }
  const bad = await call(u, 'POST', undefined, undefined, '{"count": 5,');
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error, 'bad_json');
  // A body over even the batch cap (16 MiB) is cut off with 413.
  const huge = await call(u, 'POST', undefined, undefined, `{"names":["${'x'.repeat(17 * 1024 * 1024)}"]}`);
  assert.equal(huge.status, 413);
  assert.equal(huge.body.error, 'body_too_large');
  assert.equal((await call(`${tgt.url}/groups/count`, 'GET')).body.count, 0, 'nothing was created');
});

test('MAX_TOTAL_GROUPS: 507 group_limit once full, all or nothing, and counted', async (t) => {
  const tgt = await startTarget({ auth: 'none', maxTotalGroups: 10 });
  t.after(() => tgt.close());
  assert.equal((await call(`${tgt.url}/groups/batch`, 'POST', { count: 8 })).status, 201);
  // 3 new ones do not fit in the 2 left: none is created.
  const over = await call(`${tgt.url}/groups/batch`, 'POST', { names: ['load-0', 'x', 'y', 'z'] });
  assert.equal(over.status, 507);
  assert.equal(over.body.error, 'group_limit');
  assert.match(String(over.body.message), /maximum of 10 groups/);
  // Existing ids and duplicates do not count against the room left.
  const fits = await call(`${tgt.url}/groups/batch`, 'POST', { names: ['load-0', 'x', 'x', 'load-7', 'y'] });
  assert.deepEqual(fits.body, { created: 2 });
  const one = await call(`${tgt.url}/groups`, 'POST', { name: 'z' });
  assert.equal(one.status, 507);
  assert.equal(one.body.error, 'group_limit');
  const range = await call(`${tgt.url}/groups/batch`, 'POST', { count: 11 });
  assert.equal(range.status, 507);
  // An existing one is still a 409, not a 507.
  assert.equal((await call(`${tgt.url}/groups`, 'POST', { name: 'x' })).status, 409);
  assert.equal((await call(`${tgt.url}/groups/count`, 'GET')).body.count, 10);

  const metrics = await (await fetch(`${tgt.url}/metrics`)).text();
  assert.match(metrics, /^holdline_target_groups 10$/m);
  assert.match(metrics, /^holdline_target_groups_limit 10$/m);
  assert.match(metrics, /^holdline_target_http_responses_total\{route="\/groups\/batch",status="507"\} 2$/m);
  const health = (await call(`${tgt.url}/health`, 'GET')).body;
  assert.deepEqual(health.groups, { count: 10, created: 10 });
  assert.equal((health.limits as Record<string, number>).maxTotalGroups, 10);
});

test('GET /groups: pages in creation order with member counts; bad paging is a 400', async (t) => {
  const tgt = await startTarget({ auth: 'none' });
  t.after(() => tgt.close());
  await call(`${tgt.url}/groups/batch`, 'POST', { count: 250, prefix: 'p' });
  await call(`${tgt.url}/groups/p-3/members`, 'POST', { userId: 'u1' });
  await call(`${tgt.url}/groups/p-3/members`, 'POST', { userId: 'u2' });

  const first = await call(`${tgt.url}/groups`, 'GET');
  assert.equal(first.status, 200);
  const groups = first.body.groups as { id: string; members: number; connected: number }[];
  assert.equal(groups.length, 100, 'default limit');
  assert.equal(first.body.total, 250);
  assert.deepEqual(groups[3], { id: 'p-3', members: 2, connected: 0 });
  assert.equal(groups[99].id, 'p-99');

  const last = await call(`${tgt.url}/groups?offset=240&limit=1000`, 'GET');
  assert.deepEqual(
    (last.body.groups as { id: string }[]).map((g) => g.id),
    Array.from({ length: 10 }, (_, i) => `p-${240 + i}`),
  );
  assert.deepEqual((await call(`${tgt.url}/groups?offset=900`, 'GET')).body.groups, []);
  for (const q of ['limit=1001', 'limit=-1', 'offset=abc', 'limit=1.5', 'offset=99999999999999999']) {
    const r = await call(`${tgt.url}/groups?${q}`, 'GET');
    assert.equal(r.status, 400, q);
    assert.equal(r.body.error, 'bad_request');
  }
});

test('POST /groups/:id/members: counts member users once; unknown group 404; bad user 400', async (t) => {
  const tgt = await startTarget({ auth: 'none' });
  t.after(() => tgt.close());
  await call(`${tgt.url}/groups`, 'POST', { name: 'team' });
  const u = `${tgt.url}/groups/team/members`;
  assert.deepEqual((await call(u, 'POST', { userId: 'ann' })).body, { members: 1 });
  assert.deepEqual((await call(u, 'POST', { userId: 'bob' })).body, { members: 2 });
  const again = await call(u, 'POST', { userId: 'ann' });
  assert.equal(again.status, 200);
  assert.deepEqual(again.body, { members: 2 });

  const unknown = await call(`${tgt.url}/groups/nope/members`, 'POST', { userId: 'ann' });
  assert.equal(unknown.status, 404);
  assert.equal(unknown.body.error, 'unknown_group');
  const encoded = await call(`${tgt.url}/groups/%E0%A4%A/members`, 'POST', { userId: 'ann' });
  assert.equal(encoded.status, 404);
  for (const body of [{}, { userId: '' }, { userId: 'with space' }, { userId: 5 }]) {
    const r = await call(u, 'POST', body);
    assert.equal(r.status, 400, JSON.stringify(body));
    assert.equal(r.body.error, 'bad_request');
  }
  const wrongMethod = await call(u, 'GET');
  assert.equal(wrongMethod.status, 405);
  assert.equal(wrongMethod.headers.get('allow'), 'POST');
  const metrics = await (await fetch(`${tgt.url}/metrics`)).text();
  // One bounded label for every group id.
  assert.match(metrics, /route="\/groups\/:id\/members",status="200"\} 3/);
});

test('a batch request cut off mid-body does not crash the target', async (t) => {
  const tgt = await startTarget({ auth: 'none' });
  t.after(() => tgt.close());
  await new Promise<void>((resolve) => {
    const req = request(`${tgt.url}/groups/batch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': '1000' },
    });
    req.on('error', () => resolve());
    req.write('{"names":["a","b",');
    setImmediate(() => {
      req.destroy();
      resolve();
    });
  });
  const r = await call(`${tgt.url}/groups/batch`, 'POST', { names: ['a'] });
  assert.deepEqual(r.body, { created: 1 });
});
