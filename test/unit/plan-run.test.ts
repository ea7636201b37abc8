import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type StepResult, type StepSpec } from '../../src/contract.js';
import { counters, stepResult } from '../helpers/steps.js';
import { RunPlan, defaultStepTimeout } from '../../src/plans/run.js';

const scenario = { http: [], connect: { transport: 'ws' as const, url: 'ws://127.0.0.1:1/' } };

function result(spec: StepSpec, over: Partial<StepResult>): StepResult {
  return stepResult(spec, {
    durationMs: 1000,
    generator: {
      baseRssBytes: 50e6,
      peakRssBytes: 60e6,
      cpuUserMs: 800,
      cpuSystemMs: 200,
      maxCpuPct: 50,
      maxEldMs: 3,
      maxFds: 20,
      saturated: false,
    },
    ...over,
  });
}

test('one step: hold bounded by --max-duration with a session plan, none without; the ramp sets the deadline', () => {
  const withPlan = new RunPlan({
    sessions: 10_000,
    connectConcurrency: 200,
    connectRate: 1000,
    maxDurationMs: 120_000,
    threshold: 1,
    scenario: { ...scenario, session: { durationMs: 30_000 } },
  });
  const spec = withPlan.first();
  assert.equal(spec.plan, 'run');
  assert.equal(spec.sessions, 10_000);
  assert.equal(spec.connectRate, 1000);
  assert.equal(spec.holdMs, 120_000);
  assert.equal(spec.stepTimeoutMs, 10_000 + 60_000);
  assert.equal(withPlan.next(), null);
  const bare = new RunPlan({
    sessions: 5,
    connectConcurrency: 5,
    maxDurationMs: 1000,
    threshold: 1,
    scenario,
  });
  assert.equal(bare.first().holdMs, 0);
  assert.equal(bare.first().stepTimeoutMs, 60_000);
  assert.equal(defaultStepTimeout(100, 0), 60_000);
});

test('verdict: share of successful sessions against the threshold; messages and cost per unit', () => {
  const plan = new RunPlan({
    sessions: 1000,
    connectConcurrency: 100,
    maxDurationMs: 1,
    threshold: 0.999,
    scenario,
  });
  const spec = plan.first();
  const ok = plan.verdict([
    result(spec, {
      successful: 999,
      failed: 1,
      failures: { reset: 1 },
      counters: counters({ msgsSent: 4000, msgsRecv: 3990, msgsUnanswered: 10 }),
      phases: { message: { count: 3990, min: 0, mean: 0, p50: 0, p90: 0, p95: 0, p99: 0, p999: 0, max: 0 } },
    }),
  ]);
  assert.equal(ok.passed, true);
  assert.equal(ok.rate, 0.999);
  assert.deepEqual(ok.messages, { sent: 4000, received: 3990, unanswered: 10, replies: 3990 });
  assert.equal(ok.cost.cpuMs, 1000);
  assert.equal(ok.cost.cpuPerSessionMs, 1);
  assert.equal(ok.cost.cpuPerMessageUs, 250);
  assert.equal(ok.cost.rssPerSessionBytes, 10e6 / 999);
  const bad = plan.verdict([result(spec, { successful: 998, failed: 2 })]);
  assert.equal(bad.passed, false);
  assert.equal(bad.messages.unanswered, 0);
  assert.equal(bad.cost.cpuPerMessageUs, null);
  // An interrupted run never passes.
  assert.equal(plan.verdict([result(spec, { aborted: true })]).passed, false);
});
