// Charts of a chat load run: messages per second and latency over time, from its history.
import type { LoadFindings, RunResult } from '../../contract.js';
import { COLORS, type LineChart } from './spec.js';

export function loadFindingsOf(r: RunResult): LoadFindings | null {
  const last = r.steps[r.steps.length - 1];
  return (last?.ext?.load as LoadFindings | undefined) ?? null;
}

export function loadCharts(r: RunResult): LineChart[] {
  const f = loadFindingsOf(r);
  if (!f || f.history.length === 0) return [];
  const h = f.history;
  const x = h.map((row) => row.t);
  const xLabel = 'seconds since messaging started (negative: connections ramping up)';
  const charts: LineChart[] = [
    {
      type: 'chart',
      id: 'load-rate',
      title: 'Messages per second, sent and received',
      x,
      xLabel,
      yLabel: 'messages / s',
      y2Label: 'open connections',
      series: [
        { label: 'sent', values: h.map((row) => row.sent), color: COLORS.p50 },
        { label: 'received', values: h.map((row) => row.received), color: COLORS.ok },
        { label: 'dropped', values: h.map((row) => row.dropped), color: COLORS.bad, kind: 'bars' },
        {
          label: 'open connections',
          values: h.map((row) => row.active),
          color: COLORS.max,
          axis: 1,
          dash: true,
        },
      ],
    },
    {
      type: 'chart',
      id: 'load-latency',
      title: 'Message latency percentiles over time (from the intended send)',
      x,
      xLabel,
      yLabel: 'ms',
      series: (['p50', 'p95', 'p99', 'max'] as const).map((p) => ({
        label: p,
        // 0 means nothing was received that second: a gap, not a zero latency.
        values: h.map((row) => (row.received > 0 ? row[p] : null)),
        color: COLORS[p],
        dash: p === 'max',
      })),
    },
  ];
  if (f.target && f.target.samples.length > 0) {
    charts.push({
      type: 'chart',
      id: 'target-eld',
      title: "The target's event-loop delay (its /health, last 10 s window)",
      x: f.target.samples.map((s) => s.t),
      xLabel,
      yLabel: 'ms',
      series: [
        { label: 'p99', values: f.target.samples.map((s) => s.p99Ms), color: COLORS.p99 },
        { label: 'max', values: f.target.samples.map((s) => s.maxMs), color: COLORS.max, dash: true },
      ],
    });
  }
  return charts;
}
