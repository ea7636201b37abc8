import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type WebSocket from 'ws';
import { spawnTarget } from '../../src/target/spawn.js';
import { nextJson, openWs, waitFor } from '../helpers/target.js';

// `--workers 2` without Redis: the workers share groups, group messages and codes through their
// primary, so a client may create a group on one worker and talk to members on the other.

/** A WebSocket on each of the two workers (told apart by the welcome's connection id). */
async function onBothWorkers(wsUrl: string): Promise<[WebSocket, WebSocket, WebSocket[]]> {
  const byWorker = new Map<string, WebSocket>();
  const all: WebSocket[] = [];
  for (let i = 0; i < 50 && byWorker.size < 2; i++) {
    const ws = await openWs(wsUrl);
    all.push(ws);
    const hello = await nextJson(ws);
    const w = String(hello.connId).split('-')[0];
    if (!byWorker.has(w)) byWorker.set(w, ws);
  }
  assert.equal(byWorker.size, 2, 'connections reached both workers');
  const [a, b] = byWorker.values();
  return [a, b, all];
}

/** An SSE stream; resolves with its instance (from the opening comment) and its code events. */
function stream(url: string): Promise<{ instance: string; codes: string[]; close(): void }> {
  return new Promise((resolve, reject) => {
    const req = http.get(`${url}/events`, (res) => {
      const codes: string[] = [];
      let buf = '';
      let done = false;
      res.setEncoding('utf8').on('data', (s: string) => {
        buf += s;
        const m = /events of (\S+)/.exec(buf);
        if (m && !done) {
          done = true;
          resolve({ instance: m[1], codes, close: () => req.destroy() });
        }
        for (const d of buf.matchAll(/^data: (.*)$/gm))
          codes.push((JSON.parse(d[1]) as { code: string }).code);
        buf = buf.slice(buf.lastIndexOf('\n\n') + 2);
      });
    });
    req.on('error', reject);
  });
}

test('two workers share groups, group messages (one numbering) and codes without Redis', async (t) => {
  const tgt = await spawnTarget({ options: { auth: 'none', workers: 2, welcome: true } });
  t.after(() => tgt.close());
  const created = await fetch(`${tgt.url}/groups/batch`, {
    method: 'POST',
    headers: { connection: 'close' },
    body: JSON.stringify({ names: ['room'] }),
  });
  assert.deepEqual(await created.json(), { created: 1 });
  const [a, b, all] = await onBothWorkers(tgt.wsUrl);
  t.after(() => all.forEach((ws) => ws.terminate()));
  for (const ws of [a, b]) {
    ws.send('{"type":"join","group":"room"}');
    assert.equal((await nextJson(ws)).type, 'joined', 'the group exists on both workers');
  }
  for (let i = 0; i < 10; i++) {
    a.send(JSON.stringify({ type: 'send', group: 'room', id: `a${i}`, ts: 0 }));
    b.send(JSON.stringify({ type: 'send', group: 'room', id: `b${i}`, ts: 0 }));
  }
  const seen = new Map<WebSocket, number[]>([
    [a, []],
    [b, []],
  ]);
  const acks: number[] = [];
  for (const ws of [a, b]) {
    while (seen.get(ws)!.length < 10 || acks.length < (ws === a ? 10 : 20)) {
      const m = await nextJson(ws);
      if (m.type === 'message') seen.get(ws)!.push(Number(m.seq));
      else if (m.type === 'sent') acks.push(Number(m.seq));
    }
  }
  // One numbering for the group across both workers: every number once, each side in order.
  assert.deepEqual(
    [...acks].sort((x, y) => x - y),
    Array.from({ length: 20 }, (_, i) => i + 1),
  );
  for (const s of seen.values())
    assert.deepEqual(
      s,
      [...s].sort((x, y) => x - y),
    );

  // Codes: SSE streams on both workers get each code, numbered once.
  const streams: Awaited<ReturnType<typeof stream>>[] = [];
  t.after(() => streams.forEach((s) => s.close()));
  for (let i = 0; i < 20 && new Set(streams.map((s) => s.instance)).size < 2; i++)
    streams.push(await stream(tgt.url));
  assert.equal(new Set(streams.map((s) => s.instance)).size, 2, 'streams on both workers');
  const ids: number[] = [];
  for (const code of ['X1', 'X2', 'X3']) {
    const r = await fetch(`${tgt.url}/codes`, { method: 'POST', body: JSON.stringify({ code }) });
    assert.equal(r.status, 202);
    ids.push(((await r.json()) as { id: number }).id);
  }
  assert.deepEqual(ids, [1, 2, 3]);
  for (const s of streams) await waitFor(() => s.codes.length === 3, 'three codes on every stream');
  for (const s of streams) assert.deepEqual(s.codes, ['X1', 'X2', 'X3']);
});
