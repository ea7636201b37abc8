import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Command, Option } from 'commander';
import { UserError } from '../../errors.js';
import { taskTable } from '../../plans/tasks.js';
import { renderPlan } from '../../report/plan-text.js';
import { addSizingOptions, updateServiceLine, type SizingFlags } from '../common.js';
import { parseCount } from '../parse.js';
import type { CliIO } from '../io.js';

interface PlanOptions extends SizingFlags {
  perTask?: number;
  from?: string;
  use: 'safe' | 'max';
  json?: boolean;
}

/** Where the per-task number came from. */
interface PerTask {
  value: number;
  from: 'flag' | { file: string; field: string };
  cluster?: string;
  service?: string;
}

export function planCommand(io: CliIO): Command {
  const cmd = new Command('plan').description(
    'how many tasks hold N connections, from a measured per-task capacity',
  );
  return addSizingOptions(cmd)
    .option('--per-task <n>', 'connections one task holds (a measured safe limit)', parseCount)
    .option('--from <result.json>', 'take the per-task number from a saved capacity, sustain or suite result')
    .addOption(
      new Option('--use <which>', 'with --from: the safe limit or the maximum reliable count')
        .choices(['safe', 'max'])
        .default('safe'),
    )
    .option('--json', 'print the plan as JSON')
    .action(async (o: PlanOptions) => {
      const perTask = await resolvePerTask(o, io);
      const rows = taskTable(o.target, perTask.value, o.buffer);
      const cluster = o.cluster ?? perTask.cluster ?? '<cluster>';
      const service = o.service ?? perTask.service ?? '<service>';
      const command = (tasks: number): string => updateServiceLine(cluster, service, tasks);
      if (o.json) {
        const out = {
          perTask: perTask.value,
          perTaskFrom: perTask.from,
          buffer: o.buffer,
          ...(rows.length === 1 ? { tasks: rows[0].tasks } : {}),
          rows,
          commands: rows.map((r) => command(r.tasks)),
        };
        io.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
        return;
      }
      io.stdout.write(renderPlan(rows, source(perTask), command));
    });
}

function source(p: PerTask): string {
  return p.from === 'flag' ? 'given with --per-task' : `${p.from.field} of ${p.from.file}`;
}

async function resolvePerTask(o: PlanOptions, io: CliIO): Promise<PerTask> {
  if (o.perTask !== undefined && o.from !== undefined)
    throw new UserError('use --per-task or --from, not both');
  if (o.perTask !== undefined) return { value: o.perTask, from: 'flag' };
  if (o.from === undefined) {
    throw new UserError(
      'plan needs the connections one task holds: --per-task N, or --from RESULT.json of a capacity, sustain or suite run',
    );
  }
  return readPerTask(o.from, o.use, io.cwd);
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Reads verdict.safeLimit (or maxReliable) from a saved RunResult, with a clear word for every way it can be wrong. */
export async function readPerTask(file: string, use: 'safe' | 'max', cwd: string): Promise<PerTask> {
  const full = path.resolve(cwd, file);
  const hint = 'Pass the JSON result a `holdline capacity` run wrote (in ./holdline-results by default).';
  let text: string;
  try {
    text = await readFile(full, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EISDIR'
          ? 'it is a directory'
          : code === 'EACCES'
            ? 'permission denied'
            : String(code ?? err);
    throw new UserError(`cannot read ${file}: ${why}`, hint);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new UserError(`${file} is not JSON (${(err as Error).message})`, hint);
  }
  if (isObj(doc) && doc.kind === 'suite') return perTaskOfSuite(doc, file, use, hint);
  if (
    !isObj(doc) ||
    !isObj(doc.info) ||
    !Array.isArray(doc.steps) ||
    !('verdict' in doc) ||
    typeof doc.v !== 'number'
  ) {
    throw new UserError(`${file} is not a holdline result (expected v, info, steps and verdict)`, hint);
  }
  if (doc.v !== 1) throw new UserError(`${file} is a version ${doc.v} result; this holdline reads version 1`);
  const command = doc.info.command;
  if (command !== 'capacity' && command !== 'sustain') {
    throw new UserError(
      `${file} is a ${String(command)} result; --from needs a capacity, sustain or suite result (it has verdict.safeLimit)`,
      hint,
    );
  }
  const field = use === 'max' ? 'maxReliable' : 'safeLimit';
  if (!isObj(doc.verdict))
    throw new UserError(`${file} has no verdict: the run ended before its first point finished`);
  const value = doc.verdict[field];
  if (value === null || value === undefined) {
    throw new UserError(
      `${file} has no passing point (verdict.${field} is ${value === null ? 'null' : 'missing'}): nothing to plan from`,
    );
  }
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new UserError(
      `${file}: verdict.${field} is ${JSON.stringify(value)}, not a positive number of connections`,
    );
  }
  const host = isObj(doc.info.host) ? doc.info.host : {};
  const ecs = isObj(host.ecs) && host.ecs.available === true ? host.ecs : {};
  return {
    value,
    from: { file, field: `verdict.${field}` },
    ...(typeof ecs.clusterName === 'string' ? { cluster: ecs.clusterName } : {}),
    ...(typeof ecs.serviceName === 'string' ? { service: ecs.serviceName } : {}),
  };
}

/**
 * A `holdline suite` file: by default the per-task figure its own plan used (what the sustained
 * test held at the safe limit); with --use max, the capacity stage's maximum reliable count.
 */
function perTaskOfSuite(doc: Obj, file: string, use: 'safe' | 'max', hint: string): PerTask {
  if (doc.v !== 1)
    throw new UserError(`${file} is a version ${String(doc.v)} suite result; this holdline reads version 1`);
  if (use === 'max') {
    const v = isObj(doc.capacity) && isObj(doc.capacity.verdict) ? doc.capacity.verdict.maxReliable : null;
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0)
      throw new UserError(
        `${file}: the suite's capacity stage found no reliable count: nothing to plan from`,
        hint,
      );
    return { value: v, from: { file, field: 'capacity.verdict.maxReliable' } };
  }
  const perTask = isObj(doc.plan) ? doc.plan.perTask : null;
  if (typeof perTask !== 'number' || !Number.isFinite(perTask) || perTask <= 0) {
    const why = isObj(doc.plan) && typeof doc.plan.reason === 'string' ? `: ${doc.plan.reason}` : '';
    throw new UserError(`${file}: the suite did not reach a per-task figure${why}`, hint);
  }
  return { value: perTask, from: { file, field: 'plan.perTask (held by the sustained test)' } };
}
