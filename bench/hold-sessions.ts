// Hold N concurrent sessions from ONE generator process against the reference target (two target
// processes: one process holds at most ~19,900 sockets under this machine's 20,000 open-file cap,
// so a 20,000-session run holds what fits and fails the rest as fds_exhausted, and says so).
//
//   node dist/bench/hold-sessions.js [sessions=20000] [hold=10s] [ws]   (ws: the ws-library transport)
import { generatorFigures, isMain, printFigures, runAgainstTarget } from './lib.js';

export async function holdSessions(sessions: number, hold: string, wsLib: boolean): Promise<void> {
  const args = [
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
  ];
  if (wsLib) args.push('--compression');
  const { result, wallS } = await runAgainstTarget('capacity', args, { auth: 'none', workers: 2 });
  const f = generatorFigures(result.steps[0]);
  printFigures(
    `hold-sessions: ${sessions} sessions, hold ${hold}, ${wsLib ? 'ws library' : 'built-in client'} (wall ${wallS.toFixed(1)} s)`,
    f,
  );
}

if (isMain(import.meta.url)) {
  const [n, hold, t] = process.argv.slice(2);
  await holdSessions(n ? Number(n) : 20_000, hold ?? '10s', t === 'ws');
}
