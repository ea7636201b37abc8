// What the page draws, as plain data: the renderers pick and arrange figures of a result into
// these; the page's script only draws them. No figure is computed on either side.

export interface Series {
  label: string;
  values: (number | null)[];
  color: string;
  /** line (default), bars, or points only. */
  kind?: 'line' | 'bars' | 'points';
  /** 0: left axis (default), 1: right axis. */
  axis?: 0 | 1;
  dash?: boolean;
  /** Bars of the same stack are drawn on top of each other (failure classes). */
  stack?: string;
}

export interface Mark {
  value: number;
  label: string;
  color: string;
}

export interface LineChart {
  type: 'chart';
  id: string;
  title: string;
  note?: string;
  x: number[];
  xLabel: string;
  /** Names for x = 0, 1, 2…, shown instead of the numbers (one column per phase). */
  xNames?: string[];
  /** Logarithmic x (a ladder from 10 to 5,000 sessions). */
  xLog?: boolean;
  yLabel: string;
  y2Label?: string;
  yRange?: [number, number];
  series: Series[];
  hlines?: Mark[];
  vlines?: Mark[];
  /** Shaded x ranges, e.g. where the generator saturated. */
  bands?: { from: number; to: number; label: string }[];
}

/** A clients × codes map: every cell received unless listed as missed. */
export interface GridChart {
  type: 'grid';
  id: string;
  title: string;
  note?: string;
  rows: number;
  cols: number;
  rowLabel: string;
  colLabel: string;
  /** [row, missed columns] */
  missed: [number, number[]][];
}

export type Chart = LineChart | GridChart;

export interface Section {
  title: string;
  charts: Chart[];
}

export const COLORS = {
  ok: '#2e7d32',
  bad: '#c62828',
  warn: '#ef6c00',
  p50: '#1565c0',
  p95: '#6a1b9a',
  p99: '#ad1457',
  max: '#757575',
  mark: '#37474f',
  safe: '#00838f',
} as const;

/** Distinct colours for series without a meaning of their own (workers, classes, steps). */
export const PALETTE = [
  '#1565c0',
  '#c62828',
  '#2e7d32',
  '#ef6c00',
  '#6a1b9a',
  '#00838f',
  '#ad1457',
  '#5d4037',
  '#9e9d24',
  '#455a64',
];

export function paletteColor(i: number): string {
  return PALETTE[i % PALETTE.length];
}
