import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Worker } from 'node:cluster';
import { MemoryBus } from '../../src/target/bus.js';
import { ClusterRelay } from '../../src/target/bus-cluster.js';
import { GroupRegistry } from '../../src/target/groups.js';
import { ReplayRing } from '../../src/target/sse.js';

// The target's group, replay and numbering state, without sockets.

test('groups: create, all-or-nothing batches at the limit, members and connections', () => {
  const reg = new GroupRegistry<string>(5);
  assert.equal(reg.create('a'), 'created');
  assert.equal(reg.create('a'), 'exists');
  assert.deepEqual(reg.createMany(['a', 'b', 'c', 'b']), { created: ['b', 'c'], full: false });
  // 3 new ones, 2 places left: none is created.
  assert.deepEqual(reg.createMany(['d', 'e', 'f', 'a']), { created: [], full: true });
  assert.equal(reg.size, 3);
  // Duplicates within the batch count once against the room left.
  assert.deepEqual(reg.createMany(['d', 'e', 'd', 'e', 'c']), { created: ['d', 'e'], full: false });
  assert.equal(reg.create('z'), 'full');
  assert.equal(reg.created, 5);

  assert.equal(reg.join('a', 'conn1'), 1);
  assert.equal(reg.join('a', 'conn2'), 2);
  assert.equal(reg.join('a', 'conn2'), 2);
  assert.ok(reg.isIn('a', 'conn1') && !reg.isIn('b', 'conn1'));
  reg.leave('a', 'conn1');
  reg.leave('a', 'conn2');
  assert.equal(reg.connsOf('a'), undefined, 'an empty group holds no set');
  assert.deepEqual(reg.addUser('a', 'u1'), { members: 1, added: true, full: false });
  assert.deepEqual(reg.addUser('a', 'u1'), { members: 1, added: false, full: false });
  reg.addUser('c', 'u1');
  assert.deepEqual(reg.groupsOf('u1'), ['a', 'c']);
  assert.equal(reg.groupsOf('u2'), undefined);
  assert.deepEqual(reg.list(0, 2), [
    { id: 'a', members: 1, connected: 0 },
    { id: 'b', members: 0, connected: 0 },
  ]);
  assert.deepEqual(
    reg.list(4, 10).map((g) => g.id),
    ['e'],
  );
});

test('groups: message numbers seen, and numbers skipped on the way counted', () => {
  const reg = new GroupRegistry<string>(10);
  reg.create('g');
  assert.equal(reg.seq('g'), 0);
  assert.equal(reg.seq('nope'), -1);
  assert.equal(reg.observe('g', 1), 0);
  assert.equal(reg.observe('g', 2), 0);
  assert.equal(reg.observe('g', 6), 3, '3, 4 and 5 never arrived');
  assert.equal(reg.observe('g', 4), 0, 'late or repeated numbers are not gaps');
  assert.equal(reg.seq('g'), 6);
  assert.equal(reg.observe('nope', 9), 0);
  // A group first seen mid-way (this instance started late): no gap before its first number.
  reg.create('h');
  assert.equal(reg.observe('h', 40), 0);
  assert.equal(reg.observe('h', 42), 1);
});

test('replay ring: keeps the last N events in order across wrap-around', () => {
  const ring = new ReplayRing(3);
  assert.equal(ring.oldest, 0);
  assert.deepEqual(ring.since(0), []);
  for (let id = 1; id <= 7; id++) ring.push(id, Buffer.from(`e${id}`));
  assert.equal(ring.oldest, 5);
  assert.deepEqual(ring.since(0).map(String), ['e5', 'e6', 'e7']);
  assert.deepEqual(ring.since(5).map(String), ['e6', 'e7']);
  assert.deepEqual(ring.since(7), []);
  const none = new ReplayRing(0);
  none.push(1, Buffer.from('x'));
  assert.deepEqual(none.since(0), []);
});

test('numbering: memory bus continues from the floor; the cluster relay from the larger of both', () => {
  const bus = new MemoryBus();
  const got: string[] = [];
  bus.subscribe('t', (_topic, p) => got.push(p));
  assert.equal(bus.publishNumbered('t', 'c', 0, ['<', '|', '>']), 1);
  assert.equal(bus.publishNumbered('t', 'c', 41, ['n=', '']), 42);
  assert.deepEqual(got, ['<1|1>', 'n=42']);

  const sent: [string, unknown][] = [];
  const worker = (name: string): Worker =>
    ({ isConnected: () => true, send: (m: unknown) => sent.push([name, m]) }) as unknown as Worker;
  const w1 = worker('w1');
  const w2 = worker('w2');
  const relay = new ClusterRelay(() => [w1, w2]);
  relay.handle(w1, { hl: 'num', id: 7, topic: 'group', counter: 'g:a', floor: 0, parts: ['#', ''] });
  relay.handle(w2, { hl: 'num', id: 3, topic: 'group', counter: 'g:a', floor: 0, parts: ['#', ''] });
  // A worker that saw more than the relay (the relay was restarted) moves the counter on.
  relay.handle(w2, { hl: 'num', id: 4, topic: 'group', counter: 'g:a', floor: 10, parts: ['#', ''] });
  relay.handle(w1, { hl: 'pub', topic: 'ctl', payload: 'x' });
  relay.handle(w1, { hl: 'sync', id: 8 });
  relay.handle(w1, 'not ours');
  assert.deepEqual(sent, [
    ['w1', { hl: 'msg', topic: 'group', payload: '#1' }],
    ['w2', { hl: 'msg', topic: 'group', payload: '#1' }],
    ['w1', { hl: 'ack', id: 7, n: 1 }],
    ['w1', { hl: 'msg', topic: 'group', payload: '#2' }],
    ['w2', { hl: 'msg', topic: 'group', payload: '#2' }],
    ['w2', { hl: 'ack', id: 3, n: 2 }],
    ['w1', { hl: 'msg', topic: 'group', payload: '#11' }],
    ['w2', { hl: 'msg', topic: 'group', payload: '#11' }],
    ['w2', { hl: 'ack', id: 4, n: 11 }],
    ['w1', { hl: 'msg', topic: 'ctl', payload: 'x' }],
    ['w2', { hl: 'msg', topic: 'ctl', payload: 'x' }],
    ['w1', { hl: 'ack', id: 8, n: 0 }],
  ]);
});
