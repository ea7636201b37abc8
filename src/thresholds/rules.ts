// `--threshold` rules, k6-style: `metric op value[:abort]`, e.g. `p95<500ms`, `errors<5%:abort`.
import type { PlanKind, ThresholdOp } from '../contract.js';
import { UserError } from '../errors.js';
import { METRICS, metricNamed, type MetricDef } from './metrics.js';

export interface ThresholdRule {
  expr: string;
  metric: MetricDef;
  op: ThresholdOp;
  limit: number;
  abort: boolean;
}

const RULE =
  /^\s*([a-z][a-z0-9_]*)\s*(<=|>=|==|!=|<|>|=)\s*(\d+(?:\.\d+)?)\s*(%|ms|s|m)?\s*(?::\s*(abort))?\s*$/i;
const TIME: Record<string, number> = { ms: 1, s: 1000, m: 60_000 };

/** Is this a rule (it has a comparison) rather than a bare fraction? */
export function looksLikeRule(raw: string): boolean {
  return /[<>=!]/.test(raw);
}

/** Parses one rule; throws an Error whose message says what is wrong (the caller wraps it). */
export function parseRule(raw: string): ThresholdRule {
  const m = RULE.exec(raw);
  if (!m)
    throw new Error(
      'Expected metric, comparison and value, such as success>=95%, p95<500ms or errors<5%:abort.',
    );
  const [, name, rawOp, num, unit, abort] = m;
  const metric = metricNamed(name.toLowerCase());
  if (!metric)
    throw new Error(`Unknown metric ${name}; the metrics are ${METRICS.map((d) => d.name).join(', ')}.`);
  const n = Number(num);
  let limit: number;
  if (metric.unit === 'fraction') {
    if (unit && unit !== '%') throw new Error(`${metric.name} is a share: write it as 95% or 0.95.`);
    limit = unit === '%' ? n / 100 : n;
    if (limit > 1) throw new Error(`${metric.name} is a share: at most 100%.`);
  } else if (metric.unit === 'ms') {
    if (unit === '%') throw new Error(`${metric.name} is a duration: write it as 500ms or 2s.`);
    limit = n * TIME[unit ?? 'ms'];
  } else {
    if (unit) throw new Error(`${metric.name} is a count: write a plain number.`);
    limit = n;
  }
  const op = (rawOp === '==' ? '=' : rawOp) as ThresholdOp;
  return { expr: raw.trim(), metric, op, limit, abort: abort !== undefined };
}

export function holds(value: number, op: ThresholdOp, limit: number): boolean {
  switch (op) {
    case '<':
      return value < limit;
    case '<=':
      return value <= limit;
    case '>':
      return value > limit;
    case '>=':
      return value >= limit;
    case '=':
      return Math.abs(value - limit) < 1e-9;
    case '!=':
      return Math.abs(value - limit) >= 1e-9;
  }
}

/** Every rule the command cannot judge, in one message (its results lack the figure). */
export function checkRulesFor(command: PlanKind, rules: readonly ThresholdRule[]): void {
  const bad = rules.filter((r) => !r.metric.commands.includes(command));
  if (bad.length === 0) return;
  const names = METRICS.filter((d) => d.commands.includes(command)).map((d) => d.name);
  throw new UserError(
    `--threshold ${bad.map((r) => r.expr).join(', ')}: holdline ${command} does not measure ${bad
      .map((r) => r.metric.name)
      .join(', ')}`,
    `metrics of ${command}: ${names.join(', ')}`,
  );
}
