import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { readLimits, raiseFdLimit, type FdRaiseResult } from '../../src/host/limits.js';

// raiseFdLimit changes the limits of the process it runs in, so these tests run it in a child
// whose soft limit was first lowered below the hard one (lowering needs no privilege).

const HAS_PRLIMIT = process.platform === 'linux' && spawnSync('prlimit', ['--version']).status === 0;
const LIMITS_URL = new URL('../../src/host/limits.js', import.meta.url).href;

function runChild(prlimitBin: string): Promise<FdRaiseResult> {
  const l = readLimits();
  assert.ok(l.available && typeof l.openFiles.hard === 'number');
  const hard = l.openFiles.hard;
  const script = `
    import { execFileSync } from 'node:child_process';
    import { raiseFdLimit } from ${JSON.stringify(LIMITS_URL)};
    execFileSync('prlimit', ['--pid', String(process.pid), '--nofile=512:${hard}']);
    process.stdout.write(JSON.stringify(raiseFdLimit({ target: ${hard}, prlimit: ${JSON.stringify(prlimitBin)} })));
  `;
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--input-type=module', '-e', script],
      { timeout: 10_000 },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`${err.message}\n${stderr}`));
        else resolve(JSON.parse(stdout) as FdRaiseResult);
      },
    );
  });
}

test(
  'raises a lowered soft limit back to the hard limit with prlimit',
  { skip: !HAS_PRLIMIT && 'needs Linux and prlimit' },
  async () => {
    const r = await runChild('prlimit');
    assert.equal(r.method, 'prlimit');
    assert.equal(r.before?.soft, 512);
    assert.equal(r.after?.soft, r.before?.hard);
    assert.equal(r.after?.hard, r.before?.hard);
    assert.equal(r.error, undefined);
  },
);

test(
  'without prlimit: reports why, keeps the limit, does not throw',
  { skip: !HAS_PRLIMIT && 'needs Linux and prlimit' },
  async () => {
    const r = await runChild('/nonexistent/prlimit');
    assert.equal(r.method, 'unavailable');
    assert.match(r.error ?? '', /not found \(it comes with util-linux\)/);
    assert.equal(r.before?.soft, 512);
    assert.equal(r.after?.soft, 512);
  },
);

test(
  'in this process: never throws; as root it reports the attempt past the hard limit',
  { skip: !HAS_PRLIMIT && 'needs Linux and prlimit' },
  () => {
    const r = raiseFdLimit();
    assert.ok(r.before && r.after);
    assert.ok(
      r.after.soft === 'unlimited' || (typeof r.before.soft === 'number' && r.after.soft >= r.before.soft),
    );
    if (process.getuid?.() === 0 && typeof r.before.hard === 'number' && r.before.hard < 1_048_576) {
      assert.ok(r.aboveHard, JSON.stringify(r));
      assert.equal(typeof r.aboveHard.ok, 'boolean');
      if (!r.aboveHard.ok) assert.match(r.aboveHard.error ?? '', /\S/);
      else assert.equal(r.after.hard, r.aboveHard.requested);
    }
  },
);
