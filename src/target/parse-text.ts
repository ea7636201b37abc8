import { availableParallelism } from 'node:os';

// Text → value for the target's env vars and flags (both arrive as text). Each throws an Error
// whose message says what was expected; the option table adds where the value came from.

const KiB = 1024;
const MiB = 1024 * 1024;

export function lower(raw: string): string {
  return raw.trim().toLowerCase();
}

export function parseInteger(raw: string): number {
  const s = raw.trim().replace(/_/g, '');
  if (!/^\d+$/.test(s)) throw new Error('expected a whole number');
  return Number(s);
}

/** `20000`, `20k`, `1m`, `20_000`; `off` is 0. */
export function parseCountValue(raw: string): number {
  const s = raw.trim().toLowerCase().replace(/[_,]/g, '');
  if (s === 'off' || s === 'none') return 0;
  const m = /^(\d+(?:\.\d+)?)([km]?)$/.exec(s);
  const n = m ? Number(m[1]) * (m[2] === 'k' ? 1000 : m[2] === 'm' ? 1_000_000 : 1) : NaN;
  if (!Number.isInteger(n)) throw new Error('expected a whole number such as 100, 20k or 0 (off)');
  return n;
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `300ms`, `5s`, `1m30s`, `1h`; a bare number is seconds; `off` is 0. */
export function parseDurationMs(raw: string): number {
  const s = raw.trim().toLowerCase();
  if (s === 'off' || s === 'none') return 0;
  if (/^\d+(\.\d+)?$/.test(s)) return Math.round(Number(s) * 1000);
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/y;
  let total = 0;
  let end = 0;
  for (let m = re.exec(s); m; m = re.exec(s)) {
    total += Number(m[1]) * DURATION_UNITS[m[2]];
    end = re.lastIndex;
  }
  if (end === 0 || end !== s.length) throw new Error('expected a duration such as 300ms, 5s, 1m or 1h');
  return Math.round(total);
}

/** Like parseDurationMs, but a bare number is milliseconds (for settings named `…_MS`). */
export function parseMs(raw: string): number {
  const s = raw.trim();
  return /^\d+(\.\d+)?$/.test(s) ? Math.round(Number(s)) : parseDurationMs(s);
}

const BYTE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: KiB,
  kb: 1000,
  kib: KiB,
  m: MiB,
  mb: 1_000_000,
  mib: MiB,
  g: 1024 * MiB,
  gb: 1_000_000_000,
  gib: 1024 * MiB,
};

/** `65536`, `64KiB`, `64k`, `1MiB`, `1mb`. */
export function parseBytes(raw: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/.exec(raw.trim().toLowerCase());
  const unit = m ? BYTE_UNITS[m[2]] : undefined;
  if (!m || unit === undefined) throw new Error('expected a size such as 65536, 64KiB or 1MiB');
  return Math.floor(Number(m[1]) * unit);
}

export function parseBool(raw: string): boolean {
  const s = raw.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(s)) return true;
  if (['0', 'false', 'no', 'off'].includes(s)) return false;
  throw new Error('expected true or false (1/0, yes/no, on/off)');
}

export function parseWorkers(raw: string): number {
  return raw.trim().toLowerCase() === 'auto' ? availableParallelism() : parseInteger(raw);
}
