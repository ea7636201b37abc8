import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TargetContext } from './context.js';
import { MAX_GROUPS_PER_CONNECTION } from './group-chat.js';
import { addMember, announceCreated, announceMember, batchIds } from './group-sync.js';
import { HttpError, readJsonObject, sendJson } from './http-util.js';
import { addPatternRoute, addRoute, ID_PATTERN, requireUser } from './routes.js';

// Groups over HTTP: create one, create many at once, count, list, add a member user.

/** Ids created by one batch request at most (413 above). */
export const MAX_BATCH = 100_000;
/** A batch of 100,000 names of up to 128 characters fits; the general body cap may be smaller. */
const BATCH_BODY_LIMIT = 16 * 1024 * 1024;
const PREFIX_PATTERN = /^[\w.:-]{1,100}$/;
const USER_ID = /^[\w.@:+-]{1,128}$/;
const LIST_MAX = 1000;

function groupLimit(ctx: TargetContext): HttpError {
  // 507: the server is out of room, the request itself was fine (a retry will not help).
  return new HttpError(
    507,
    'group_limit',
    `the target holds its maximum of ${ctx.groups.max} groups (MAX_TOTAL_GROUPS); ${ctx.groups.size} exist`,
  );
}

async function postGroup(ctx: TargetContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  requireUser(ctx, req);
  const body = await readJsonObject(req, ctx.opts.maxBodySize);
  const name = body.name;
  if (name !== undefined && (typeof name !== 'string' || !ID_PATTERN.test(name))) {
    throw new HttpError(400, 'bad_request', 'name must be 1-128 characters of letters, digits and _ . : -');
  }
  const id = name ?? `g-${randomBytes(9).toString('base64url')}`;
  const r = ctx.groups.create(id);
  if (r === 'exists') throw new HttpError(409, 'group_exists', `group ${id} exists`);
  if (r === 'full') throw groupLimit(ctx);
  await announceCreated(ctx, [id]);
  sendJson(res, 201, { groupId: id });
}

async function postBatch(ctx: TargetContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  requireUser(ctx, req);
  const body = await readJsonObject(req, Math.max(ctx.opts.maxBodySize, BATCH_BODY_LIMIT));
  const { count, prefix, names } = body;
  if ((count === undefined) === (names === undefined)) {
    throw new HttpError(400, 'bad_request', 'give either "count" (with an optional "prefix") or "names"');
  }
  if (names !== undefined) {
    if (!Array.isArray(names)) throw new HttpError(400, 'bad_request', 'names must be an array of group ids');
    if (names.length > MAX_BATCH) throw tooMany(names.length);
    for (let i = 0; i < names.length; i++) {
      const n: unknown = names[i];
      if (typeof n !== 'string' || !ID_PATTERN.test(n)) {
        throw new HttpError(
          400,
          'bad_request',
          `names[${i}] must be 1-128 characters of letters, digits and _ . : -`,
        );
      }
    }
    const r = ctx.groups.createMany(names as string[]);
    if (r.full) throw groupLimit(ctx);
    await announceCreated(ctx, r.created);
    sendJson(res, 201, { created: r.created.length });
    return;
  }
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 1) {
    throw new HttpError(400, 'bad_request', 'count must be a whole number of at least 1');
  }
  if (count > MAX_BATCH) throw tooMany(count);
  const p = prefix ?? 'load';
  if (typeof p !== 'string' || !PREFIX_PATTERN.test(p)) {
    throw new HttpError(400, 'bad_request', 'prefix must be 1-100 characters of letters, digits and _ . : -');
  }
  const r = ctx.groups.createMany(batchIds(p, count));
  if (r.full) throw groupLimit(ctx);
  await announceCreated(ctx, r.created, { prefix: p, count });
  sendJson(res, 201, { created: r.created.length, first: `${p}-0`, last: `${p}-${count - 1}` });
}

function tooMany(n: number): HttpError {
  return new HttpError(
    413,
    'batch_too_large',
    `at most ${MAX_BATCH} groups per request (got ${n}); send several requests`,
  );
}

function getCount(ctx: TargetContext, req: IncomingMessage, res: ServerResponse): void {
  requireUser(ctx, req);
  sendJson(res, 200, { count: ctx.groups.size });
}

function getGroups(ctx: TargetContext, req: IncomingMessage, res: ServerResponse, query: string): void {
  requireUser(ctx, req);
  const q = new URLSearchParams(query);
  const offset = whole(q.get('offset'), 0, 'offset', Number.MAX_SAFE_INTEGER);
  const limit = whole(q.get('limit'), 100, 'limit', LIST_MAX);
  sendJson(res, 200, {
    groups: ctx.groups.list(offset, limit),
    total: ctx.groups.size,
    offset,
    limit,
  });
}

function whole(raw: string | null, dflt: number, name: string, max: number): number {
  if (raw === null || raw === '') return dflt;
  if (!/^\d{1,16}$/.test(raw) || Number(raw) > max) {
    throw new HttpError(400, 'bad_request', `${name} must be a whole number from 0 to ${max}`);
  }
  return Number(raw);
}

async function postMember(
  ctx: TargetContext,
  req: IncomingMessage,
  res: ServerResponse,
  _query: string,
  params: string[],
): Promise<void> {
  requireUser(ctx, req);
  const g = params[0];
  const body = await readJsonObject(req, ctx.opts.maxBodySize);
  const user = body.userId;
  if (typeof user !== 'string' || !USER_ID.test(user)) {
    throw new HttpError(
      400,
      'bad_request',
      'userId must be 1-128 characters of letters, digits and _ . @ : + -',
    );
  }
  if (!ID_PATTERN.test(g) || !ctx.groups.has(g)) {
    throw new HttpError(404, 'unknown_group', `no group ${g}: create it with POST /groups first`);
  }
  if ((ctx.groups.groupsOf(user)?.length ?? 0) >= MAX_GROUPS_PER_CONNECTION) {
    throw new HttpError(
      400,
      'too_many_groups',
      `a user may be a member of at most ${MAX_GROUPS_PER_CONNECTION} groups`,
    );
  }
  const members = addMember(ctx, g, user);
  if (members === null) {
    // 403: a quota, not a fault of the request; no membership is ever removed, so retrying is no use.
    throw new HttpError(
      403,
      'member_limit',
      `the target holds its maximum of ${ctx.groups.maxMembers} group memberships (MAX_TOTAL_MEMBERS)`,
    );
  }
  announceMember(ctx, g, user);
  sendJson(res, 200, { members });
}

addRoute('POST', '/groups', postGroup);
addRoute('GET', '/groups', getGroups);
addRoute('POST', '/groups/batch', postBatch);
addRoute('GET', '/groups/count', getCount);
addPatternRoute('POST', '/groups/:id/members', /^\/groups\/([^/]+)\/members$/, postMember);
