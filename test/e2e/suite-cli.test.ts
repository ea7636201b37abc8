import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { assertValidResult } from '../helpers/schema.js';
import { runCliChild } from '../helpers/cli.js';
import { closedPort } from '../helpers/net.js';
import type { SuiteResult } from '../../src/plans/suite.js';

function tmp(): string {
  return mkdtempSync(path.join(tmpdir(), 'holdline-suite-'));
}

/** The one suite result the run left in `dir`. */
function suiteFile(dir: string): SuiteResult {
  const files = readdirSync(dir).filter((f) => !f.endsWith('.html'));
  assert.equal(files.length, 1, `files: ${files.join(', ')}`);
  assert.match(files[0], /^suite-.*\.json$/);
  const doc: unknown = JSON.parse(readFileSync(path.join(dir, files[0]), 'utf8'));
  assertValidResult(doc, files[0]);
  return doc as SuiteResult;
}

const NO_STACK = /at .*\.js:\d+/;

test('the built-in target: env, capacity, sustain at the safe limit, plan, summary, one combined file', async () => {
  const out = tmp();
  const r = await runCliChild(
    [
      'suite',
      '--points',
      '10,20',
      '--pause',
      '0',
      '--hold',
      '200ms',
      '--step-timeout',
      '10s',
      '--sustain-duration',
      '1s',
      '--heartbeat',
      '200ms',
      '--target',
      '1000',
      '--target',
      '2500,7',
      '--buffer',
      '25%',
      '--out',
      out,
      '--no-progress',
    ],
    { cwd: out, timeoutMs: 60_000 },
  );
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.doesNotMatch(r.stderr, NO_STACK);

  // Every stage's report, in order, then the summary.
  const order = ['== 1/4 env', '== 2/4 capacity', '== 3/4 sustain', '== 4/4 plan', '== suite summary'];
  const at = order.map((h) => r.stdout.indexOf(h));
  assert.ok(
    at.every((i, k) => i >= 0 && (k === 0 || i > at[k - 1])),
    `stage order ${at.join(',')}\n${r.stdout}`,
  );
  assert.match(r.stdout, /Preflight for up to 20 sessions to 127\.0\.0\.1:\d+/);
  assert.match(r.stdout, /Maximum reliable connections: ~20/); // capacity's own report
  assert.match(r.stdout, /\[OK\] +16 connections: +16\/ +16 successful/); // sustain's own report

  const res = suiteFile(out);
  assert.equal(res.v, 1);
  assert.equal(res.kind, 'suite');
  assert.equal(res.exitCode, 0);
  assert.equal(res.interrupted, false);
  assert.equal(res.error, null);

  // env: the full snapshot and the preflight of the largest point.
  assert.ok(res.env);
  assert.equal(typeof (res.env.facts.system as { node: string }).node, 'string');
  assert.ok(Array.isArray(res.env.facts.advice));
  assert.equal(res.env.planned.sessions, 20);
  assert.ok(Array.isArray(res.env.preflight));

  // capacity: the ladder as `holdline capacity` saves it.
  assert.ok(res.capacity?.verdict);
  assert.deepEqual(
    res.capacity.steps.map((s) => s.sessions),
    [10, 20],
  );
  const cv = res.capacity.verdict;
  assert.equal(cv.maxReliable, 20);
  assert.equal(cv.safeLimit, 16);

  // sustain: the safe limit, held with heartbeats.
  const sustain = res.sustain;
  assert.ok(sustain?.result && sustain.outcome);
  assert.equal(sustain.status, 'done');
  assert.equal(sustain.sessions, cv.safeLimit);
  assert.equal(sustain.result.info.command, 'sustain');
  const held = sustain.result.steps[0];
  assert.equal(held.sessions, cv.safeLimit);
  assert.equal(held.spec.holdMs, 1000);
  assert.equal(held.spec.heartbeat?.intervalMs, 200);
  assert.ok(held.counters.heartbeats > 0, 'heartbeats were sent');
  assert.equal(sustain.outcome.held, held.successful);
  assert.equal(sustain.outcome.verdict, held.successful === held.sessions ? 'held' : 'lost');

  // plan: from the sustain-confirmed figure, the arithmetic of `holdline plan`.
  const plan = res.plan;
  assert.ok(plan);
  assert.equal(plan.status, 'done');
  const perTask = held.successful;
  assert.equal(plan.perTask, perTask);
  assert.equal(plan.buffer, 0.25);
  assert.deepEqual(
    plan.rows.map((row) => row.target),
    [7, 1000, 2500],
  );
  for (const row of plan.rows) {
    // ceil(target / perTask × 1.25), in integers: 5·target / (4·perTask).
    assert.equal(row.tasks, Math.ceil((5 * row.target) / (4 * perTask)), `target ${row.target}`);
  }
  assert.deepEqual(
    plan.commands,
    plan.rows.map(
      (row) => `aws ecs update-service --cluster <cluster> --service <service> --desired-count ${row.tasks}`,
    ),
  );

  // verdict and summary agree with the stages.
  assert.ok(res.verdict);
  assert.equal(res.verdict.passed, true);
  assert.deepEqual(res.verdict.problems, []);
  assert.equal(res.verdict.perTask, perTask);
  const summary = r.stdout.slice(r.stdout.indexOf('== suite summary'));
  assert.match(summary, /Maximum reliable: +~20 connections/);
  assert.match(summary, /Safe limit: +16 \(80% of maximum reliable\)/);
  assert.match(summary, new RegExp(`Sustain: +held: ${perTask} of 16 connections open for 1s`));
  for (const row of plan.rows) {
    assert.match(
      summary,
      new RegExp(`${row.target.toLocaleString('en-US')} connections → ${row.tasks} tasks?`),
    );
    assert.ok(summary.includes(`--desired-count ${row.tasks}\n`));
  }
  assert.match(summary, /Verdict: +PASS/);
  assert.match(summary, /Result: +suite-.*\.json/);
});

test('--json prints the combined result and nothing else on stdout', async () => {
  const out = tmp();
  const r = await runCliChild(
    [
      ...['suite', '--points', '10', '--pause', '0', '--hold', '100ms', '--sustain-duration', '500ms'],
      ...['--target', '100', '--json', '--out', out, '--no-progress'],
    ],
    { timeoutMs: 60_000 },
  );
  assert.equal(r.code, 0, r.stderr);
  const printed = JSON.parse(r.stdout) as SuiteResult;
  assert.equal(printed.kind, 'suite');
  assert.deepEqual(printed, suiteFile(out));
  assert.equal(printed.plan?.rows[0].tasks, Math.ceil((100 * 1.2) / printed.plan!.perTask!));
});

test('bad usage: one clear line, exit 2, no stack, no result file', async () => {
  const out = path.join(tmp(), 'results');
  const badValue = await runCliChild(['suite', '--sustain-duration', 'soon', '--out', out]);
  assert.equal(badValue.code, 2);
  assert.match(badValue.stderr, /--sustain-duration/);
  assert.doesNotMatch(badValue.stderr, NO_STACK);

  const unknown = await runCliChild(['suite', '--sustain-durations', '1s', '--out', out]);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown option '--sustain-durations'/);

  const both = await runCliChild(['suite', '--json', '--log-format', 'json', '--out', out]);
  assert.equal(both.code, 2);
  assert.equal(both.stderr.trim().split('\n').length, 1, both.stderr);
  assert.match(both.stderr, /^holdline: --json .* --log-format json/);
  assert.equal(existsSync(out), false, 'nothing ran, nothing written');
});

test('nothing listening: a clear diagnosis, exit 1, and the result file keeps the env stage', async () => {
  const port = await closedPort();
  const out = tmp();
  const r = await runCliChild(['suite', `ws://127.0.0.1:${port}/ws`, '--points', '10,50', '--out', out], {
    timeoutMs: 30_000,
  });
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.doesNotMatch(r.stderr, NO_STACK);
  assert.match(r.stdout, new RegExp(`Nothing is listening at 127\\.0\\.0\\.1:${port}`));
  assert.match(r.stdout, /Verdict: +FAIL\n +- capacity: no point reached 80% successful sessions\n/);
  assert.doesNotMatch(r.stdout, /== 3\/4 sustain/);

  const res = suiteFile(out);
  assert.equal(res.exitCode, 1);
  assert.ok(res.env);
  assert.equal(typeof (res.env.facts.system as { node: string }).node, 'string');
  assert.deepEqual(res.env.planned, { sessions: 50, target: `127.0.0.1:${port}` });
  assert.deepEqual(res.capacity?.steps[0].failures, { refused: 10 });
  assert.equal(res.sustain?.status, 'skipped');
  assert.equal(res.plan?.status, 'skipped');
  assert.equal(res.verdict?.passed, false);
});

test('Ctrl-C during the sustained stage: exit 130, the capacity stage stays in the file', async () => {
  const out = tmp();
  let seen = '';
  let sent = false;
  const r = await runCliChild(
    [
      ...['suite', '--points', '10,20', '--pause', '0', '--hold', '100ms'],
      ...['--sustain-duration', '60s', '--heartbeat', '1s', '--out', out],
    ],
    {
      timeoutMs: 30_000,
      // The sustained stage prints this line when its step starts.
      onStdout: (chunk, kill) => {
        seen += chunk;
        if (!sent && /16 sustained connections for 60\.00s/.test(seen)) {
          sent = true;
          kill('SIGINT');
        }
      },
    },
  );
  assert.ok(sent);
  assert.equal(r.code, 130, r.stdout + r.stderr);
  assert.match(r.stdout, /Verdict: +INTERRUPTED/);
  const res = suiteFile(out);
  assert.equal(res.exitCode, 130);
  assert.equal(res.interrupted, true);
  assert.equal(res.capacity?.interrupted, false);
  assert.equal(res.capacity?.verdict?.safeLimit, 16);
  assert.equal(res.sustain?.status, 'interrupted');
  assert.equal(res.sustain?.result?.interrupted, true);
  assert.equal(res.plan, null);
});
