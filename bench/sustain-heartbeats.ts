// 20,000 connections held for 60 s with a heartbeat every 10 s, from one generator process against
// the reference target (two processes). Prints the generator's CPU time and peak RSS.
//
//   node dist/bench/sustain-heartbeats.js [connections=20000] [duration=60s] [heartbeat=10s]
import { generatorFigures, isMain, printFigures, runAgainstTarget } from './lib.js';

export async function sustainHeartbeats(n: number, duration: string, heartbeat: string): Promise<void> {
  const args = [
    '--points',
    String(n),
    '--duration',
    duration,
    '--heartbeat',
    heartbeat,
    '--connect-concurrency',
    '1000',
    '--step-timeout',
    '120s',
    '--pause',
    '0',
  ];
  const { result, wallS } = await runAgainstTarget('sustain', args, { auth: 'none', workers: 2 });
  const s = result.steps[0];
  const f = generatorFigures(s);
  f['heartbeats sent'] = s.counters.heartbeats;
  f['avg heartbeats / held'] = +(s.counters.heartbeats / Math.max(1, s.established)).toFixed(2);
  f['closed early'] = s.earlyCloses?.length ?? 0;
  printFigures(
    `sustain-heartbeats: ${n} connections, ${duration}, heartbeat ${heartbeat} (wall ${wallS.toFixed(1)} s)`,
    f,
  );
}

if (isMain(import.meta.url)) {
  const [n, d, hb] = process.argv.slice(2);
  await sustainHeartbeats(n ? Number(n) : 20_000, d ?? '60s', hb ?? '10s');
}
