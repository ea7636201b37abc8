import type { CapacityVerdict, LatencySummary, StepResult } from '../contract.js';
import { sideOf } from '../errors.js';
import { grouped, millis, percent, seconds, share } from './duration.js';

// Pure renderers: a result in, a string out. Colour is the caller's decision (TTY, NO_COLOR).

export interface TextOptions {
  color?: boolean;
}

const ANSI = { green: [32, 39], red: [31, 39], yellow: [33, 39], bold: [1, 22], dim: [2, 22] } as const;

function paint(on: boolean | undefined, style: keyof typeof ANSI, s: string): string {
  if (!on) return s;
  const [open, close] = ANSI[style];
  return `\x1b[${open}m${s}\x1b[${close}m`;
}

/** `✓    50 sessions:    48 successful ( 96.0%) in 5.67s` */
export function capacityStepLine(r: StepResult, passed: boolean, opts: TextOptions = {}): string {
  const mark = passed ? paint(opts.color, 'green', '✓') : paint(opts.color, 'red', '✗');
  const rate = r.sessions > 0 ? r.successful / r.sessions : 0;
  const line =
    `${mark} ${String(r.sessions).padStart(5)} sessions: ${String(r.successful).padStart(5)} successful ` +
    `(${percent(rate).padStart(5)}%) in ${seconds(r.durationMs)}`;
  return r.aborted ? `${line}  (interrupted)` : line;
}

export interface SummaryOptions extends TextOptions {
  target: string;
}

/** The whole capacity verdict: steps, the numbers to act on, failures, timings, generator warnings. */
export function capacitySummary(v: CapacityVerdict, steps: StepResult[], opts: SummaryOptions): string {
  const c = opts.color;
  const out: string[] = [];
  out.push(
    paint(c, 'bold', `Capacity of ${opts.target}`) +
      ` (${steps.length} ${steps.length === 1 ? 'point' : 'points'}, pass at ${share(v.threshold)} successful)`,
  );
  steps.forEach((r, i) => {
    const p = v.points[i];
    const passed = p ? p.passed : !r.aborted && r.sessions > 0 && r.successful / r.sessions >= v.threshold;
    const line = capacityStepLine(r, passed, opts);
    out.push(p?.refinement ? `${line}  ${paint(c, 'dim', '[refinement]')}` : line);
  });
  out.push('');
  out.push(...verdictLines(v, steps, c));
  const failures = failureBlocks(steps, c);
  if (failures.length > 0) out.push('', ...failures);
  const timings = phaseTable(v, steps);
  if (timings.length > 0) out.push('', ...timings);
  const warning = generatorWarning(steps, c);
  if (warning.length > 0) out.push('', ...warning);
  return out.join('\n');
}

function verdictLines(v: CapacityVerdict, steps: StepResult[], c: boolean | undefined): string[] {
  const out: string[] = [];
  if (v.maxReliable === null) {
    const lowest = steps.length > 0 ? Math.min(...steps.map((s) => s.sessions)) : 0;
    out.push(
      paint(
        c,
        'red',
        `No reliable capacity: no test point reached ${share(v.threshold)} successful sessions` +
          (steps.length > 0 ? ` (not even ${lowest} sessions).` : '.'),
      ),
    );
    if (v.targetConnections !== undefined) {
      out.push(`For ${grouped(v.targetConnections)} connections: no estimate without a passing point.`);
    }
    return out;
  }
  out.push(paint(c, 'bold', `Maximum reliable connections: ~${v.maxReliable}`));
  if (v.safeLimit !== null) out.push(paint(c, 'green', `Recommendation: Use ${v.safeLimit} as safe limit`));
  if (v.targetConnections !== undefined && v.tasksNeeded !== undefined) {
    out.push(
      `For ${grouped(v.targetConnections)} connections: ${v.tasksNeeded} ${v.tasksNeeded === 1 ? 'task' : 'tasks'} ` +
        `of this capacity (20% buffer)`,
    );
  }
  if (v.firstFailing !== null) {
    out.push(
      `First failing point: ${v.firstFailing} sessions` + (v.refined ? ' (refined by bisection)' : ''),
    );
  } else if (!steps.some((s) => s.aborted)) {
    out.push(`Every point passed: the limit is above ${v.maxReliable}; add higher points to find it.`);
  }
  return out;
}

function sortedFailures(r: StepResult): [string, number][] {
  return Object.entries(r.failures)
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
}

function failureBlocks(steps: StepResult[], c: boolean | undefined): string[] {
  const out: string[] = [];
  for (const r of steps) {
    const list = sortedFailures(r);
    if (list.length === 0) continue;
    out.push(paint(c, 'bold', `Failures at ${r.sessions} sessions:`));
    for (const [code, n] of list) {
      const sample = r.errorSamples.find((s) => s.code === code && s.detail !== '');
      out.push(`  ${code}: ${n}` + (sample ? paint(c, 'dim', `  (${oneLine(sample.detail)})`) : ''));
    }
  }
  return out;
}

function oneLine(s: string): string {
  const flat = s.replace(/\s+/g, ' ').trim();
  return flat.length > 100 ? `${flat.slice(0, 99)}…` : flat;
}

const PHASE_ORDER = ['dns', 'connect', 'tls', 'upgrade', 'first_message', 'session'];

/** HTTP steps first (in the order they were recorded), then the connection phases, then the rest. */
function orderedPhases(phases: Record<string, LatencySummary>): string[] {
  const names = Object.keys(phases).filter((n) => phases[n].count > 0);
  const http = names.filter((n) => n.startsWith('http:'));
  const known = PHASE_ORDER.filter((n) => names.includes(n));
  const rest = names.filter((n) => !n.startsWith('http:') && !PHASE_ORDER.includes(n)).sort();
  return [...http, ...known, ...rest];
}

/** Timings of the step that set the maximum reliable count, or of the last step when none passed. */
function phaseTable(v: CapacityVerdict, steps: StepResult[]): string[] {
  let ref: StepResult | undefined;
  steps.forEach((r, i) => {
    if (v.points[i]?.passed && r.successful === v.maxReliable) ref = r;
  });
  ref ??= steps[steps.length - 1];
  if (!ref) return [];
  const names = orderedPhases(ref.phases);
  if (names.length === 0) return [];
  const w = Math.max(5, ...names.map((n) => n.length));
  const cell = (s: string): string => s.padStart(9);
  const out = [`Phase timings at ${ref.sessions} sessions (ms):`];
  out.push(`  ${'phase'.padEnd(w)}${cell('p50')}${cell('p95')}${cell('p99')}`);
  for (const n of names) {
    const p = ref.phases[n];
    out.push(`  ${n.padEnd(w)}${cell(millis(p.p50))}${cell(millis(p.p95))}${cell(millis(p.p99))}`);
  }
  return out;
}

/**
 * When the generator ran out of ports or fds, or saturated, its limit is not the target's. The
 * advice follows the cause and names only what holdline can do today.
 */
function generatorWarning(steps: StepResult[], c: boolean | undefined): string[] {
  const causes: string[] = [];
  const seen = new Set<string>();
  for (const r of steps) {
    const codes = sortedFailures(r).filter(([code]) => sideOf(code) === 'generator');
    for (const [code] of codes) seen.add(code);
    const parts = codes.map(([code, n]) => `${code} ${n}`);
    if (r.generator.saturated) {
      seen.add('saturated');
      parts.push(
        `generator saturated (CPU up to ${r.generator.maxCpuPct.toFixed(0)}%, ` +
          `event-loop delay up to ${r.generator.maxEldMs.toFixed(0)} ms)`,
      );
    }
    if (parts.length > 0) causes.push(`  - at ${r.sessions} sessions: ${parts.join(', ')}`);
  }
  if (causes.length === 0) return [];
  const advice: string[] = [];
  if (seen.has('fds_exhausted'))
    advice.push('  - raise the open-file limit (ulimit -n, e.g. ulimit -n 100000)');
  if (seen.has('ports_exhausted')) {
    advice.push(
      '  - add source addresses with --local-address 127.0.0.2,127.0.0.3 (about 28k connections each per target)',
    );
  }
  if (seen.has('saturated')) {
    advice.push(
      '  - give the generator a CPU of its own: a built-in or local target shares this machine with it',
      '  - or run holdline from a second machine against the target',
    );
  }
  return [
    paint(c, 'yellow', 'Warning: the load generator, not the target, was the limit:'),
    ...causes,
    'Those points measure this machine, not the target. To generate more load:',
    ...advice,
  ];
}

/** One-line explanations, under a heading; empty when there is nothing to say. */
export function diagnosisLines(d: string[]): string {
  if (d.length === 0) return '';
  return ['Diagnosis:', ...d.map((line) => `  - ${line}`)].join('\n');
}
