import os from 'node:os';
import { parseInteger, parseIntegers, readValue, type Reading } from './read.js';

// Kernel network settings that bound a load test. A TCP connection is the 4-tuple (source address,
// source port, destination address, destination port): with one source address and one target
// address:port, the ephemeral port range is the ceiling on simultaneous connections.

export interface NetInterface {
  name: string;
  address: string;
  family: 'IPv4' | 'IPv6';
  internal: boolean;
  cidr: string | null;
}

export interface PortRange {
  low: number;
  high: number;
  /** Ports in the range: the most connections one source address can hold to one address:port. */
  count: number;
}

export interface TcpMem {
  /** Pages (usually 4 KiB): below `low` no pressure; above `pressure` the kernel trims buffers; `high` is the hard cap. */
  low: number;
  pressure: number;
  high: number;
  pageSize: number;
}

export interface NetworkFacts {
  interfaces: NetInterface[];
  portRange: Reading<PortRange>;
  somaxconn: Reading<number>;
  tcpMaxSynBacklog: Reading<number>;
  tcpFinTimeout: Reading<number>;
  tcpTwReuse: Reading<number>;
  conntrackMax: Reading<number>;
  conntrackCount: Reading<number>;
  tcpMem: Reading<TcpMem>;
}

/** Page size for tcp_mem; the kernel counts it in pages and 4 KiB is the norm on x86-64 and most arm64. */
const PAGE = 4096;

export function listInterfaces(): NetInterface[] {
  const out: NetInterface[] = [];
  for (const [name, addrs] of Object.entries(os.networkInterfaces())) {
    for (const a of addrs ?? []) {
      out.push({
        name,
        address: a.address,
        family: a.family === 'IPv6' ? 'IPv6' : 'IPv4',
        internal: a.internal,
        cidr: a.cidr ?? null,
      });
    }
  }
  return out;
}

function portRange(text: string): PortRange | undefined {
  const n = parseIntegers(text);
  if (!n || n.length !== 2 || n[1] < n[0]) return undefined;
  return { low: n[0], high: n[1], count: n[1] - n[0] + 1 };
}

function tcpMem(text: string): TcpMem | undefined {
  const n = parseIntegers(text);
  return n && n.length === 3 ? { low: n[0], pressure: n[1], high: n[2], pageSize: PAGE } : undefined;
}

/** A missing conntrack file means the module is not loaded, which is good news, not an error. */
function conntrack(path: string): Reading<number> {
  const r = readValue(path, parseInteger);
  return r.available ? r : { ...r, reason: `connection tracking not active (${r.reason})` };
}

export function readNetwork(o: { procRoot?: string; interfaces?: boolean } = {}): NetworkFacts {
  const sys = `${o.procRoot ?? '/proc'}/sys`;
  return {
    interfaces: o.interfaces === false ? [] : listInterfaces(),
    portRange: readValue(`${sys}/net/ipv4/ip_local_port_range`, portRange),
    somaxconn: readValue(`${sys}/net/core/somaxconn`, parseInteger),
    tcpMaxSynBacklog: readValue(`${sys}/net/ipv4/tcp_max_syn_backlog`, parseInteger),
    tcpFinTimeout: readValue(`${sys}/net/ipv4/tcp_fin_timeout`, parseInteger),
    tcpTwReuse: readValue(`${sys}/net/ipv4/tcp_tw_reuse`, parseInteger),
    conntrackMax: conntrack(`${sys}/net/netfilter/nf_conntrack_max`),
    conntrackCount: conntrack(`${sys}/net/netfilter/nf_conntrack_count`),
    tcpMem: readValue(`${sys}/net/ipv4/tcp_mem`, tcpMem),
  };
}

/** The sysctl name of each reading, for messages and fixes. */
export const SYSCTL: Record<Exclude<keyof NetworkFacts, 'interfaces'>, string> = {
  portRange: 'net.ipv4.ip_local_port_range',
  somaxconn: 'net.core.somaxconn',
  tcpMaxSynBacklog: 'net.ipv4.tcp_max_syn_backlog',
  tcpFinTimeout: 'net.ipv4.tcp_fin_timeout',
  tcpTwReuse: 'net.ipv4.tcp_tw_reuse',
  conntrackMax: 'net.netfilter.nf_conntrack_max',
  conntrackCount: 'net.netfilter.nf_conntrack_count',
  tcpMem: 'net.ipv4.tcp_mem',
};
