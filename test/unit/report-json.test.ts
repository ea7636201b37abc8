import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setImmediate as tick } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { V, type RunInfo, type RunResult, type StepResult } from '../../src/contract.js';
import { HoldlineError, UserError } from '../../src/errors.js';
import { JsonResultWriter, readRunResult, writeRunResult } from '../../src/report/json.js';
import { Recorder } from '../../src/metrics/recorder.js';

const info: RunInfo = {
  v: V,
  id: 'run-7',
  command: 'capacity',
  target: 'ws://127.0.0.1:1/',
  startedAt: 1,
  config: {},
  host: {},
};

function step(index: number, sessions: number): StepResult {
  const rec = new Recorder(0, index);
  for (let i = 0; i < sessions; i++) rec.latency('connect', 100 + i);
  return rec.result(
    {
      v: V,
      plan: 'capacity',
      index,
      sessions,
      connectConcurrency: 10,
      stepTimeoutMs: 1000,
      holdMs: 0,
      scenario: { http: [], connect: { transport: 'ws', url: 'ws://127.0.0.1:1/' } },
    },
    {
      startedAt: 10,
      durationMs: 20,
      successful: sessions,
      established: sessions,
      aborted: false,
      generator: {
        peakRssBytes: 1,
        cpuUserMs: 1,
        cpuSystemMs: 1,
        maxCpuPct: 1,
        maxEldMs: 1,
        maxFds: 1,
        saturated: false,
      },
    },
  );
}

function tmp(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'holdline-json-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('the result file is complete and readable after every step and at the end', (t) => {
  const dir = path.join(tmp(t), 'nested', 'out');
  const w = new JsonResultWriter({ dir, id: 'fixed' });
  w.runStart(info);
  assert.equal(w.path, path.join(dir, 'capacity-fixed.json'));
  let r = readRunResult(w.path);
  assert.deepEqual([r.steps.length, r.interrupted, r.verdict], [0, true, null]);
  assert.deepEqual(r.info, info);

  w.stepEnd(step(0, 10));
  r = readRunResult(w.path);
  assert.equal(r.steps.length, 1);
  assert.equal(r.interrupted, true, 'a run that stops here reads as interrupted');

  w.stepEnd(step(1, 50));
  r = readRunResult(w.path);
  assert.deepEqual(
    r.steps.map((s) => s.sessions),
    [10, 50],
  );
  assert.equal(r.steps[1].phases.connect.count, 50);

  const final: RunResult = {
    v: V,
    info,
    steps: r.steps,
    verdict: { maxReliable: 50 },
    endedAt: 99,
    interrupted: false,
    diagnosis: ['fine'],
    exitCode: 0,
  };
  w.runEnd(final);
  assert.deepEqual(readRunResult(w.path), final);
  assert.deepEqual(readdirSync(dir), ['capacity-fixed.json'], 'no temporary files left behind');
});

test('without an id the run id names the file', (t) => {
  const dir = tmp(t);
  const w = new JsonResultWriter({ dir, id: '' });
  assert.equal(w.path, '');
  w.runStart(info);
  assert.equal(w.path, path.join(dir, 'capacity-run-7.json'));
});

test('a directory that cannot be created is a user error', (t) => {
  const file = path.join(tmp(t), 'a-file');
  writeFileSync(file, 'x');
  const w = new JsonResultWriter({ dir: path.join(file, 'sub'), id: 'x' });
  assert.throws(() => w.runStart(info), UserError);
});

test('readRunResult refuses another version and files that are not results', (t) => {
  const dir = tmp(t);
  const p = path.join(dir, 'r.json');
  writeFileSync(p, JSON.stringify({ v: 2, info, steps: [] }));
  assert.throws(
    () => readRunResult(p),
    (e: unknown) => e instanceof HoldlineError && e.code === 'version_mismatch',
  );
  writeFileSync(p, '{"v":1,"info":');
  assert.throws(() => readRunResult(p), UserError);
  writeFileSync(p, JSON.stringify({ hello: 'world' }));
  assert.throws(() => readRunResult(p), UserError);
  assert.throws(() => readRunResult(path.join(dir, 'missing.json')), UserError);
});

test('a second writer in another process never leaves a torn file', async (t) => {
  const dir = tmp(t);
  const file = path.join(dir, 'shared.json');
  // Large enough that a non-atomic write would be observed half done.
  const steps = Array.from({ length: 40 }, (_, i) => step(i, 200));
  const mine: RunResult = {
    v: V,
    info: { ...info, id: 'parent' },
    steps,
    verdict: null,
    endedAt: 0,
    interrupted: false,
    diagnosis: [],
    exitCode: 0,
  };
  writeRunResult(file, mine);
  const jsonModule = pathToFileURL(
    path.join(path.dirname(fileURLToPath(import.meta.url)), '../../src/report/json.js'),
  ).href;
  const script = `
    import { writeRunResult } from ${JSON.stringify(jsonModule)};
    import { readFileSync } from 'node:fs';
    const file = process.argv[1];
    const r = JSON.parse(readFileSync(file, 'utf8'));
    r.info.id = 'child';
    for (let i = 0; i < 150; i++) writeRunResult(file, r);
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script, file], { stdio: 'inherit' });
  let exitCode: number | null = null;
  const exited = new Promise<void>((resolve) =>
    child.on('exit', (code) => {
      exitCode = code;
      resolve();
    }),
  );
  t.after(() => child.kill());
  const deadline = Date.now() + 15_000;
  let reads = 0;
  let sawChild = false;
  while (exitCode === null && Date.now() < deadline) {
    writeRunResult(file, mine);
    const r = readRunResult(file); // throws on a torn file
    assert.equal(r.steps.length, 40);
    sawChild ||= r.info.id === 'child';
    reads++;
    await tick();
  }
  await exited;
  assert.equal(exitCode, 0);
  assert.ok(reads > 0);
  const last = readRunResult(file);
  assert.ok(['parent', 'child'].includes(last.info.id));
  assert.deepEqual(
    readdirSync(dir).filter((f) => f.endsWith('.tmp')),
    [],
  );
  t.diagnostic(`reads ${reads}, saw the other writer: ${sawChild}`);
});
