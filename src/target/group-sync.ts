import { kConn, type Conn } from './chat.js';
import type { TargetContext } from './context.js';
import { enter } from './group-chat.js';
import { ID_PATTERN } from './routes.js';

// Group changes shared between instances: a creation or a new member on one instance is announced
// on the bus's control topic and applied by every other one, so a client can create a group
// through one instance and join it through another. With Redis the ids are also kept in a Redis
// set, which an instance that missed the announcement consults when a client joins. The HTTP
// answer waits for that (or, between cluster workers, for the announcement to be forwarded).

export const CTL_TOPIC = 'ctl';

type Ctl =
  | { o: string; op: 'create'; ids: string[] }
  | { o: string; op: 'batch'; prefix: string; count: number }
  | { o: string; op: 'member'; group: string; user: string };

export function startGroupSync(ctx: TargetContext): void {
  ctx.bus.subscribe(CTL_TOPIC, (_topic, payload) => onCtl(ctx, payload));
}

function shared(ctx: TargetContext): boolean {
  return ctx.bus.health().kind !== 'memory';
}

/**
 * Tells the other instances about groups created here. Resolves once the bus recorded them (a
 * bus error is counted by the bus: the groups then exist here only).
 */
export async function announceCreated(
  ctx: TargetContext,
  created: string[],
  batch?: { prefix: string; count: number },
): Promise<void> {
  if (!shared(ctx) || created.length === 0) return;
  const msg: Ctl = batch
    ? { o: ctx.instanceId, op: 'batch', prefix: batch.prefix, count: batch.count }
    : { o: ctx.instanceId, op: 'create', ids: created };
  ctx.bus.publish(CTL_TOPIC, JSON.stringify(msg));
  try {
    await ctx.bus.rememberGroups(created);
  } catch {
    // counted in the bus's errors
  }
}

/**
 * Makes `user` a member of group `g` here; its open connections are in the group at once. Null
 * when MAX_TOTAL_MEMBERS memberships are held already.
 */
export function addMember(ctx: TargetContext, g: string, user: string): number | null {
  const r = ctx.groups.addUser(g, user);
  if (r.full) return null;
  if (!ctx.userConns.tracking) ctx.userConns.track(openConns(ctx));
  if (r.added) {
    const conns = ctx.userConns.of(user);
    if (conns) for (const c of conns) enter(c, g);
  }
  return r.members;
}

export function announceMember(ctx: TargetContext, g: string, user: string): void {
  if (!shared(ctx)) return;
  const msg: Ctl = { o: ctx.instanceId, op: 'member', group: g, user };
  ctx.bus.publish(CTL_TOPIC, JSON.stringify(msg));
}

function* openConns(ctx: TargetContext): Iterable<Conn> {
  for (const ws of ctx.sockets) yield (ws as unknown as { [kConn]: Conn })[kConn];
}

/** Group ids of a `{count, prefix}` batch: `<prefix>-0` … `<prefix>-<count-1>`. */
export function batchIds(prefix: string, count: number): string[] {
  const ids = new Array<string>(count);
  for (let i = 0; i < count; i++) ids[i] = `${prefix}-${i}`;
  return ids;
}

function onCtl(ctx: TargetContext, payload: string): void {
  let m: Ctl;
  try {
    m = JSON.parse(payload) as Ctl;
  } catch {
    return;
  }
  if (m === null || typeof m !== 'object' || m.o === ctx.instanceId) return;
  // Past MAX_TOTAL_GROUPS the creations of other instances are not kept here (same limit on
  // every instance keeps them alike).
  if (m.op === 'create' && Array.isArray(m.ids) && m.ids.length <= 100_000) {
    ctx.groups.createMany(m.ids.filter((id) => typeof id === 'string' && ID_PATTERN.test(id)));
  } else if (
    m.op === 'batch' &&
    typeof m.prefix === 'string' &&
    ID_PATTERN.test(m.prefix) &&
    Number.isInteger(m.count)
  ) {
    ctx.groups.createMany(batchIds(m.prefix, Math.min(m.count, 100_000)));
  } else if (
    m.op === 'member' &&
    typeof m.group === 'string' &&
    ID_PATTERN.test(m.group) &&
    typeof m.user === 'string'
  ) {
    if (ctx.groups.has(m.group) || ctx.groups.create(m.group) === 'created') addMember(ctx, m.group, m.user);
  }
}
