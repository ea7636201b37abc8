import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  V,
  type CapacityVerdict,
  type RunResult,
  type StepResult,
  type StepSpec,
} from '../../src/contract.js';
import {
  perTaskFromSustain,
  suiteExitCode,
  suiteVerdict,
  sustainOutcome,
  sustainPoint,
  type SuiteResult,
} from '../../src/plans/suite.js';
import { counters, stepResult } from '../helpers/steps.js';

function step(o: {
  sessions: number;
  established: number;
  successful: number;
  closedEarly?: number;
}): StepResult {
  const spec: StepSpec = {
    v: V,
    plan: 'sustain',
    index: 0,
    sessions: o.sessions,
    connectConcurrency: 200,
    stepTimeoutMs: 1000,
    holdMs: 1000,
    scenario: { http: [], connect: { transport: 'ws', url: 'ws://127.0.0.1:1/' } },
  };
  return stepResult(spec, {
    established: o.established,
    successful: o.successful,
    failed: o.sessions - o.successful,
    counters: counters({
      started: o.sessions,
      established: o.established,
      failed: o.sessions - o.successful,
      closedEarly: o.closedEarly ?? 0,
    }),
  });
}

function run(
  steps: StepResult[],
  v: Partial<CapacityVerdict> | null,
  interrupted = false,
): RunResult<CapacityVerdict> {
  return {
    v: V,
    info: { v: V, id: 'x', command: 'capacity', target: 't', startedAt: 0, config: {}, host: {} },
    steps,
    verdict:
      v === null
        ? null
        : {
            threshold: 0.8,
            safetyFactor: 0.8,
            points: [],
            maxReliable: null,
            firstFailing: null,
            safeLimit: null,
            refined: false,
            ...v,
          },
    endedAt: 1,
    interrupted,
    diagnosis: [],
    exitCode: 0,
  };
}

test('sustainPoint: the safe limit, or why there is nothing to hold', () => {
  assert.deepEqual(sustainPoint(run([], { maxReliable: 5000, safeLimit: 4000 })), { sessions: 4000 });
  assert.match((sustainPoint(run([], { maxReliable: null })) as { skip: string }).skip, /no reliable count/);
  assert.match((sustainPoint(run([], { maxReliable: 1, safeLimit: 0 })) as { skip: string }).skip, /0/);
  assert.match((sustainPoint(run([], null, true)) as { skip: string }).skip, /interrupted/);
});

test('sustainOutcome and the per-task figure: what held, and a word when it is less than asked', () => {
  const all = sustainOutcome(
    run([step({ sessions: 400, established: 400, successful: 400 })], { maxReliable: 400 }),
  );
  assert.equal(all?.verdict, 'held');
  assert.deepEqual(perTaskFromSustain(all!), { perTask: 400 });

  const lost = sustainOutcome(
    run([step({ sessions: 400, established: 397, successful: 385, closedEarly: 12 })], { maxReliable: 385 }),
  );
  assert.deepEqual(
    { ...lost },
    {
      sessions: 400,
      established: 397,
      held: 385,
      closedEarly: 12,
      neverOpened: 3,
      passed: true,
      verdict: 'lost',
    },
  );
  const per = perTaskFromSustain(lost!) as { perTask: number; note: string };
  assert.equal(per.perTask, 385);
  assert.match(
    per.note,
    /lost 15 of 400 connections \(12 closed early, 3 never opened\): planning with the 385/,
  );

  const failed = sustainOutcome(
    run([step({ sessions: 400, established: 400, successful: 0, closedEarly: 400 })], { maxReliable: null }),
  );
  assert.equal(failed?.verdict, 'failed');
  assert.match((perTaskFromSustain(failed!) as { skip: string }).skip, /none of the 400/);
});

test('suiteVerdict: passes only when every stage ran; the first cause is named, not its consequences', () => {
  const base: SuiteResult = {
    v: 1,
    kind: 'suite',
    id: 'x',
    target: 't',
    startedAt: 0,
    endedAt: 0,
    config: {},
    env: null,
    capacity: run([], { maxReliable: null }),
    sustain: {
      status: 'skipped',
      reason: 'nothing to sustain',
      sessions: null,
      durationMs: 1000,
      heartbeat: null,
      result: null,
      outcome: null,
    },
    plan: {
      status: 'skipped',
      reason: 'nothing to plan',
      perTask: null,
      perTaskFrom: 'sustain',
      buffer: 0.2,
      rows: [],
      commands: [],
    },
    verdict: null,
    interrupted: false,
    error: null,
    exitCode: 130,
  };
  const v = suiteVerdict(base);
  assert.equal(v.passed, false);
  assert.deepEqual(v.problems, ['capacity: no point reached 80% successful sessions']);
  assert.equal(suiteExitCode(base, v), 1);

  const ok: SuiteResult = {
    ...base,
    capacity: run([], { maxReliable: 500, safeLimit: 400, firstFailing: 1000 }),
    sustain: {
      ...base.sustain!,
      status: 'done',
      sessions: 400,
      outcome: {
        sessions: 400,
        established: 400,
        held: 400,
        closedEarly: 0,
        neverOpened: 0,
        passed: true,
        verdict: 'held',
      },
    },
    plan: {
      ...base.plan!,
      status: 'done',
      perTask: 400,
      rows: [{ target: 10000, perTask: 400, buffer: 0.2, base: 25, exact: 30, tasks: 30, capacity: 12000 }],
    },
  };
  const good = suiteVerdict(ok);
  assert.equal(good.passed, true);
  assert.equal(good.limitAbove, false);
  assert.deepEqual(good.tasks, [{ target: 10000, tasks: 30 }]);
  assert.equal(suiteExitCode(ok, good), 0);
  const low = suiteVerdict(ok, 600);
  assert.deepEqual(low.problems, ['capacity: ~500 connections is below --min-capacity 600']);
  assert.equal(suiteExitCode({ ...ok, interrupted: true }, suiteVerdict({ ...ok, interrupted: true })), 130);
});
