#!/usr/bin/env node
// Holdline against the floors of ONE sitting: medians of the harness's records in
// $PEERS_RESULTS/runs (default bench/peers/results/runs), ratios to `floor`, the targets,
// user and system CPU apart, and whether every count adds up. Only records from --since up to
// (not including) --until count (run-record time stamps such as 20261123-160000), so no other
// sitting mixes in.
//
//   node bench/peers/ratios.mjs [--since 20261123-160000] [--until 20261123-170000] [--markdown]
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const dir = path.join(process.env.PEERS_RESULTS ?? path.join(here, 'results'), 'runs');
const arg = (name) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const since = arg('--since') ?? '';
const until = arg('--until') ?? '99999999-999999';

const records = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .filter((f) => {
    const stamp = f.match(/-(\d{8}-\d{6})-r\d+\.json$/)?.[1] ?? '';
    return stamp >= since && stamp < until;
  })
  .map((f) => JSON.parse(readFileSync(path.join(dir, f), 'utf8')));

const median = (xs) => {
  const s = xs.filter((x) => typeof x === 'number').sort((a, b) => a - b);
  if (s.length === 0) return null;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const of = (tool, w) => records.filter((r) => r.tool === tool && r.workload === w);

const FIGURES = [
  { w: 'W1', name: 'peak RSS MB', get: (r) => r.gen.peak_rss_kb / 1024, target: 0.7 },
  { w: 'W1', name: 'CPU s', get: (r) => r.gen.cpu_s, target: 0.65 },
  { w: 'W2', name: 'CPU µs per round trip', get: (r) => r.derived.cpu_us_per_rt, target: 0.8 },
  { w: 'W3', name: 'CPU µs per message', get: (r) => r.derived.cpu_us_per_msg, target: 0.8 },
];
const TOOLS = ['holdline', 'floor', 'rawsock'];

const rows = [];
for (const f of FIGURES) {
  const m = Object.fromEntries(TOOLS.map((t) => [t, median(of(t, f.w).map(f.get))]));
  const n = Math.min(...TOOLS.map((t) => of(t, f.w).length));
  const ratio = (t) => (m[t] !== null && m.floor ? m[t] / m.floor : null);
  rows.push({
    figure: `${f.w} ${f.name}`,
    runs: n,
    ...Object.fromEntries(TOOLS.map((t) => [t, m[t]])),
    holdlineRatio: ratio('holdline'),
    rawsockRatio: ratio('rawsock'),
    target: f.target,
    met: ratio('holdline') !== null && ratio('holdline') <= f.target,
  });
}

// W3 pacing: every steady second within ±10% of 500 msg/s, in every holdline run.
const w3 = of('holdline', 'W3').map((r) => r.derived.within_10pct);
const pacing = w3.length > 0 && w3.every((x) => x === 1);

// Every count adds up, in every holdline run.
const env = { W1: [10_000, 3], W2: [100, 5000], W3: [1000, 30] };
const problems = [];
for (const r of records.filter((x) => x.tool === 'holdline')) {
  const t = r.tool_report;
  const [conns, per] = env[r.workload];
  const id = path.basename(r.dir);
  if (t.opened !== conns || t.held !== conns || t.closed !== conns)
    problems.push(`${r.workload} ${id}: opened ${t.opened}, held ${t.held}, closed ${t.closed} of ${conns}`);
  if (t.sent !== conns * per || t.recv !== t.sent)
    problems.push(`${r.workload} ${id}: sent ${t.sent}, echoed ${t.recv}, planned ${conns * per}`);
  if (r.server.accepted !== conns) problems.push(`${r.workload} ${id}: server accepted ${r.server.accepted}`);
}

const fmt = (x, d = 2) => (x === null ? '–' : x.toFixed(d));
if (process.argv.includes('--markdown')) {
  console.log(
    '| figure | runs | holdline | floor | rawsock | holdline ÷ floor | rawsock ÷ floor | target | met |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    console.log(
      `| ${r.figure} | ${r.runs} | ${fmt(r.holdline, 1)} | ${fmt(r.floor, 1)} | ${fmt(r.rawsock, 1)} | ` +
        `${fmt(r.holdlineRatio)}× | ${fmt(r.rawsockRatio)}× | ≤ ${r.target}× | ${r.met ? 'yes' : 'no'} |`,
    );
  }
} else {
  for (const r of rows) {
    console.log(
      `${r.figure.padEnd(28)} n=${r.runs}  holdline ${fmt(r.holdline, 1).padStart(7)}  floor ${fmt(r.floor, 1).padStart(7)}` +
        `  rawsock ${fmt(r.rawsock, 1).padStart(7)}  ratio ${fmt(r.holdlineRatio)} (target ≤ ${r.target}, ${r.met ? 'met' : 'NOT met'})`,
    );
  }
}
// User and system CPU apart: the system part is the kernel's loopback work, the same for every tool
// and the noisiest figure of a sitting; the user part is each tool's own code.
const split = ['W1', 'W2', 'W3'].map((w) => {
  const u = Object.fromEntries(TOOLS.map((t) => [t, median(of(t, w).map((r) => r.gen.cpu_user_s))]));
  const y = Object.fromEntries(TOOLS.map((t) => [t, median(of(t, w).map((r) => r.gen.cpu_sys_s))]));
  return { w, u, y, userRatio: u.holdline !== null && u.floor ? u.holdline / u.floor : null };
});
if (process.argv.includes('--markdown')) {
  console.log('');
  console.log(
    '| | holdline user / sys s | floor user / sys s | rawsock user / sys s | holdline ÷ floor, user only |',
  );
  console.log('|---|---|---|---|---|');
  for (const r of split) {
    const c = (t) => `${fmt(r.u[t])} / ${fmt(r.y[t])}`;
    console.log(`| ${r.w} | ${c('holdline')} | ${c('floor')} | ${c('rawsock')} | ${fmt(r.userRatio)}× |`);
  }
  console.log('');
} else {
  for (const r of split) {
    const c = (t) => `${t} ${fmt(r.u[t])}/${fmt(r.y[t])}`;
    console.log(`${r.w} user/sys s: ${TOOLS.map(c).join('  ')}  user ratio ${fmt(r.userRatio)}`);
  }
}
console.log(
  `W3 pacing: every steady second within ±10% of 500 msg/s in every holdline run: ${pacing ? 'yes' : 'no'}`,
);
console.log(problems.length === 0 ? 'Every count adds up in every holdline run.' : problems.join('\n'));
