import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { advise, expectedConnections } from '../../src/host/advice.js';
import { collectHostFacts, type HostFacts } from '../../src/host/facts.js';
import { preflight } from '../../src/host/preflight.js';

const FIX = fileURLToPath(new URL('../../../test/fixtures/', import.meta.url));
const MiB = 1024 ** 2;
const GiB = 1024 ** 3;

/** Facts read from the cgroup-v1 fixture: 1024/4096 open files, ports 20000–29999, somaxconn 128, conntrack 60000/65536. */
async function fixtureFacts(): Promise<HostFacts> {
  const root = path.join(FIX, 'cgroup-v1');
  return collectHostFacts({
    root,
    procRoot: path.join(root, 'proc'),
    cgroupRoot: path.join(root, 'sys/fs/cgroup'),
    env: {},
    interfaces: false,
  });
}

function sized(f: HostFacts, vcpus: number, memoryBytes: number): HostFacts {
  const resources = {
    ...f.resources,
    vcpus,
    memoryBytes,
    vcpusFrom: 'cgroup' as const,
    memoryFrom: 'cgroup' as const,
  };
  const g = { ...f, resources };
  return { ...g, advice: advise(g) };
}

test('rule of thumb: each row of the table, and sizes outside it', () => {
  const range = (c: number, m: number): string => {
    const e = expectedConnections(c, m);
    return `${e.low}-${e.high}${e.outside ? ` ${e.outside}` : ''}`;
  };
  assert.equal(range(0.25, 512 * MiB), '200-500');
  assert.equal(range(0.5, 1 * GiB), '500-1000');
  assert.equal(range(1, 2 * GiB), '1000-2000');
  assert.equal(range(2, 4 * GiB), '2000-5000');
  assert.equal(range(1, 512 * MiB), '200-500'); // memory-bound: CPU alone does not lift the row
  assert.equal(range(4, 1 * GiB), '500-1000');
  assert.equal(range(1, 1.98 * GiB), '1000-2000'); // a cgroup limit a little under 2 GiB still counts
  assert.equal(range(0.125, 256 * MiB), '0-200 below');
  assert.equal(range(8, 16 * GiB), '2000-5000 above');
});

test('advice on the fixture host: what caps the run, with reasons and fixes', async () => {
  const f = sized(await fixtureFacts(), 1, 2 * GiB);
  const byId = new Map(f.advice.map((a) => [a.id, a]));

  const fd = byId.get('fd-limit');
  assert.ok(fd);
  assert.equal(fd.level, 'warn');
  assert.match(fd.title, /Open-file limit 1,024 caps one process at ~924 sockets/);
  assert.match(fd.reason, /generator sessions per holdline process/);
  assert.match(fd.reason, /client connections per target server process/);
  assert.match(fd.reason, /--workers/);
  assert.ok(fd.fixes.some((x) => x.kind === 'task-definition' && x.text.includes('"softLimit": 65536')));
  assert.ok(fd.fixes.some((x) => x.kind === 'ulimit' && x.text.includes('ulimit -n 4096')));

  assert.ok(byId.has('fd-soft-below-hard'));
  const ports = byId.get('ephemeral-ports');
  assert.ok(ports);
  assert.equal(ports.level, 'warn');
  assert.match(ports.title, /20000–29999: at most ~10,000 connections per source address/);
  assert.ok(
    ports.fixes.some((x) => x.kind === 'sysctl' && x.text.includes('ip_local_port_range="1024 65535"')),
  );

  assert.equal(byId.get('somaxconn')?.level, 'warn');
  assert.match(byId.get('somaxconn')?.title ?? '', /128 \(below 4096\)/);
  assert.ok(byId.has('syn-backlog'));
  assert.match(byId.get('tw-reuse')?.title ?? '', /tcp_tw_reuse is 0/);
  assert.equal(byId.get('conntrack')?.level, 'warn');

  const rule = byId.get('expected-connections');
  assert.ok(rule);
  assert.match(rule.title, /1 vCPU \/ 2 GiB: 1,000–2,000 connections per task, until measured/);
  assert.match(rule.reason, /rule of thumb|table users start with/);
  assert.equal(byId.has('workers'), false);
});

test('a roomy host gets no somaxconn or conntrack warnings, and --workers for several CPUs', async () => {
  const base = await fixtureFacts();
  const n = base.network;
  const roomy = {
    ...base,
    network: {
      ...n,
      somaxconn: { available: true as const, value: 4096, source: 'x' },
      conntrackCount: { available: true as const, value: 10, source: 'x' },
      conntrackMax: { available: true as const, value: 1_048_576, source: 'x' },
    },
  };
  const f = sized(roomy, 4, 8 * GiB);
  const ids = f.advice.map((a) => a.id);
  assert.ok(!ids.includes('somaxconn'));
  assert.ok(!ids.includes('conntrack'));
  assert.ok(ids.includes('workers'));
  assert.match(f.advice.find((a) => a.id === 'workers')?.fixes[0].text ?? '', /--workers 4/);
  assert.match(f.advice.find((a) => a.id === 'expected-connections')?.title ?? '', /2,000–5,000 or more/);
});

test('preflight: silent when the run fits', async () => {
  const f = await fixtureFacts();
  assert.deepEqual(preflight(f, { sessions: 900, targets: [{ host: '127.0.0.1', port: 8080 }] }), []);
});

test('preflight: sessions above the open-file limit', async () => {
  const f = await fixtureFacts();
  const w = preflight(f, { sessions: 2000, targets: [{ host: '127.0.0.1', port: 8080 }] });
  assert.equal(w.length, 1);
  assert.match(
    w[0],
    /2,000 sessions planned, but the open-file limit \(1,024\) leaves room for ~924 sockets/,
  );
  assert.match(w[0], /--workers 3/);
});

test('preflight: sessions above the ephemeral ports per source address × target', async () => {
  const f = await fixtureFacts();
  const one = preflight(f, { sessions: 12000, targets: [{ host: '127.0.0.1', port: 8080 }] });
  const ports = one.find((w) => w.includes('ephemeral ports'));
  assert.ok(ports, one.join('\n'));
  assert.match(ports, /~10,000 connections per source address/);
  assert.match(ports, /--local-address 127\.0\.0\.2,127\.0\.0\.3/);
  assert.ok(one.some((w) => w.includes('connection-tracking table has 5,536 free entries')));

  const two = preflight(f, {
    sessions: 12000,
    targets: [{ host: '127.0.0.1', port: 8080 }],
    localAddresses: ['127.0.0.2', '127.0.0.3'],
  });
  assert.ok(!two.some((w) => w.includes('ephemeral ports')));
  const targets = preflight(f, {
    sessions: 12000,
    targets: [
      { host: '10.0.0.5', port: 443 },
      { host: '10.0.0.6', port: 443 },
    ],
  });
  assert.ok(!targets.some((w) => w.includes('ephemeral ports')));
  const same = preflight(f, {
    sessions: 12000,
    targets: [
      { host: '10.0.0.5', port: 443 },
      { host: '10.0.0.5', port: 443 },
    ],
  });
  assert.match(same.find((w) => w.includes('ephemeral ports')) ?? '', /ADDR1,ADDR2/);
});
