import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { collectHostFacts } from '../../src/host/facts.js';
import { readLimits } from '../../src/host/limits.js';
import { renderEnv } from '../../src/host/render.js';

const FIX = fileURLToPath(new URL('../../../test/fixtures/', import.meta.url));
const SECTIONS = [
  'Host',
  'Container / ECS / Kubernetes',
  'CPU and memory',
  'Limits',
  'Network',
  'Recommendations',
];

test('renderEnv on this machine names the open-file limit and what it caps', async () => {
  const facts = await collectHostFacts({ env: {} });
  const text = renderEnv(facts);
  for (const s of SECTIONS) assert.match(text, new RegExp(`^${s}$`, 'm'), s);
  const l = readLimits();
  if (!l.available || typeof l.openFiles.soft !== 'number') return;
  const soft = l.openFiles.soft;
  const fmt = (n: number): string => n.toLocaleString('en-US');
  assert.ok(text.includes(`soft ${fmt(soft)}`), text);
  assert.ok(
    text.includes(`Open-file limit ${fmt(soft)} caps one process at ~${fmt(soft - 100)} sockets`),
    text,
  );
  assert.match(text, /generator sessions per holdline\s+process/);
  if (soft === 20000) assert.ok(text.includes('Open-file limit 20,000 caps one process at ~19,900 sockets'));
  // Every network reading is either a value or "not available: reason".
  assert.match(text, /ephemeral ports\s+(\d+–\d+: [\d,]+ ports|not available: .+)/);
  assert.match(text, /ECS\s+not available: ECS_CONTAINER_METADATA_URI_V4 is not set/);
});

test('renderEnv on a fixture host: values, and reasons where nothing could be read', async () => {
  const root = path.join(FIX, 'cgroup-v2/nested');
  const facts = await collectHostFacts({
    root,
    procRoot: path.join(root, 'proc'),
    cgroupRoot: path.join(root, 'sys/fs/cgroup'),
    env: {},
    interfaces: false,
  });
  const text = renderEnv(facts, { width: 100 });
  for (const s of SECTIONS) assert.match(text, new RegExp(`^${s}$`, 'm'), s);
  assert.match(text, /cgroup\s+v2, group \/ecs\/7e2a\/task1/);
  assert.match(text, /CPU quota\s+50,000 µs per 100,000 µs = 0.5 CPUs, cpu.weight 100/);
  assert.match(text, /memory limit\s+1 GiB, in use 256 MiB \(25%\)/);
  // Long reasons wrap; match them with the line breaks folded.
  const flat = text.replace(/\s+/g, ' ');
  assert.match(flat, /open files not available: \S*\/proc\/self\/limits does not exist/);
  assert.match(flat, /somaxconn not available: \S*\/proc\/sys\/net\/core\/somaxconn does not exist/);
  assert.match(text, /conntrack\s+not available: connection tracking not active/);
  assert.match(text, /memory usable\s+1 GiB \(from the cgroup limit/);
  assert.match(text, /Kubernetes\s+not available: KUBERNETES_SERVICE_HOST is not set/);
  assert.ok(
    text.split('\n').every((line) => line.length <= 100 || !line.trim().includes(' ')),
    'wrapped to the width',
  );
});
