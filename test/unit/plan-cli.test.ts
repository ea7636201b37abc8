import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { planCommand } from '../../src/cli/commands/plan.js';
import { runCommand, type CliRun } from '../helpers/cli.js';
import { V, type CapacityVerdict, type RunResult } from '../../src/contract.js';

let dir = '';

const plan = (args: string[]): Promise<CliRun> => runCommand(planCommand, args, { cwd: dir });

/** A minimal capacity RunResult as `holdline capacity` saves it. */
function result(
  verdict: Partial<CapacityVerdict> | null,
  command = 'capacity',
  host: Record<string, unknown> = {},
): RunResult<CapacityVerdict> {
  return {
    v: V,
    info: {
      v: V,
      id: 'r1',
      command: command as 'capacity',
      target: 'ws://127.0.0.1:8080/ws',
      startedAt: 0,
      config: {},
      host,
    },
    steps: [],
    verdict:
      verdict === null
        ? null
        : {
            threshold: 0.8,
            safetyFactor: 0.8,
            points: [],
            maxReliable: 2500,
            firstFailing: 5000,
            safeLimit: 2000,
            refined: false,
            ...verdict,
          },
    endedAt: 1,
    interrupted: false,
    diagnosis: [],
    exitCode: 0,
  };
}

function save(name: string, doc: unknown): string {
  writeFileSync(path.join(dir, name), typeof doc === 'string' ? doc : JSON.stringify(doc));
  return name;
}

before(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'holdline-plan-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('--per-task 2000 --target 10000: 6 tasks, the arithmetic, the update-service line', async () => {
  const r = await plan(['--per-task', '2000', '--target', '10000']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /10,000 \/ 2,000 = 5 tasks/);
  assert.match(r.stdout, /5 × 1\.2 = 6 → 6 tasks \(room for 12,000 connections\)/);
  assert.match(r.stdout, /^Tasks needed: 6$/m);
  assert.match(
    r.stdout,
    /aws ecs update-service --cluster <cluster> --service <service> --desired-count 6$/m,
  );
});

test('--buffer takes percentages and fractions; 0 means none', async () => {
  assert.match(
    (await plan(['--per-task', '2000', '--target', '10000', '--buffer', '0'])).stdout,
    /^Tasks needed: 5$/m,
  );
  assert.match(
    (await plan(['--per-task', '2000', '--target', '10000', '--buffer', '50%'])).stdout,
    /^Tasks needed: 8$/m,
  );
  assert.match(
    (await plan(['--per-task', '2000', '--target', '100000', '--buffer', '10%'])).stdout,
    /^Tasks needed: 55$/m,
  );
  assert.match(
    (await plan(['--per-task', '2000', '--target', '10000', '--buffer', '0.2'])).stdout,
    /^Tasks needed: 6$/m,
  );
});

test('several targets print a table and one command per row', async () => {
  const r = await plan([
    '--per-task',
    '2000',
    '--target',
    '1000,10000,100000',
    '--cluster',
    'prod',
    '--service',
    'chat',
  ]);
  assert.equal(r.code, 0, r.stderr);
  const rows = r.stdout.split('\n').filter((l) => /^\s+[\d,]+\s+[\d.,]+\s+[\d.,]+\s+\d+\s+[\d,]+$/.test(l));
  assert.deepEqual(
    rows.map((l) => l.trim().split(/\s+/)),
    [
      ['1,000', '0.5', '0.6', '1', '2,000'],
      ['10,000', '5', '6', '6', '12,000'],
      ['100,000', '50', '60', '60', '120,000'],
    ],
  );
  for (const n of [1, 6, 60])
    assert.ok(
      r.stdout.includes(`aws ecs update-service --cluster prod --service chat --desired-count ${n}\n`),
      String(n),
    );
});

test('--json', async () => {
  const r = await plan(['--per-task', '2000', '--target', '10000', '--json']);
  const j = JSON.parse(r.stdout) as {
    tasks: number;
    perTask: number;
    buffer: number;
    rows: { exact: number }[];
    commands: string[];
    perTaskFrom: unknown;
  };
  assert.equal(j.tasks, 6);
  assert.equal(j.perTask, 2000);
  assert.equal(j.buffer, 0.2);
  assert.equal(j.perTaskFrom, 'flag');
  assert.equal(j.rows[0].exact, 6);
  assert.deepEqual(j.commands, [
    'aws ecs update-service --cluster <cluster> --service <service> --desired-count 6',
  ]);
});

test('--from a saved capacity result: safe limit by default, --use max for the maximum reliable', async () => {
  const file = save(
    'cap.json',
    result({}, 'capacity', { ecs: { available: true, clusterName: 'loadtest', serviceName: 'chat-target' } }),
  );
  const safe = await plan(['--from', file, '--target', '10000', '--json']);
  assert.equal(safe.code, 0, safe.stderr);
  const j = JSON.parse(safe.stdout) as {
    perTask: number;
    tasks: number;
    perTaskFrom: { field: string };
    commands: string[];
  };
  assert.equal(j.perTask, 2000);
  assert.equal(j.tasks, 6);
  assert.equal(j.perTaskFrom.field, 'verdict.safeLimit');
  assert.equal(
    j.commands[0],
    'aws ecs update-service --cluster loadtest --service chat-target --desired-count 6',
  );

  const max = await plan(['--from', file, '--use', 'max', '--target', '10000']);
  assert.match(max.stdout, /at 2,500 per task \(verdict\.maxReliable of cap\.json\)/);
  assert.match(max.stdout, /^Tasks needed: 5$/m); // 10000 / 2500 × 1.2 = 4.8
  const override = await plan(['--from', file, '--target', '10000', '--cluster', 'other']);
  assert.match(override.stdout, /--cluster other --service chat-target --desired-count 6/);
});

test('--from a sustain result, and a suite result: what its sustained test held, or --use max', async () => {
  const sus = await plan(['--from', save('sus.json', result({}, 'sustain')), '--target', '10000']);
  assert.equal(sus.code, 0, sus.stderr);
  assert.match(sus.stdout, /^Tasks needed: 6$/m);
  const suite = save('suite.json', {
    v: 1,
    kind: 'suite',
    capacity: result({ maxReliable: 5000, safeLimit: 4000 }),
    plan: { status: 'done', perTask: 3000, perTaskFrom: 'sustain', buffer: 0.2, rows: [], commands: [] },
  });
  const held = await plan(['--from', suite, '--target', '10000', '--json']);
  assert.equal(held.code, 0, held.stderr);
  const j = JSON.parse(held.stdout) as { perTask: number; tasks: number; perTaskFrom: { field: string } };
  assert.equal(j.perTask, 3000);
  assert.equal(j.tasks, 4); // 10000 / 3000 × 1.2 = 4
  assert.match(j.perTaskFrom.field, /^plan\.perTask/);
  const max = await plan(['--from', suite, '--use', 'max', '--target', '10000']);
  assert.match(max.stdout, /at 5,000 per task \(capacity\.verdict\.maxReliable of suite\.json\)/);
  assert.match(max.stdout, /^Tasks needed: 3$/m); // 10000 / 5000 × 1.2 = 2.4
});

test('--from: clear errors for missing, unreadable, unrelated and verdict-less files', async () => {
  mkdirSync(path.join(dir, 'adir'), { recursive: true });
  const cases: [string, RegExp][] = [
    ['nope.json', /cannot read nope\.json: no such file/],
    ['adir', /cannot read adir: it is a directory/],
    [save('text.json', 'capacity: 2000\n'), /text\.json is not JSON/],
    [save('pkg.json', { name: 'holdline', version: '1.0.0' }), /pkg\.json is not a holdline result/],
    [
      save('load.json', result({}, 'load')),
      /load\.json is a load result; --from needs a capacity, sustain or suite result/,
    ],
    [
      save('suite-early.json', { v: 1, kind: 'suite', capacity: null, plan: null }),
      /suite-early\.json: the suite did not reach a per-task figure/,
    ],
    [save('none.json', result(null)), /none\.json has no verdict/],
    [
      save('fail.json', result({ maxReliable: null, safeLimit: null })),
      /fail\.json has no passing point \(verdict\.safeLimit is null\)/,
    ],
    [
      save('zero.json', result({ maxReliable: 1, safeLimit: 0 })),
      /verdict\.safeLimit is 0, not a positive number/,
    ],
    [save('v2.json', { ...result({}), v: 2 }), /v2\.json is a version 2 result/],
  ];
  for (const [file, re] of cases) {
    const r = await plan(['--from', file, '--target', '10000']);
    assert.equal(r.code, 2, file);
    assert.match(r.stderr, re, file);
    assert.equal(r.stdout, '', file);
  }
});

test('usage errors: no per-task source, both sources, bad numbers, no target', async () => {
  assert.match((await plan(['--target', '10000'])).stderr, /--per-task N, or --from RESULT\.json/);
  assert.match(
    (await plan(['--per-task', '10', '--from', 'x.json', '--target', '10000'])).stderr,
    /not both/,
  );
  const bad = await plan(['--per-task', '0', '--target', '10000']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /positive whole number/);
  const noTarget = await plan(['--per-task', '2000']);
  assert.equal(noTarget.code, 2);
  assert.match(noTarget.stderr, /--target/);
});
