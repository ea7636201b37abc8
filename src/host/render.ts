import type { Advice } from './advice.js';
import type { HostFacts } from './facts.js';
import { bytes, int, pct, vcpus } from './format.js';
import { usableSockets, type LimitValue } from './limits.js';
import type { Reading } from './read.js';

// `holdline env` for the terminal: a pure function of the facts, every section always present.

const LABEL = 22;

function row(label: string, value: string): string {
  return `  ${label.padEnd(LABEL)}${value}`;
}

function na(reason: string): string {
  return `not available: ${reason}`;
}

function lim(v: LimitValue | null, fmt: (n: number) => string = int): string {
  return v === null ? 'unknown' : v === 'unlimited' ? 'unlimited' : fmt(v);
}

function reading<T>(r: Reading<T>, show: (v: T) => string): string {
  return r.available ? show(r.value) : na(r.reason);
}

/**
 * Wraps text to `width` columns: the first line starts at column `start` (after whatever prefix
 * the caller puts before it), continuation lines are indented by `indent`.
 */
function wrap(text: string, indent: number, width: number, start = indent): string {
  const words = text.split(/\s+/);
  const lines: string[] = [];
  let line = '';
  for (const w of words) {
    const col = lines.length === 0 ? start : indent;
    if (line && col + line.length + 1 + w.length > width) {
      lines.push(line);
      line = w;
    } else line = line ? `${line} ${w}` : w;
  }
  if (line) lines.push(line);
  return lines.join(`\n${' '.repeat(indent)}`);
}

function hostSection(f: HostFacts): string[] {
  const s = f.system;
  return [
    'Host',
    row('hostname', s.hostname),
    row('system', `${s.platform} ${s.arch}, kernel ${s.kernel}`),
    row('node', `${s.node} (pid ${s.pid}${s.uid === null ? '' : `, uid ${s.uid}`})`),
    row('load average', s.loadavg.join(' ')),
  ];
}

function orchestratorSection(f: HostFacts, width: number): string[] {
  const c = f.container;
  const out = ['Container / ECS / Kubernetes'];
  out.push(
    row(
      'container',
      c.inContainer ? `${c.kind} (${c.evidence.join('; ')})` : 'not detected (no container tell-tales found)',
    ),
  );
  const e = f.ecs;
  if (!e.available) out.push(row('ECS', na(e.reason)));
  else {
    out.push(
      row('ECS cluster', `${e.clusterName ?? 'unknown'}${e.serviceName ? `, service ${e.serviceName}` : ''}`),
    );
    out.push(
      row(
        'task',
        `${e.taskId ?? e.taskArn ?? 'unknown'} (${e.family ?? '?'}:${e.revision ?? '?'}), metadata v${e.metadataVersion}`,
      ),
    );
    out.push(
      row(
        'launch type',
        `${e.launchType ?? 'unknown'} in ${e.availabilityZone ?? 'unknown zone'}, network mode ${e.networkMode ?? 'unknown'}`,
      ),
    );
    out.push(
      row(
        'task size',
        `${e.taskCpuVcpus === null ? 'CPU not set' : `${vcpus(e.taskCpuVcpus)} vCPU`} / ${e.taskMemoryMiB === null ? 'memory not set' : bytes(e.taskMemoryMiB * 1024 * 1024)}`,
      ),
    );
    if (e.container) {
      const ct = e.container;
      out.push(
        row(
          'this container',
          `${ct.name ?? '?'}: ${ct.cpuUnits === null ? 'no CPU units' : `${int(ct.cpuUnits)} CPU units`} / ${ct.memoryMiB === null ? 'no memory limit' : bytes(ct.memoryMiB * 1024 * 1024)}` +
            (ct.ipv4Addresses.length ? `, ${ct.ipv4Addresses.join(', ')}` : '') +
            (ct.logDriver ? `, logs ${ct.logDriver}${ct.logGroup ? ` ${ct.logGroup}` : ''}` : ''),
        ),
      );
    }
    out.push(row('containers in task', String(e.containers.length)));
    for (const n of e.notes) out.push(row('note', wrap(n, LABEL + 2, width)));
  }
  const k = f.kubernetes;
  if (!k.available) out.push(row('Kubernetes', na(k.reason)));
  else {
    out.push(
      row(
        'Kubernetes pod',
        `${k.podName ?? 'unknown'} in namespace ${k.namespace ?? 'unknown'}${k.nodeName ? ` on ${k.nodeName}` : ''}`,
      ),
    );
    out.push(
      row('API server', `${k.apiServer ?? 'unknown'}${k.serviceAccount ? ', service account mounted' : ''}`),
    );
  }
  return out;
}

function resourceSection(f: HostFacts): string[] {
  const r = f.resources;
  const cg = f.cgroup;
  const from = (src: 'host' | 'cgroup' | 'ecs', what: string): string =>
    src === 'host' ? 'the host' : src === 'ecs' ? 'the ECS task size' : `the cgroup ${what}`;
  const out = ['CPU and memory'];
  out.push(
    row('CPUs usable', `${vcpus(r.vcpus)} (from ${from(r.vcpusFrom, 'quota')}; host has ${r.hostCpus})`),
  );
  out.push(
    row(
      'memory usable',
      `${bytes(r.memoryBytes)} (from ${from(r.memoryFrom, 'limit')}; host has ${bytes(r.hostMemoryBytes)})`,
    ),
  );
  if (!cg.available) {
    out.push(row('cgroup', na(cg.reason)));
    return out;
  }
  out.push(row('cgroup', `v${cg.version}, group ${cg.group}`));
  const quota =
    cg.cpu.quotaUs === null
      ? 'unknown'
      : cg.cpu.quotaUs === 'unlimited'
        ? 'unlimited'
        : `${int(cg.cpu.quotaUs)} µs per ${int(cg.cpu.periodUs ?? 0)} µs = ${vcpus(cg.cpu.vcpus ?? 0)} CPUs`;
  const weight =
    cg.version === 1
      ? `, cpu.shares ${cg.cpu.shares ?? 'unknown'}`
      : `, cpu.weight ${cg.cpu.weight ?? 'unknown'}`;
  out.push(row('CPU quota', quota + weight));
  const m = cg.memory;
  const used =
    m.currentBytes === null
      ? ''
      : `, in use ${bytes(m.currentBytes)}${typeof m.limitBytes === 'number' ? ` (${pct(m.currentBytes, m.limitBytes)})` : ''}`;
  out.push(row('memory limit', lim(m.limitBytes, bytes) + used));
  out.push(
    row(
      'pids',
      `max ${lim(cg.pids.max)}${cg.pids.current === null ? '' : `, ${int(cg.pids.current)} in use`}`,
    ),
  );
  return out;
}

function limitsSection(f: HostFacts, width: number): string[] {
  const l = f.limits;
  const out = ['Limits'];
  if (!l.available) {
    out.push(row('open files', na(l.reason)));
  } else {
    const { soft, hard } = l.openFiles;
    const usable = usableSockets(soft);
    out.push(
      row(
        'open files',
        `soft ${lim(soft)}, hard ${lim(hard)}${l.openFds === null ? '' : `, ${int(l.openFds)} open now`}` +
          (usable === null ? '' : ` → ~${int(usable)} sockets (sessions or connections) per process`),
      ),
    );
    out.push(
      row(
        'processes',
        l.processes ? `soft ${lim(l.processes.soft)}, hard ${lim(l.processes.hard)}` : 'unknown',
      ),
    );
    out.push(
      row(
        'system-wide',
        `fs.file-max ${l.fileMax === null ? 'unknown' : int(l.fileMax)}, fs.nr_open ${l.nrOpen === null ? 'unknown' : int(l.nrOpen)}`,
      ),
    );
  }
  const r = f.fdRaise;
  if (r) {
    const change =
      r.before && r.after && r.before.soft !== r.after.soft
        ? `raised soft ${lim(r.before.soft)} → ${lim(r.after.soft)}`
        : r.before && r.before.soft === r.before.hard
          ? 'soft limit already at the hard limit'
          : 'soft limit unchanged';
    const above = r.aboveHard
      ? `; as root tried ${int(r.aboveHard.requested)}: ${r.aboveHard.ok ? 'done' : `refused (${r.aboveHard.error ?? 'no reason'})`}`
      : '';
    out.push(
      row(
        'raise attempt',
        wrap(`${r.method}: ${change}${r.error ? ` (${r.error})` : ''}${above}`, LABEL + 2, width),
      ),
    );
  }
  return out;
}

function networkSection(f: HostFacts, width: number): string[] {
  const n = f.network;
  const out = ['Network'];
  const ifs = n.interfaces
    .filter((i) => i.family === 'IPv4' || !i.internal)
    .map((i) => `${i.name} ${i.cidr ?? i.address}`);
  out.push(row('interfaces', ifs.length ? wrap(ifs.join(', '), LABEL + 2, width) : 'none listed'));
  out.push(
    row(
      'ephemeral ports',
      reading(
        n.portRange,
        (p) =>
          `${p.low}–${p.high}: ${int(p.count)} ports → at most ~${int(p.count)} connections per source address to one target address:port`,
      ),
    ),
  );
  out.push(row('somaxconn', reading(n.somaxconn, int)));
  out.push(row('tcp_max_syn_backlog', reading(n.tcpMaxSynBacklog, int)));
  out.push(
    row(
      'tcp_fin_timeout',
      reading(n.tcpFinTimeout, (v) => `${v} s`),
    ),
  );
  out.push(
    row(
      'tcp_tw_reuse',
      reading(
        n.tcpTwReuse,
        (v) => `${v}${v === 0 ? ' (off)' : v === 1 ? ' (on)' : v === 2 ? ' (loopback only)' : ''}`,
      ),
    ),
  );
  out.push(
    row(
      'conntrack',
      n.conntrackMax.available
        ? `${n.conntrackCount.available ? `${int(n.conntrackCount.value)} of ` : ''}${int(n.conntrackMax.value)} entries`
        : na(n.conntrackMax.reason),
    ),
  );
  out.push(
    row(
      'tcp_mem',
      reading(
        n.tcpMem,
        (m) =>
          `${[m.low, m.pressure, m.high].map(int).join(' / ')} pages = ${[m.low, m.pressure, m.high].map((p) => bytes(p * m.pageSize)).join(' / ')} (low / pressure / max for all TCP buffers)`,
      ),
    ),
  );
  return out;
}

function adviceLines(a: Advice, width: number): string[] {
  const mark = a.level === 'warn' ? '!' : '-';
  const lines = [`  ${mark} ${wrap(a.title, 4, width)}`, `    ${wrap(a.reason, 4, width)}`];
  for (const fx of a.fixes) {
    const lead = `      ${fx.kind}: `;
    lines.push(lead + wrap(fx.text, 8, width, lead.length));
  }
  return lines;
}

export function renderEnv(f: HostFacts, o: { width?: number } = {}): string {
  const width = Math.max(60, o.width ?? 110);
  const sections = [
    hostSection(f),
    orchestratorSection(f, width),
    resourceSection(f),
    limitsSection(f, width),
    networkSection(f, width),
    [
      'Recommendations',
      ...(f.advice.length
        ? f.advice.flatMap((a) => adviceLines(a, width))
        : ['  nothing to change for a load test']),
    ],
  ];
  const text = sections.map((s) => s.join('\n')).join('\n\n');
  return `${text
    .split('\n')
    .map((line) => fit(line, width))
    .join('\n')}\n`;
}

/** Wraps an over-long line, continuing under its value column (rows) or its own indent + 2. */
function fit(line: string, width: number): string {
  if (line.length <= width) return line;
  const isRow = /^ {2}\S/.test(line) && line[LABEL + 1] === ' ' && line[LABEL + 2] !== ' ';
  const indent = isRow ? LABEL + 2 : (/^ */.exec(line)?.[0].length ?? 0) + 2;
  const lead = line.slice(0, isRow ? LABEL + 2 : indent - 2);
  return lead + wrap(line.slice(lead.length), indent, width, lead.length);
}
