// Benchmark: hold N concurrent sessions from ONE generator process against the reference target
// (two target processes: one process holds at most ~19,900 sockets under a 20,000 open-file cap).
// Prints the generator's peak RSS per held session and CPU time per opened session.
//
//   node dist/bench/hold-sessions.js [sessions=20000] [hold=10s] [transport=lean|ws]
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnTarget } from '../src/target/spawn.js';
import type { RunResult } from '../src/contract.js';

const BIN = fileURLToPath(new URL('../../bin/holdline.js', import.meta.url));

export async function holdSessions(
  sessions = 20_000,
  hold = '10s',
  compression = false,
): Promise<Record<string, number | string>> {
  const target = await spawnTarget({ options: { auth: 'none', workers: 2 } });
  const out = mkdtempSync(path.join(tmpdir(), 'holdline-bench-'));
  try {
    const args = [
      BIN,
      'capacity',
      target.wsUrl,
      '--points',
      String(sessions),
      '--hold',
      hold,
      '--connect-concurrency',
      '1000',
      '--step-timeout',
      '120s',
      '--pause',
      '0',
      '--no-progress',
      '--out',
      out,
    ];
    if (compression) args.push('--compression');
    const t0 = performance.now();
    const code = await new Promise<number>((resolve, reject) => {
      const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit'] });
      child.on('exit', (c) => resolve(c ?? -1));
      child.on('error', reject);
    });
    const wallS = (performance.now() - t0) / 1000;
    const file = readdirSync(out).find((f) => f.endsWith('.json'));
    if (!file) throw new Error(`no result (exit ${code})`);
    const res = JSON.parse(readFileSync(path.join(out, file), 'utf8')) as RunResult;
    const s = res.steps[0];
    const g = s.generator;
    const cpuMs = g.cpuUserMs + g.cpuSystemMs;
    const base = g.baseRssBytes ?? 0;
    return {
      requested: sessions,
      held: s.successful,
      failed: s.failed,
      failures: JSON.stringify(s.failures),
      'establish s': +(s.durationMs / 1000).toFixed(2),
      'wall s': +wallS.toFixed(1),
      'peak RSS MB': +(g.peakRssBytes / 2 ** 20).toFixed(1),
      'base RSS MB': +(base / 2 ** 20).toFixed(1),
      'peak RSS KB / held': +(g.peakRssBytes / 1024 / Math.max(1, s.successful)).toFixed(2),
      'RSS above base KB / held': +((g.peakRssBytes - base) / 1024 / Math.max(1, s.successful)).toFixed(2),
      'CPU s': +(cpuMs / 1000).toFixed(2),
      'CPU ms / opened': +(cpuMs / Math.max(1, s.established)).toFixed(3),
      'max fds': g.maxFds,
      saturated: String(g.saturated),
    };
  } finally {
    await target.close();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [n, hold, transport] = process.argv.slice(2);
  const r = await holdSessions(n ? Number(n) : 20_000, hold ?? '10s', transport === 'ws');
  console.log(`hold-sessions (${transport === 'ws' ? 'ws library, compression' : 'lean client'})`);
  for (const [k, v] of Object.entries(r)) console.log(`  ${k.padEnd(26)} ${v}`);
}
