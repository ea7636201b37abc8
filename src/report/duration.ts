// Number formatting shared by the text reporters. Formatting only: no metric is derived here.

/** `5.67s` (two decimals). */
export function seconds(ms: number): string {
  // Round half up on whole hundredths first: (0.045).toFixed(2) would print 0.04.
  return `${(Math.round(ms / 10) / 100).toFixed(2)}s`;
}

/** `4.2s` below a minute, then `3m05s`, then `1h02m`. */
export function elapsed(ms: number): string {
  const s = Math.max(0, ms) / 1000;
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(Math.floor(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/** Milliseconds for a table cell: `0.42`, `12.30`, `1534`. */
export function millis(ms: number): string {
  return ms < 1000 ? ms.toFixed(2) : ms.toFixed(0);
}

/** `96.0` for a share of 0.96 (one decimal, no sign). */
export function percent(fraction: number): string {
  return (Math.round(fraction * 1000) / 10).toFixed(1);
}

/**
 * `10,000`. By hand: the first toLocaleString call loads ICU's number formatting, ~30-60 ms of
 * CPU that every generator process would pay before its first session (measured).
 */
export function grouped(n: number): string {
  const r = Math.round(n);
  if (!Number.isFinite(r)) return String(r);
  const digits = String(Math.abs(r)).replace(/\B(?=(\d{3})+$)/g, ',');
  return r < 0 ? `-${digits}` : digits;
}

/** `512 MiB`, `1.5 GiB`, `2 GiB`: one decimal below 100 of a unit, none for whole numbers. */
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

/** `80%`, `82.5%` for a threshold-like fraction (no trailing zeros). */
export function share(fraction: number): string {
  return `${Number((fraction * 100).toFixed(1))}%`;
}
