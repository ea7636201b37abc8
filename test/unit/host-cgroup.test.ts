import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { effectiveResources, parseProcCgroup, readCgroup } from '../../src/host/cgroup.js';
import { detectContainer } from '../../src/host/container.js';
import { detectKubernetes, SERVICE_ACCOUNT_DIR } from '../../src/host/k8s.js';

const FIX = fileURLToPath(new URL('../../../test/fixtures/', import.meta.url));
const roots = (name: string): { cgroupRoot: string; procRoot: string; root: string } => ({
  cgroupRoot: path.join(FIX, name, 'sys/fs/cgroup'),
  procRoot: path.join(FIX, name, 'proc'),
  root: path.join(FIX, name),
});

test('cgroup v1: quota, shares and the tightest memory limit up the hierarchy', () => {
  const cg = readCgroup(roots('cgroup-v1'));
  assert.ok(cg.available);
  assert.equal(cg.version, 1);
  assert.equal(cg.group, '/docker/3f1c');
  assert.deepEqual(cg.cpu, { quotaUs: 150000, periodUs: 100000, vcpus: 1.5, shares: 1536, weight: null });
  // The group says 2 GiB, its parent 4 GiB, the root "unlimited" (2^63 rounded to a page).
  assert.deepEqual(cg.memory, { limitBytes: 2 * 1024 ** 3, currentBytes: 100 * 1024 ** 2 });
  assert.deepEqual(cg.pids, { max: 'unlimited', current: 7 });
  assert.ok(cg.dirs.some((d) => d.endsWith(path.join('cpu,cpuacct', 'docker', '3f1c'))));
});

test('cgroup v2: cpu.max of the group, memory.max inherited from the parent', () => {
  const cg = readCgroup(roots('cgroup-v2/nested'));
  assert.ok(cg.available);
  assert.equal(cg.version, 2);
  assert.equal(cg.group, '/ecs/7e2a/task1');
  assert.deepEqual(cg.cpu, { quotaUs: 50000, periodUs: 100000, vcpus: 0.5, shares: null, weight: 100 });
  assert.deepEqual(cg.memory, { limitBytes: 1024 ** 3, currentBytes: 256 * 1024 ** 2 });
  assert.deepEqual(cg.pids, { max: 4096, current: 12 });
});

test('cgroup v2 in a namespace: "/" in /proc/self/cgroup means the mount itself', () => {
  const cg = readCgroup(roots('cgroup-v2/namespaced'));
  assert.ok(cg.available);
  assert.equal(cg.version, 2);
  assert.equal(cg.group, '/');
  assert.equal(cg.cpu.vcpus, 2);
  assert.equal(cg.cpu.weight, 79);
  assert.equal(cg.memory.limitBytes, 4 * 1024 ** 3);
  assert.equal(cg.pids.max, 'unlimited');
});

test('no cgroup tree: not available, with the reason', () => {
  const cg = readCgroup({
    cgroupRoot: path.join(FIX, 'nope/sys/fs/cgroup'),
    procRoot: path.join(FIX, 'nope/proc'),
  });
  assert.equal(cg.available, false);
  assert.match(cg.available ? '' : cg.reason, /does not exist/);
});

test('huge and "max" values are unlimited, and group paths resolve when the group dir is missing', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'holdline-cg-'));
  try {
    mkdirSync(path.join(dir, 'proc/self'), { recursive: true });
    mkdirSync(path.join(dir, 'cg/memory'), { recursive: true });
    writeFileSync(path.join(dir, 'proc/self/cgroup'), '5:memory:/somewhere/not/mounted\n');
    writeFileSync(path.join(dir, 'cg/memory/memory.limit_in_bytes'), '9223372036854771712\n');
    writeFileSync(path.join(dir, 'cg/memory/memory.usage_in_bytes'), '4096\n');
    const cg = readCgroup({ cgroupRoot: path.join(dir, 'cg'), procRoot: path.join(dir, 'proc') });
    assert.ok(cg.available);
    assert.equal(cg.memory.limitBytes, 'unlimited');
    assert.equal(cg.memory.currentBytes, 4096);
    assert.equal(cg.cpu.vcpus, null);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('parseProcCgroup splits controllers and keeps paths with colons', () => {
  assert.deepEqual(parseProcCgroup('4:cpu,cpuacct:/a\n0::/b:c\n'), [
    { controllers: ['cpu', 'cpuacct'], path: '/a' },
    { controllers: [], path: '/b:c' },
  ]);
});

test('effective resources: the cgroup quota and the ECS task size beat the host numbers', () => {
  const cg = readCgroup(roots('cgroup-v2/nested'));
  const e = effectiveResources(cg);
  assert.equal(e.vcpus, Math.min(0.5, e.hostCpus));
  assert.equal(e.vcpusFrom, e.hostCpus > 0.5 ? 'cgroup' : 'host');
  assert.equal(e.memoryBytes, Math.min(1024 ** 3, e.hostMemoryBytes));
  const ecs = effectiveResources(cg, { vcpus: 0.25, memoryBytes: 512 * 1024 ** 2 });
  assert.equal(ecs.vcpus, 0.25);
  assert.equal(ecs.vcpusFrom, 'ecs');
  assert.equal(ecs.memoryBytes, 512 * 1024 ** 2);
  assert.equal(ecs.memoryFrom, 'ecs');
});

test('container detection: /.dockerenv, /run/.containerenv, ECS and Kubernetes variables', () => {
  const v1 = detectContainer({
    root: path.join(FIX, 'cgroup-v1'),
    procRoot: path.join(FIX, 'cgroup-v1/proc'),
    env: {},
  });
  assert.equal(v1.kind, 'docker');
  assert.ok(v1.evidence.includes('/.dockerenv exists'));
  assert.ok(v1.evidence.includes('/proc/1/cgroup mentions docker'));

  const pod = detectContainer({
    root: path.join(FIX, 'cgroup-v2/namespaced'),
    procRoot: path.join(FIX, 'cgroup-v2/namespaced/proc'),
    env: {},
  });
  assert.equal(pod.kind, 'podman');

  const ecs = detectContainer({
    root: path.join(FIX, 'cgroup-v1'),
    procRoot: path.join(FIX, 'nope'),
    env: { ECS_CONTAINER_METADATA_URI_V4: 'http://169.254.170.2/v4/x' },
  });
  assert.equal(ecs.kind, 'ecs');

  const k8s = detectContainer({
    root: path.join(FIX, 'nope'),
    procRoot: path.join(FIX, 'nope'),
    env: { KUBERNETES_SERVICE_HOST: '10.96.0.1' },
  });
  assert.equal(k8s.kind, 'kubernetes');

  const none = detectContainer({ root: path.join(FIX, 'nope'), procRoot: path.join(FIX, 'nope'), env: {} });
  assert.deepEqual(none, { inContainer: false, kind: null, evidence: [] });
});

test('Kubernetes: pod name, namespace from the service account, API server', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'holdline-k8s-'));
  try {
    mkdirSync(path.join(dir, SERVICE_ACCOUNT_DIR), { recursive: true });
    writeFileSync(path.join(dir, SERVICE_ACCOUNT_DIR, 'namespace'), 'loadtest\n');
    const k = detectKubernetes({
      root: dir,
      env: {
        KUBERNETES_SERVICE_HOST: '10.96.0.1',
        KUBERNETES_SERVICE_PORT: '443',
        HOSTNAME: 'holdline-capacity-x7k2p',
      },
    });
    assert.ok(k.available);
    assert.equal(k.podName, 'holdline-capacity-x7k2p');
    assert.equal(k.namespace, 'loadtest');
    assert.equal(k.apiServer, '10.96.0.1:443');
    assert.equal(k.serviceAccount, true);
    const none = detectKubernetes({ root: path.join(dir, 'empty'), env: { HOSTNAME: 'x' } });
    assert.equal(none.available, false);
    assert.match(none.available ? '' : none.reason, /KUBERNETES_SERVICE_HOST is not set/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
