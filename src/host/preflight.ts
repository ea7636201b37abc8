import type { HostFacts } from './facts.js';
import { int } from './format.js';
import { FD_RESERVE } from './limits.js';

// Before a run: only what is wrong for this run on this host, one short line each.

export interface PlannedRun {
  /** The most sessions open at once in this process. */
  sessions: number;
  targets: { host: string; port: number }[];
  localAddresses?: string[];
}

function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || h.startsWith('127.');
}

export function preflight(facts: HostFacts, planned: PlannedRun): string[] {
  const out: string[] = [];
  const { sessions } = planned;
  const l = facts.limits;
  if (l.available && typeof l.openFiles.soft === 'number') {
    const soft = l.openFiles.soft;
    const usable = Math.max(0, soft - FD_RESERVE - (l.openFds ?? 0));
    if (sessions > usable) {
      const workers = Math.ceil(sessions / Math.max(1, soft - FD_RESERVE));
      out.push(
        `${int(sessions)} sessions planned, but the open-file limit (${int(soft)}) leaves room for ~${int(usable)} sockets in this process: ` +
          `expect fds_exhausted (EMFILE). Raise it (ulimit -n, or a nofile ulimit in the task definition) or split the load (--workers ${workers}).`,
      );
    }
  }
  const ports = facts.network.portRange;
  if (ports.available && planned.targets.length > 0) {
    const targets = new Set(planned.targets.map((t) => `${t.host}:${t.port}`)).size;
    const sources = Math.max(1, planned.localAddresses?.length ?? 0);
    const cap = ports.value.count * sources * targets;
    if (sessions > cap) {
      const loop = planned.targets.every((t) => isLoopback(t.host));
      const need = Math.ceil(sessions / (ports.value.count * targets));
      const example = loop
        ? Array.from({ length: need }, (_, i) => `127.0.0.${i + 2}`).join(',')
        : 'ADDR1,ADDR2,…';
      out.push(
        `${int(sessions)} sessions planned, but ephemeral ports ${ports.value.low}–${ports.value.high} allow ~${int(ports.value.count)} ` +
          `connections per source address to one target address and port (${sources} source address${sources === 1 ? '' : 'es'} × ` +
          `${targets} target${targets === 1 ? '' : 's'} = ~${int(cap)}): expect ports_exhausted (EADDRNOTAVAIL). ` +
          `Use --local-address ${example}, or widen net.ipv4.ip_local_port_range.`,
      );
    }
  }
  const ct = facts.network;
  if (ct.conntrackMax.available && ct.conntrackCount.available) {
    const free = ct.conntrackMax.value - ct.conntrackCount.value;
    if (sessions > free) {
      out.push(
        `${int(sessions)} sessions planned, but the connection-tracking table has ${int(free)} free entries ` +
          `(${int(ct.conntrackCount.value)} of ${int(ct.conntrackMax.value)} used): new connections will be dropped. ` +
          'Raise net.netfilter.nf_conntrack_max.',
      );
    }
  }
  const pids = facts.cgroup.available ? facts.cgroup.pids : null;
  if (pids && typeof pids.max === 'number' && pids.current !== null && pids.max - pids.current < 32) {
    out.push(
      `Only ${pids.max - pids.current} more processes/threads allowed by this container (pids.max ${pids.max}): worker processes may fail to start.`,
    );
  }
  return out;
}
