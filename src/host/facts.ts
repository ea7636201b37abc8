import os from 'node:os';
import { advise, type Advice } from './advice.js';
import { effectiveResources, readCgroup, type CgroupFacts, type Effective } from './cgroup.js';
import { detectContainer, type ContainerFacts } from './container.js';
import { readEcsMetadata, type EcsFacts } from './ecs.js';
import { detectKubernetes, type K8sFacts } from './k8s.js';
import { readLimits, type FdRaiseResult, type LimitsFacts } from './limits.js';
import { readNetwork, type NetworkFacts } from './network.js';

// Everything holdline knows about the machine it runs on, as plain JSON: printed by `holdline env`
// and recorded in every result file so a number can be judged against the box that produced it.

export interface SystemFacts {
  hostname: string;
  platform: string;
  arch: string;
  kernel: string;
  node: string;
  pid: number;
  uid: number | null;
  uptimeS: number;
  loadavg: number[];
}

export interface HostFacts {
  v: 1;
  collectedAt: string;
  system: SystemFacts;
  /** The CPUs and memory this process can really use, and where each number comes from. */
  resources: Effective;
  container: ContainerFacts;
  cgroup: CgroupFacts;
  ecs: EcsFacts;
  kubernetes: K8sFacts;
  limits: LimitsFacts;
  /** What raising the open-file limit did, when the caller tried (null otherwise). */
  fdRaise: FdRaiseResult | null;
  network: NetworkFacts;
  advice: Advice[];
}

export interface HostProbeOptions {
  /** Filesystem root for /.dockerenv, /run/.containerenv and service-account files (default "/"). */
  root?: string;
  procRoot?: string;
  cgroupRoot?: string;
  env?: Record<string, string | undefined>;
  ecsTimeoutMs?: number;
  fdRaise?: FdRaiseResult;
  /** List network interfaces (default true). */
  interfaces?: boolean;
}

export async function collectHostFacts(o: HostProbeOptions = {}): Promise<HostFacts> {
  const env = o.env ?? process.env;
  const procRoot = o.procRoot ?? '/proc';
  const ecs = await readEcsMetadata({ env, timeoutMs: o.ecsTimeoutMs });
  const cgroup = readCgroup({ cgroupRoot: o.cgroupRoot, procRoot });
  const ecsSize = ecs.available
    ? {
        vcpus: ecs.taskCpuVcpus,
        memoryBytes: ecs.taskMemoryMiB === null ? null : ecs.taskMemoryMiB * 1024 * 1024,
      }
    : undefined;
  const facts: Omit<HostFacts, 'advice'> = {
    v: 1,
    collectedAt: new Date().toISOString(),
    system: {
      hostname: os.hostname(),
      platform: process.platform,
      arch: process.arch,
      kernel: os.release(),
      node: process.version,
      pid: process.pid,
      uid: process.getuid?.() ?? null,
      uptimeS: Math.round(os.uptime()),
      loadavg: os.loadavg().map((l) => Math.round(l * 100) / 100),
    },
    resources: effectiveResources(cgroup, ecsSize),
    container: detectContainer({ root: o.root, procRoot, env }),
    cgroup,
    ecs,
    kubernetes: detectKubernetes({ env, root: o.root }),
    limits: readLimits({ procRoot }),
    fdRaise: o.fdRaise ?? null,
    network: readNetwork({ procRoot, interfaces: o.interfaces }),
  };
  return { ...facts, advice: advise(facts) };
}
