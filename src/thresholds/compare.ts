// Two results side by side, metric by metric: what changed, and which change is a regression.
import type { RunResult, ThresholdResult } from '../contract.js';
import { METRICS } from './metrics.js';

export interface CompareRow {
  metric: string;
  unit: ThresholdResult['unit'];
  better: 'higher' | 'lower';
  base: number | null;
  next: number | null;
  /** (next - base) / |base|; null when either is missing or base is 0. */
  change: number | null;
  verdict: 'same' | 'better' | 'worse' | 'regression' | 'n/a';
}

/** Every metric either result has, in the documented order; `maxRegression` is a fraction. */
export function compareResults(base: RunResult, next: RunResult, maxRegression: number): CompareRow[] {
  const command = base.info.command;
  const rows: CompareRow[] = [];
  for (const m of METRICS) {
    if (!m.commands.includes(command)) continue;
    const a = m.value(base);
    const b = m.value(next);
    if (a === null && b === null) continue;
    let change: number | null = null;
    let verdict: CompareRow['verdict'] = 'n/a';
    if (a !== null && b !== null) {
      change = a !== 0 ? (b - a) / Math.abs(a) : b === 0 ? 0 : null;
      const worse = m.better === 'higher' ? b < a : b > a;
      if (Math.abs(b - a) < 1e-9) verdict = 'same';
      else if (!worse) verdict = 'better';
      else verdict = change === null || Math.abs(change) > maxRegression ? 'regression' : 'worse';
    }
    rows.push({ metric: m.name, unit: m.unit, better: m.better, base: a, next: b, change, verdict });
  }
  return rows;
}
