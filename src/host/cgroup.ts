import os from 'node:os';
import path from 'node:path';
import { exists, parseInteger, readText } from './read.js';

// The container's real CPU and memory: os.cpus() and os.totalmem() describe the host, not the
// quota a container runs under. Reads cgroup v2 or v1 from a root directory so tests can point it
// at fixture trees. `null` means "could not read"; 'unlimited' means no limit is set.

export type CgroupLimit = number | 'unlimited';

export interface CgroupCpu {
  quotaUs: CgroupLimit | null;
  periodUs: number | null;
  /** quota / period: the CPUs this group may use (null when unlimited or unreadable). */
  vcpus: number | null;
  /** v1 cpu.shares (1024 = one CPU's weight under contention). */
  shares: number | null;
  /** v2 cpu.weight (100 = default). */
  weight: number | null;
}

export type CgroupFacts =
  | {
      available: true;
      version: 1 | 2;
      /** The process's group as /proc/self/cgroup names it (the memory controller's on v1). */
      group: string;
      /** Directories read, after mapping the group under the root. */
      dirs: string[];
      cpu: CgroupCpu;
      memory: { limitBytes: CgroupLimit | null; currentBytes: number | null };
      pids: { max: CgroupLimit | null; current: number | null };
    }
  | { available: false; reason: string };

/** Kernels write "unlimited" as the largest page-aligned signed 64-bit value; anything past 2^60 is no limit. */
const HUGE = 2 ** 60;

function limitOf(text: string): CgroupLimit | undefined {
  if (text === 'max' || text === '-1') return 'unlimited';
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    return n >= HUGE ? 'unlimited' : n;
  }
  return undefined;
}

function readLimit(file: string): CgroupLimit | null {
  const r = readText(file);
  return r.ok ? (limitOf(r.text.trim()) ?? null) : null;
}

function readInt(file: string): number | null {
  const r = readText(file);
  return r.ok ? (parseInteger(r.text.trim()) ?? null) : null;
}

/** The smaller of two limits; an unknown one does not lower a known one. */
function minLimit(a: CgroupLimit | null, b: CgroupLimit | null): CgroupLimit | null {
  if (a === null) return b;
  if (b === null) return a;
  if (a === 'unlimited') return b;
  if (b === 'unlimited') return a;
  return Math.min(a, b);
}

/** One line of /proc/self/cgroup: `id:controllers:path`. */
interface CgroupLine {
  controllers: string[];
  path: string;
}

export function parseProcCgroup(text: string): CgroupLine[] {
  const out: CgroupLine[] = [];
  for (const line of text.split('\n')) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line.trim());
    if (m) out.push({ controllers: m[2] ? m[2].split(',') : [], path: m[3] });
  }
  return out;
}

/**
 * The group's directory under the mount, and each ancestor up to the mount: a limit on a parent
 * applies to its children. Inside a container's cgroup namespace the path is often "/" or does not
 * exist under the mount; then the mount itself is the group.
 */
function groupDirs(mount: string, groupPath: string): string[] {
  const rel = groupPath.replace(/^\/+/, '');
  let dir = rel ? path.join(mount, rel) : mount;
  if (!exists(dir)) dir = mount;
  const dirs = [dir];
  while (dir !== mount && dir.startsWith(mount)) {
    dir = path.dirname(dir);
    dirs.push(dir);
  }
  return dirs;
}

function cpuFrom(
  quota: CgroupLimit | null,
  period: number | null,
): Pick<CgroupCpu, 'quotaUs' | 'periodUs' | 'vcpus'> {
  const vcpus = typeof quota === 'number' && period ? Math.round((quota / period) * 1000) / 1000 : null;
  return { quotaUs: quota, periodUs: period, vcpus };
}

function readV2(root: string, lines: CgroupLine[]): CgroupFacts {
  const group = lines.find((l) => l.controllers.length === 0)?.path ?? '/';
  const dirs = groupDirs(root, group);
  // cpu.max is "quota period" or "max period"; take the tightest vcpus over the ancestors.
  let cpu = cpuFrom(null, null);
  let memLimit: CgroupLimit | null = null;
  let pidsMax: CgroupLimit | null = null;
  for (const dir of dirs) {
    const r = readText(path.join(dir, 'cpu.max'));
    if (r.ok) {
      const [q, p] = r.text.trim().split(/\s+/);
      const c = cpuFrom(limitOf(q ?? '') ?? null, parseInteger(p ?? '') ?? null);
      if (cpu.quotaUs === null || (c.vcpus !== null && (cpu.vcpus === null || c.vcpus < cpu.vcpus))) cpu = c;
    }
    memLimit = minLimit(memLimit, readLimit(path.join(dir, 'memory.max')));
    pidsMax = minLimit(pidsMax, readLimit(path.join(dir, 'pids.max')));
  }
  return {
    available: true,
    version: 2,
    group,
    dirs,
    cpu: { ...cpu, shares: null, weight: readInt(path.join(dirs[0], 'cpu.weight')) },
    memory: { limitBytes: memLimit, currentBytes: readInt(path.join(dirs[0], 'memory.current')) },
    pids: { max: pidsMax, current: readInt(path.join(dirs[0], 'pids.current')) },
  };
}

/** v1 mounts one hierarchy per controller, sometimes joined ("cpu,cpuacct"). */
function v1Mount(
  root: string,
  lines: CgroupLine[],
  controller: string,
): { mount: string; group: string } | null {
  const line = lines.find((l) => l.controllers.includes(controller));
  const names = [controller, line?.controllers.join(','), line?.controllers.slice().reverse().join(',')];
  for (const name of names) {
    if (name && exists(path.join(root, name)))
      return { mount: path.join(root, name), group: line?.path ?? '/' };
  }
  return null;
}

function readV1(root: string, lines: CgroupLine[]): CgroupFacts {
  const cpuM = v1Mount(root, lines, 'cpu');
  const memM = v1Mount(root, lines, 'memory');
  const pidsM = v1Mount(root, lines, 'pids');
  const dirs: string[] = [];
  let cpu = cpuFrom(null, null);
  let shares: number | null = null;
  if (cpuM) {
    const cd = groupDirs(cpuM.mount, cpuM.group);
    dirs.push(cd[0]);
    for (const dir of cd) {
      const c = cpuFrom(
        readLimit(path.join(dir, 'cpu.cfs_quota_us')),
        readInt(path.join(dir, 'cpu.cfs_period_us')),
      );
      if (cpu.quotaUs === null || (c.vcpus !== null && (cpu.vcpus === null || c.vcpus < cpu.vcpus))) cpu = c;
    }
    shares = readInt(path.join(cd[0], 'cpu.shares'));
  }
  let memLimit: CgroupLimit | null = null;
  let memCurrent: number | null = null;
  if (memM) {
    const md = groupDirs(memM.mount, memM.group);
    dirs.push(md[0]);
    for (const dir of md) memLimit = minLimit(memLimit, readLimit(path.join(dir, 'memory.limit_in_bytes')));
    memCurrent = readInt(path.join(md[0], 'memory.usage_in_bytes'));
  }
  let pidsMax: CgroupLimit | null = null;
  let pidsCurrent: number | null = null;
  if (pidsM) {
    const pd = groupDirs(pidsM.mount, pidsM.group);
    dirs.push(pd[0]);
    for (const dir of pd) pidsMax = minLimit(pidsMax, readLimit(path.join(dir, 'pids.max')));
    // The root group of a v1 hierarchy has no pids.max: nothing above us limits.
    if (pidsMax === null && pd[0] === pidsM.mount) pidsMax = 'unlimited';
    pidsCurrent = readInt(path.join(pd[0], 'pids.current'));
  }
  if (!cpuM && !memM) return { available: false, reason: `no cpu or memory controller under ${root}` };
  return {
    available: true,
    version: 1,
    group: memM?.group ?? cpuM?.group ?? '/',
    dirs,
    cpu: { ...cpu, shares, weight: null },
    memory: { limitBytes: memLimit, currentBytes: memCurrent },
    pids: { max: pidsMax, current: pidsCurrent },
  };
}

/**
 * Reads this process's cgroup limits. `cgroupRoot` is where cgroupfs is mounted
 * (default /sys/fs/cgroup), `procRoot` where /proc is (for /proc/self/cgroup).
 */
export function readCgroup(o: { cgroupRoot?: string; procRoot?: string } = {}): CgroupFacts {
  const root = o.cgroupRoot ?? '/sys/fs/cgroup';
  const procRoot = o.procRoot ?? '/proc';
  if (process.platform !== 'linux' && o.cgroupRoot === undefined) {
    return { available: false, reason: `cgroups are Linux only (this is ${process.platform})` };
  }
  const self = readText(`${procRoot}/self/cgroup`);
  const lines = self.ok ? parseProcCgroup(self.text) : [];
  // A unified mount has cgroup.controllers at its root; on hybrid hosts the v1 controllers hold the limits.
  const hasV1 = lines.some((l) => l.controllers.includes('memory') || l.controllers.includes('cpu'));
  if (!hasV1 && exists(path.join(root, 'cgroup.controllers'))) return readV2(root, lines);
  if (
    exists(path.join(root, 'memory')) ||
    exists(path.join(root, 'cpu')) ||
    exists(path.join(root, 'cpu,cpuacct'))
  ) {
    return readV1(root, lines);
  }
  if (!exists(root)) return { available: false, reason: `${root} does not exist` };
  return { available: false, reason: `no cgroup v1 or v2 files under ${root}` };
}

/** The CPUs and memory this process can really use: the tighter of the cgroup and the host. */
export interface Effective {
  vcpus: number;
  vcpusFrom: 'cgroup' | 'host' | 'ecs';
  memoryBytes: number;
  memoryFrom: 'cgroup' | 'host' | 'ecs';
  hostCpus: number;
  hostMemoryBytes: number;
}

export function effectiveResources(
  cg: CgroupFacts,
  ecsTask?: { vcpus: number | null; memoryBytes: number | null },
): Effective {
  const hostCpus =
    typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  const hostMemoryBytes = os.totalmem();
  let vcpus = hostCpus;
  let vcpusFrom: Effective['vcpusFrom'] = 'host';
  let memoryBytes = hostMemoryBytes;
  let memoryFrom: Effective['memoryFrom'] = 'host';
  if (cg.available && cg.cpu.vcpus !== null && cg.cpu.vcpus < vcpus) {
    vcpus = cg.cpu.vcpus;
    vcpusFrom = 'cgroup';
  }
  if (cg.available && typeof cg.memory.limitBytes === 'number' && cg.memory.limitBytes < memoryBytes) {
    memoryBytes = cg.memory.limitBytes;
    memoryFrom = 'cgroup';
  }
  // Fargate tasks report their size in the metadata; it is what the user chose and pays for.
  if (ecsTask?.vcpus && ecsTask.vcpus < vcpus) {
    vcpus = ecsTask.vcpus;
    vcpusFrom = 'ecs';
  }
  if (ecsTask?.memoryBytes && ecsTask.memoryBytes < memoryBytes) {
    memoryBytes = ecsTask.memoryBytes;
    memoryFrom = 'ecs';
  }
  return { vcpus, vcpusFrom, memoryBytes, memoryFrom, hostCpus, hostMemoryBytes };
}
