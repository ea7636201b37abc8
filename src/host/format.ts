// Number formatting shared by advice, preflight and the env renderer.

export { grouped as int } from '../report/duration.js';

export function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  const digits = i === 0 || v >= 100 || Number.isInteger(v) ? 0 : 1;
  return `${v.toFixed(digits)} ${units[i]}`;
}

/** 0.25 → "0.25", 2 → "2". */
export function vcpus(n: number): string {
  return String(Math.round(n * 1000) / 1000);
}

export function pct(part: number, whole: number): string {
  return whole > 0 ? `${Math.round((part / whole) * 100)}%` : 'n/a';
}
