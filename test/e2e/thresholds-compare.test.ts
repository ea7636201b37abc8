import assert from 'node:assert/strict';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { CapacityVerdict, RunResult } from '../../src/contract.js';
import { runCli } from '../helpers/cli.js';
import { closedPort } from '../helpers/net.js';
import { onlyResult, outDir } from '../helpers/results.js';
import { startTarget, type TestTarget } from '../helpers/target.js';

// --threshold rules, their exit codes and :abort; holdline compare and holdline report on
// results of real runs against the reference target.

let target: TestTarget;
let base: { out: string; file: string; result: RunResult<CapacityVerdict> };

before(async () => {
  target = await startTarget({ auth: 'none' });
  base = await capacity(['--threshold', 'success>=95%', '--threshold', 'p99<0.001ms']);
});
after(() => target?.close());

async function capacity(extra: string[]) {
  const out = outDir('thr');
  const r = await runCli([
    'capacity',
    target.wsUrl,
    ...['--points', '5,10', '--hold', '200ms', '--pause', '0', '--no-progress', '--out', out],
    ...extra,
  ]);
  const file = path.join(
    out,
    readdirSync(out).find((f) => f.endsWith('.json'))!,
  );
  return { out, file, code: r.code, stdout: r.stdout, result: onlyResult<CapacityVerdict>(out) };
}

test('a rule that holds and one that breaks: each recorded with its value, exit 1', async () => {
  const r = await capacity(['--threshold', 'success>=95%', '--threshold', 'p99<0.001ms']);
  assert.equal(r.code, 1, 'a broken rule fails the run');
  assert.equal(r.result.exitCode, 1);
  assert.equal(r.result.verdict?.maxReliable, 10, 'the ladder itself passed');
  const [ok, bad] = r.result.thresholds!;
  assert.deepEqual([ok.metric, ok.value, ok.passed, ok.unit], ['success', 1, true, 'fraction']);
  assert.equal(bad.metric, 'p99');
  assert.equal(bad.passed, false);
  assert.ok(bad.value !== null && bad.value >= 0.001, `measured p99 ${bad.value} ms`);
  assert.match(r.stdout, /\[OK\] {3}success>=95%: 100\.00%/);
  assert.match(r.stdout, /\[FAIL\] p99<0\.001ms: /);
  assert.match(r.result.info.commandLine ?? '', /--threshold 'p99<0\.001ms'/);
});

test('every rule holding keeps exit 0', async () => {
  const r = await capacity(['--threshold', 'capacity>=10', '--threshold', '90%']);
  assert.equal(r.code, 0, r.stdout);
  assert.equal(r.result.verdict?.threshold, 0.9, 'a bare share is still the point success rate');
  assert.deepEqual(
    r.result.thresholds!.map((t) => [t.expr, t.value, t.passed]),
    [['capacity>=10', 10, true]],
  );
});

test(':abort stops the run early with its results: exit 1, the reason recorded', async () => {
  const port = await closedPort();
  const out = outDir('abort');
  // 100 sessions at 10/s would take 10 s; every one is refused.
  const r = await runCli([
    'run',
    `ws://127.0.0.1:${port}/ws`,
    ...['-n', '100', '--connect-rate', '10', '--threshold', 'errors<5%:abort', '--no-progress', '--out', out],
  ]);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  const res = onlyResult(out);
  assert.equal(res.interrupted, false, 'stopped by a rule, not by the user');
  assert.equal(res.exitCode, 1);
  assert.match(res.abortedBy?.reason ?? '', /^errors<5%:abort broke at 100\.00% after \d+\.\d s/);
  assert.ok(
    res.steps[0].counters.started < 100,
    `stopped early: ${res.steps[0].counters.started} of 100 started`,
  );
  assert.equal(res.thresholds![0].passed, false);
});

test('bad rules: one message each, exit 2, no stack trace', async () => {
  const unknown = await runCli(['capacity', target.wsUrl, '--threshold', 'speed>5']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /Unknown metric speed; the metrics are success, errors/);
  assert.doesNotMatch(unknown.stderr, /at .*\.js:\d+/);
  const wrong = await runCli(['capacity', target.wsUrl, '--threshold', 'delivery=100%', '--no-progress']);
  assert.equal(wrong.code, 2);
  assert.match(wrong.stderr, /holdline capacity does not measure delivery/);
  const bare = await runCli(['load', target.wsUrl, '--threshold', '80%', '--no-progress']);
  assert.equal(bare.code, 2);
  assert.match(bare.stderr, /holdline load has no point success rate/);
});

test('compare: the same result twice passes; a lower capacity is a regression past 10% but not past 60%', async () => {
  const same = await runCli(['compare', base.file, base.file]);
  assert.equal(same.code, 0, same.stdout);
  assert.match(same.stdout, /No regression past 10%/);
  // The same run with half its capacity, as a later build might measure it.
  const worse = JSON.parse(readFileSync(base.file, 'utf8')) as RunResult<CapacityVerdict>;
  worse.verdict!.maxReliable = base.result.verdict!.maxReliable! / 2;
  const worseFile = path.join(base.out, 'worse.json');
  writeFileSync(worseFile, JSON.stringify(worse));
  const r = await runCli(['compare', base.file, worseFile]);
  assert.equal(r.code, 1, r.stdout);
  assert.match(r.stdout, /^capacity\s+10\s+5\s+-50\.0%\s+REGRESSION$/m);
  assert.match(r.stdout, /1 regression past 10%: capacity/);
  const lenient = await runCli([
    'compare',
    base.file,
    worseFile,
    '--max-regression',
    '60%',
    '--format',
    'md',
  ]);
  assert.equal(lenient.code, 0, lenient.stdout);
  assert.match(lenient.stdout, /^\| capacity \| 10 \| 5 \| -50\.0% \| worse \|$/m);
  rmSync(worseFile);
});

test('report: renders a saved result again, also one without the fields added since', async () => {
  const r = await runCli(['report', base.file]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Maximum reliable connections: ~10/);
  assert.match(r.stdout, /Thresholds:/);
  assert.match(r.stderr, /report: .*\.html/);
  const old = JSON.parse(readFileSync(base.file, 'utf8')) as Record<string, unknown>;
  for (const k of ['timeline', 'thresholds', 'abortedBy']) delete old[k];
  delete (old.info as Record<string, unknown>).commandLine;
  const oldFile = path.join(base.out, 'older.json');
  writeFileSync(oldFile, JSON.stringify(old));
  const o = await runCli(['report', oldFile]);
  assert.equal(o.code, 0, o.stderr);
  assert.match(readFileSync(path.join(base.out, 'older.html'), 'utf8'), /capacity-curve/);
  writeFileSync(oldFile, JSON.stringify({ ...old, v: 2 }));
  const newer = await runCli(['report', oldFile]);
  assert.equal(newer.code, 2);
  assert.match(newer.stderr, /has result format version 2; this holdline reads versions up to 1/);
});
