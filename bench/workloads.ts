// The peer-benchmark workloads W1-W3 (docs/benchmarks.md), self-contained: `holdline run` with the
// scenario a user would write, against the reference target started here (one process, raw echo,
// no auth), printing the generator's own cost and checking that every count adds up. The numbers
// are those of the peers harness (its workloads.env); the harness itself runs the same scenarios
// through bench/peers/holdline.sh against its pinned echo server, beside the other tools.
//
//   node dist/bench/workloads.js [W1|W2|W3 ...]      (default: all three)
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { StepResult } from '../src/contract.js';
import { isMain, printFigures, runAgainstTarget } from './lib.js';

interface Workload {
  name: string;
  scenario: string;
  args: string[];
  /** Sessions, and messages each sends. */
  conns: number;
  messages: number;
}

const W1 = { conns: 10_000, rate: 1000, holdS: 30, everyS: 10, count: 3, bytes: 16 };
const W2 = { conns: 100, rounds: 5000, bytes: 64 };
const W3 = { conns: 1000, rate: 500, everyS: 2, count: 30, bytes: 5000 };

export const WORKLOADS: Record<string, Workload> = {
  W1: {
    name: `W1 hold: ${W1.conns} sessions at ${W1.rate}/s, held ${W1.holdS} s, a ${W1.bytes}-byte message every ${W1.everyS} s`,
    scenario: [
      'name: W1 hold',
      'connect: { url: "{{wsUrl}}" }',
      'session:',
      `  duration: ${W1.holdS}s`,
      `  messages: { send: "${'h'.repeat(W1.bytes)}", every: ${W1.everyS}s, count: ${W1.count} }`,
    ].join('\n'),
    args: ['--sessions', String(W1.conns), '--connect-rate', String(W1.rate)],
    conns: W1.conns,
    messages: W1.count,
  },
  W2: {
    name: `W2 echo: ${W2.conns} sessions, closed loop of ${W2.rounds} x (send ${W2.bytes} bytes, await the echo)`,
    scenario: [
      'name: W2 echo',
      'connect: { url: "{{wsUrl}}" }',
      'session:',
      `  messages: { send: "${'x'.repeat(W2.bytes)}", await: reply, count: ${W2.rounds} }`,
    ].join('\n'),
    args: ['--sessions', String(W2.conns), '--connect-concurrency', String(W2.conns)],
    conns: W2.conns,
    messages: W2.rounds,
  },
  W3: {
    name: `W3 rate: ${W3.conns} sessions at ${W3.rate}/s, a ${W3.bytes}-char message every ${W3.everyS} s, ${W3.count} times`,
    scenario: [
      'name: W3 rate',
      'connect: { url: "{{wsUrl}}" }',
      'session:',
      `  duration: ${W3.everyS * W3.count}s`,
      `  messages: { send: "${'x'.repeat(W3.bytes)}", every: ${W3.everyS}s, count: ${W3.count} }`,
    ].join('\n'),
    args: ['--sessions', String(W3.conns), '--connect-rate', String(W3.rate)],
    conns: W3.conns,
    messages: W3.count,
  },
};

export async function runWorkload(id: string): Promise<boolean> {
  const w = WORKLOADS[id];
  const dir = mkdtempSync(path.join(tmpdir(), 'holdline-workload-'));
  const file = path.join(dir, `${id}.yaml`);
  writeFileSync(file, `${w.scenario}\n`);
  const { result, wallS } = await runAgainstTarget('run', ['--scenario', file, ...w.args], {
    auth: 'none',
  });
  const s = result.steps[0];
  const { figures, problems } = workloadFigures(s, w);
  figures['wall s'] = +wallS.toFixed(1);
  printFigures(`${w.name}`, figures);
  for (const p of problems) console.log(`  COUNTS DO NOT ADD UP: ${p}`);
  return problems.length === 0;
}

/** The harness's figures, from holdline's own result, and whatever count does not add up. */
export function workloadFigures(
  s: StepResult,
  w: Workload,
): { figures: Record<string, number | string>; problems: string[] } {
  const g = s.generator;
  const c = s.counters;
  const m = s.phases.message;
  const cpuS = (g.cpuUserMs + g.cpuSystemMs) / 1000;
  const sent = c.msgsSent ?? 0;
  const recv = c.msgsRecv ?? 0;
  const closed = s.phases.close?.count ?? 0;
  const expected = w.conns * w.messages;
  const problems: string[] = [];
  if (s.established !== w.conns) problems.push(`opened ${s.established} of ${w.conns}`);
  if (s.successful !== s.established) problems.push(`held ${s.successful} of ${s.established} opened`);
  if (closed !== s.successful) problems.push(`closed ${closed} of ${s.successful} held`);
  if (sent !== expected) problems.push(`sent ${sent} messages, planned ${expected}`);
  if (recv !== sent) problems.push(`received ${recv} echoes of ${sent} sent`);
  const failures = Object.entries(s.failures).map(([k, n]) => `${k} ${n}`);
  if (failures.length > 0) problems.push(`failures: ${failures.join(', ')}`);
  const base = g.baseRssBytes ?? 0;
  return {
    figures: {
      'opened / held / closed': `${s.established} / ${s.successful} / ${closed}`,
      'sent / echoed': `${sent} / ${recv}`,
      'gen CPU s (user+sys)': +cpuS.toFixed(2),
      'CPU ms / opened session': +((cpuS * 1000) / Math.max(1, s.established)).toFixed(3),
      'CPU µs / message': +((cpuS * 1e6) / Math.max(1, sent)).toFixed(1),
      'peak RSS MB': +(g.peakRssBytes / 2 ** 20).toFixed(1),
      'RSS above base KB / session': +((g.peakRssBytes - base) / 1024 / Math.max(1, s.successful)).toFixed(2),
      'latency p50 / p99 ms': m ? `${m.p50} / ${m.p99}` : '-',
      'max event-loop delay ms': g.maxEldMs,
      'generator saturated': String(g.saturated),
    },
    problems,
  };
}

if (isMain(import.meta.url)) {
  const ids = process.argv.slice(2).length > 0 ? process.argv.slice(2) : Object.keys(WORKLOADS);
  let ok = true;
  for (const id of ids) {
    if (!WORKLOADS[id]) {
      console.error(`unknown workload ${id} (W1, W2 or W3)`);
      process.exit(2);
    }
    ok = (await runWorkload(id)) && ok;
  }
  process.exitCode = ok ? 0 : 1;
}
