// Charts over time from the run's interval snapshots: activity, failures, generator health.
import type { RunResult, TimelineRow } from '../../contract.js';
import { COLORS, paletteColor, type LineChart, type Mark } from './spec.js';

const sec = (ms: number): number => Math.round(ms / 100) / 10;

function workersOf(rows: TimelineRow[]): number[] {
  return [...new Set(rows.map((r) => r.worker))].sort((a, b) => a - b);
}

/** One series per worker: its value in its own rows, gaps elsewhere. */
function perWorker(rows: TimelineRow[], pick: (r: TimelineRow) => number, label: string, axis: 0 | 1 = 0) {
  const workers = workersOf(rows);
  return workers.map((w, i) => ({
    label: workers.length > 1 ? `${label} (worker ${w})` : label,
    values: rows.map((r) => (r.worker === w ? pick(r) : null)),
    color: paletteColor(i + (axis === 1 ? 3 : 0)),
    axis,
  }));
}

/** Where each step started, as vertical marks. */
function stepMarks(r: RunResult): Mark[] {
  if (r.steps.length < 2) return [];
  return r.steps.map((s) => ({
    value: sec(s.startedAt - r.info.startedAt),
    label: `${s.sessions}`,
    color: COLORS.mark,
  }));
}

/** Contiguous runs of saturated intervals (each row covers the second before its time). */
export function saturationBands(rows: { t: number; saturated: boolean }[]): LineChart['bands'] {
  const bands: NonNullable<LineChart['bands']> = [];
  for (const row of rows) {
    if (!row.saturated) continue;
    const from = sec(row.t - 1000);
    const last = bands[bands.length - 1];
    if (last && from <= last.to + 0.05) last.to = sec(row.t);
    else bands.push({ from, to: sec(row.t), label: 'generator saturated' });
  }
  return bands;
}

export function timelineCharts(r: RunResult): LineChart[] {
  const rows = [...(r.timeline ?? [])].sort((a, b) => a.t - b.t);
  if (rows.length === 0) return [];
  const x = rows.map((row) => sec(row.t));
  const vlines = stepMarks(r);
  const classes = [...new Set(rows.flatMap((row) => Object.keys(row.failures)))].sort();
  const charts: LineChart[] = [
    {
      type: 'chart',
      id: 'activity',
      title: 'Active connections and failures by class over time',
      note:
        vlines.length > 0 ? 'Vertical lines: the start of each step, labelled with its sessions.' : undefined,
      x,
      xLabel: 'seconds since the start',
      yLabel: 'open sessions',
      y2Label: 'failures per second',
      series: [
        ...perWorker(rows, (row) => row.active, 'active'),
        ...classes.map((c, i) => ({
          label: c,
          values: rows.map((row) => row.failures[c] ?? 0),
          color: paletteColor(i + 1),
          kind: 'bars' as const,
          axis: 1 as const,
          stack: 'failures',
        })),
      ],
      vlines,
    },
    {
      type: 'chart',
      id: 'generator',
      title: 'Generator health per worker: CPU and event-loop delay',
      note: 'Shaded: intervals where the generator itself saturated (its figures measure this machine).',
      x,
      xLabel: 'seconds since the start',
      yLabel: 'CPU % of one core',
      y2Label: 'event-loop delay p99, ms',
      series: [
        ...perWorker(rows, (row) => row.cpuPct, 'CPU %'),
        ...perWorker(rows, (row) => row.eldP99Ms, 'event-loop delay p99', 1),
      ],
      bands: saturationBands(rows),
      vlines,
    },
    {
      type: 'chart',
      id: 'generator-rss',
      title: 'Generator memory per worker (RSS)',
      x,
      xLabel: 'seconds since the start',
      yLabel: 'MB',
      series: perWorker(rows, (row) => Math.round(row.rssBytes / 1e5) / 10, 'RSS MB'),
      bands: saturationBands(rows),
      vlines,
    },
  ];
  const hb = rows.filter((row) => row.heartbeat);
  if (hb.length > 0) {
    charts.push({
      type: 'chart',
      id: 'heartbeat-rtt',
      title: 'Heartbeat round trip over time',
      x: hb.map((row) => sec(row.t)),
      xLabel: 'seconds since the start',
      yLabel: 'ms',
      series: [
        { label: 'p50', values: hb.map((row) => row.heartbeat!.p50Ms), color: COLORS.p50 },
        { label: 'p99', values: hb.map((row) => row.heartbeat!.p99Ms), color: COLORS.p99 },
      ],
      vlines,
    });
  }
  return charts;
}

/** `--target-metrics`: the server side of the same seconds. */
export function targetMetricCharts(r: RunResult): LineChart[] {
  const s = r.targetMetrics?.samples ?? [];
  if (s.length === 0) return [];
  const x = s.map((row) => sec(row.t));
  const vlines = stepMarks(r);
  return [
    {
      type: 'chart',
      id: 'target-server',
      title: "The target's CPU and connections (its Prometheus endpoint)",
      note: `Scraped from ${r.targetMetrics!.url} every second (${r.targetMetrics!.failures} of ${r.targetMetrics!.scrapes} scrapes failed).`,
      x,
      xLabel: 'seconds since the start',
      yLabel: 'CPU % of one core',
      y2Label: 'open connections',
      series: [
        { label: 'CPU %', values: s.map((row) => row.cpuPct), color: COLORS.p99 },
        { label: 'connections', values: s.map((row) => row.connections), color: COLORS.p50, axis: 1 },
      ],
      vlines,
    },
    {
      type: 'chart',
      id: 'target-memory',
      title: "The target's memory and event-loop delay",
      x,
      xLabel: 'seconds since the start',
      yLabel: 'RSS MB',
      y2Label: 'event-loop delay p99, ms',
      series: [
        {
          label: 'RSS MB',
          values: s.map((row) => (row.rssBytes === null ? null : Math.round(row.rssBytes / 1e5) / 10)),
          color: COLORS.p50,
        },
        { label: 'event-loop delay p99', values: s.map((row) => row.eldP99Ms), color: COLORS.warn, axis: 1 },
      ],
      vlines,
    },
  ];
}
