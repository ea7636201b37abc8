import { existsSync, readFileSync } from 'node:fs';

// Small, never-throwing readers for /proc, /sys and friends. Every probe in host/ reports what it
// could not read as a reason instead of failing, so `holdline env` always prints every section.

/** A value read from the system, or why it is not available. */
export type Reading<T> =
  { available: true; value: T; source: string } | { available: false; reason: string; source: string };

export type TextResult = { ok: true; text: string } | { ok: false; reason: string };

/** Why a file could not be read, in words a user recognises. */
export function reasonOf(err: unknown, path: string): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return `${path} does not exist`;
  if (code === 'EACCES' || code === 'EPERM') return `permission denied reading ${path}`;
  return `cannot read ${path}: ${err instanceof Error ? err.message : String(err)}`;
}

export function readText(path: string): TextResult {
  try {
    return { ok: true, text: readFileSync(path, 'utf8') };
  } catch (err) {
    return { ok: false, reason: reasonOf(err, path) };
  }
}

export function exists(path: string): boolean {
  return existsSync(path);
}

/** Reads a file holding one value and parses it; absent or unparseable → not available. */
export function readValue<T>(path: string, parse: (text: string) => T | undefined): Reading<T> {
  const r = readText(path);
  if (!r.ok) return { available: false, reason: r.reason, source: path };
  const v = parse(r.text.trim());
  if (v === undefined)
    return {
      available: false,
      reason: `unexpected content in ${path}: ${JSON.stringify(r.text.trim().slice(0, 60))}`,
      source: path,
    };
  return { available: true, value: v, source: path };
}

export function parseInteger(text: string): number | undefined {
  if (!/^-?\d+$/.test(text)) return undefined;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** Whitespace-separated integers, e.g. `32768\t60999`. */
export function parseIntegers(text: string): number[] | undefined {
  const parts = text.split(/\s+/).filter((p) => p.length > 0);
  const nums = parts.map(parseInteger);
  return nums.length > 0 && nums.every((n) => n !== undefined) ? (nums as number[]) : undefined;
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
