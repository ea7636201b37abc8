import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCliChild } from '../helpers/cli.js';
import { closedPort } from '../helpers/net.js';
import { spawnTarget } from '../../src/target/spawn.js';
import { onlyResult } from '../helpers/results.js';

function tmp(): string {
  return mkdtempSync(path.join(tmpdir(), 'holdline-e2e-'));
}

test('nothing listening: every session refused, quick end, diagnosis, exit 1, result kept', async () => {
  const port = await closedPort();
  const out = tmp();
  const t0 = performance.now();
  const r = await runCliChild(['capacity', `ws://127.0.0.1:${port}/ws`, '--points', '10,50', '--out', out], {
    timeoutMs: 30_000,
  });
  const elapsed = performance.now() - t0;
  assert.equal(r.code, 1, r.stderr);
  assert.ok(elapsed < 10_000, `ended in ${elapsed} ms (step timeout is 60 s)`);
  assert.match(r.stdout, /✗    10 sessions:     0 successful \(  0\.0%\)/);
  assert.match(r.stdout, new RegExp(`Nothing is listening at 127\\.0\\.0\\.1:${port}`));
  assert.doesNotMatch(r.stderr, /at .*\.js:\d+/, 'no stack trace');
  const res = onlyResult(out);
  assert.equal(readdirSync(out).filter((f) => f.endsWith('.html')).length, 1, 'the HTML report beside it');
  assert.equal(res.steps.length, 1);
  assert.deepEqual(res.steps[0].failures, { refused: 10 });
  assert.equal(res.exitCode, 1);
});

test('an unknown flag and a malformed scenario: one clear message, exit 2', async () => {
  const bad = await runCliChild(['capacity', '--pointz', '10']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /unknown option '--pointz'/);
  assert.doesNotMatch(bad.stderr, /at .*\.js:\d+/);

  const badValue = await runCliChild(['capacity', '--threshold', 'lots']);
  assert.equal(badValue.code, 2);
  assert.match(badValue.stderr, /--threshold/);

  const dir = tmp();
  const file = path.join(dir, 'broken.yaml');
  writeFileSync(file, 'http:\n  - name: token\n    request: 42\nconnect:\n  headers: nope\n');
  const r = await runCliChild(['capacity', 'ws://127.0.0.1:9/ws', '--scenario', file, '--out', dir]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /broken\.yaml/);
  assert.match(r.stderr, /connect/);
  assert.doesNotMatch(r.stderr, /at .*\.js:\d+/);
  assert.equal(r.stderr.trim().split('\n')[0].startsWith('holdline:'), true);
});

test('the target killed in the middle of a step: the run ends with what it saw, result on disk, no hang', async () => {
  const target = await spawnTarget({ options: { auth: 'none' } });
  const out = tmp();
  let killed = false;
  try {
    const r = await runCliChild(
      [
        'capacity',
        target.wsUrl,
        '--points',
        '200,400',
        '--hold',
        '20s',
        '--pause',
        '0',
        '--step-timeout',
        '10s',
        '--out',
        out,
        '--log-format',
        'json',
      ],
      {
        timeoutMs: 60_000,
        // The JSON log says when a step starts; kill the target once the sessions are open.
        onStdout: (chunk) => {
          if (!killed && chunk.includes('"step-start"')) {
            killed = true;
            setTimeout(() => target.kill('SIGKILL'), 1500);
          }
        },
      },
    );
    assert.ok(killed);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    const res = onlyResult(out);
    assert.equal(res.interrupted, false);
    const first = res.steps[0];
    assert.equal(first.successful, 0);
    const classes = Object.keys(first.failures);
    assert.ok(classes.length > 0);
    assert.ok(
      classes.every((c) => ['reset', 'refused', 'closed_1006'].includes(c)),
      `classes: ${classes.join(', ')}`,
    );
    assert.equal(
      Object.values(first.failures).reduce((a, b) => a + b, 0),
      200,
    );
    // Every session was open when the target died: each one is an early close with its time.
    assert.equal(first.earlyCloses?.length, 200);
  } finally {
    target.kill('SIGKILL');
    await target.exited;
  }
});
