import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  encodeClose,
  encodeFrame,
  frameBytesHeld,
  isValidCloseCode,
  OP_BINARY,
  OP_CLOSE,
  OP_CONT,
  OP_PING,
  OP_PONG,
  OP_TEXT,
  parseFrames,
  resetFrameState,
  type FrameHandler,
  type FrameState,
} from '../../src/transports/ws-frame.js';
import {
  acceptFor,
  buildUpgradeRequest,
  checkUpgradeResponse,
  parseStatusLine,
  parseWsUrl,
} from '../../src/transports/ws-handshake.js';
import {
  classifyClose,
  classifyCode,
  classifyErrno,
  classifyHttpStatus,
} from '../../src/transports/classify.js';

// ------------------------------------------------------------------ helpers

/** Decodes one client frame: header fields, mask key and the unmasked payload. */
function decodeClient(f: Buffer): {
  fin: boolean;
  op: number;
  key: Buffer;
  payload: Buffer;
  masked: boolean;
} {
  let len = f[1] & 0x7f;
  let o = 2;
  if (len === 126) {
    len = f.readUInt16BE(2);
    o = 4;
  } else if (len === 127) {
    len = Number(f.readBigUInt64BE(2));
    o = 10;
  }
  const masked = (f[1] & 0x80) !== 0;
  const key = masked ? f.subarray(o, o + 4) : Buffer.alloc(4);
  if (masked) o += 4;
  assert.equal(f.length, o + len, 'frame length matches its header');
  const payload = Buffer.alloc(len);
  for (let i = 0; i < len; i++) payload[i] = f[o + i] ^ key[i & 3];
  return { fin: (f[0] & 0x80) !== 0, op: f[0] & 0x0f, key: Buffer.from(key), payload, masked };
}

/** A server frame (unmasked), or a raw one with chosen first two bytes. */
const srv = (op: number, data: string | Buffer, fin = true): Buffer => encodeFrame(op, data, fin, false);

type Ev = [string, ...unknown[]];
class St implements FrameState {
  hdr: Buffer | null = null;
  pay: Buffer | null = null;
  payPos = 0;
  payLen = 0;
  payOp = 0;
  payFin = false;
  fragOp = 0;
  frag: Buffer | null = null;
  fragLen = 0;
  ev: Ev[] = [];
  stopAfter = Infinity;
  more(): boolean {
    return this.ev.length < this.stopAfter;
  }
}

const rec: FrameHandler<St> = {
  message: (st, d, bin) => (
    st.ev.push([bin ? 'binary' : 'text', bin ? Buffer.from(d).toString('hex') : d.toString()]),
    st.more()
  ),
  ping: (st, p) => (st.ev.push(['ping', p.toString()]), st.more()),
  pong: (st, p) => (st.ev.push(['pong', p.toString()]), st.more()),
  close: (st, code, reason) => (st.ev.push(['close', code, reason]), st.more()),
  error: (st, code, detail) => void st.ev.push(['error', code, detail]),
};

function feed(chunks: Buffer[], maxPayload = 1 << 20, st = new St()): St {
  for (const c of chunks) parseFrames(st, c, 0, c.length, maxPayload, rec);
  return st;
}

function errorCode(bytes: Buffer, maxPayload?: number): number {
  const ev = feed([bytes], maxPayload).ev;
  const last = ev[ev.length - 1];
  assert.equal(last?.[0], 'error', `expected a violation, got ${JSON.stringify(ev)}`);
  return last[1] as number;
}

// ------------------------------------------------------------------ encoder

describe('encodeFrame', () => {
  for (const size of [0, 1, 2, 47, 48, 63, 64, 125, 126, 127, 255, 256, 257, 65535, 65536, 200_000]) {
    test(`masks and frames ${size} bytes as text and binary`, () => {
      const bin = Buffer.alloc(size);
      for (let i = 0; i < size; i++) bin[i] = (i * 7 + 3) & 0xff;
      const text = 'é'.repeat(size >> 1) + (size & 1 ? 'x' : '');
      const ascii = 'a'.repeat(size);
      const almostAscii = 'b'.repeat(Math.max(0, size - 2)) + (size >= 2 ? 'ü' : '');
      for (const [op, data, raw] of [
        [OP_BINARY, bin, bin],
        [OP_TEXT, text, Buffer.from(text)],
        [OP_TEXT, ascii, Buffer.from(ascii)],
        [OP_TEXT, almostAscii, Buffer.from(almostAscii)],
      ] as const) {
        assert.ok(
          encodeFrame(op, data, true, false)
            .subarray(-raw.length || Infinity)
            .equals(raw),
          'unmasked',
        );
        const f = encodeFrame(op, data);
        const d = decodeClient(f);
        assert.equal(d.masked, true);
        assert.equal(d.fin, true);
        assert.equal(d.op, op);
        assert.equal(f[0] & 0x70, 0, 'no reserved bits');
        const lenField = f[1] & 0x7f;
        const n = raw.length;
        assert.equal(lenField, n < 126 ? n : n < 65536 ? 126 : 127, 'shortest length encoding');
        assert.ok(d.payload.equals(raw), 'payload round-trips through the mask');
      }
      assert.ok(
        bin.every((b, i) => b === ((i * 7 + 3) & 0xff)),
        'source buffer left unmasked',
      );
    });
  }

  test('a fresh key per frame, across pool refills', () => {
    const keys = new Set<string>();
    for (let i = 0; i < 5000; i++) keys.add(decodeClient(encodeFrame(OP_TEXT, 'x')).key.toString('hex'));
    // 32-bit random keys: a collision or two is possible, a reused pool (≤ 4,096) is not.
    assert.ok(keys.size >= 4995, `distinct keys: ${keys.size}`);
  });

  test('fin=false and unmasked frames', () => {
    const f = encodeFrame(OP_TEXT, 'abc', false, false);
    assert.deepEqual([...f], [0x01, 3, 0x61, 0x62, 0x63]);
  });

  test('close frames', () => {
    assert.equal(decodeClient(encodeClose(1005)).payload.length, 0);
    const d = decodeClient(encodeClose(4001, 'bye'));
    assert.equal(d.op, OP_CLOSE);
    assert.equal(d.payload.readUInt16BE(0), 4001);
    assert.equal(d.payload.subarray(2).toString(), 'bye');
  });
});

// ------------------------------------------------------------------ parser

describe('parseFrames', () => {
  const big = Buffer.alloc(70_000, 0x5a);
  const stream = Buffer.concat([
    srv(OP_TEXT, 'hello'),
    srv(OP_BINARY, Buffer.from([1, 2, 3])),
    srv(OP_TEXT, 'frag', false),
    srv(OP_PING, 'p1'), // control frames may come between fragments
    srv(OP_CONT, 'men', false),
    srv(OP_CONT, 'ted'),
    srv(OP_PONG, 'p2'),
    srv(OP_BINARY, Buffer.alloc(300, 7)),
    srv(OP_TEXT, ''),
    srv(OP_CLOSE, Buffer.from([0x0f, 0xa1, 0x62, 0x79, 0x65])), // 4001 'bye'
  ]);
  const expected: Ev[] = [
    ['text', 'hello'],
    ['binary', '010203'],
    ['ping', 'p1'],
    ['text', 'fragmented'],
    ['pong', 'p2'],
    ['binary', '07'.repeat(300)],
    ['text', ''],
    ['close', 4001, 'bye'],
  ];

  test('one chunk', () => {
    assert.deepEqual(feed([stream]).ev, expected);
  });

  test('split at every byte boundary, and byte by byte', () => {
    for (let cut = 1; cut < stream.length; cut++) {
      const st = feed([Buffer.from(stream.subarray(0, cut)), Buffer.from(stream.subarray(cut))]);
      assert.deepEqual(st.ev, expected, `cut at ${cut}`);
      assert.equal(st.hdr, null);
      assert.equal(st.pay, null, 'no buffer kept once frames are whole');
    }
    const bytes = [...stream].map((b) => Buffer.from([b]));
    assert.deepEqual(feed(bytes).ev, expected);
  });

  test('large frames across many chunks; views of the chunk are copied when kept', () => {
    const data = Buffer.concat([
      srv(OP_BINARY, big.subarray(0, 40_000), false),
      srv(OP_CONT, big.subarray(40_000)),
      srv(OP_BINARY, Buffer.alloc(65_536, 1)),
    ]);
    const got: Buffer[] = [];
    const st = new St();
    const h: FrameHandler<St> = { ...rec, message: (_s, d) => (got.push(Buffer.from(d)), true) };
    // One reused chunk buffer, overwritten after every call, like a shared read buffer.
    const scratch = Buffer.alloc(1000);
    for (let o = 0; o < data.length; o += 1000) {
      const n = Math.min(1000, data.length - o);
      data.copy(scratch, 0, o, o + n);
      parseFrames(st, scratch, 0, n, 1 << 20, h);
      scratch.fill(0xee);
    }
    assert.equal(got.length, 2);
    assert.ok(got[0].equals(big));
    assert.ok(got[1].equals(Buffer.alloc(65_536, 1)));
    // The same with the fragments delivered whole inside the reused chunk.
    const st2 = new St();
    got.length = 0;
    const a = srv(OP_TEXT, 'ab', false);
    const b = srv(OP_CONT, 'cd');
    const chunk = Buffer.alloc(16);
    a.copy(chunk);
    parseFrames(st2, chunk, 0, a.length, 100, h);
    chunk.fill(0x41);
    b.copy(chunk);
    parseFrames(st2, chunk, 0, b.length, 100, h);
    assert.deepEqual(
      got.map((g) => g.toString()),
      ['abcd'],
    );
  });

  test('start/end bounds are honoured', () => {
    const f = srv(OP_TEXT, 'xy');
    const padded = Buffer.concat([Buffer.from('JUNK'), f, Buffer.from('MORE')]);
    const st = new St();
    parseFrames(st, padded, 4, 4 + f.length, 100, rec);
    assert.deepEqual(st.ev, [['text', 'xy']]);
  });

  test('a handler returning false stops parsing', () => {
    const st = new St();
    st.stopAfter = 1;
    feed([stream], 1 << 20, st);
    assert.deepEqual(st.ev, [['text', 'hello']]);
  });

  test('close without a body is 1005; close codes and reasons are validated', () => {
    assert.deepEqual(feed([srv(OP_CLOSE, '')]).ev, [['close', 1005, '']]);
    assert.equal(errorCode(srv(OP_CLOSE, Buffer.from([3]))), 1002);
    for (const bad of [999, 1004, 1005, 1006, 1015, 2000, 2999, 5000]) {
      const b = Buffer.alloc(2);
      b.writeUInt16BE(bad);
      assert.equal(errorCode(srv(OP_CLOSE, b)), 1002, `close code ${bad}`);
    }
    assert.equal(errorCode(srv(OP_CLOSE, Buffer.from([0x03, 0xe8, 0xc3, 0x28]))), 1007);
    for (const ok of [1000, 1001, 1003, 1007, 1011, 1014, 3000, 4999]) assert.ok(isValidCloseCode(ok));
  });

  test('protocol violations close with 1002', () => {
    assert.equal(errorCode(Buffer.from([0x81, 0x82, 1, 2, 3, 4, 0, 0])), 1002, 'masked server frame');
    assert.equal(errorCode(Buffer.from([0xc1, 0x00])), 1002, 'RSV1 set');
    assert.equal(errorCode(Buffer.from([0x83, 0x00])), 1002, 'opcode 3');
    assert.equal(errorCode(Buffer.from([0x8b, 0x00])), 1002, 'opcode 11');
    assert.equal(errorCode(Buffer.from([0x09, 0x00])), 1002, 'fragmented ping');
    assert.equal(errorCode(Buffer.from([0x89, 126, 0, 126, ...Buffer.alloc(126)])), 1002, 'ping over 125');
    assert.equal(errorCode(srv(OP_CONT, 'x')), 1002, 'continuation without a message');
    assert.equal(
      errorCode(Buffer.concat([srv(OP_TEXT, 'a', false), srv(OP_TEXT, 'b')])),
      1002,
      'message in message',
    );
  });

  test('invalid UTF-8 in text closes with 1007, also when split across fragments', () => {
    assert.equal(errorCode(srv(OP_TEXT, Buffer.from([0xc3, 0x28]))), 1007);
    assert.equal(errorCode(srv(OP_TEXT, Buffer.from([0xed, 0xa0, 0x80]))), 1007, 'surrogate');
    const euro = Buffer.from('€');
    const ok = feed([srv(OP_TEXT, euro.subarray(0, 1), false), srv(OP_CONT, euro.subarray(1))]);
    assert.deepEqual(ok.ev, [['text', '€']], 'a code point split across fragments is valid');
    assert.equal(
      errorCode(Buffer.concat([srv(OP_TEXT, euro.subarray(0, 2), false), srv(OP_CONT, 'x')])),
      1007,
    );
    assert.deepEqual(
      feed([srv(OP_BINARY, Buffer.from([0xff]))]).ev,
      [['binary', 'ff']],
      'binary is not checked',
    );
  });

  test('over maxPayload closes with 1009, for one frame and for the sum of fragments', () => {
    assert.equal(errorCode(srv(OP_BINARY, Buffer.alloc(101)), 100), 1009);
    assert.deepEqual(feed([srv(OP_BINARY, Buffer.alloc(100))], 100).ev.length, 1, 'exactly max is fine');
    assert.equal(
      errorCode(
        Buffer.concat([srv(OP_BINARY, Buffer.alloc(60), false), srv(OP_CONT, Buffer.alloc(41))]),
        100,
      ),
      1009,
    );
    const huge = Buffer.from([0x82, 127, 0xff, 0, 0, 0, 0, 0, 0, 0]);
    assert.equal(errorCode(huge), 1009, '64-bit length');
    // Rejected at the header: no payload buffer is allocated for it.
    const st = feed([Buffer.from([0x82, 127, 0, 0, 0, 1, 0, 0, 0, 0])], 1 << 20);
    assert.equal(st.pay, null);
  });

  test('a large declared frame is held as it arrives, not allocated at its header (issue 19)', () => {
    const len = 64 * 1024 * 1024;
    const head = Buffer.from([0x82, 127, 0, 0, 0, 0, len >>> 24, 0, 0, 0]);
    const st = feed([head], len);
    assert.equal(frameBytesHeld(st), 0, 'nothing for the header alone');
    const piece = Buffer.alloc(1000, 3);
    for (let i = 1; i <= 300; i++) {
      parseFrames(st, piece, 0, piece.length, len, rec);
      const got = i * piece.length;
      assert.equal(st.payPos, got);
      assert.ok(
        frameBytesHeld(st) <= Math.max(16 * 1024, 2 * got),
        `held ${frameBytesHeld(st)} after ${got}`,
      );
    }
    // A frame that completes in pieces is delivered whole and then dropped.
    const small = srv(OP_BINARY, Buffer.alloc(50_000, 9));
    const st2 = new St();
    for (let o = 0; o < small.length; o += 999) feed([small.subarray(o, o + 999)], 1 << 20, st2);
    assert.deepEqual(st2.ev, [['binary', '09'.repeat(50_000)]]);
    assert.equal(frameBytesHeld(st2), 0);
  });

  test('fragments are collected into one buffer that never passes the cap', () => {
    const cap = 64 * 1024;
    const st = new St();
    const one = srv(OP_TEXT, 'x', false);
    parseFrames(st, one, 0, one.length, cap, rec);
    const cont = srv(OP_CONT, 'y'.repeat(100), false);
    let n = 1;
    while (n + 100 <= cap) {
      parseFrames(st, cont, 0, cont.length, cap, rec);
      n += 100;
      assert.equal(st.fragLen, n);
      assert.ok(frameBytesHeld(st) <= cap, `held ${frameBytesHeld(st)}`);
    }
    parseFrames(st, cont, 0, cont.length, cap, rec);
    assert.deepEqual(st.ev.at(-1)?.slice(0, 2), ['error', 1009]);
  });

  test('state is reset by resetFrameState', () => {
    const st = feed([srv(OP_TEXT, 'abc', false), Buffer.from([0x80])]);
    assert.notEqual(st.frag, null);
    assert.notEqual(st.hdr, null);
    resetFrameState(st);
    assert.equal(st.frag, null);
    assert.equal(st.hdr, null);
    assert.equal(st.fragOp, 0);
  });
});

// ------------------------------------------------------------------ handshake and classify

describe('handshake', () => {
  test('URLs: schemes, default ports, IPv6 literals, SNI only for names', () => {
    assert.deepEqual(parseWsUrl('ws://example.com/chat?x=1'), {
      secure: false,
      host: 'example.com',
      port: 80,
      hostHeader: 'example.com',
      path: '/chat?x=1',
      servername: undefined,
    });
    const v6 = parseWsUrl('wss://[::1]:8443');
    assert.equal(v6.host, '::1');
    assert.equal(v6.port, 8443);
    assert.equal(v6.hostHeader, '[::1]:8443');
    assert.equal(v6.path, '/');
    assert.equal(v6.servername, undefined);
    assert.equal(parseWsUrl('wss://a.test').port, 443);
    assert.equal(parseWsUrl('wss://a.test').servername, 'a.test');
    assert.throws(() => parseWsUrl('ftp://a.test'), /not a WebSocket URL/);
    assert.throws(() => parseWsUrl('nonsense'));
  });

  test('request carries the handshake headers, user headers and subprotocols', () => {
    const t = parseWsUrl('ws://127.0.0.1:9/p');
    const req = buildUpgradeRequest(t, 'KEY', { Authorization: 'Bearer x', host: 'vhost', Upgrade: 'no' }, [
      'a',
      'b',
    ]);
    assert.match(req, /^GET \/p HTTP\/1\.1\r\nHost: vhost\r\n/);
    assert.match(req, /\r\nUpgrade: websocket\r\n/);
    assert.doesNotMatch(req, /Upgrade: no/);
    assert.match(req, /\r\nSec-WebSocket-Key: KEY\r\nSec-WebSocket-Version: 13\r\n/);
    assert.match(req, /\r\nSec-WebSocket-Protocol: a, b\r\n/);
    assert.match(req, /\r\nAuthorization: Bearer x\r\n\r\n$/);
    assert.throws(() => buildUpgradeRequest(t, 'K', { x: 'a\r\nInjected: 1' }, undefined));
  });

  test('response validation', () => {
    const key = 'dGhlIHNhbXBsZSBub25jZQ==';
    assert.equal(acceptFor(key), 's3pPLMBiTxaQ9kYGzzhZRbK+xOo='); // RFC 6455 section 1.3
    const ok = `HTTP/1.1 101 Switching Protocols\r\nUpgrade: WebSocket\r\nConnection: keep-alive, Upgrade\r\nSec-WebSocket-Accept: ${acceptFor(key)}`;
    assert.deepEqual(checkUpgradeResponse(ok, key, undefined), { ok: true, protocol: undefined });
    assert.deepEqual(checkUpgradeResponse(ok + '\r\nSec-WebSocket-Protocol: b', key, ['a', 'b']), {
      ok: true,
      protocol: 'b',
    });
    const code = (head: string, protocols?: string[]) => {
      const r = checkUpgradeResponse(head, key, protocols);
      return r.ok ? 'ok' : r.code;
    };
    assert.equal(code(ok + '\r\nSec-WebSocket-Protocol: c', ['a']), 'protocol');
    assert.equal(code(ok + '\r\nSec-WebSocket-Extensions: permessage-deflate'), 'protocol');
    assert.equal(code(ok.replace(acceptFor(key), acceptFor('other'))), 'protocol');
    assert.equal(code(ok.replace('WebSocket\r\n', 'h2c\r\n')), 'protocol');
    assert.equal(code(ok.replace('keep-alive, Upgrade', 'close')), 'protocol');
    assert.equal(code('HTTP/1.1 401 Unauthorized\r\nContent-Length: 0'), 'http_401');
    assert.equal(code('SSH-2.0-OpenSSH'), 'protocol');
    assert.equal(parseStatusLine('HTTP/1.0 503 Busy'), 503);
    assert.equal(parseStatusLine('HTTP/1.1 200'), 200);
    assert.equal(parseStatusLine('HTTP/2 200'), -1);
  });
});

describe('classify', () => {
  const errno = (code: string) => Object.assign(new Error('message text is never read'), { code });
  test('errno table', () => {
    const table: [string, string][] = [
      ['ECONNREFUSED', 'refused'],
      ['ECONNRESET', 'reset'],
      ['EPIPE', 'reset'],
      ['ETIMEDOUT', 'timeout'],
      ['ENOTFOUND', 'dns'],
      ['EAI_AGAIN', 'dns'],
      ['ERR_TLS_CERT_ALTNAME_INVALID', 'tls'],
      ['CERT_HAS_EXPIRED', 'tls'],
      ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'tls'],
      ['DEPTH_ZERO_SELF_SIGNED_CERT', 'tls'],
      ['EPROTO', 'tls'],
      ['ERR_SSL_WRONG_VERSION_NUMBER', 'tls'],
      ['EADDRNOTAVAIL', 'ports_exhausted'],
      ['EMFILE', 'fds_exhausted'],
      ['ENFILE', 'fds_exhausted'],
      ['EHOSTUNREACH', 'unreachable'],
      ['ENETUNREACH', 'unreachable'],
      ['EWHATEVER', 'error'],
    ];
    for (const [code, cls] of table) assert.equal(classifyErrno(errno(code)), cls, code);
    assert.equal(classifyErrno(new Error('ECONNREFUSED')), 'error', 'message text is not classified');
    assert.equal(classifyErrno(null), 'error');
    assert.equal(classifyCode(undefined), 'error');
  });
  test('wrapped errors: cause, AggregateError, AbortSignal', () => {
    assert.equal(classifyErrno(new TypeError('fetch failed', { cause: errno('ECONNREFUSED') })), 'refused');
    assert.equal(
      classifyErrno(new AggregateError([errno('EHOSTUNREACH'), errno('ECONNREFUSED')])),
      'unreachable',
    );
    assert.equal(classifyErrno(new DOMException('t', 'TimeoutError')), 'timeout');
    assert.equal(classifyErrno(new DOMException('a', 'AbortError')), 'aborted');
  });
  test('status and close families', () => {
    assert.equal(classifyHttpStatus(503), 'http_503');
    assert.equal(classifyClose(4001), 'closed_4001');
  });
});
