import type { HostFacts } from './facts.js';
import { bytes, int, pct, vcpus } from './format.js';
import { FD_RESERVE, usableSockets } from './limits.js';

// Recommendations from the host facts: each says what limits the test, why, and how to fix it
// (a ulimit, a sysctl, a task-definition snippet or a flag). Pure: facts in, advice out.

export interface Fix {
  kind: 'ulimit' | 'sysctl' | 'task-definition' | 'kubernetes' | 'docker' | 'flag';
  text: string;
}

export interface Advice {
  id: string;
  level: 'info' | 'warn';
  title: string;
  reason: string;
  fixes: Fix[];
}

/** Connections one task of this size usually holds, before anyone measured (users' own table). */
export const RULE_OF_THUMB = [
  { vcpus: 0.25, memoryMiB: 512, low: 200, high: 500 },
  { vcpus: 0.5, memoryMiB: 1024, low: 500, high: 1000 },
  { vcpus: 1, memoryMiB: 2048, low: 1000, high: 2000 },
  { vcpus: 2, memoryMiB: 4096, low: 2000, high: 5000 },
] as const;

export interface Expected {
  low: number;
  high: number;
  /** The table row used, e.g. "1 vCPU / 2 GiB". */
  row: string;
  /** "below" / "above" when the size is outside the table. */
  outside?: 'below' | 'above';
}

/** The table row this much CPU and memory reaches (both must reach it; memory within 5%). */
export function expectedConnections(cpus: number, memoryBytes: number): Expected {
  const memMiB = memoryBytes / (1024 * 1024);
  const fits = RULE_OF_THUMB.filter((r) => cpus >= r.vcpus - 1e-9 && memMiB >= r.memoryMiB * 0.95);
  const label = (r: (typeof RULE_OF_THUMB)[number]): string =>
    `${vcpus(r.vcpus)} vCPU / ${bytes(r.memoryMiB * 1024 * 1024)}`;
  if (fits.length === 0) {
    const r = RULE_OF_THUMB[0];
    return { low: 0, high: r.low, row: label(r), outside: 'below' };
  }
  const r = fits[fits.length - 1];
  const top = RULE_OF_THUMB[RULE_OF_THUMB.length - 1];
  const above = r === top && (cpus > top.vcpus || memMiB > top.memoryMiB * 1.05);
  return { low: r.low, high: r.high, row: label(r), ...(above ? { outside: 'above' as const } : {}) };
}

const NOFILE_SNIPPET = '"ulimits": [{ "name": "nofile", "softLimit": 65536, "hardLimit": 65536 }]';

type Facts = Omit<HostFacts, 'advice'>;

function fdAdvice(f: Facts, out: Advice[]): void {
  const l = f.limits;
  if (!l.available) return;
  const { soft, hard } = l.openFiles;
  const usable = usableSockets(soft);
  if (usable !== null && typeof soft === 'number') {
    const fixes: Fix[] = [
      {
        kind: 'ulimit',
        text:
          hard !== 'unlimited' && soft < hard
            ? `ulimit -n ${hard} in the shell that starts holdline (the hard limit)`
            : `ulimit -Hn 65536 && ulimit -n 65536 in the shell that starts holdline (past the hard limit needs root with CAP_SYS_RESOURCE)`,
      },
      { kind: 'docker', text: 'docker run --ulimit nofile=65536:65536 …' },
      { kind: 'task-definition', text: `${NOFILE_SNIPPET}  (in the container definition)` },
    ];
    if (f.kubernetes.available) {
      fixes.push({
        kind: 'kubernetes',
        text: 'pods have no ulimit field: raise LimitNOFILE of the container runtime (containerd/CRI-O) on the nodes',
      });
    }
    fixes.push({
      kind: 'flag',
      text: '--workers N spreads sessions over N processes, each with its own limit',
    });
    out.push({
      id: 'fd-limit',
      level: soft < 65536 ? 'warn' : 'info',
      title: `Open-file limit ${int(soft)} caps one process at ~${int(usable)} sockets`,
      reason:
        `Every connection is a file descriptor, and ${FD_RESERVE} are kept for the process itself. That is at most ~${int(usable)} ` +
        `generator sessions per holdline process, and at most ~${int(usable)} client connections per target server process. ` +
        'More needs a higher limit, or several processes (--workers) or tasks.',
      fixes,
    });
  }
  if (typeof soft === 'number' && (hard === 'unlimited' || soft < hard)) {
    out.push({
      id: 'fd-soft-below-hard',
      level: 'info',
      title: `Soft open-file limit ${int(soft)} is below the hard limit ${hard === 'unlimited' ? 'unlimited' : int(hard)}`,
      reason:
        'holdline raises its own soft limit to the hard one before a run (prlimit from util-linux); other servers on this host may not.',
      fixes: [{ kind: 'ulimit', text: `ulimit -n ${hard === 'unlimited' ? 65536 : hard}` }],
    });
  }
  const ah = f.fdRaise?.aboveHard;
  if (ah && !ah.ok) {
    out.push({
      id: 'fd-above-hard',
      level: 'info',
      title: `Running as root, but the hard limit could not be raised to ${int(ah.requested)}`,
      reason: `${ah.error ?? 'refused'}: root in a container usually lacks CAP_SYS_RESOURCE, so the limit must be set where the container starts.`,
      fixes: [
        { kind: 'task-definition', text: NOFILE_SNIPPET },
        { kind: 'docker', text: 'docker run --ulimit nofile=65536:65536 …' },
      ],
    });
  }
  if (l.fileMax !== null && typeof soft === 'number' && l.fileMax < soft) {
    out.push({
      id: 'file-max',
      level: 'warn',
      title: `System-wide fs.file-max ${int(l.fileMax)} is below the per-process limit ${int(soft)}`,
      reason: 'The whole host runs out of file handles (ENFILE) before one process reaches its own limit.',
      fixes: [{ kind: 'sysctl', text: `sysctl -w fs.file-max=${Math.max(soft * 4, 1_048_576)}` }],
    });
  }
}

function networkAdvice(f: Facts, out: Advice[]): void {
  const n = f.network;
  if (n.portRange.available) {
    const { low, high, count } = n.portRange.value;
    out.push({
      id: 'ephemeral-ports',
      level: count < 16384 ? 'warn' : 'info',
      title: `Ephemeral ports ${low}–${high}: at most ~${int(count)} connections per source address to one target address and port`,
      reason:
        'A connection needs a distinct (source address, source port) towards the same destination. Past this, connects fail with ' +
        'EADDRNOTAVAIL (ports_exhausted), and closed connections keep their port for a while in TIME_WAIT.',
      fixes: [
        { kind: 'sysctl', text: 'sysctl -w net.ipv4.ip_local_port_range="1024 65535"' },
        {
          kind: 'task-definition',
          text: '"systemControls": [{ "namespace": "net.ipv4.ip_local_port_range", "value": "1024 65535" }]',
        },
        {
          kind: 'flag',
          text: '--local-address 127.0.0.2,127.0.0.3 (loopback) or several interface addresses: each adds a full range',
        },
      ],
    });
  }
  if (n.somaxconn.available && n.somaxconn.value < 4096) {
    out.push({
      id: 'somaxconn',
      level: 'warn',
      title: `net.core.somaxconn is ${int(n.somaxconn.value)} (below 4096)`,
      reason:
        'It caps the accept queue of every listening socket on this host (the reference target included): bursts of connects past it are dropped and retried after 1 s, 3 s, …, which shows up as connect-time spikes.',
      fixes: [
        { kind: 'sysctl', text: 'sysctl -w net.core.somaxconn=4096' },
        {
          kind: 'task-definition',
          text: '"systemControls": [{ "namespace": "net.core.somaxconn", "value": "4096" }]',
        },
      ],
    });
  }
  if (n.tcpMaxSynBacklog.available && n.tcpMaxSynBacklog.value < 4096) {
    out.push({
      id: 'syn-backlog',
      level: 'info',
      title: `net.ipv4.tcp_max_syn_backlog is ${int(n.tcpMaxSynBacklog.value)}`,
      reason:
        'Half-open connections a server on this host queues during a connect burst; matters when this host serves the load.',
      fixes: [{ kind: 'sysctl', text: 'sysctl -w net.ipv4.tcp_max_syn_backlog=8192' }],
    });
  }
  if (n.tcpTwReuse.available && n.tcpTwReuse.value !== 1) {
    out.push({
      id: 'tw-reuse',
      level: 'info',
      title: `net.ipv4.tcp_tw_reuse is ${n.tcpTwReuse.value}${n.tcpTwReuse.value === 2 ? ' (loopback only)' : ''}`,
      reason: `Ports of closed connections wait in TIME_WAIT (about ${n.tcpFinTimeout.available ? n.tcpFinTimeout.value : 60} s) before new outgoing connections may reuse them; back-to-back runs against a remote target can run short.`,
      fixes: [{ kind: 'sysctl', text: 'sysctl -w net.ipv4.tcp_tw_reuse=1' }],
    });
  }
  if (n.conntrackMax.available) {
    const max = n.conntrackMax.value;
    const count = n.conntrackCount.available ? n.conntrackCount.value : null;
    if (max < 262_144 || (count !== null && count > max * 0.8)) {
      out.push({
        id: 'conntrack',
        level: count !== null && count > max * 0.8 ? 'warn' : 'info',
        title: `Connection tracking: ${count === null ? '' : `${int(count)} of `}${int(max)} entries`,
        reason:
          'Every connection through a firewall/NAT on this host takes an entry; when the table is full new connections are dropped ("nf_conntrack: table full").',
        fixes: [
          { kind: 'sysctl', text: `sysctl -w net.netfilter.nf_conntrack_max=${Math.max(max * 4, 524_288)}` },
        ],
      });
    }
  }
}

function sizeAdvice(f: Facts, out: Advice[]): void {
  const r = f.resources;
  const e = expectedConnections(r.vcpus, r.memoryBytes);
  const size = `${vcpus(r.vcpus)} vCPU / ${bytes(r.memoryBytes)}`;
  const range =
    e.outside === 'below'
      ? `fewer than ${int(e.high)}`
      : `${int(e.low)}–${int(e.high)}${e.outside === 'above' ? ' or more' : ''}`;
  out.push({
    id: 'expected-connections',
    level: 'info',
    title: `Rule of thumb for ${size}: ${range} connections per task, until measured`,
    reason:
      `From the table users start with (0.25 vCPU / 512 MB: 200–500; 0.5 / 1 GB: 500–1,000; 1 / 2 GB: 1,000–2,000; 2 / 4 GB: 2,000–5,000); ` +
      `this host ${e.outside === 'below' ? 'is smaller than' : e.outside === 'above' ? 'is larger than' : 'matches'} the ${e.row} row. It is a starting point for ` +
      '--points, not a result: run holdline capacity to measure.',
    fixes: [
      {
        kind: 'flag',
        text: `holdline capacity URL --points ${[e.low || 50, e.high, e.high * 2].filter((x, i, a) => a.indexOf(x) === i).join(',')}`,
      },
    ],
  });
  if (r.vcpus >= 1.5) {
    const n = Math.floor(r.vcpus);
    out.push({
      id: 'workers',
      level: 'info',
      title: `${vcpus(r.vcpus)} CPUs: one Node process uses about one`,
      reason:
        'A single generator process saturates one core first; the result says when the generator was the bottleneck.',
      fixes: [{ kind: 'flag', text: `--workers ${n} (or --workers auto)` }],
    });
  } else if (r.vcpus < 1) {
    out.push({
      id: 'fractional-cpu',
      level: 'info',
      title: `Only ${vcpus(r.vcpus)} vCPU`,
      reason:
        'The generator (and a local target, if any) share less than one core: check the generator saturation in the result before trusting a number.',
      fixes: [{ kind: 'task-definition', text: '"cpu": "1024" (1 vCPU) or more for a load-generating task' }],
    });
  }
  const cg = f.cgroup;
  if (
    cg.available &&
    typeof cg.memory.limitBytes === 'number' &&
    cg.memory.currentBytes !== null &&
    cg.memory.currentBytes > cg.memory.limitBytes * 0.8
  ) {
    out.push({
      id: 'memory-pressure',
      level: 'warn',
      title: `Memory already at ${pct(cg.memory.currentBytes, cg.memory.limitBytes)} of the ${bytes(cg.memory.limitBytes)} limit`,
      reason:
        'The container is OOM-killed when it passes its memory limit; sessions cost memory on both sides.',
      fixes: [{ kind: 'task-definition', text: '"memory": "4096" (MiB, task level) or a larger size' }],
    });
  }
  if (cg.available && typeof cg.pids.max === 'number' && cg.pids.max < 1024) {
    out.push({
      id: 'pids',
      level: 'warn',
      title: `pids.max is ${int(cg.pids.max)}`,
      reason: 'Worker processes and their threads count against it; fork fails (EAGAIN) past it.',
      fixes: [{ kind: 'docker', text: 'docker run --pids-limit 4096 …' }],
    });
  }
}

export function advise(f: Facts): Advice[] {
  const out: Advice[] = [];
  fdAdvice(f, out);
  networkAdvice(f, out);
  sizeAdvice(f, out);
  return out;
}
