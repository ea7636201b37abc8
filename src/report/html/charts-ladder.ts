// Charts of the capacity and sustain ladders: the curve, phase timings per point, early closes.
import type { CapacityVerdict, RunResult, StepResult } from '../../contract.js';
import { COLORS, paletteColor, type LineChart, type Series } from './spec.js';

/** The phases of a session, in the order they happen; HTTP steps first. */
const PHASES: [string, string][] = [
  ['connect', 'connect'],
  ['tls', 'TLS'],
  ['upgrade', 'upgrade'],
  ['first_message', 'first message'],
];

/** Steps ordered by sessions (bisection points run out of order). */
function bySessions(steps: StepResult[]): StepResult[] {
  return [...steps].sort((a, b) => a.sessions - b.sessions || a.spec.index - b.spec.index);
}

export function capacityCurve(r: RunResult<CapacityVerdict>): LineChart | null {
  const v = r.verdict;
  if (r.steps.length === 0) return null;
  // The verdict's points are the steps, in the order they ran.
  const rows = r.steps
    .map((s, i) => ({ s, rate: v?.points[i]?.rate ?? null }))
    .sort((a, b) => a.s.sessions - b.s.sessions || a.s.spec.index - b.s.spec.index);
  const steps = rows.map((row) => row.s);
  const classes = [...new Set(steps.flatMap((s) => Object.keys(s.failures)))].sort();
  const vlines = [];
  if (v?.maxReliable != null)
    vlines.push({ value: v.maxReliable, label: `max reliable ${v.maxReliable}`, color: COLORS.ok });
  if (v?.safeLimit != null)
    vlines.push({ value: v.safeLimit, label: `safe limit ${v.safeLimit}`, color: COLORS.safe });
  const x = steps.map((s) => s.sessions);
  return {
    type: 'chart',
    id: 'capacity-curve',
    title: 'Capacity curve: success rate per point, failures by class',
    note: 'Line: sessions successful at each point. Bars: failed sessions, stacked by class (right axis).',
    x,
    xLog: x.length > 1 && x[x.length - 1] / Math.max(1, x[0]) >= 20,
    xLabel: 'concurrent sessions',
    yLabel: 'successful %',
    y2Label: 'failed sessions',
    yRange: [0, 100],
    series: [
      {
        label: 'successful %',
        values: steps.map((s) =>
          s.sessions > 0 ? Math.round((s.successful / s.sessions) * 1000) / 10 : null,
        ),
        color: COLORS.p50,
      },
      ...classes.map((c, i): Series => ({
        label: c,
        values: steps.map((s) => s.failures[c] ?? 0),
        color: paletteColor(i + 1),
        kind: 'bars',
        axis: 1,
        stack: 'failures',
      })),
    ],
    hlines: v
      ? [
          {
            value: v.threshold * 100,
            label: `threshold ${Math.round(v.threshold * 100)}%`,
            color: COLORS.bad,
          },
        ]
      : [],
    vlines,
  };
}

/** One chart per phase: p50/p95/p99 at each point. */
export function phaseCharts(r: RunResult): LineChart[] {
  const steps = bySessions(r.steps);
  const names = new Set(steps.flatMap((s) => Object.keys(s.phases)));
  const http = [...names].filter((n) => n.startsWith('http:')).sort();
  const phases: [string, string][] = [
    ...http.map((n): [string, string] => [n, `HTTP ${n.slice(5)}`]),
    ...PHASES.filter(([n]) => names.has(n)),
  ];
  const shown = phases.filter(([n]) => steps.some((s) => (s.phases[n]?.count ?? 0) > 0));
  if (steps.length === 1) {
    // One step: one chart, a column per phase.
    const ph = steps[0].phases;
    return shown.length === 0
      ? []
      : [
          {
            type: 'chart',
            id: 'phases',
            title: 'Phase timings: p50 / p95 / p99',
            x: shown.map((_, i) => i),
            xNames: shown.map(([, label]) => label),
            xLabel: 'phase',
            yLabel: 'ms',
            series: (['p50', 'p95', 'p99'] as const).map((p) => ({
              label: p,
              values: shown.map(([n]) => ph[n][p]),
              color: COLORS[p],
              kind: 'points' as const,
            })),
          },
        ];
  }
  const x = steps.map((s) => s.sessions);
  return shown.map(([n, label]) => ({
    type: 'chart' as const,
    id: `phase-${n.replace(/[^a-z0-9]+/gi, '-')}`,
    title: `Phase timing: ${label}`,
    x,
    xLog: x[x.length - 1] / Math.max(1, x[0]) >= 20,
    xLabel: 'concurrent sessions',
    yLabel: 'ms',
    series: (['p50', 'p95', 'p99'] as const).map((p) => ({
      label: p,
      values: steps.map((s) => (s.phases[n]?.count ? s.phases[n][p] : null)),
      color: COLORS[p],
    })),
  }));
}

/** Sustain: when premature closes happened, counted from each connection's open. */
export function closeAgeChart(r: RunResult<CapacityVerdict>): LineChart | null {
  const closes = r.verdict?.closes ?? [];
  const withCloses = closes
    .map((c, i) => ({ c, step: r.steps[i] }))
    .filter((e) => e.c && e.c.count > 0 && e.step);
  if (withCloses.length === 0) return null;
  const edges = [...new Set(withCloses.flatMap((e) => e.c.buckets.map((b) => b.fromMs)))].sort(
    (a, b) => a - b,
  );
  const cluster = withCloses.find((e) => e.c.cluster)?.c;
  return {
    type: 'chart',
    id: 'close-ages',
    title: 'Premature closes by time since open',
    note: cluster?.advice ?? 'No common idle time: the closes do not look like an idle timeout.',
    // Each bar sits in the middle of its bucket.
    x: edges.map((from) => {
      const b = withCloses.flatMap((e) => e.c.buckets).find((k) => k.fromMs === from)!;
      return Math.round((from + b.toMs) / 200) / 10;
    }),
    xLabel: 'seconds since the connection opened',
    yLabel: 'connections closed',
    series: withCloses.map((e, i) => ({
      label: `${e.step.sessions} sessions`,
      values: edges.map((from) => e.c.buckets.find((b) => b.fromMs === from)?.count ?? 0),
      color: paletteColor(i + 1),
      kind: 'bars' as const,
    })),
    vlines: cluster?.cluster
      ? [
          {
            value: Math.round(cluster.cluster.ageMs / 100) / 10,
            label: `${cluster.cluster.count} closed at ~${(cluster.cluster.ageMs / 1000).toFixed(1)} s (${cluster.cluster.kind})`,
            color: COLORS.bad,
          },
        ]
      : [],
  };
}
