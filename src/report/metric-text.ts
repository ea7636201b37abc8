import type { ThresholdResult } from '../contract.js';
import { grouped } from './duration.js';

/** A threshold metric's value as people read it: `97.50%`, `12.30 ms`, `1,500`. */
export function metricText(unit: ThresholdResult['unit'], value: number | null): string {
  if (value === null) return 'not measured';
  if (unit === 'fraction') return `${(value * 100).toFixed(2)}%`;
  if (unit === 'ms') return `${value.toFixed(2)} ms`;
  return Number.isInteger(value) ? grouped(value) : String(Math.round(value * 100) / 100);
}
