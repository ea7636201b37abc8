import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { errorMessage, parseInteger, readText, readValue } from './read.js';

// Per-process resource limits. "Too many open files" is the first wall a load test hits: every
// socket is a file descriptor, so the soft open-file limit caps sessions per process.

export type LimitValue = number | 'unlimited';

export interface SoftHard {
  soft: LimitValue;
  hard: LimitValue;
}

export type LimitsFacts =
  | {
      available: true;
      source: string;
      openFiles: SoftHard;
      processes: SoftHard | null;
      /** Descriptors open in this process now (null when /proc/self/fd is unreadable). */
      openFds: number | null;
      /** System-wide ceilings: fs.file-max and fs.nr_open (the highest hard limit root can set). */
      fileMax: number | null;
      nrOpen: number | null;
    }
  | { available: false; reason: string; source: string };

export interface FdRaiseResult {
  before: SoftHard | null;
  after: SoftHard | null;
  /** `none`: nothing to raise; `prlimit`: prlimit ran; `unavailable`: limits or prlimit missing. */
  method: 'none' | 'prlimit' | 'unavailable';
  /** As root, an attempt to go past the hard limit (needs CAP_SYS_RESOURCE). */
  aboveHard?: { requested: number; ok: boolean; error?: string };
  error?: string;
}

/** Descriptors a process needs besides its sockets: stdio, the event loop, logs, the result file. */
export const FD_RESERVE = 100;

function parseLimitValue(s: string): LimitValue | undefined {
  return s === 'unlimited' ? 'unlimited' : parseInteger(s);
}

/** Parses the text of /proc/<pid>/limits. */
export function parseLimits(text: string): { openFiles: SoftHard; processes: SoftHard | null } | undefined {
  const row = (name: string): SoftHard | null => {
    const line = text.split('\n').find((l) => l.startsWith(name));
    if (!line) return null;
    const [soft, hard] = line.slice(name.length).trim().split(/\s+/);
    const s = parseLimitValue(soft ?? '');
    const h = parseLimitValue(hard ?? '');
    return s !== undefined && h !== undefined ? { soft: s, hard: h } : null;
  };
  const openFiles = row('Max open files');
  if (!openFiles) return undefined;
  return { openFiles, processes: row('Max processes') };
}

/** Open descriptors of this process, or null when /proc is not there. */
export function countOpenFds(procRoot = '/proc'): number | null {
  try {
    // readdir itself holds one descriptor on the directory while listing it.
    return Math.max(0, readdirSync(`${procRoot}/self/fd`).length - 1);
  } catch {
    return null;
  }
}

export function readLimits(o: { procRoot?: string } = {}): LimitsFacts {
  const procRoot = o.procRoot ?? '/proc';
  const source = `${procRoot}/self/limits`;
  const r = readText(source);
  if (!r.ok) return { available: false, reason: r.reason, source };
  const parsed = parseLimits(r.text);
  if (!parsed) return { available: false, reason: `no "Max open files" line in ${source}`, source };
  const num = (p: string): number | null => {
    const v = readValue(p, parseInteger);
    return v.available ? v.value : null;
  };
  return {
    available: true,
    source,
    ...parsed,
    openFds: countOpenFds(procRoot),
    fileMax: num(`${procRoot}/sys/fs/file-max`),
    nrOpen: num(`${procRoot}/sys/fs/nr_open`),
  };
}

function openFiles(procRoot: string): SoftHard | null {
  const l = readLimits({ procRoot });
  return l.available ? l.openFiles : null;
}

type PrlimitRun = { ok: true } | { ok: false; missing: boolean; error: string };

function runPrlimit(bin: string, n: number): PrlimitRun {
  const r = spawnSync(bin, ['--pid', String(process.pid), `--nofile=${n}:${n}`], {
    encoding: 'utf8',
    timeout: 5000,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  if (r.error) {
    const missing = (r.error as NodeJS.ErrnoException).code === 'ENOENT';
    return {
      ok: false,
      missing,
      error: missing ? `${bin} not found (it comes with util-linux)` : errorMessage(r.error),
    };
  }
  if (r.status !== 0) {
    return {
      ok: false,
      missing: false,
      error: (r.stderr || `${bin} exited with ${r.status}`).trim().replace(/^prlimit: /, ''),
    };
  }
  return { ok: true };
}

/**
 * Raises this process's soft open-file limit to its hard limit (Node has no setrlimit, so this
 * runs `prlimit` from util-linux on our own pid). As root it also tries past the hard limit, up to
 * fs.nr_open or `target`, and reports whether that worked. Never throws.
 */
export function raiseFdLimit(
  o: {
    target?: number;
    /** Descriptors the run needs: a soft limit already at or above it is left as it is. */
    need?: number;
    procRoot?: string;
    prlimit?: string;
  } = {},
): FdRaiseResult {
  const procRoot = o.procRoot ?? '/proc';
  const bin = o.prlimit ?? 'prlimit';
  const before = openFiles(procRoot);
  if (process.platform !== 'linux')
    return { before, after: before, method: 'unavailable', error: `not Linux (${process.platform})` };
  if (!before)
    return { before, after: before, method: 'unavailable', error: `cannot read ${procRoot}/self/limits` };
  const { soft, hard } = before;
  if (hard === 'unlimited' || soft === 'unlimited') return { before, after: before, method: 'none' };
  // Enough already: no child process (prlimit costs the generator ~10 ms of CPU and a fork).
  if (o.need !== undefined && soft >= o.need) return { before, after: before, method: 'none' };
  let method: FdRaiseResult['method'] = 'none';
  let error: string | undefined;
  if (soft < hard) {
    const r = runPrlimit(bin, hard);
    method = !r.ok && r.missing ? 'unavailable' : 'prlimit';
    if (!r.ok) error = r.error;
  }
  let aboveHard: FdRaiseResult['aboveHard'];
  if (process.getuid?.() === 0 && method !== 'unavailable') {
    const l = readLimits({ procRoot });
    const ceiling = Math.min(o.target ?? 1_048_576, (l.available ? l.nrOpen : null) ?? 1_048_576);
    if (ceiling > hard) {
      const r = runPrlimit(bin, ceiling);
      if (!r.ok && r.missing) {
        method = 'unavailable';
        error = r.error;
      } else {
        aboveHard = { requested: ceiling, ok: r.ok, ...(r.ok ? {} : { error: r.error }) };
        method = 'prlimit';
      }
    }
  }
  const after = openFiles(procRoot);
  return { before, after, method, ...(aboveHard ? { aboveHard } : {}), ...(error ? { error } : {}) };
}

/** Sockets one process can hold under this soft limit. */
export function usableSockets(soft: LimitValue): number | null {
  return soft === 'unlimited' ? null : Math.max(0, soft - FD_RESERVE);
}
