import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runCli } from '../helpers/cli.js';
import { startTarget, waitFor } from '../helpers/target.js';
import type { CapacityVerdict } from '../../src/contract.js';
import { outDir, onlyResult } from '../helpers/results.js';

const FAST = ['--pause', '0', '--hold', '200ms', '--no-progress'];

test('ladder against a target capped at 300: passes 10..200, fails 500 with http_503', async () => {
  const t = await startTarget({ auth: 'none', maxTotalConnections: 300 });
  const out = outDir('cap');
  try {
    const r = await runCli(['capacity', t.wsUrl, '--points', '10,50,100,200,500', '--out', out, ...FAST]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /✓   200 sessions:   200 successful \(100\.0%\)/);
    assert.match(r.stdout, /✗   500 sessions:   300 successful \( 60\.0%\)/);
    assert.match(r.stdout, /Maximum reliable connections: ~200/);
    assert.match(r.stdout, /Recommendation: Use 160 as safe limit/);
    const res = onlyResult<CapacityVerdict>(out);
    assert.deepEqual(
      res.steps.map((s) => [s.sessions, s.successful]),
      [
        [10, 10],
        [50, 50],
        [100, 100],
        [200, 200],
        [500, 300],
      ],
    );
    assert.deepEqual(res.steps[4].failures, { http_503: 200 });
    assert.equal(res.verdict?.maxReliable, 200);
    assert.equal(res.verdict?.safeLimit, 160);
    assert.equal(res.exitCode, 0);
    assert.equal(res.interrupted, false);
    // Every session is accounted for exactly once.
    for (const s of res.steps) {
      const failed = Object.values(s.failures).reduce((a, b) => a + b, 0);
      assert.equal(s.successful + failed, s.sessions);
    }
    assert.ok(res.steps[3].phases.upgrade.count === 200, 'upgrade timed for every session');
    // The server saw every connection closed again.
    await waitFor(() => t.stats().connections.ws === 0, 'the target to see every socket closed');
  } finally {
    await t.close();
  }
});

test('--refine finds the cap within 5%', async () => {
  const t = await startTarget({ auth: 'none', maxTotalConnections: 300 });
  const out = outDir('cap');
  try {
    const r = await runCli([
      'capacity',
      t.wsUrl,
      '--points',
      '10,50,100,200,500',
      '--refine',
      '--out',
      out,
      ...FAST,
    ]);
    assert.equal(r.code, 0, r.stderr);
    const v = onlyResult<CapacityVerdict>(out).verdict!;
    assert.equal(v.refined, true);
    assert.ok(Math.abs(v.maxReliable! - 300) <= 15, `max ${v.maxReliable}`);
    assert.match(r.stdout, new RegExp(`Maximum reliable connections: ~${v.maxReliable}`));
  } finally {
    await t.close();
  }
});

const SCENARIO = `
name: token-chat-ws
http:
  - name: token
    request: POST {{baseUrl}}/auth/token
    json: { userId: "u-{{index}}" }
    capture: { token: token }
  - name: chat
    request: POST {{baseUrl}}/chats
    headers: { Authorization: "Bearer {{token}}" }
    capture: { chatId: CHAT_PATH }
connect:
  url: "{{wsBaseUrl}}/ws?token=TOKEN&chat={{chatId}}"
`;

function scenarioFile(dir: string, chatPath: string, token: string): string {
  const f = path.join(dir, `s-${chatPath}-${token.length}.yaml`);
  writeFileSync(f, SCENARIO.replace('CHAT_PATH', chatPath).replace('TOKEN', token));
  return f;
}

test('scenario token + chat + WebSocket passes; a wrong token fails as http_401; a missing capture fails its step', async () => {
  const t = await startTarget({});
  const dir = outDir('cap');
  try {
    const ok = await runCli([
      'capacity',
      t.wsUrl,
      '--scenario',
      scenarioFile(dir, 'chatId', '{{token}}'),
      '--points',
      '20',
      '--out',
      path.join(dir, 'ok'),
      ...FAST,
    ]);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    const okRes = onlyResult<CapacityVerdict>(path.join(dir, 'ok'));
    assert.equal(okRes.steps[0].successful, 20);
    assert.equal(okRes.steps[0].phases['http:token'].count, 20);
    assert.equal(okRes.steps[0].phases['http:chat'].count, 20);
    assert.equal(okRes.steps[0].setup?.completed, 20);
    // The token never reaches the result file.
    assert.ok(!JSON.stringify(okRes).includes('eyJ'), 'no token in the result');

    const bad = await runCli([
      'capacity',
      t.wsUrl,
      '--scenario',
      scenarioFile(dir, 'chatId', 'not-a-token'),
      '--points',
      '20',
      '--out',
      path.join(dir, 'bad'),
      ...FAST,
    ]);
    assert.equal(bad.code, 1);
    assert.deepEqual(onlyResult<CapacityVerdict>(path.join(dir, 'bad')).steps[0].failures, { http_401: 20 });

    const cap = await runCli([
      'capacity',
      t.wsUrl,
      '--scenario',
      scenarioFile(dir, 'data.nothing', '{{token}}'),
      '--points',
      '20',
      '--out',
      path.join(dir, 'cap'),
      ...FAST,
    ]);
    assert.equal(cap.code, 1);
    const capRes = onlyResult<CapacityVerdict>(path.join(dir, 'cap'));
    assert.deepEqual(capRes.steps[0].failures, { step_chat_capture: 20 });
    assert.match(capRes.steps[0].errorSamples[0].detail, /data\.nothing/);
  } finally {
    await t.close();
  }
});

test('no URL: the built-in target runs the full session', async () => {
  const out = outDir('cap');
  const r = await runCli(['capacity', '--points', '5,20', '--out', out, ...FAST]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /built-in reference target/);
  const res = onlyResult<CapacityVerdict>(out);
  assert.deepEqual(
    res.steps.map((s) => s.successful),
    [5, 20],
  );
  assert.equal(res.steps[1].phases['http:token'].count, 20);
  assert.equal(res.steps[1].phases['http:chat'].count, 20);
});

test('a user stop mid-step closes everything and keeps the table and the result', async () => {
  const t = await startTarget({ auth: 'none' });
  const out = outDir('cap');
  const ac = new AbortController();
  try {
    // Abort once the generator itself counts every session of the first point as established
    // (the target's own count can run ahead of the client's open event).
    const r = await runCli(
      ['capacity', t.wsUrl, '--points', '40,80', '--hold', '30s', '--pause', '0', '--out', out],
      {
        signal: ac.signal,
        onTtyStderr: (chunk) => {
          if (/\[  40\] established 40 /.test(chunk)) ac.abort();
        },
      },
    );
    assert.equal(r.code, 130);
    assert.match(r.stdout, /Interrupted/);
    const res = onlyResult<CapacityVerdict>(out);
    assert.equal(res.interrupted, true);
    assert.equal(res.steps.length, 1);
    assert.equal(res.steps[0].aborted, true);
    assert.equal(res.steps[0].successful, 40);
  } finally {
    await t.close();
  }
});

test('holdline plan --from takes the safe limit of a real capacity result', async () => {
  const t = await startTarget({ auth: 'none', maxTotalConnections: 100 });
  const out = outDir('cap');
  try {
    const cap = await runCli(['capacity', t.wsUrl, '--points', '50,100,200', '--out', out, ...FAST]);
    assert.equal(cap.code, 0, cap.stderr);
    const file = path.join(
      out,
      readdirSync(out).find((f) => f.endsWith('.json'))!,
    );
    assert.equal(onlyResult<CapacityVerdict>(out).verdict?.safeLimit, 80);
    const r = await runCli(['plan', '--from', file, '--target', '1000']);
    assert.equal(r.code, 0, r.stderr);
    // ceil(1000 / 80 × 1.2) = 15
    assert.match(r.stdout, /\b15\b/);
    assert.match(r.stdout, /--desired-count 15/);
  } finally {
    await t.close();
  }
});
