// Conformance of the lean WebSocket client against the `ws` library's server, and against raw
// `net` servers playing broken peers. One file on purpose: it is the transport's whole contract.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import https from 'node:https';
import { createHash } from 'node:crypto';
import { WebSocketServer, type WebSocket } from 'ws';
import { WsClientTransport, type WsClientOptions } from '../../src/transports/wsclient.js';
import { DEFAULT_MAX_MESSAGE, frameBytesHeld, type FrameState } from '../../src/transports/ws-frame.js';
import type { Conn, TransportSink } from '../../src/transports/transport.js';
import { HoldlineError } from '../../src/errors.js';

// ------------------------------------------------------------------ waiting on conditions

// Every sink callback and server event pokes; a wait resolves when its condition holds, or
// fails at its deadline. No sleeps.
const waits: { cond: () => boolean; done: () => void }[] = [];
function poke(): void {
  for (let i = waits.length - 1; i >= 0; i--) {
    if (waits[i].cond()) waits.splice(i, 1)[0].done();
  }
}
function until(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  if (cond()) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const w = { cond, done: () => (clearTimeout(timer), resolve()) };
    const timer = setTimeout(() => {
      waits.splice(waits.indexOf(w), 1);
      reject(new Error(`timed out waiting for ${what}`));
    }, ms);
    waits.push(w);
  });
}

// ------------------------------------------------------------------ a recording sink

interface End {
  kind: 'closed' | 'failed';
  code: number | string;
  detail: string;
}
class Sess implements Conn {
  handle: unknown = null;
  opened = false;
  phases: Record<string, number> = {};
  msgs: { data: Buffer; binary: boolean }[] = [];
  pongs = 0;
  end: End | null = null;
  /** Callbacks after the terminal one: must stay 0. */
  late = 0;
}
let violations = 0;
const sink: TransportSink<Sess> = {
  phase: (s, p, us) => {
    if (s.end) s.late++;
    assert.ok(us >= 0 && Number.isFinite(us));
    s.phases[p] = us;
  },
  opened: (s) => void (s.end ? s.late++ : (s.opened = true), poke()),
  message: (s, data, binary) =>
    void (s.end && s.late++, s.msgs.push({ data: Buffer.from(data), binary }), poke()),
  pong: (s) => void (s.end && s.late++, s.pongs++, poke()),
  closed: (s, code, detail) => terminal(s, { kind: 'closed', code, detail }),
  failed: (s, code, detail) => terminal(s, { kind: 'failed', code, detail }),
};
function terminal(s: Sess, e: End): void {
  if (s.end) {
    s.late++;
    violations++;
  } else s.end = e;
  poke();
}
after(() => assert.equal(violations, 0, 'exactly one terminal callback per connection'));

function client(opts?: WsClientOptions): WsClientTransport<Sess> {
  return new WsClientTransport<Sess>(sink, opts);
}
async function openOne(
  t: WsClientTransport<Sess>,
  url: string,
  headers: Record<string, string> = {},
): Promise<Sess> {
  const s = new Sess();
  t.open(s, url, { headers });
  await until(() => s.opened || s.end !== null, 'open');
  return s;
}
async function ended(s: Sess): Promise<End> {
  await until(() => s.end !== null, 'a terminal callback');
  assert.equal(s.late, 0, 'no callback after the terminal one');
  return s.end!;
}

// ------------------------------------------------------------------ servers

async function wsServer(
  onConn: (ws: WebSocket, req: { headers: Record<string, unknown> }) => void = echo,
  opts: Record<string, unknown> = {},
): Promise<{ url: string; wss: WebSocketServer }> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, ...opts });
  await new Promise((r) => wss.once('listening', r));
  wss.on('connection', (ws, req) => {
    ws.on('error', () => {});
    onConn(ws, req);
    poke();
  });
  after(() => {
    for (const c of wss.clients) c.terminate();
    wss.close();
  });
  return { url: `ws://127.0.0.1:${(wss.address() as net.AddressInfo).port}`, wss };
}
function echo(ws: WebSocket): void {
  ws.on('message', (data, isBinary) => ws.send(data as Buffer, { binary: isBinary }));
}

/** A raw server: reads the upgrade request, then hands the socket to the test. */
async function rawServer(onUpgrade: (sock: net.Socket, key: string, rest: Buffer) => void): Promise<string> {
  const socks = new Set<net.Socket>();
  const server = net.createServer((sock) => {
    socks.add(sock);
    sock.on('error', () => {});
    let buf = Buffer.alloc(0);
    const onData = (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      sock.off('data', onData);
      const key = /sec-websocket-key: (\S+)/i.exec(buf.toString('latin1', 0, end))![1];
      onUpgrade(sock, key, buf.subarray(end + 4));
      poke();
    };
    sock.on('data', onData);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  after(() => {
    for (const sock of socks) sock.destroy();
    server.close();
  });
  return `ws://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
}
const accept = (key: string) =>
  createHash('sha1')
    .update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11')
    .digest('base64');
const ok101 = (key: string) =>
  `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept(key)}\r\n\r\n`;
/** An unmasked server frame. */
function frame(first: number, payload: Buffer | string): Buffer {
  const p = Buffer.from(payload);
  const h =
    p.length < 126
      ? Buffer.from([first, p.length])
      : Buffer.from([first, 126, p.length >> 8, p.length & 255]);
  return Buffer.concat([h, p]);
}

/** Client frames as a raw server sees them: every one must be masked. */
interface ClientFrame {
  op: number;
  fin: boolean;
  key: string;
  payload: Buffer;
}
function readClientFrames(sock: net.Socket, first: Buffer, out: ClientFrame[]): void {
  let buf = first;
  const parse = () => {
    for (;;) {
      if (buf.length < 2) return;
      let len = buf[1] & 0x7f;
      let o = 2;
      if (len === 126) {
        if (buf.length < 4) return;
        len = buf.readUInt16BE(2);
        o = 4;
      } else if (len === 127) {
        if (buf.length < 10) return;
        len = Number(buf.readBigUInt64BE(2));
        o = 10;
      }
      assert.ok(buf[1] & 0x80, 'client frames are masked');
      if (buf.length < o + 4 + len) return;
      const key = buf.subarray(o, o + 4);
      const payload = Buffer.alloc(len);
      for (let i = 0; i < len; i++) payload[i] = buf[o + 4 + i] ^ key[i & 3];
      out.push({ op: buf[0] & 0x0f, fin: (buf[0] & 0x80) !== 0, key: key.toString('hex'), payload });
      buf = buf.subarray(o + 4 + len);
      poke();
    }
  };
  sock.on('data', (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    parse();
  });
  parse();
}
const closeCodeOf = (f: ClientFrame | undefined) => (f && f.op === 8 ? f.payload.readUInt16BE(0) : -1);

// ------------------------------------------------------------------ handshake

describe('handshake', () => {
  test('upgrades with user headers and a subprotocol; times connect and upgrade', async () => {
    let seen: Record<string, unknown> = {};
    const { url } = await wsServer((ws, req) => {
      seen = { ...req.headers, protocol: ws.protocol };
      ws.send('welcome');
    });
    const t = client();
    const s = new Sess();
    assert.equal(t.send(s, 'x'), false, 'send before open');
    t.open(s, url + '/chat?room=1', { headers: { 'X-Test': 'yes' }, protocols: ['chat.v2', 'chat.v1'] });
    assert.equal(t.send(s, 'x'), false, 'send while connecting');
    await until(() => s.msgs.length === 1, 'welcome');
    assert.equal(s.opened, true);
    assert.equal(seen['x-test'], 'yes');
    assert.equal(seen.protocol, 'chat.v2');
    assert.equal(seen['sec-websocket-version'], '13');
    assert.equal(Buffer.from(String(seen['sec-websocket-key']), 'base64').length, 16);
    assert.deepEqual(Object.keys(s.phases).sort(), ['connect', 'first_message', 'upgrade']);
    t.terminate(s);
  });

  test('a hostname is looked up (dns phase)', async () => {
    const { url } = await wsServer();
    const t = client();
    const s = await openOne(t, url.replace('127.0.0.1', 'localhost'));
    assert.equal(s.opened, true, JSON.stringify(s.end));
    assert.ok('dns' in s.phases && 'connect' in s.phases);
    t.terminate(s);
  });

  test('a source address (localAddress) and an IPv6 literal', async (t) => {
    let remote = '';
    const { url } = await wsServer((_ws, req) => {
      remote = (req as unknown as { socket: net.Socket }).socket.remoteAddress ?? '';
    });
    const tr = client();
    const s = new Sess();
    tr.open(s, url, { headers: {}, localAddress: '127.0.0.2' });
    await until(() => s.opened || s.end !== null, 'open from 127.0.0.2');
    assert.equal(s.opened, true, JSON.stringify(s.end));
    assert.equal(remote, '127.0.0.2');
    tr.terminate(s);
    const v6 = new WebSocketServer({ host: '::1', port: 0 });
    const listening = await new Promise<boolean>((r) => {
      v6.once('listening', () => r(true));
      v6.once('error', () => r(false));
    });
    if (!listening) return t.skip('no IPv6 loopback here');
    after(() => {
      for (const c of v6.clients) c.terminate();
      v6.close();
    });
    v6.on('connection', (ws) => ws.send('over v6'));
    const s6 = await openOne(tr, `ws://[::1]:${(v6.address() as net.AddressInfo).port}/`);
    await until(() => s6.msgs.length === 1, 'a message over IPv6');
    tr.terminate(s6);
  });

  test('non-101 answers fail as http_<status>', async () => {
    const { url } = await wsServer(echo, {
      verifyClient: (_i: unknown, cb: (ok: boolean, code: number) => void) => cb(false, 401),
    });
    assert.deepEqual(await ended(await openOne(client(), url)), {
      kind: 'failed',
      code: 'http_401',
      detail: 'HTTP/1.1 401 Unauthorized',
    });
    // Only the status line is needed: a 503 with a huge head still says 503.
    const raw = await rawServer((sock) => sock.write('HTTP/1.1 503 Busy\r\nX-Pad: ' + 'x'.repeat(40_000)));
    const e = await ended(await openOne(client(), raw));
    assert.equal(e.code, 'http_503');
  });

  test('a bad accept key, garbage, an oversized head, a head cut short: protocol', async () => {
    const urls = [
      await rawServer((sock, key) => sock.write(ok101(key).replace(accept(key), accept('nope')))),
      await rawServer((sock) => sock.write('SSH-2.0-OpenSSH_9.6\r\n')),
      await rawServer((sock) =>
        sock.write('HTTP/1.1 101 Switching Protocols\r\nX-Pad: ' + 'x'.repeat(20_000)),
      ),
      await rawServer((sock) => sock.end('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n')),
      await rawServer((sock, key) =>
        sock.write(ok101(key).replace('\r\n\r\n', '\r\nSec-WebSocket-Extensions: x\r\n\r\n')),
      ),
    ];
    for (const u of urls) {
      const e = await ended(await openOne(client(), u));
      assert.equal(e.kind, 'failed');
      assert.equal(e.code, 'protocol', `${u}: ${e.detail}`);
    }
  });

  test('nothing listening: refused; closed before any answer: reset; bad URL: error', async () => {
    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise((r) => probe.close(r));
    assert.equal((await ended(await openOne(client(), `ws://127.0.0.1:${port}`))).code, 'refused');
    const hangup = await rawServer((sock) => sock.destroy());
    assert.equal((await ended(await openOne(client(), hangup))).code, 'reset');
    const s = new Sess();
    client().open(s, 'ftp://127.0.0.1/', { headers: {} });
    assert.equal(s.end, null, 'reported asynchronously');
    assert.equal((await ended(s)).code, 'error');
  });

  test('frames in the same chunk as the 101 are not lost', async () => {
    const url = await rawServer((sock, key) =>
      sock.write(Buffer.concat([Buffer.from(ok101(key)), frame(0x81, 'early'), frame(0x82, 'two')])),
    );
    const t = client();
    const s = await openOne(t, url);
    await until(() => s.msgs.length === 2, 'both early frames');
    assert.deepEqual(
      s.msgs.map((m) => [m.data.toString(), m.binary]),
      [
        ['early', false],
        ['two', true],
      ],
    );
    t.terminate(s);
  });

  test('compression is refused with a pointer to the ws-library transport', () => {
    assert.throws(
      () => client().open(new Sess(), 'ws://127.0.0.1:1', { headers: {}, compression: true }),
      (e: unknown) =>
        e instanceof HoldlineError && e.code === 'unsupported' && /ws-library/.test(e.hint ?? ''),
    );
  });

  test('wss: a self-signed certificate fails as tls; insecure connects and times tls', async () => {
    const server = https.createServer({ key: TLS_KEY, cert: TLS_CERT });
    const wss = new WebSocketServer({ server });
    wss.on('connection', (ws) => ws.send('secure hello'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    after(() => {
      for (const c of wss.clients) c.terminate();
      server.close();
    });
    const url = `wss://127.0.0.1:${(server.address() as net.AddressInfo).port}/`;
    const bad = await ended(await openOne(client(), url));
    assert.deepEqual([bad.kind, bad.code], ['failed', 'tls']);
    const t = client({ insecure: true });
    const s = await openOne(t, url);
    await until(() => s.msgs.length === 1, 'message over TLS');
    assert.equal(s.msgs[0].data.toString(), 'secure hello');
    assert.deepEqual(Object.keys(s.phases).sort(), ['connect', 'first_message', 'tls', 'upgrade']);
    assert.ok(t.send(s, 'x'.repeat(70_000)));
    t.close(s);
    assert.deepEqual(await ended(s), { kind: 'closed', code: 1000, detail: '' });
  });
});

// ------------------------------------------------------------------ data frames

describe('messages', () => {
  test('echo of text and binary at every length encoding', async () => {
    const { url } = await wsServer();
    const t = client();
    const s = await openOne(t, url);
    const sizes = [0, 125, 126, 65535, 65536, 1 << 20];
    const sent: { data: Buffer; binary: boolean }[] = [];
    for (const n of sizes) {
      const bin = Buffer.alloc(n);
      for (let i = 0; i < n; i++) bin[i] = (i * 31) & 0xff;
      const text = 'aé€'.repeat(Math.floor(n / 6)) + 'z'.repeat(n % 6);
      assert.ok(t.send(s, bin));
      sent.push({ data: bin, binary: true });
      await until(() => s.msgs.length === sent.length, `binary echo of ${n}`);
      assert.ok(t.send(s, text));
      sent.push({ data: Buffer.from(text), binary: false });
      await until(() => s.msgs.length === sent.length, `text echo of ${n}`);
    }
    for (let i = 0; i < sent.length; i++) {
      assert.equal(s.msgs[i].binary, sent[i].binary, `message ${i} type`);
      assert.ok(s.msgs[i].data.equals(sent[i].data), `message ${i} content (${sent[i].data.length} bytes)`);
    }
    t.close(s);
    assert.equal((await ended(s)).code, 1000);
  });

  test('fragmented messages from the server are reassembled', async () => {
    const { url } = await wsServer((ws) => {
      ws.send('frag', { fin: false });
      ws.send('men', { fin: false });
      ws.send('ted', { fin: true });
      ws.send(Buffer.from([1, 2]), { binary: true, fin: false });
      ws.send(Buffer.from([3]), { binary: true, fin: true });
    });
    const t = client();
    const s = await openOne(t, url);
    await until(() => s.msgs.length === 2, 'two messages');
    assert.deepEqual(
      s.msgs.map((m) => [m.data.toString('hex'), m.binary]),
      [
        [Buffer.from('fragmented').toString('hex'), false],
        ['010203', true],
      ],
    );
    t.terminate(s);
  });

  test('ping from the server is answered with the same payload; client ping gets a pong', async () => {
    const pongs: string[] = [];
    const { url } = await wsServer((ws) => {
      ws.on('pong', (d) => (pongs.push(d.toString()), poke()));
      ws.ping('are you there');
    });
    const t = client();
    const s = await openOne(t, url);
    await until(() => pongs.length === 1, 'pong on the server');
    assert.deepEqual(pongs, ['are you there']);
    t.ping(s);
    t.ping(s);
    await until(() => s.pongs === 2, 'two pongs on the client');
    t.terminate(s);
  });
});

// ------------------------------------------------------------------ closing

describe('close', () => {
  test('client close(1000): the server sees 1000 and the client reports the echo', async () => {
    const codes: number[] = [];
    const { url } = await wsServer((ws) => ws.on('close', (c) => (codes.push(c), poke())));
    const t = client();
    const s = await openOne(t, url);
    t.close(s, 1000);
    assert.equal(t.send(s, 'late'), false, 'no sends once closing');
    assert.deepEqual(await ended(s), { kind: 'closed', code: 1000, detail: '' });
    await until(() => codes.length === 1, 'server close');
    assert.deepEqual(codes, [1000]);
  });

  test('server close(4001, "bye"): closed(4001, "bye") and the code is echoed', async () => {
    const codes: number[] = [];
    const { url } = await wsServer((ws) => {
      ws.on('close', (c) => (codes.push(c), poke()));
      ws.close(4001, 'bye');
    });
    const s = await openOne(client(), url);
    assert.deepEqual(await ended(s), { kind: 'closed', code: 4001, detail: 'bye' });
    await until(() => codes.length === 1, 'server close');
    assert.deepEqual(codes, [4001]);
  });

  test('a close frame without a code is 1005', async () => {
    const got: ClientFrame[] = [];
    const url = await rawServer((sock, key, rest) => {
      readClientFrames(sock, rest, got);
      sock.write(Buffer.concat([Buffer.from(ok101(key)), Buffer.from([0x88, 0])]));
    });
    const s = await openOne(client(), url);
    assert.deepEqual(await ended(s), { kind: 'closed', code: 1005, detail: '' });
    await until(() => got.length === 1, 'the close reply');
    assert.deepEqual([got[0].op, got[0].payload.length], [8, 0], 'empty close echoed');
  });

  test('a reset after the close handshake makes no second callback', async () => {
    const url = await rawServer((sock, key) => {
      sock.write(Buffer.concat([Buffer.from(ok101(key)), frame(0x88, Buffer.from([0x03, 0xe8]))]));
      sock.on('data', () => sock.resetAndDestroy()); // our close reply
    });
    const t = client();
    const s = new Sess();
    t.open(s, url, { headers: {} });
    const sock = (s.handle as { sock: net.Socket }).sock;
    sock.once('close', poke);
    assert.deepEqual(await ended(s), { kind: 'closed', code: 1000, detail: '' });
    await until(() => sock.closed, 'the client socket closed');
    assert.equal(s.late, 0);
  });

  test('close() before the 101: failed(aborted)', async () => {
    const url = await rawServer(() => {});
    const t = client();
    const s = new Sess();
    t.open(s, url, { headers: {} });
    t.close(s);
    assert.deepEqual(await ended(s), {
      kind: 'failed',
      code: 'aborted',
      detail: 'closed before the connection opened',
    });
  });

  test('server socket ended without a close frame: closed(1006); reset: failed(reset)', async () => {
    const { url } = await wsServer((ws) =>
      ws.on('message', () => (ws as unknown as { _socket: net.Socket })._socket.destroy()),
    );
    const t = client();
    const s = await openOne(t, url);
    t.send(s, 'bye');
    assert.deepEqual(await ended(s), { kind: 'closed', code: 1006, detail: '' });
    const raw = await rawServer((sock, key) => {
      sock.write(ok101(key));
      sock.on('data', () => sock.resetAndDestroy());
    });
    const r = await openOne(t, raw);
    t.send(r, 'x');
    assert.deepEqual([(await ended(r)).kind, r.end!.code], ['failed', 'reset']);
  });

  test('terminate is silent and final; the server sees 1006', async () => {
    const codes: number[] = [];
    const { url } = await wsServer((ws) => ws.on('close', (c) => (codes.push(c), poke())));
    const t = client();
    const s = await openOne(t, url);
    t.terminate(s);
    t.terminate(s);
    await until(() => codes.length === 1, 'server close');
    assert.deepEqual(codes, [1006]);
    assert.equal(s.end, null, 'no callback after terminate');
    assert.equal(t.send(s, 'x'), false);
  });
});

// ------------------------------------------------------------------ broken servers

describe('protocol violations', () => {
  async function violate(payload: Buffer, want: number, opts?: WsClientOptions): Promise<void> {
    const got: ClientFrame[] = [];
    const url = await rawServer((sock, key, rest) => {
      readClientFrames(sock, rest, got);
      sock.write(Buffer.concat([Buffer.from(ok101(key)), payload]));
    });
    const s = await openOne(client(opts), url);
    const e = await ended(s);
    assert.deepEqual([e.kind, e.code], ['failed', 'protocol']);
    assert.match(e.detail, new RegExp(`^${want}: `));
    await until(() => got.length === 1, 'the close frame');
    assert.equal(closeCodeOf(got[0]), want);
  }
  test('invalid UTF-8 in text: close 1007', () =>
    violate(frame(0x81, Buffer.from([0x68, 0xc3, 0x28])), 1007));
  test('masked server frame: close 1002', () => violate(Buffer.from([0x81, 0x81, 1, 2, 3, 4, 0x61]), 1002));
  test('reserved bits: close 1002', () => violate(Buffer.from([0xc1, 0x00]), 1002));
  test('frame over maxPayload: close 1009', () =>
    violate(frame(0x82, Buffer.alloc(2000)), 1009, { maxPayload: 1000 }));
  test('a ws server sending over maxPayload: close 1009 seen by the server', async () => {
    const codes: number[] = [];
    const { url } = await wsServer((ws) => {
      ws.on('close', (c) => (codes.push(c), poke()));
      ws.send(Buffer.alloc(5000));
    });
    const e = await ended(await openOne(client({ maxPayload: 4096 }), url));
    assert.equal(e.code, 'protocol');
    await until(() => codes.length === 1, 'server close');
    assert.deepEqual(codes, [1009]);
  });
});

// ------------------------------------------------------------------ hostile frame sizes (issue 19)

/** A server frame header declaring `len` bytes (64-bit length), unmasked. */
function header64(first: number, len: number): Buffer {
  const h = Buffer.alloc(10);
  h[0] = first;
  h[1] = 127;
  h.writeUInt32BE(Math.floor(len / 0x100000000), 2);
  h.writeUInt32BE(len >>> 0, 6);
  return h;
}
const MiB = 1024 * 1024;

describe('declared frame sizes', () => {
  test('a 64 MiB frame over the default cap: close 1009 at its header', async () => {
    assert.ok(DEFAULT_MAX_MESSAGE < 64 * MiB);
    const got: ClientFrame[] = [];
    const url = await rawServer((sock, key, rest) => {
      readClientFrames(sock, rest, got);
      // The header, then the payload trickling in: the client must not wait for it.
      sock.write(Buffer.concat([Buffer.from(ok101(key)), header64(0x82, 64 * MiB), Buffer.alloc(1024, 7)]));
    });
    const s = await openOne(client(), url);
    const e = await ended(s);
    assert.deepEqual([e.kind, e.code], ['failed', 'protocol']);
    assert.match(e.detail, /^1009: /);
    await until(() => got.length === 1, 'the close frame');
    assert.equal(closeCodeOf(got[0]), 1009);
  });

  test('a trickled message is held as it arrives, never past the cap; a 64 MiB frame then closes 1009', async () => {
    const cap = 1 * MiB;
    const piece = Buffer.alloc(4096, 0x61);
    const pieces = 200; // 800 KiB of fragments, under the cap
    const got: ClientFrame[] = [];
    let server: net.Socket | null = null;
    const url = await rawServer((sock, key, rest) => {
      server = sock;
      readClientFrames(sock, rest, got);
      sock.write(ok101(key));
    });
    const s = await openOne(client({ maxPayload: cap }), url);
    const st = s.handle as FrameState;
    const pongs = () => got.filter((f) => f.op === 0xa).length;
    let held = 0;
    for (let i = 0; i < pieces; i++) {
      // Fragment i, then a ping: its pong says the client parsed everything before it.
      server!.write(Buffer.concat([frame(i === 0 ? 0x01 : 0x00, piece), frame(0x89, String(i))]));
      await until(() => pongs() === i + 1, `pong ${i}`);
      const received = (i + 1) * piece.length;
      held = frameBytesHeld(st);
      assert.ok(held >= received, `holds what arrived (${held} < ${received})`);
      assert.ok(held <= Math.min(cap, 2 * received), `holds ${held} bytes after ${received} arrived`);
    }
    assert.equal(st.fragLen, pieces * piece.length);
    // The continuation that would take the message past the cap: refused at its header.
    server!.write(Buffer.concat([header64(0x80, 64 * MiB), piece]));
    const e = await ended(s);
    assert.deepEqual([e.kind, e.code], ['failed', 'protocol']);
    assert.match(e.detail, /^1009: message over maxPayload \(1048576 bytes\)/);
    await until(() => got.some((f) => f.op === 8), 'the close frame');
    assert.equal(closeCodeOf(got.find((f) => f.op === 8)), 1009);
    assert.equal(frameBytesHeld(st), 0, 'nothing kept once closed');
  });
});

// ------------------------------------------------------------------ masking and scale

test('every client frame is masked with a distinct key and decodes exactly', async () => {
  const got: ClientFrame[] = [];
  const url = await rawServer((sock, key, rest) => {
    readClientFrames(sock, rest, got);
    sock.write(ok101(key));
  });
  const t = client();
  const s = await openOne(t, url);
  const sent: string[] = [];
  for (let i = 0; i < 100; i++) {
    const m = i % 2 ? `message ${i} ${'é'.repeat(i)}` : 'x'.repeat(i * 50);
    sent.push(m);
    assert.ok(t.send(s, m));
  }
  t.send(s, Buffer.from([9, 9, 9]));
  t.ping(s);
  t.close(s, 1000);
  await until(() => got.length === 103, 'all frames on the server');
  assert.deepEqual(
    got.slice(0, 100).map((f) => f.payload.toString()),
    sent,
  );
  assert.deepEqual(
    got.slice(100).map((f) => [f.op, f.fin]),
    [
      [2, true],
      [9, true],
      [8, true],
    ],
  );
  assert.equal(closeCodeOf(got[102]), 1000);
  assert.equal(new Set(got.map((f) => f.key)).size, got.length, 'distinct mask keys');
  t.terminate(s);
});

test('2,000 connections opened and closed, with exact counts on both sides', async () => {
  const N = 2000;
  let serverConns = 0;
  const serverCloses = new Map<number, number>();
  const { url } = await wsServer((ws) => {
    serverConns++;
    ws.on('close', (c) => (serverCloses.set(c, (serverCloses.get(c) ?? 0) + 1), poke()));
  });
  const t = client();
  const sessions: Sess[] = [];
  for (let b = 0; b < N; b += 250) {
    const batch: Sess[] = [];
    for (let i = 0; i < 250; i++) {
      const s = new Sess();
      batch.push(s);
      t.open(s, url, { headers: {} });
    }
    await until(() => batch.every((s) => s.opened || s.end), `batch ${b / 250} open`);
    sessions.push(...batch);
  }
  assert.equal(sessions.filter((s) => s.opened && !s.end).length, N, 'all opened');
  assert.equal(serverConns, N);
  for (const s of sessions) t.close(s, 1000);
  await until(() => sessions.every((s) => s.end), 'all closed', 15_000);
  assert.equal(sessions.filter((s) => s.end!.kind === 'closed' && s.end!.code === 1000).length, N);
  await until(() => (serverCloses.get(1000) ?? 0) === N, 'server closes', 15_000);
  assert.deepEqual([...serverCloses], [[1000, N]]);
});

// A self-signed EC certificate for 127.0.0.1 and localhost, valid until 2126; test use only.
const TLS_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgOifS1iP5bq4vDyVC
f7/S8MpiLx1OL31DvsiQc2Aahc+hRANCAASI1PrbGxBNNGzn/1LlQ45QP937Sjy0
lThNciZ0HaWexkek5eK8qh0btV6gZNoW91GWrs6whOv9NCQToFzyN+dU
-----END PRIVATE KEY-----
`;
const TLS_CERT = `-----BEGIN CERTIFICATE-----
MIIBmzCCAUGgAwIBAgIUbqsAulPYGU+BmT+V/o7UM9MEwNUwCgYIKoZIzj0EAwIw
FDESMBAGA1UEAwwJbG9jYWxob3N0MCAXDTI2MTEyMzEyMzk0N1oYDzIxMjYxMDMw
MTIzOTQ3WjAUMRIwEAYDVQQDDAlsb2NhbGhvc3QwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAASI1PrbGxBNNGzn/1LlQ45QP937Sjy0lThNciZ0HaWexkek5eK8qh0b
tV6gZNoW91GWrs6whOv9NCQToFzyN+dUo28wbTAdBgNVHQ4EFgQU2yiX+SpmqbSk
AKdEGonStPiYOr8wHwYDVR0jBBgwFoAU2yiX+SpmqbSkAKdEGonStPiYOr8wDwYD
VR0TAQH/BAUwAwEB/zAaBgNVHREEEzARgglsb2NhbGhvc3SHBH8AAAEwCgYIKoZI
zj0EAwIDSAAwRQIhANrpQrSgUZeDU6Ra5w/Bi4fupQ1DdAGbppo7i3AVm1NwAiBK
dA6g5cg7n9ArJCngPVqYM6YNFNUC2WDk3PrRjBDplQ==
-----END CERTIFICATE-----
`;
