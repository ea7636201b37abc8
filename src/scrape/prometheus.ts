// Prometheus text exposition → the few figures a report charts beside the steps. Pure.

/** `name{labels} value` lines: every sample, keyed by name, with its label text. */
export function parsePrometheus(text: string): Map<string, { labels: string; value: number }[]> {
  const out = new Map<string, { labels: string; value: number }[]>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const value = Number(m[3]);
    if (!Number.isFinite(value)) continue;
    const list = out.get(m[1]) ?? [];
    list.push({ labels: m[2] ?? '', value });
    out.set(m[1], list);
  }
  return out;
}

type Samples = ReturnType<typeof parsePrometheus>;

function first(s: Samples, names: string[], labels?: RegExp): number | null {
  for (const n of names) {
    const hit = s.get(n)?.find((x) => !labels || labels.test(x.labels));
    if (hit) return hit.value;
  }
  return null;
}

function total(s: Samples, name: string): number | null {
  const list = s.get(name);
  return list ? list.reduce((a, x) => a + x.value, 0) : null;
}

/** The reference target's names first, then the usual process/Node.js exporter names. */
export function targetFigures(s: Samples): {
  cpuSeconds: number | null;
  rssBytes: number | null;
  connections: number | null;
  eldP99Ms: number | null;
} {
  const eld =
    first(s, ['holdline_target_event_loop_delay_seconds'], /quantile="0\.99"/) ??
    first(s, ['nodejs_eventloop_lag_p99_seconds']);
  return {
    cpuSeconds: first(s, ['holdline_target_cpu_seconds_total', 'process_cpu_seconds_total']),
    rssBytes: first(s, ['holdline_target_resident_memory_bytes', 'process_resident_memory_bytes']),
    connections: total(s, 'holdline_target_connections'),
    eldP99Ms: eld === null ? null : Math.round(eld * 1e5) / 100,
  };
}
