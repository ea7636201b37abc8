// `npm run bench`: every benchmark in turn, each printing its own figures. Benchmarks start their
// own target processes on loopback and end by themselves.
//
//   npm run bench                 all of them
//   npm run bench -- hold         only those whose name contains "hold"
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const BENCHES: { name: string; file: string; args: string[] }[] = [
  {
    name: 'hold-sessions: 20,000 sessions held by one generator process',
    file: 'hold-sessions.js',
    args: ['20000', '10s'],
  },
  {
    name: 'sustain-heartbeats: 20,000 connections, 60 s, 10 s heartbeats',
    file: 'sustain-heartbeats.js',
    args: [],
  },
  {
    name: 'target: connections per GB, group messages/s, bytes per group, SSE fan-out',
    file: 'target.js',
    args: [],
  },
  { name: 'broadcast-sse: 10,000 SSE subscribers, fan-out of one code', file: 'broadcast-sse.js', args: [] },
  { name: 'load-ceiling: messages/s and latency at 64 B and 5,000 chars', file: 'load-ceiling.js', args: [] },
  { name: 'workloads: W1-W3 against the reference target', file: 'workloads.js', args: [] },
  {
    name: 'report-render: the HTML report of a 100,000-point load history',
    file: 'report-render.js',
    args: [],
  },
];

const only = process.argv[2];
let failed = 0;
for (const b of BENCHES) {
  if (only && !b.name.includes(only)) continue;
  const file = fileURLToPath(new URL(`./${b.file}`, import.meta.url));
  if (!existsSync(file)) continue;
  console.log(`\n== ${b.name}`);
  const r = spawnSync(process.execPath, [file, ...b.args], { stdio: 'inherit' });
  if (r.status !== 0) {
    failed++;
    console.log(`   (exited ${r.status ?? r.signal})`);
  }
}
process.exitCode = failed > 0 ? 1 : 0;
