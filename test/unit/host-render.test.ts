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

// Greedy wrapping: within a paragraph, a continuation line starts with a word that did not fit on
// the line before. A lone fragment (`needs root` / `with CAP_SYS_RESOURCE)`) breaks that: its first
// word would have fitted, so the line before was cut short by a second wrap over the first. The
// rendered lines are matched to the advice's paragraphs (title, reason, each fix) in order, which
// also proves that nothing was lost or reordered.
function wrapProblems(lines: string[], paragraphs: string[], width: number): string[] {
  const bad: string[] = [];
  const fold = (s: string): string => s.trim().replace(/\s+/g, ' ');
  let i = 0;
  for (const para of paragraphs.map(fold)) {
    const start = i;
    let got = '';
    while (i < lines.length && got.length < para.length) got = fold(`${got} ${lines[i++]}`);
    if (got !== para) {
      bad.push(`expected "${para}", read "${got}"`);
      return bad;
    }
    for (let k = start; k < i; k++) {
      const line = lines[k]!;
      if (line.length > width && line.trim().includes(' ')) bad.push(`over ${width}: ${line}`);
      if (k === start) continue;
      const first = line.trim().split(' ')[0]!;
      if (lines[k - 1]!.length + 1 + first.length <= width)
        bad.push(`lone fragment after "${lines[k - 1]!.trim()}": ${line.trim()}`);
    }
  }
  if (i !== lines.length) bad.push(`left over: ${lines.slice(i).join(' | ')}`);
  return bad;
}

test('renderEnv at 80 and 120 columns: advice wraps whole, with no lone fragments', async () => {
  const hosts = [
    await collectHostFacts({ env: {} }),
    await collectHostFacts({
      root: path.join(FIX, 'cgroup-v2/nested'),
      procRoot: path.join(FIX, 'cgroup-v2/nested/proc'),
      cgroupRoot: path.join(FIX, 'cgroup-v2/nested/sys/fs/cgroup'),
      env: {},
      interfaces: false,
    }),
  ];
  let fixes = 0;
  for (const facts of hosts) {
    fixes += facts.advice.reduce((n, a) => n + a.fixes.length, 0);
    const paragraphs = facts.advice.flatMap((a) => [
      `${a.level === 'warn' ? '!' : '-'} ${a.title}`,
      a.reason,
      ...a.fixes.map((fx) => `${fx.kind}: ${fx.text}`),
    ]);
    for (const width of [80, 120]) {
      const text = renderEnv(facts, { width });
      const lines = text
        .slice(text.indexOf('\nRecommendations\n') + 17)
        .trimEnd()
        .split('\n');
      assert.deepEqual(wrapProblems(lines, paragraphs, width), [], text);
    }
  }
  assert.ok(fixes >= 3, `the hosts give fixes to wrap (${fixes})`);
});
