import { compilePath, type JsonPath } from '../scenario/json-path.js';
import { compile, type Template, type TemplateEnv } from '../scenario/template.js';
import type { ChatProtocol, MatchSpec } from './load-model.js';

// A chat protocol compiled once per step: templates for the frames we send, and a classifier
// for the frames we receive (a delivery, an acknowledgement, an error, or something else).

/** The reference target's protocol (docs/target.md): batch group creation, join, send, acks. */
export function referenceProtocol(): ChatProtocol {
  const auth = { Authorization: 'Bearer {{token}}' };
  return {
    name: 'reference',
    setup: [
      {
        name: 'token',
        method: 'POST',
        url: '{{baseUrl}}/auth/token',
        body: { userId: 'holdline-load' },
        capture: { token: 'token' },
      },
    ],
    create: {
      method: 'POST',
      url: '{{baseUrl}}/groups',
      headers: auth,
      body: { name: '{{group}}' },
      exists: [409],
    },
    batch: {
      method: 'POST',
      url: '{{baseUrl}}/groups/batch',
      headers: { ...auth, 'content-type': 'application/json' },
      body: '{"names":{{names}}}',
      size: 1000,
      created: 'created',
    },
    join: {
      send: '{"type":"join","group":"{{group}}"}',
      ack: { match: { type: 'joined' }, group: 'group' },
    },
    message: {
      send: '{"type":"send","group":"{{group}}","id":"{{id}}","ts":{{ts}},"data":"{{payload}}"}',
      receive: { match: { type: 'message' }, id: 'id', ts: 'ts' },
      ack: { match: { type: 'sent' }, id: 'id', recipients: 'recipients' },
    },
    error: { match: { type: 'error' }, code: 'error', detail: 'message' },
  };
}

/** Variables a message template may use besides the session's own. */
export const MESSAGE_VARS = ['group', 'id', 'ts', 'tsUs', 'seq', 'payload', 'worker'] as const;

export const enum Kind {
  Other,
  Delivery,
  JoinAck,
  SendAck,
  Error,
}

interface Matcher {
  paths: JsonPath[];
  values: MatchSpec[string][];
}

function matcher(m: MatchSpec): Matcher {
  const entries = Object.entries(m);
  return { paths: entries.map(([p]) => compilePath(p)), values: entries.map(([, v]) => v) };
}

function matches(m: Matcher, doc: unknown): boolean {
  for (let i = 0; i < m.paths.length; i++) if (m.paths[i].get(doc) !== m.values[i]) return false;
  return true;
}

/** What an inbound frame is; the fields that matter are left on the instance (no allocation). */
export class CompiledProtocol {
  readonly join: Template;
  readonly send: Template;
  private readonly delivery: Matcher;
  private readonly deliveryId: JsonPath;
  private readonly deliveryTs: JsonPath | null;
  private readonly joinAck: Matcher | null;
  private readonly joinGroup: JsonPath | null;
  private readonly sendAck: Matcher | null;
  private readonly sendAckRecipients: JsonPath | null;
  private readonly error: Matcher | null;
  private readonly errorCode: JsonPath | null;
  private readonly errorDetail: JsonPath | null;
  readonly joinAcked: boolean;
  readonly sendAcked: boolean;

  /** Set by classify(): the delivered message id, the joined group, recipients, error code/detail. */
  id = '';
  /** The delivery's intended send time (epoch ms) when the protocol says where it is, else NaN. */
  ts = NaN;
  group: string | null = null;
  recipients = -1;
  code = '';
  detail = '';

  constructor(
    readonly spec: ChatProtocol,
    env: TemplateEnv,
  ) {
    this.join = compile(spec.join.send, { env });
    this.send = compile(spec.message.send, { env });
    this.delivery = matcher(spec.message.receive.match);
    this.deliveryId = compilePath(spec.message.receive.id);
    this.deliveryTs = spec.message.receive.ts ? compilePath(spec.message.receive.ts) : null;
    const ja = spec.join.ack;
    this.joinAck = ja ? matcher(ja.match) : null;
    this.joinGroup = ja?.group ? compilePath(ja.group) : null;
    this.joinAcked = ja !== undefined;
    const sa = spec.message.ack;
    this.sendAck = sa ? matcher(sa.match) : null;
    this.sendAcked = sa !== undefined;
    this.sendAckRecipients = sa?.recipients ? compilePath(sa.recipients) : null;
    const er = spec.error;
    this.error = er ? matcher(er.match) : null;
    this.errorCode = er?.code ? compilePath(er.code) : null;
    this.errorDetail = er?.detail ? compilePath(er.detail) : null;
  }

  /** Classifies one text frame. Non-JSON frames are Other. */
  classify(data: Buffer): Kind {
    // Cheap pre-check: only JSON objects can match.
    let i = 0;
    while (i < data.length && (data[i] === 0x20 || data[i] === 0x0a || data[i] === 0x0d || data[i] === 0x09))
      i++;
    if (data[i] !== 0x7b) return Kind.Other;
    let doc: unknown;
    try {
      doc = JSON.parse(data.toString('utf8'));
    } catch {
      return Kind.Other;
    }
    if (matches(this.delivery, doc)) {
      const id = this.deliveryId.get(doc);
      this.id = typeof id === 'string' ? id : typeof id === 'number' ? String(id) : '';
      const ts = this.deliveryTs?.get(doc);
      this.ts = typeof ts === 'number' ? ts : NaN;
      return Kind.Delivery;
    }
    if (this.joinAck && matches(this.joinAck, doc)) {
      const g = this.joinGroup?.get(doc);
      this.group = typeof g === 'string' ? g : typeof g === 'number' ? String(g) : null;
      return Kind.JoinAck;
    }
    if (this.sendAck && matches(this.sendAck, doc)) {
      const n = this.sendAckRecipients?.get(doc);
      this.recipients = typeof n === 'number' && Number.isFinite(n) ? n : -1;
      return Kind.SendAck;
    }
    if (this.error && matches(this.error, doc)) {
      const c = this.errorCode?.get(doc);
      const d = this.errorDetail?.get(doc);
      this.code = typeof c === 'string' || typeof c === 'number' ? String(c) : 'error';
      this.detail = typeof d === 'string' ? d : d === undefined ? '' : JSON.stringify(d);
      return Kind.Error;
    }
    return Kind.Other;
  }
}

/** Message ids: `<worker>:<seq>`, so any worker can tell its own messages apart. */
export function messageId(worker: number, seq: number): string {
  return `${worker}:${seq}`;
}

/** The sequence number of one of `worker`'s message ids; -1 for another worker's; NaN when not ours at all. */
export function parseMessageId(id: string, worker: number): number {
  const c = id.indexOf(':');
  if (c <= 0) return NaN;
  const w = Number(id.slice(0, c));
  const seq = Number(id.slice(c + 1));
  if (!Number.isInteger(w) || !Number.isInteger(seq) || seq < 0) return NaN;
  return w === worker ? seq : -1;
}
