import { onConnAttach, onConnClose, registerMessageType, send, sendError, type Conn } from './chat.js';
import type { TargetContext } from './context.js';
import { ID_PATTERN } from './routes.js';

// Group chat over the WebSocket: join, leave, send. A message goes through the bus, which numbers
// it per group (`seq`), and comes back to every instance, which writes the same bytes to each of
// its connections in the group but the sender. A bus payload is
//   <instance>\t<conn id>\t<group>\t<seq>\n<the message frame, JSON>
// so the delivery side reads who sent it without parsing the JSON.

/** Groups one connection (or one member user) may be in: bounds the memory a client can claim. */
export const MAX_GROUPS_PER_CONNECTION = 10_000;

export const GROUP_TOPIC = 'group';

registerMessageType('join', onJoin);
registerMessageType('leave', onLeave);
registerMessageType('send', onSend);
onConnAttach(joinAsMember);
onConnClose(leaveAll);

/** Subscribes this instance to group traffic on its bus. */
export function startGroupChat(ctx: TargetContext): void {
  ctx.bus.subscribe(GROUP_TOPIC, (_topic, payload) => onGroupPayload(ctx, payload));
}

function groupOf(c: Conn, msg: Record<string, unknown>, extra?: object): string | null {
  const g = msg.group;
  if (typeof g === 'string' && ID_PATTERN.test(g)) return g;
  sendError(
    c,
    'bad_message',
    `${String(msg.type)} needs "group": 1-128 characters of letters, digits and _ . : -`,
    extra,
  );
  return null;
}

function unknownGroup(c: Conn, g: string, extra?: object): void {
  sendError(c, 'unknown_group', `no group ${g}: create it with POST /groups first`, { group: g, ...extra });
}

/** Puts a connection in a group; why not when it is in too many, or the target holds MAX_TOTAL_JOINS. */
export function enter(c: Conn, g: string): 'ok' | 'too_many_groups' | 'join_limit' {
  const reg = c.ctx.groups;
  if (reg.isIn(g, c)) return 'ok';
  if (c.groups !== null && c.groups.length >= MAX_GROUPS_PER_CONNECTION) return 'too_many_groups';
  if (reg.joins >= reg.maxJoins) return 'join_limit';
  (c.groups ??= []).push(g);
  reg.join(g, c);
  return 'ok';
}

function onJoin(c: Conn, msg: Record<string, unknown>): void {
  const g = groupOf(c, msg);
  if (g === null) return;
  const ctx = c.ctx;
  if (ctx.groups.has(g)) {
    joined(c, g);
    return;
  }
  // Another instance may have created it while this one was not listening: ask Redis.
  if (ctx.bus.health().kind !== 'redis') {
    unknownGroup(c, g);
    return;
  }
  ctx.bus.knowsGroup(g).then(
    (known) => {
      if (c.closing) return;
      if (known && ctx.groups.create(g) !== 'full') joined(c, g);
      else unknownGroup(c, g);
    },
    () => {
      if (!c.closing) unknownGroup(c, g);
    },
  );
}

function joined(c: Conn, g: string): void {
  const r = enter(c, g);
  if (r === 'too_many_groups') {
    sendError(c, r, `a connection may be in at most ${MAX_GROUPS_PER_CONNECTION} groups`, { group: g });
    return;
  }
  if (r === 'join_limit') {
    sendError(c, r, `the target holds its maximum of ${c.ctx.groups.maxJoins} joins (MAX_TOTAL_JOINS)`, {
      group: g,
    });
    return;
  }
  const members = c.ctx.groups.connsOf(g)?.size ?? 0;
  send(c, `{"type":"joined","group":"${g}","members":${members}}`, false);
}

function onLeave(c: Conn, msg: Record<string, unknown>): void {
  const g = groupOf(c, msg);
  if (g === null) return;
  const reg = c.ctx.groups;
  if (!reg.has(g)) {
    unknownGroup(c, g);
    return;
  }
  if (reg.isIn(g, c)) {
    reg.leave(g, c);
    const i = c.groups!.indexOf(g);
    if (i >= 0) c.groups!.splice(i, 1);
  }
  send(c, `{"type":"left","group":"${g}"}`, false);
}

function okMessageId(id: unknown): boolean {
  return (typeof id === 'string' && id.length <= 256) || (typeof id === 'number' && Number.isFinite(id));
}

function onSend(c: Conn, msg: Record<string, unknown>): void {
  const id = msg.id;
  if (!okMessageId(id)) {
    sendError(c, 'bad_message', 'send needs "id": a string of at most 256 characters or a number');
    return;
  }
  const idJson = JSON.stringify(id);
  const echo = { id };
  const g = groupOf(c, msg, echo);
  if (g === null) return;
  const ts = msg.ts;
  if (ts !== undefined && ts !== null && !(typeof ts === 'number' && Number.isFinite(ts))) {
    sendError(c, 'bad_message', '"ts" must be a number (the client clock, epoch ms)', echo);
    return;
  }
  const ctx = c.ctx;
  const reg = ctx.groups;
  if (!reg.has(g)) {
    unknownGroup(c, g, echo);
    return;
  }
  if (!reg.isIn(g, c)) {
    sendError(c, 'not_member', `join group ${g} before sending to it`, { group: g, ...echo });
    return;
  }
  ctx.stats.groupMsgsIn++;
  ctx.faults.groupMessage(ctx);
  const data = msg.data === undefined ? 'null' : JSON.stringify(msg.data);
  const parts = [
    `${ctx.instanceId}\t${c.id}\t${g}\t`,
    `\n{"type":"message","group":"${g}","from":${JSON.stringify(c.userId ?? c.id)},"id":${idJson},"seq":`,
    `,"ts":${typeof ts === 'number' ? ts : 'null'},"serverTs":${Date.now()},"data":${data}}`,
  ];
  // Counted before publishing: with the memory bus the delivery happens inside the call.
  const recipients = reg.connsOf(g)!.size - 1;
  const r = ctx.bus.publishNumbered(GROUP_TOPIC, `g:${g}`, reg.seq(g), parts);
  if (typeof r === 'number') {
    sent(c, idJson, r, recipients);
    return;
  }
  r.then(
    (seq) => sent(c, idJson, seq, Math.max(0, (reg.connsOf(g)?.size ?? 1) - 1)),
    () => sendError(c, 'bus_unavailable', 'the message was not published: the bus is down', echo),
  );
}

function sent(c: Conn, idJson: string, seq: number, recipients: number): void {
  send(c, `{"type":"sent","id":${idJson},"seq":${seq},"recipients":${recipients}}`, false);
}

/** One group message from the bus: numbers checked, then delivered here (after the test delay). */
export function onGroupPayload(ctx: TargetContext, payload: string): void {
  const nl = payload.indexOf('\n');
  const t1 = payload.indexOf('\t');
  const t2 = payload.indexOf('\t', t1 + 1);
  const t3 = payload.indexOf('\t', t2 + 1);
  if (nl < 0 || t1 < 0 || t2 < 0 || t3 < 0 || t3 > nl) return; // not ours: ignore
  const group = payload.slice(t2 + 1, t3);
  ctx.stats.groupMsgsMissed += ctx.groups.observe(group, Number(payload.slice(t3 + 1, nl)));
  if (ctx.groups.connsOf(group) === undefined) return;
  const skip = payload.slice(0, t1) === ctx.instanceId ? payload.slice(t1 + 1, t2) : '';
  const frame = payload.slice(nl + 1);
  const delay = ctx.faults.delayMs;
  if (delay > 0) setTimeout(deliver, delay, ctx, group, skip, frame);
  else deliver(ctx, group, skip, frame);
}

function deliver(ctx: TargetContext, group: string, skip: string, frame: string): void {
  const conns = ctx.groups.connsOf(group);
  if (conns === undefined) return;
  const buf = Buffer.from(frame); // once, then the same bytes to every member
  const faults = ctx.faults;
  const st = ctx.stats;
  for (const c of conns) {
    if (c.closing || c.id === skip) continue;
    if (faults.dropEvery > 0 && faults.dropDelivery()) {
      st.faults.dropped++;
      continue;
    }
    if (send(c, buf, false)) st.groupMsgsOut++;
  }
}

/** A new connection of a member user is in that user's groups at once. */
function joinAsMember(c: Conn): void {
  const ctx = c.ctx;
  if (c.userId === null || ctx.userConns.tracking === false) return;
  ctx.userConns.add(c);
  const gs = ctx.groups.groupsOf(c.userId);
  if (gs) for (const g of gs) enter(c, g);
}

function leaveAll(c: Conn): void {
  const ctx = c.ctx;
  if (c.groups !== null) {
    for (const g of c.groups) ctx.groups.leave(g, c);
    c.groups = null;
  }
  if (c.userId !== null) ctx.userConns.remove(c);
}

/**
 * Open WebSockets by token subject, so a new member user's connections join its group at once.
 * Kept only from the first member added on (a scan of the open sockets then), so a target that
 * never uses members pays nothing per connection.
 */
export class UserConns {
  tracking = false;
  private readonly byUser = new Map<string, Set<Conn>>();

  /** Starts tracking, from every open connection. */
  track(open: Iterable<Conn>): void {
    if (this.tracking) return;
    this.tracking = true;
    for (const c of open) if (c.userId !== null && !c.closing) this.add(c);
  }

  add(c: Conn): void {
    const set = this.byUser.get(c.userId!);
    if (set) set.add(c);
    else this.byUser.set(c.userId!, new Set([c]));
  }

  remove(c: Conn): void {
    const set = this.byUser.get(c.userId!);
    if (!set) return;
    set.delete(c);
    if (set.size === 0) this.byUser.delete(c.userId!);
  }

  of(user: string): Set<Conn> | undefined {
    return this.byUser.get(user);
  }
}
