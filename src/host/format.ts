// Number formatting shared by advice, preflight and the env renderer.

export { bytes, grouped as int } from '../report/duration.js';

/** 0.25 → "0.25", 2 → "2". */
export function vcpus(n: number): string {
  return String(Math.round(n * 1000) / 1000);
}

export function pct(part: number, whole: number): string {
  return whole > 0 ? `${Math.round((part / whole) * 100)}%` : 'n/a';
}
