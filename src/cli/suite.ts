import path from 'node:path';
import { writeHtmlReport } from '../report/html/writer.js';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CapacityVerdict, HeartbeatSpec, RunResult } from '../contract.js';
import { UserError } from '../errors.js';
import { adviceWarnings, renderEnvBrief } from '../host/brief.js';
import type { HostFacts } from '../host/facts.js';
import {
  perTaskFromSustain,
  SUITE_V,
  suiteExitCode,
  suiteVerdict,
  sustainOutcome,
  sustainPoint,
  type SuitePlanStage,
  type SuiteResult,
  type SuiteSustainStage,
} from '../plans/suite.js';
import { taskTable } from '../plans/tasks.js';
import { CapacityTextReporter } from '../report/capacity-text.js';
import { grouped } from '../report/duration.js';
import { renderPlan } from '../report/plan-text.js';
import { RunSoFar, SuiteResultFile } from '../report/suite-json.js';
import { duration, stageHeading, suiteSummary } from '../report/suite-text.js';
import { newRunId } from '../run.js';
import {
  capacityLadder,
  heartbeatFrom,
  updateServiceLine,
  type CapacityFlags,
  type CommonOptions,
  type HeartbeatFlags,
  type SizingFlags,
} from './common.js';
import { ladderOn, sustainText } from './ladder.js';
import { prepareRun, type RunContext } from './prepare.js';
import type { CliIO } from './io.js';

// `holdline suite`: the four stages on one target and one fleet, into one combined result that is
// rewritten after every step. Decisions between stages are pure (plans/suite.ts); this runs them.

export interface SuiteOptions extends CommonOptions, CapacityFlags, HeartbeatFlags, SizingFlags {
  sustainDuration: number;
  json?: boolean;
}

export const SUITE_DEFAULTS = {
  /** With the aws ladder on the built-in target (about 30 s), the whole suite takes about a minute. */
  sustainDurationMs: 20_000,
  /** `holdline sustain`'s heartbeat, or a quarter of the hold when that is shorter. */
  heartbeatMs: 30_000,
  targets: [10_000],
} as const;

type StageRun = { result: RunSoFar; id: string; quiet: boolean };

export async function runSuite(url: string | undefined, o: SuiteOptions, io: CliIO): Promise<number> {
  if (o.json && o.logFormat !== 'text') {
    throw new UserError(
      `--json prints one JSON document; it cannot be combined with --log-format ${o.logFormat}`,
    );
  }
  const ladder = capacityLadder(o);
  const hbMs = o.heartbeat ?? Math.min(SUITE_DEFAULTS.heartbeatMs, Math.floor(o.sustainDuration / 4));
  const { heartbeat, warning } = heartbeatFrom(o, hbMs);
  const maxSessions = ladder.points[ladder.points.length - 1];
  const id = newRunId();
  const file = new SuiteResultFile(path.resolve(io.cwd, o.out), id);
  const ctx = await prepareRun({ url, o, io, maxSessions, quietPreflight: true });
  const text = !o.json && o.logFormat !== 'json';
  const say = (s: string): void => {
    if (text) io.stdout.write(s);
  };
  const event = (name: string, data: Record<string, unknown>): void => {
    if (o.logFormat === 'json')
      io.stdout.write(`${JSON.stringify({ event: name, time: Date.now(), ...data })}\n`);
  };
  const doc: SuiteResult = {
    v: SUITE_V,
    kind: 'suite',
    id,
    target: ctx.target.label,
    startedAt: Date.now(),
    endedAt: Date.now(),
    config: ctx.redact.config({
      url,
      ...o,
      ...ladder,
      heartbeat: heartbeat ?? null,
    }) as Record<string, unknown>,
    env: null,
    capacity: null,
    sustain: null,
    plan: null,
    verdict: null,
    interrupted: false,
    error: null,
    exitCode: 130,
  };
  const save = (): void => {
    doc.endedAt = Date.now();
    file.write(doc);
  };
  /** A stage's run goes into the combined result after every step, not into a file of its own. */
  const stageRun = (put: (r: RunResult<CapacityVerdict>) => void): StageRun => ({
    id,
    quiet: o.json === true,
    result: new RunSoFar((r) => {
      put(r as RunResult<CapacityVerdict>);
      save();
    }),
  });
  const end = (): number => {
    doc.interrupted = io.signal.aborted;
    doc.verdict = suiteVerdict(doc, o.minCapacity);
    doc.exitCode = suiteExitCode(doc, doc.verdict);
    // --threshold rules are judged on each stage's run; one that failed fails the suite.
    const stages = [doc.capacity, doc.sustain?.result];
    if (doc.exitCode === 0 && stages.some((r) => r?.thresholds?.some((t) => !t.passed))) doc.exitCode = 1;
    save();
    if (o.html !== false) {
      const html = writeHtmlReport(file.path, doc);
      io.stderr.write(`report: ${path.relative(io.cwd, html) || html}\n`);
    }
    say('\n' + suiteSummary(doc, { file: path.relative(io.cwd, file.path) || file.path }));
    event('suite-end', { id, verdict: doc.verdict, exitCode: doc.exitCode, file: file.path });
    if (o.json) io.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
    return doc.exitCode;
  };

  try {
    // 1/4 env: the facts prepareRun collected, and what is wrong for the largest point.
    const facts = ctx.hostFacts as unknown as HostFacts;
    const planned = { sessions: maxSessions, target: `${ctx.target.host}:${ctx.target.port}` };
    doc.env = { facts: ctx.hostFacts, planned, preflight: ctx.preflight, warnings: adviceWarnings(facts) };
    save();
    say(
      stageHeading(1, 'env: this host for the planned run') + renderEnvBrief(facts, planned, ctx.preflight),
    );
    event('suite-env', { planned, preflight: doc.env.preflight, warnings: doc.env.warnings });

    // 2/4 capacity: the ladder of `holdline capacity`.
    say('\n' + stageHeading(2, 'capacity: ladder of concurrent sessions'));
    const capacity = await ladderOn(
      ctx,
      url,
      o,
      {
        kind: 'capacity',
        ...ladder,
        holdMs: o.hold,
        safetyFactor: o.safetyFactor,
        refine: o.refine,
        precision: o.precision,
        minCapacity: o.minCapacity,
        text: (a) => new CapacityTextReporter(io.stdout, a.passed, a.target, a.color),
        config: ladder,
      },
      io,
      stageRun((r) => (doc.capacity = r)),
    );
    doc.capacity = capacity;
    save();
    if (capacity.interrupted) return end();

    // 3/4 sustain: the safe limit held with heartbeats.
    const point = sustainPoint(capacity);
    if ('skip' in point) {
      doc.sustain = sustainStage(o, heartbeat, { status: 'skipped', reason: point.skip });
    } else {
      if (ladder.pauseMs > 0) await sleep(ladder.pauseMs, undefined, { signal: io.signal }).catch(() => {});
      if (io.signal.aborted) return end();
      const stage = sustainStage(o, heartbeat, { status: 'running', sessions: point.sessions });
      doc.sustain = stage;
      save();
      const what = `${grouped(point.sessions)} connections (the safe limit) for ${duration(o.sustainDuration)}`;
      say('\n' + stageHeading(3, `sustain: ${what}`));
      const result = await sustainRun(
        ctx,
        url,
        o,
        io,
        { sessions: point.sessions, heartbeat, warning },
        stageRun((r) => (stage.result = r)),
      );
      stage.result = result;
      stage.outcome = sustainOutcome(result);
      stage.status = result.interrupted ? 'interrupted' : 'done';
      save();
      if (result.interrupted) return end();
    }

    // 4/4 plan: tasks for every target, from what the sustained test held.
    const outcome = doc.sustain.outcome;
    const per = outcome ? perTaskFromSustain(outcome) : { skip: 'nothing was sustained to plan with' };
    if ('skip' in per) {
      doc.plan = { status: 'skipped', reason: per.skip, ...planBase(o) };
    } else {
      const rows = taskTable(o.target, per.perTask, o.buffer);
      const ecs = facts.ecs.available ? facts.ecs : null;
      const cluster = o.cluster ?? ecs?.clusterName ?? '<cluster>';
      const service = o.service ?? ecs?.serviceName ?? '<service>';
      const command = (tasks: number): string => updateServiceLine(cluster, service, tasks);
      doc.plan = {
        status: 'done',
        ...planBase(o),
        perTask: per.perTask,
        ...(per.note ? { note: per.note } : {}),
        rows,
        commands: rows.map((r) => command(r.tasks)),
      };
      say('\n' + stageHeading(4, `plan: tasks for ${o.target.map(grouped).join(', ')} connections`));
      if (per.note) say(`${per.note}\n\n`);
      say(renderPlan(rows, `held for ${duration(o.sustainDuration)} by the sustained test`, command));
    }
    event('suite-plan', { plan: doc.plan });
    return end();
  } catch (err) {
    doc.error = err instanceof Error ? err.message : String(err);
    doc.interrupted = io.signal.aborted;
    doc.verdict = suiteVerdict(doc, o.minCapacity);
    doc.exitCode = suiteExitCode(doc, doc.verdict);
    try {
      save();
    } catch {
      // The error that stopped the suite says more than a failed last write.
    }
    throw err;
  } finally {
    await ctx.close();
  }
}

function sustainStage(
  o: SuiteOptions,
  heartbeat: HeartbeatSpec | undefined,
  s: { status: 'skipped'; reason: string } | { status: 'running'; sessions: number },
): SuiteSustainStage {
  return {
    status: s.status,
    ...('reason' in s ? { reason: s.reason } : {}),
    sessions: 'sessions' in s ? s.sessions : null,
    durationMs: o.sustainDuration,
    heartbeat: heartbeat ?? null,
    result: null,
    outcome: null,
  };
}

/**
 * One point at the safe limit, held as `holdline sustain` holds it. Its safety factor is 1: the
 * capacity stage already applied one, so its report recommends what it held.
 */
function sustainRun(
  ctx: RunContext,
  url: string | undefined,
  o: SuiteOptions,
  io: CliIO,
  p: { sessions: number; heartbeat: HeartbeatSpec | undefined; warning: string | null },
  stage: StageRun,
): Promise<RunResult<CapacityVerdict>> {
  const ladder = capacityLadder(o);
  return ladderOn(
    ctx,
    url,
    o,
    {
      kind: 'sustain',
      points: [p.sessions],
      threshold: ladder.threshold,
      stepTimeoutMs: ladder.stepTimeoutMs,
      pauseMs: 0,
      holdMs: o.sustainDuration,
      safetyFactor: 1,
      refine: false,
      precision: 0.05,
      heartbeat: p.heartbeat,
      text: sustainText(io, p.heartbeat, p.warning),
      config: { durationMs: o.sustainDuration, heartbeat: p.heartbeat },
    },
    io,
    stage,
  );
}

function planBase(o: SuiteOptions): Omit<SuitePlanStage, 'status'> {
  return { perTask: null, perTaskFrom: 'sustain', buffer: o.buffer, rows: [], commands: [] };
}
