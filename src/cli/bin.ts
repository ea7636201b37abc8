import { main } from './main.js';
import type { CliIO } from './io.js';

// The process shell around main(): real globals, signals, and an exit only after output drains.
const ac = new AbortController();
let interrupts = 0;
function onSignal(): void {
  interrupts++;
  if (interrupts > 1) process.exit(130); // a second Ctrl-C: stop now
  process.stderr.write('\nStopping (Ctrl-C again to force)…\n');
  ac.abort();
}
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);
// A closed pipe (e.g. `| head`) must not crash the run or lose the result file.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') throw err;
});

const io: CliIO = {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  cwd: process.cwd(),
  signal: ac.signal,
  exit: { code: 0 },
};

const code = await main(process.argv.slice(2), io);
// Each command decides its own code: 130 for an interrupted test run, 0 for a server told to stop.
process.exitCode = code;
