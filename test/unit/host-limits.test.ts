import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FD_RESERVE, parseLimits, readLimits, usableSockets } from '../../src/host/limits.js';
import { readNetwork } from '../../src/host/network.js';

const FIX = fileURLToPath(new URL('../../../test/fixtures/', import.meta.url));

test('parseLimits reads open files and processes, "unlimited" included', () => {
  const text = [
    'Limit                     Soft Limit           Hard Limit           Units     ',
    'Max processes             63704                unlimited            processes ',
    'Max open files            20000                20000                files     ',
  ].join('\n');
  assert.deepEqual(parseLimits(text), {
    openFiles: { soft: 20000, hard: 20000 },
    processes: { soft: 63704, hard: 'unlimited' },
  });
  assert.equal(parseLimits('Max processes 1 2'), undefined);
});

test('readLimits on a fixture /proc, and a missing one', () => {
  const l = readLimits({ procRoot: path.join(FIX, 'cgroup-v1/proc') });
  assert.ok(l.available);
  assert.deepEqual(l.openFiles, { soft: 1024, hard: 4096 });
  assert.deepEqual(l.processes, { soft: 'unlimited', hard: 'unlimited' });
  assert.equal(l.nrOpen, 1048576);
  assert.equal(l.openFds, null); // the fixture has no fd directory
  const none = readLimits({ procRoot: path.join(FIX, 'nope') });
  assert.equal(none.available, false);
  assert.match(none.available ? '' : none.reason, /limits does not exist/);
});

test('readLimits on this machine counts open descriptors', () => {
  const l = readLimits();
  if (process.platform !== 'linux') return;
  assert.ok(l.available);
  assert.ok(l.openFds !== null && l.openFds >= 3, `open fds ${l.openFds}`);
});

test('usable sockets keep a reserve for the process itself', () => {
  assert.equal(usableSockets(20000), 20000 - FD_RESERVE);
  assert.equal(usableSockets(20000), 19900);
  assert.equal(usableSockets(50), 0);
  assert.equal(usableSockets('unlimited'), null);
});

test('network settings from a fixture /proc: every value and what is absent', () => {
  const n = readNetwork({ procRoot: path.join(FIX, 'cgroup-v1/proc'), interfaces: false });
  assert.deepEqual(n.portRange.available && n.portRange.value, { low: 20000, high: 29999, count: 10000 });
  assert.equal(n.somaxconn.available && n.somaxconn.value, 128);
  assert.equal(n.tcpMaxSynBacklog.available && n.tcpMaxSynBacklog.value, 512);
  assert.equal(n.tcpFinTimeout.available && n.tcpFinTimeout.value, 30);
  assert.equal(n.tcpTwReuse.available && n.tcpTwReuse.value, 0);
  assert.equal(n.conntrackMax.available && n.conntrackMax.value, 65536);
  assert.equal(n.conntrackCount.available && n.conntrackCount.value, 60000);
  assert.deepEqual(n.tcpMem.available && n.tcpMem.value, {
    low: 45000,
    pressure: 60000,
    high: 90000,
    pageSize: 4096,
  });
  assert.deepEqual(n.interfaces, []);

  const none = readNetwork({ procRoot: path.join(FIX, 'cgroup-v2/nested/proc'), interfaces: false });
  for (const key of ['portRange', 'somaxconn', 'tcpMem', 'conntrackMax'] as const) {
    const r = none[key];
    assert.equal(r.available, false, key);
    assert.match(r.available ? '' : r.reason, /does not exist/, key);
  }
  assert.match(none.conntrackMax.available ? '' : none.conntrackMax.reason, /connection tracking not active/);
});

test('interfaces come from the OS, loopback included', () => {
  const n = readNetwork({ procRoot: path.join(FIX, 'nope') });
  assert.ok(n.interfaces.some((i) => i.internal && i.address === '127.0.0.1'));
});
