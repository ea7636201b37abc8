import type { HostFacts } from './facts.js';
import { bytes, int, vcpus } from './format.js';
import { usableSockets } from './limits.js';

// The short form of `holdline env` for the start of a run (`holdline suite`): the box in one line,
// then only what is wrong for the planned run. Pure: facts in, text out.

/** Titles of the advice marked as warnings: worth fixing whatever the run. */
export function adviceWarnings(f: HostFacts): string[] {
  return f.advice.filter((a) => a.level === 'warn').map((a) => a.title);
}

/** `linux x64, Node v20.20.0 · 2 CPUs, 23.5 GiB usable · ~1,048,476 sockets per process · ports 32768–60999` */
export function hostLine(f: HostFacts): string {
  const s = f.system;
  const r = f.resources;
  const parts = [
    `${s.platform} ${s.arch}, Node ${s.node}`,
    `${vcpus(r.vcpus)} ${r.vcpus === 1 ? 'CPU' : 'CPUs'}, ${bytes(r.memoryBytes)} usable` +
      (r.vcpusFrom === 'host' && r.memoryFrom === 'host' ? '' : ` (limited by the ${limitedBy(r)})`),
  ];
  if (f.ecs.available)
    parts.push(`ECS ${f.ecs.clusterName ?? 'cluster ?'}/${f.ecs.serviceName ?? 'service ?'}`);
  else if (f.container.inContainer) parts.push(`in a ${f.container.kind} container`);
  if (f.limits.available) {
    const usable = usableSockets(f.limits.openFiles.soft);
    parts.push(usable === null ? 'open files unlimited' : `~${int(usable)} sockets per process`);
  }
  const p = f.network.portRange;
  if (p.available) parts.push(`ports ${p.value.low}–${p.value.high}`);
  return parts.join(' · ');
}

function limitedBy(r: HostFacts['resources']): string {
  const from = new Set([r.vcpusFrom, r.memoryFrom].filter((x) => x !== 'host'));
  return [...from].map((x) => (x === 'ecs' ? 'ECS task size' : 'cgroup')).join(' and ');
}

/** The env stage of a run: the host, the preflight of the planned run, and the host's warnings. */
export function renderEnvBrief(
  f: HostFacts,
  planned: { sessions: number; target: string },
  preflight: string[],
): string {
  const out = [`Host: ${hostLine(f)}`];
  const what = `up to ${int(planned.sessions)} sessions to ${planned.target}`;
  if (preflight.length === 0) out.push(`Preflight for ${what}: nothing on this host stands in the way`);
  else out.push(`Preflight for ${what}:`, ...preflight.map((w) => `  ! ${w}`));
  const warnings = adviceWarnings(f);
  if (warnings.length > 0) {
    out.push('Host warnings (details: holdline env):', ...warnings.map((w) => `  ! ${w}`));
  }
  return `${out.join('\n')}\n`;
}
