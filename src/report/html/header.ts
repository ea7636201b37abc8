// The report's header: verdict, command line, target, host facts, thresholds and warnings.
import type {
  BroadcastVerdict,
  CapacityVerdict,
  LoadVerdict,
  RunResult,
  RunVerdict,
  ThresholdResult,
} from '../../contract.js';
import { bytes, grouped, share } from '../duration.js';
import { metricText } from '../metric-text.js';

export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** PASS, FAIL or INTERRUPTED, from the exit code the run ended with. */
export function badge(exitCode: number, interrupted: boolean): string {
  const [cls, text] =
    interrupted || exitCode === 130
      ? ['warn', 'INTERRUPTED']
      : exitCode === 0
        ? ['ok', 'PASS']
        : ['bad', 'FAIL'];
  return `<span class="badge ${cls}">${text}</span>`;
}

/** The verdict in a sentence, and the lines behind it. */
export function verdictLines(r: RunResult): { head: string; lines: string[] } {
  const v = r.verdict;
  if (!v) return { head: 'No verdict: the run did not finish a step.', lines: [] };
  switch (r.info.command) {
    case 'capacity':
    case 'sustain': {
      const c = v as CapacityVerdict;
      if (c.maxReliable === null)
        return {
          head: `No reliable capacity: no point reached ${share(c.threshold)} successful sessions.`,
          lines: [],
        };
      const lines = [`pass at ${share(c.threshold)} successful; safety factor ${c.safetyFactor}`];
      if (c.firstFailing !== null) lines.push(`first failing point: ${grouped(c.firstFailing)} sessions`);
      if (c.tasksNeeded !== undefined && c.targetConnections !== undefined)
        lines.push(`${c.tasksNeeded} tasks for ${grouped(c.targetConnections)} connections (20% buffer)`);
      return {
        head: `Maximum reliable: ~${grouped(c.maxReliable)} sessions · safe limit ${c.safeLimit === null ? '—' : grouped(c.safeLimit)}`,
        lines,
      };
    }
    case 'load': {
      const l = v as LoadVerdict;
      return {
        head: l.passed ? 'Every load criterion held.' : 'The load test failed a criterion.',
        lines: [
          ...l.criteria.map(
            (c) =>
              `${c.skipped ? 'skipped' : c.passed ? 'ok' : 'FAILED'} · ${c.name}: ${c.actual === null ? 'not measured' : c.name === 'p95_latency' ? `${c.actual} ms` : c.name === 'critical_errors' ? String(c.actual) : share(c.actual)} (limit ${c.name === 'p95_latency' ? `${c.limit} ms` : c.name === 'critical_errors' ? String(c.limit) : share(c.limit)})`,
          ),
          ...l.critical,
        ],
      };
    }
    case 'broadcast': {
      const b = v as BroadcastVerdict;
      return {
        head: `Broadcast grade: ${b.grade} · ${share(b.deliveryRate)} delivered (${grouped(b.received)} of ${grouped(b.expected)})`,
        lines: [...b.reasons.map((x) => `${x.grade} · ${x.text}`), ...b.failed],
      };
    }
    case 'run': {
      const u = v as RunVerdict;
      return {
        head: `${grouped(u.successful)} of ${grouped(u.sessions)} sessions successful (${share(u.rate)}; pass at ${share(u.threshold)})`,
        lines: [
          `messages sent ${grouped(u.messages.sent)}, received ${grouped(u.messages.received)}, unanswered ${grouped(u.messages.unanswered)}`,
        ],
      };
    }
  }
}

/** What makes the figures less trustworthy or explains a failure, one sentence each. */
export function warningLines(r: RunResult): string[] {
  const out = [...r.diagnosis];
  if (r.info.command === 'load') out.push(...((r.verdict as LoadVerdict | null)?.warnings ?? []));
  for (const s of r.steps) {
    if (s.generator.saturated)
      out.push(
        `the generator saturated during the ${grouped(s.sessions)}-session step (CPU up to ${Math.round(s.generator.maxCpuPct)}%, event-loop delay up to ${Math.round(s.generator.maxEldMs)} ms): its figures measure this machine`,
      );
  }
  if (r.abortedBy) out.push(r.abortedBy.reason);
  return out;
}

export function thresholdTable(t: ThresholdResult[] | undefined): string {
  if (!t || t.length === 0) return '';
  const rows = t
    .map(
      (x) =>
        `<tr class="${x.passed ? 'ok' : 'bad'}"><td><code>${esc(x.expr)}</code></td><td>${esc(metricText(x.unit, x.value))}</td><td>${x.passed ? 'passed' : 'FAILED'}</td></tr>`,
    )
    .join('');
  return `<h2>Thresholds</h2><table class="thr"><thead><tr><th>rule</th><th>value</th><th>outcome</th></tr></thead><tbody>${rows}</tbody></table>`;
}

interface HostLike {
  system?: { hostname?: string; platform?: string; arch?: string; kernel?: string; node?: string };
  resources?: { vcpus?: number; memoryBytes?: number; vcpusFrom?: string };
  limits?: { nofile?: { soft?: number | string } };
}

/** A few facts about the machine the load came from. */
export function hostLine(host: Record<string, unknown>): string {
  const h = host as HostLike;
  const parts: string[] = [];
  if (h.system?.hostname) parts.push(h.system.hostname);
  if (h.system?.platform) parts.push(`${h.system.platform}/${h.system.arch ?? '?'}`);
  if (h.system?.kernel) parts.push(`kernel ${h.system.kernel}`);
  if (h.system?.node) parts.push(`Node ${h.system.node}`);
  if (h.resources?.vcpus !== undefined)
    parts.push(`${h.resources.vcpus} vCPU (${h.resources.vcpusFrom ?? '?'})`);
  if (h.resources?.memoryBytes !== undefined) parts.push(bytes(h.resources.memoryBytes));
  return parts.join(' · ') || 'not recorded';
}
