import type { IncomingMessage, ServerResponse } from 'node:http';
import { onConnClose, registerMessageType, send, sendError, type Conn } from './chat.js';
import type { TargetContext } from './context.js';
import { HttpError, readJsonObject, sendJson } from './http-util.js';
import { addRoute, requireUser } from './routes.js';

// Broadcast: POST /codes (alias /broadcast) publishes a code on the bus, which numbers it; every
// instance then writes it to each of its SSE streams and to each WebSocket subscribed to the
// codes channel. Each frame is serialised once per event, never per subscriber. A bus payload is
//   <number>\t<publish epoch ms>\t<code as a JSON string>

export const CODE_TOPIC = 'code';
const MAX_CODE = 256;

/** Local fan-out of the last event, so POST /codes can say how many it reached here. */
interface Fanout {
  id: number;
  sse: number;
  ws: number;
}
const kFanout = Symbol('holdline.target.fanout');
type WithFanout = TargetContext & { [kFanout]?: Fanout };

registerMessageType('subscribe', onSubscribe);
registerMessageType('unsubscribe', onUnsubscribe);
onConnClose(unsubscribeOnClose);

export function startCodes(ctx: TargetContext): void {
  ctx.bus.subscribe(CODE_TOPIC, (_topic, payload) => onCodePayload(ctx, payload));
}

export function onCodePayload(ctx: TargetContext, payload: string): void {
  const t1 = payload.indexOf('\t');
  const t2 = payload.indexOf('\t', t1 + 1);
  if (t1 < 0 || t2 < 0) return;
  const id = Number(payload.slice(0, t1));
  const ts = payload.slice(t1 + 1, t2);
  const code = payload.slice(t2 + 1);
  if (!Number.isInteger(id) || id <= 0) return;
  const st = ctx.stats;
  const last = ctx.sse.lastId;
  if (last > 0 && id > last + 1) st.codesMissed += id - last - 1;
  st.codesFannedOut++;
  const sse = ctx.sse.event(
    id,
    Buffer.from(`id: ${id}\nevent: code\ndata: {"code":${code},"id":${id},"ts":${ts}}\n\n`),
  );
  let ws = 0;
  if (ctx.codeSubs.size > 0) {
    const frame = Buffer.from(`{"type":"code","code":${code},"id":${id},"ts":${ts}}`);
    for (const c of ctx.codeSubs) if (send(c, frame, false)) ws++;
    st.wsCodesOut += ws;
  }
  (ctx as WithFanout)[kFanout] = { id, sse, ws };
}

async function postCode(ctx: TargetContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  requireUser(ctx, req);
  const body = await readJsonObject(req, ctx.opts.maxBodySize);
  const code = body.code;
  if (typeof code !== 'string' || code.length === 0 || code.length > MAX_CODE) {
    throw new HttpError(400, 'bad_request', `code must be a string of 1 to ${MAX_CODE} characters`);
  }
  ctx.stats.codesPublished++;
  const parts = ['', `\t${Date.now()}\t${JSON.stringify(code)}`];
  let id: number;
  try {
    id = await ctx.bus.publishNumbered(CODE_TOPIC, 'codes', ctx.sse.lastId, parts);
  } catch {
    throw new HttpError(503, 'bus_unavailable', 'the code was not published: the bus is down', {
      'Retry-After': '1',
    });
  }
  const f = (ctx as WithFanout)[kFanout];
  // In memory the fan-out is done by now; through Redis it happens as the bus echoes the code,
  // to the subscribers this instance holds now.
  const delivered =
    f !== undefined && f.id === id
      ? { sse: f.sse, ws: f.ws }
      : { sse: ctx.sse.subs.size, ws: ctx.codeSubs.size };
  sendJson(res, 202, { id, delivered });
}

function channelOf(c: Conn, msg: Record<string, unknown>): boolean {
  if (msg.channel === 'codes') return true;
  // Echoed only when it is a short string: the frame never carries more than the client's name.
  const ch = msg.channel;
  sendError(c, 'unknown_channel', 'the only channel is "codes"', {
    channel: typeof ch === 'string' && ch.length <= 128 ? ch : null,
  });
  return false;
}

function onSubscribe(c: Conn, msg: Record<string, unknown>): void {
  if (!channelOf(c, msg)) return;
  c.codes = true;
  c.ctx.codeSubs.add(c);
  send(c, '{"type":"subscribed","channel":"codes"}', false);
}

function onUnsubscribe(c: Conn, msg: Record<string, unknown>): void {
  if (!channelOf(c, msg)) return;
  c.codes = false;
  c.ctx.codeSubs.delete(c);
  send(c, '{"type":"unsubscribed","channel":"codes"}', false);
}

function unsubscribeOnClose(c: Conn): void {
  if (!c.codes) return;
  c.codes = false;
  c.ctx.codeSubs.delete(c);
}

addRoute('POST', '/codes', postCode);
addRoute('POST', '/broadcast', postCode);
