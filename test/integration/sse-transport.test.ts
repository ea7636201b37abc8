import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { SseTransport, sseInfo } from '../../src/transports/sse.js';
import type { Conn, Phase, TransportSink } from '../../src/transports/transport.js';
import { waitFor } from '../helpers/target.js';

// The SSE transport against node:http servers on 127.0.0.1:0 (and a raw net server for a broken
// peer): status and content-type checks, events, ends, errors, reconnection with Last-Event-ID.

class S implements Conn {
  handle: unknown = null;
}

interface Log {
  phases: Phase[];
  opened: number;
  events: string[];
  terminal: { kind: 'closed' | 'failed'; code: string | number; detail: string }[];
  infoAtEnd: ReturnType<typeof sseInfo>[];
}

function sink(): { sink: TransportSink<S>; log: Log } {
  const log: Log = { phases: [], opened: 0, events: [], terminal: [], infoAtEnd: [] };
  return {
    log,
    sink: {
      phase: (_s, p) => log.phases.push(p),
      opened: () => log.opened++,
      message: (_s, data) => log.events.push(data.toString('utf8')),
      pong: () => {},
      closed: (s, code, reason) => {
        log.infoAtEnd.push(sseInfo(s));
        log.terminal.push({ kind: 'closed', code, detail: reason });
      },
      failed: (s, code, detail) => {
        log.infoAtEnd.push(sseInfo(s));
        log.terminal.push({ kind: 'failed', code, detail });
      },
    },
  };
}

async function serve(
  handler: http.RequestListener,
): Promise<{ url: string; server: http.Server; close(): Promise<void> }> {
  const server = http.createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

function streamHead(res: http.ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
  res.flushHeaders();
}

test('opens on the response headers, delivers events split anywhere, reports close on the next tick', async () => {
  let seen: http.IncomingHttpHeaders = {};
  let serverSawClose = false;
  const srv = await serve((req, res) => {
    seen = req.headers;
    res.on('close', () => (serverSawClose = true));
    streamHead(res);
    // One event per write, and one event cut into single bytes.
    res.write('retry: 1000\n: hi\n\n');
    res.write('event: code\nid: 1\ndata: {"code":"A"}\n\n');
    const tail = Buffer.from('data: zwei\r\ndata: Zeilen ü\r\n\r\n');
    for (let i = 0; i < tail.length; i++) res.write(tail.subarray(i, i + 1));
  });
  const { sink: k, log } = sink();
  const t = new SseTransport<S>(k);
  const s = new S();
  try {
    t.open(s, `${srv.url}/events?x=1`, { headers: { Authorization: 'Bearer abc' } });
    await waitFor(() => log.events.length === 2, 'two events');
    assert.equal(log.opened, 1);
    assert.deepEqual(log.phases, ['upgrade', 'first_message']);
    assert.deepEqual(log.events, ['{"code":"A"}', 'zwei\nZeilen ü']);
    assert.equal(seen.accept, 'text/event-stream');
    assert.equal(seen.authorization, 'Bearer abc');
    assert.equal(seen['last-event-id'], undefined);
    const info = sseInfo(s)!;
    assert.equal(info.lastEventId, '1');
    assert.equal(info.comments, 1);
    assert.equal(t.send(), false, 'SSE is one-way');
    t.close(s, 1000);
    assert.equal(s.handle, null);
    assert.equal(log.terminal.length, 0, 'reported on the next tick, not inside close()');
    await waitFor(() => log.terminal.length === 1, 'the close callback');
    assert.deepEqual(log.terminal[0], { kind: 'closed', code: 1000, detail: '' });
    await waitFor(() => serverSawClose, 'the server to see the stream closed');
  } finally {
    await t.destroy();
    await srv.close();
  }
});

test('refusals: non-2xx, 204, wrong content type, nothing listening', async () => {
  const srv = await serve((req, res) => {
    if (req.url === '/503') res.writeHead(503, 'Busy').end('try later');
    else if (req.url === '/204') res.writeHead(204).end();
    else res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
  const closed = net.createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const deadPort = (closed.address() as AddressInfo).port;
  await new Promise<void>((r) => closed.close(() => r()));
  const { sink: k, log } = sink();
  const t = new SseTransport<S>(k, { reconnect: true });
  try {
    for (const u of [
      `${srv.url}/503`,
      `${srv.url}/204`,
      `${srv.url}/json`,
      `http://127.0.0.1:${deadPort}/`,
    ]) {
      t.open(new S(), u, { headers: {} });
    }
    t.open(new S(), 'ws://127.0.0.1:1/', { headers: {} });
    await waitFor(() => log.terminal.length === 5, 'five refusals');
    const byCode = log.terminal.map((x) => `${x.kind}:${x.code}`).sort();
    assert.deepEqual(byCode, [
      'failed:error',
      'failed:http_204',
      'failed:http_503',
      'failed:protocol',
      'failed:refused',
    ]);
    assert.equal(log.opened, 0);
    assert.match(log.terminal.find((x) => x.code === 'protocol')!.detail, /application\/json/);
    assert.match(log.terminal.find((x) => x.code === 'http_503')!.detail, /503 Busy/);
  } finally {
    await t.destroy();
    await srv.close();
  }
});

test('a stream the server ends is closed(1006) without --reconnect; a reset is failed(reset)', async () => {
  const srv = await serve((req, res) => {
    streamHead(res);
    res.write('data: one\n\n');
    if (req.url === '/end') res.end();
    else setImmediate(() => req.socket.resetAndDestroy());
  });
  const { sink: k, log } = sink();
  const t = new SseTransport<S>(k);
  try {
    const a = new S();
    t.open(a, `${srv.url}/end`, { headers: {} });
    await waitFor(() => log.terminal.length === 1, 'the end of the stream');
    assert.deepEqual(log.terminal[0], {
      kind: 'closed',
      code: 1006,
      detail: 'the server ended the event stream',
    });
    assert.equal(log.infoAtEnd[0]?.lastEventId, '', 'sseInfo is readable during the terminal callback');
    assert.equal(a.handle, null);
    t.open(new S(), `${srv.url}/reset`, { headers: {} });
    await waitFor(() => log.terminal.length === 2, 'the reset');
    assert.equal(log.terminal[1].kind, 'failed');
    assert.equal(log.terminal[1].code, 'reset');
    assert.deepEqual(log.events, ['one', 'one']);
  } finally {
    await t.destroy();
    await srv.close();
  }
});

test('reconnects after a drop with Last-Event-ID, after the retry the server asked for', async () => {
  const requests: { lastEventId: string | undefined; at: number }[] = [];
  const srv = await serve((req, res) => {
    requests.push({ lastEventId: req.headers['last-event-id'] as string | undefined, at: performance.now() });
    streamHead(res);
    if (requests.length === 1) {
      res.write('retry: 150\n\nid: 1\ndata: a\n\nid: 2\ndata: b\n\n');
      setImmediate(() => res.end()); // the drop
    } else {
      res.write('id: 3\ndata: c\n\n');
    }
  });
  const { sink: k, log } = sink();
  const t = new SseTransport<S>(k);
  const s = new S();
  try {
    t.open(s, `${srv.url}/events`, { headers: {}, reconnect: true });
    await waitFor(() => log.events.length === 3, 'the event after the reconnection');
    assert.deepEqual(log.events, ['a', 'b', 'c']);
    assert.equal(requests.length, 2);
    assert.equal(requests[0].lastEventId, undefined);
    assert.equal(requests[1].lastEventId, '2');
    assert.ok(requests[1].at - requests[0].at >= 140, 'waited for retry: 150');
    assert.equal(log.opened, 1, 'the sink saw one connection');
    assert.equal(log.terminal.length, 0, 'and no end');
    const info = sseInfo(s)!;
    assert.equal(info.reconnects, 1);
    assert.equal(info.dropCount, 1);
    assert.equal(info.drops?.[0].reason, 'closed_1006');
    assert.equal(info.lastEventId, '3');
  } finally {
    t.close(s);
    await t.destroy();
    await srv.close();
  }
});

test('reconnection keeps trying while the server is down; a refusal then ends the session', async () => {
  let n = 0;
  const srv = await serve((req, res) => {
    n++;
    if (n === 1) {
      streamHead(res);
      res.write('retry: 20\nid: 9\ndata: a\n\n');
      setImmediate(() => req.socket.destroy());
    } else if (n < 4) {
      req.socket.destroy(); // network errors: keep trying
    } else {
      res.writeHead(401).end();
    }
  });
  const { sink: k, log } = sink();
  const t = new SseTransport<S>(k, { reconnect: true });
  try {
    t.open(new S(), `${srv.url}/`, { headers: {} });
    await waitFor(() => log.terminal.length === 1, 'the refusal');
    assert.equal(n, 4);
    assert.equal(log.terminal[0].code, 'http_401');
    const info = log.infoAtEnd[0]!;
    assert.equal(info.reconnects, 0);
    assert.equal(info.dropCount, 1);
  } finally {
    await t.destroy();
    await srv.close();
  }
});

test('close() while waiting to reconnect reports closed; close() before the headers reports aborted', async () => {
  let hold: http.ServerResponse | null = null;
  const srv = await serve((req, res) => {
    if (req.url === '/slow') {
      hold = res; // never answers
      return;
    }
    streamHead(res);
    res.write('retry: 60000\ndata: a\n\n');
    setImmediate(() => res.end());
  });
  const { sink: k, log } = sink();
  const t = new SseTransport<S>(k, { reconnect: true });
  try {
    const a = new S();
    t.open(a, `${srv.url}/events`, { headers: {} });
    await waitFor(() => sseInfo(a)?.dropCount === 1, 'the drop');
    t.close(a, 1000);
    const b = new S();
    t.open(b, `${srv.url}/slow`, { headers: {} });
    await waitFor(() => hold !== null, 'the slow request to arrive');
    t.close(b);
    await waitFor(() => log.terminal.length === 2, 'both ends');
    assert.deepEqual(
      log.terminal.map((x) => `${x.kind}:${x.code}`),
      ['closed:1000', 'failed:aborted'],
    );
    const c = new S();
    t.open(c, `${srv.url}/events`, { headers: {} });
    await waitFor(() => log.events.length === 2, 'an event');
    t.terminate(c);
    assert.equal(c.handle, null);
    await new Promise((r) => setImmediate(r));
    assert.equal(log.terminal.length, 2, 'terminate() reports nothing');
  } finally {
    await t.destroy();
    await srv.close();
  }
});
