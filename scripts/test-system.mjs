// Brings the system software the test suite needs, before any test runs: what is missing is
// installed with apt-get when this user can (root on Debian), saying so in one line; otherwise the
// run stops here with one line naming the package and the command that installs it. So `npm test`
// on a fresh machine either passes whole or says what to install: no test is skipped for a missing
// program.
import { spawnSync } from 'node:child_process';

const NEEDS = [
  { command: 'redis-server', pkg: 'redis-server', for: "the target's Redis tests" },
  { command: 'prlimit', pkg: 'util-linux', for: 'the open-file limit tests' },
  { command: 'chromium', pkg: 'chromium', for: 'the HTML report tests (headless)' },
];

const found = (command) => spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;

const missing = NEEDS.filter((n) => !found(n.command));
if (missing.length > 0) {
  const pkgs = [...new Set(missing.map((n) => n.pkg))];
  const what = missing.map((n) => `${n.command} (Debian package ${n.pkg}, for ${n.for})`).join(', ');
  const command = `apt-get install -y ${pkgs.join(' ')}`;
  const canInstall = process.getuid?.() === 0 && found('apt-get');
  if (!canInstall) {
    console.error(`npm test needs ${what}: install it with \`sudo ${command}\`, then run npm test again.`);
    process.exit(1);
  }
  console.error(`npm test needs ${what}: installing it with \`${command}\`.`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [
    ['update', '-qq'],
    ['install', '-y', '-qq', ...pkgs],
  ]) {
    const r = spawnSync('apt-get', args, { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    if (r.status !== 0) {
      const why = (r.stderr || r.stdout || String(r.error ?? '')).trim().split('\n').slice(-1)[0];
      console.error(`\`apt-get ${args.join(' ')}\` failed (${why}): install ${pkgs.join(' ')} by hand.`);
      process.exit(1);
    }
  }
  const still = missing.filter((n) => !found(n.command));
  if (still.length > 0) {
    console.error(
      `installed ${pkgs.join(' ')}, but ${still.map((n) => n.command).join(', ')} is still not on PATH.`,
    );
    process.exit(1);
  }
}
