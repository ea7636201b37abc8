import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CapacityPlan } from '../../src/plans/capacity.js';
import { type StepResult, type StepSpec } from '../../src/contract.js';
import { stepResult } from '../helpers/steps.js';

const step = {
  connectConcurrency: 200,
  stepTimeoutMs: 1000,
  holdMs: 0,
  scenario: { http: [], connect: { transport: 'ws' as const, url: 'ws://127.0.0.1:1/' } },
};

/** A server that holds at most `cap` sessions: the excess fails. */
function simulate(spec: StepSpec, cap: number): StepResult {
  const successful = Math.min(spec.sessions, cap);
  return stepResult(spec, {
    established: successful,
    successful,
    failed: spec.sessions - successful,
    failures: spec.sessions > successful ? { http_503: spec.sessions - successful } : {},
  });
}

function drive(plan: CapacityPlan, cap: number): StepResult[] {
  const done: StepResult[] = [];
  for (let spec: StepSpec | null = plan.first(); spec; spec = plan.next(done)) {
    assert.equal(spec.index, done.length);
    done.push(simulate(spec, cap));
    assert.ok(done.length < 50, 'the plan must end');
  }
  return done;
}

test('ladder stops at the first failing point; max reliable and safe limit', () => {
  const plan = new CapacityPlan({
    points: [10, 50, 100, 200, 500, 1000],
    threshold: 0.8,
    safetyFactor: 0.8,
    refine: false,
    precision: 0.05,
    step,
  });
  const done = drive(plan, 300);
  assert.deepEqual(
    done.map((r) => r.sessions),
    [10, 50, 100, 200, 500],
  );
  const v = plan.verdict(done);
  assert.equal(v.maxReliable, 200);
  assert.equal(v.safeLimit, 160);
  assert.equal(v.firstFailing, 500);
  assert.equal(v.refined, false);
  assert.deepEqual(
    v.points.map((p) => p.passed),
    [true, true, true, true, false],
  );
});

test('refine bisects to within the precision and reports what was held', () => {
  const plan = new CapacityPlan({
    points: [10, 50, 100, 200, 500],
    threshold: 0.8,
    safetyFactor: 0.8,
    refine: true,
    precision: 0.05,
    step,
  });
  const done = drive(plan, 300);
  const v = plan.verdict(done);
  assert.equal(v.refined, true);
  assert.ok(done.length > 5);
  assert.ok(v.points.slice(5).every((p) => p.refinement));
  assert.equal(v.maxReliable, 300);
  assert.equal(v.safeLimit, 240);
  const lo = Math.max(...v.points.filter((p) => p.passed).map((p) => p.sessions));
  assert.ok(v.firstFailing! - lo <= 0.05 * lo, `bracket ${lo}..${v.firstFailing}`);
});

test('no passing point: no maximum; every point passing: no refinement', () => {
  const none = new CapacityPlan({
    points: [10, 50],
    threshold: 0.8,
    safetyFactor: 0.8,
    refine: true,
    precision: 0.05,
    step,
  });
  const d1 = drive(none, 0);
  assert.equal(d1.length, 1);
  assert.equal(none.verdict(d1).maxReliable, null);
  assert.equal(none.verdict(d1).safeLimit, null);
  const all = new CapacityPlan({
    points: [10, 50],
    threshold: 0.8,
    safetyFactor: 0.8,
    refine: true,
    precision: 0.05,
    step,
    targetConnections: 10000,
  });
  const d2 = drive(all, 1e9);
  assert.equal(d2.length, 2);
  const v = all.verdict(d2);
  assert.equal(v.maxReliable, 50);
  assert.equal(v.tasksNeeded, 240);
});

test('threshold is inclusive', () => {
  const plan = new CapacityPlan({
    points: [10, 100],
    threshold: 0.8,
    safetyFactor: 0.8,
    refine: false,
    precision: 0.05,
    step,
  });
  const done = drive(plan, 80);
  assert.equal(plan.verdict(done).points[1].passed, true);
});
