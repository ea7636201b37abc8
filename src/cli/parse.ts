import { InvalidArgumentError } from 'commander';

// Value parsers for flags. Each throws commander's InvalidArgumentError, which commander turns
// into "error: option '--x <v>' argument 'y' is invalid. <why>" and exit 2.

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** `500ms`, `5s`, `2m`, `1h`, `1m30s`; a bare number is seconds. Returns milliseconds. */
export function parseDuration(raw: string): number {
  const s = raw.trim();
  if (/^\d+(\.\d+)?$/.test(s)) return Math.round(Number(s) * 1000);
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
  let total = 0;
  let matched = 0;
  for (let m = re.exec(s); m; m = re.exec(s)) {
    total += Number(m[1]) * UNITS[m[2]];
    matched = re.lastIndex;
  }
  if (matched === 0 || matched !== s.length) {
    throw new InvalidArgumentError('Expected a duration such as 500ms, 5s, 2m or 1m30s.');
  }
  return Math.round(total);
}

/** `0.8`, `80%` or `80` → 0.8. */
export function parseFraction(raw: string): number {
  const s = raw.trim();
  const pct = s.endsWith('%');
  const n = Number(pct ? s.slice(0, -1) : s);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('Expected a fraction such as 0.8 or 80%.');
  const f = pct || n > 1 ? n / 100 : n;
  if (f > 1) throw new InvalidArgumentError('Expected at most 100%.');
  return f;
}

/** A positive integer; accepts `5k` / `2m` suffixes and `_`/`,` separators. */
export function parseCount(raw: string): number {
  const s = raw.trim().toLowerCase().replace(/[_,]/g, '');
  const m = /^(\d+(?:\.\d+)?)([km]?)$/.exec(s);
  const n = m ? Number(m[1]) * (m[2] === 'k' ? 1000 : m[2] === 'm' ? 1_000_000 : 1) : NaN;
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('Expected a positive whole number.');
  return n;
}

/** `10,50,100` → ascending unique counts. */
export function parseCountList(raw: string): number[] {
  const parts = raw.split(/[\s,]+/).filter((p) => p.length > 0);
  if (parts.length === 0)
    throw new InvalidArgumentError('Expected a comma-separated list such as 10,50,100.');
  const nums = parts.map((p) => parseCount(p));
  return [...new Set(nums)].sort((a, b) => a - b);
}

/**
 * Repeatable `--x 10,50 --x 100`: every occurrence adds to the list (ascending, unique). The
 * first occurrence replaces the default, which commander passes in as `acc`.
 */
export function collectCountList(defaults?: readonly number[]): (raw: string, acc?: number[]) => number[] {
  return (raw, acc) => {
    const add = parseCountList(raw);
    const base = acc === undefined || acc === defaults ? [] : acc;
    return [...new Set([...base, ...add])].sort((a, b) => a - b);
  };
}

export function parseStringList(raw: string): string[] {
  return raw
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p.length > 0);
}

/** Repeatable `--x a --x b,c`: every occurrence adds to the list. */
export function collectList(raw: string, acc: string[] = []): string[] {
  const add = parseStringList(raw);
  if (add.length === 0) throw new InvalidArgumentError('Expected a name.');
  return [...acc, ...add];
}

/** Repeatable `--header 'Name: value'`. */
export function collectHeader(raw: string, acc: Record<string, string> = {}): Record<string, string> {
  const i = raw.indexOf(':');
  if (i <= 0) throw new InvalidArgumentError("Expected 'Name: value'.");
  return { ...acc, [raw.slice(0, i).trim()]: raw.slice(i + 1).trim() };
}

/** Repeatable `--x K=V`. */
export function collectPair(raw: string, acc: Record<string, string> = {}): Record<string, string> {
  const i = raw.indexOf('=');
  if (i <= 0) throw new InvalidArgumentError("Expected 'Name=value'.");
  return { ...acc, [raw.slice(0, i).trim()]: raw.slice(i + 1).trim() };
}

export function parseUrl(raw: string, schemes: string[]): URL {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new InvalidArgumentError(`Expected a URL such as ${schemes[0]}//127.0.0.1:8080/ws.`);
  }
  if (!schemes.includes(u.protocol)) {
    throw new InvalidArgumentError(`Expected a ${schemes.join(' or ')} URL, got ${u.protocol}.`);
  }
  return u;
}

/** Characters: `64`, `5k` (5000), `4KiB` (4096), `1m` (1,000,000), `1MiB`. */
export function parseSize(raw: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(k|kb|kib|m|mb|mib|b)?$/i.exec(raw.trim());
  const mult: Record<string, number> = {
    '': 1,
    b: 1,
    k: 1e3,
    kb: 1e3,
    kib: 1024,
    m: 1e6,
    mb: 1e6,
    mib: 1024 * 1024,
  };
  const n = m ? Math.round(Number(m[1]) * mult[(m[2] ?? '').toLowerCase()]) : NaN;
  if (!Number.isFinite(n) || n < 0 || n > 64 * 1024 * 1024) {
    throw new InvalidArgumentError('Expected a size such as 64, 5k (5000 characters), 4KiB or 1MiB.');
  }
  return n;
}

/** A positive size in bytes, as parseSize reads it. */
export function parsePositiveSize(raw: string): number {
  const n = parseSize(raw);
  if (n === 0) throw new InvalidArgumentError('Expected a size above 0, such as 64KiB or 16MiB.');
  return n;
}
