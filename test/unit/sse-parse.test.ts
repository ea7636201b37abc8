import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_EVENT_BYTES, SseParser } from '../../src/transports/sse-parse.js';

interface Ev {
  type: string;
  data: string;
  lastId: string;
}

class Collect extends SseParser {
  events: Ev[] = [];
  retries: number[] = [];
  protected onEvent(data: Buffer): void {
    this.events.push({ type: this.eventType, data: data.toString('utf8'), lastId: this.lastEventId });
  }
  protected override onRetry(ms: number): void {
    this.retries.push(ms);
  }
}

/** Feeds `parts` (strings as UTF-8, or raw bytes) one chunk each. */
function parse(...parts: (string | Buffer)[]): Collect {
  const p = new Collect();
  for (const part of parts) assert.equal(p.feed(typeof part === 'string' ? Buffer.from(part) : part), true);
  return p;
}

/** Every way to cut `bytes` in two, and one byte at a time: the events must not change. */
function everySplit(bytes: Buffer, expect: Ev[]): void {
  for (let cut = 0; cut <= bytes.length; cut++) {
    const p = parse(bytes.subarray(0, cut), bytes.subarray(cut));
    assert.deepEqual(p.events, expect, `split at byte ${cut}`);
  }
  const p = new Collect();
  for (let i = 0; i < bytes.length; i++) p.feed(bytes.subarray(i, i + 1));
  assert.deepEqual(p.events, expect, 'one byte at a time');
}

test('LF, CRLF and CR line ends give the same events', () => {
  const want: Ev[] = [
    { type: 'code', data: 'a', lastId: '1' },
    { type: 'message', data: 'b', lastId: '1' },
  ];
  for (const eol of ['\n', '\r\n', '\r']) {
    const text = ['id: 1', 'event: code', 'data: a', '', 'data: b', '', ''].join(eol);
    assert.deepEqual(parse(text).events, want, JSON.stringify(eol));
    everySplit(Buffer.from(text), want);
  }
});

test('mixed line ends in one stream, and a CR at the end of a chunk before its LF', () => {
  const p = parse('data: x\r', '\ndata: y\n\r', '\n', 'data: z\r\r');
  assert.deepEqual(
    p.events.map((e) => e.data),
    ['x\ny', 'z'],
  );
});

test('multi-line data is joined with LF; the space after the colon is optional and only one is dropped', () => {
  const p = parse('data:first\ndata:  second\ndata\ndata: \n\n');
  assert.equal(p.events.length, 1);
  assert.equal(p.events[0].data, 'first\n second\n\n');
});

test('a multi-byte UTF-8 character split between chunks, anywhere', () => {
  const text = 'event: ünïcödé\ndata: 日本語 — €\nid: ✓\n\n';
  const want: Ev[] = [{ type: 'ünïcödé', data: '日本語 — €', lastId: '✓' }];
  everySplit(Buffer.from(text, 'utf8'), want);
});

test('comments are counted and ignored, also between the lines of one event', () => {
  const p = parse(': hello\n:\ndata: a\n: hb 123\ndata: b\n\n: tail\n');
  assert.deepEqual(
    p.events.map((e) => e.data),
    ['a\nb'],
  );
  assert.equal(p.comments, 4);
});

test('an id without data sets the last event id but dispatches nothing', () => {
  const p = parse('id: 7\n\n', 'data: after\n\n');
  assert.deepEqual(p.events, [{ type: 'message', data: 'after', lastId: '7' }]);
  assert.equal(p.lastEventId, '7');
});

test('the last event id persists across events, resets with an empty id, ignores ids with NUL', () => {
  const p = parse('id: 1\ndata: a\n\n', 'data: b\n\n', 'id: x\0y\ndata: c\n\n', 'id\ndata: d\n\n');
  assert.deepEqual(
    p.events.map((e) => [e.data, e.lastId]),
    [
      ['a', '1'],
      ['b', '1'],
      ['c', '1'],
      ['d', ''],
    ],
  );
});

test('the last event id changes only when the event is complete', () => {
  const p = parse('id: 5\ndata: a\n\n', 'id: 6\ndata: b\n');
  assert.equal(p.lastEventId, '5', 'id 6 belongs to an event not yet dispatched');
  p.resetStream();
  p.feed(Buffer.from('data: c\n\n'));
  assert.deepEqual(
    p.events.map((e) => [e.data, e.lastId]),
    [
      ['a', '5'],
      ['c', '6'],
    ],
  );
});

test('a byte order mark is dropped at the start of the stream only, even when split', () => {
  const bom = Buffer.from([0xef, 0xbb, 0xbf]);
  const body = Buffer.from('data: a\n\n');
  assert.deepEqual(
    parse(Buffer.concat([bom, body])).events.map((e) => e.data),
    ['a'],
  );
  everySplit(Buffer.concat([bom, body]), [{ type: 'message', data: 'a', lastId: '' }]);
  // A second BOM is part of the field name: an unknown field, ignored.
  const p = parse(Buffer.concat([bom, bom, body]));
  assert.deepEqual(
    p.events.map((e) => e.data),
    [],
  );
});

test('retry takes ASCII digits only', () => {
  const p = parse('retry: 2000\nretry: 1.5\nretry: x\nretry:\nretry: 0\n\n');
  assert.deepEqual(p.retries, [2000, 0]);
  assert.equal(p.events.length, 0);
});

test('unknown fields and a line that is only a field name', () => {
  const p = parse('foo: bar\nevent\ndata: a\nbaz\n\n');
  assert.deepEqual(p.events, [{ type: 'message', data: 'a', lastId: '' }]);
});

test('an incomplete event at the end of a stream is dropped by resetStream()', () => {
  const p = parse('data: a\n\ndata: partial');
  p.resetStream();
  p.feed(Buffer.from('data: b\n\n'));
  assert.deepEqual(
    p.events.map((e) => e.data),
    ['a', 'b'],
  );
});

test('a line longer than the limit is refused, and the parser recovers on the next stream', () => {
  const p = new Collect();
  const big = Buffer.alloc(MAX_EVENT_BYTES + 10, 0x61);
  assert.equal(p.feed(Buffer.from('data: ')), true);
  assert.equal(p.feed(big), false);
  p.resetStream();
  assert.equal(p.feed(Buffer.from('data: ok\n\n')), true);
  assert.deepEqual(
    p.events.map((e) => e.data),
    ['ok'],
  );
});

test('many events in one chunk, the reference target format', () => {
  let text = 'retry: 2000\n: connected\n\n';
  for (let i = 1; i <= 50; i++) text += `id: ${i}\nevent: code\ndata: {"code":"HL${i}","id":${i}}\n\n`;
  const p = parse(text);
  assert.equal(p.events.length, 50);
  assert.equal(p.events[49].data, '{"code":"HL50","id":50}');
  assert.equal(p.events[49].type, 'code');
  assert.equal(p.lastEventId, '50');
  assert.deepEqual(p.retries, [2000]);
});
