// The chat load generator's own ceiling on this machine: `holdline load` against the reference
// target at rising message rates, with 64-character and 5,000-character payloads, until a rate
// is not kept (sent below 97% of the schedule, messages lost, or p99 over a second). For each
// rate: the rate achieved, latency percentiles, the generator's CPU seconds per 100,000 messages
// (each message is sent and received by the generator, plus the target's acknowledgement), and
// which side ran out first (generator CPU or the target's event loop).
//
//   node dist/bench/load-ceiling.js [rates=1000,2000,4000,8000,16000] [duration=5s] [connections=200]
import type { StepResult } from '../src/contract.js';
import type { LoadFindings } from '../src/engine/load-model.js';
import { isMain, runAgainstTarget } from './lib.js';

interface Point {
  payload: number;
  rate: number;
  achieved: number;
  success: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  cpuSPer100k: number;
  genCpuPct: number;
  targetEldMs: number;
  passed: boolean;
  limit: string;
}

async function point(payload: number, rate: number, duration: string, connections: number): Promise<Point> {
  const { result } = await runAgainstTarget(
    'load',
    [
      '--connections',
      String(connections),
      '--groups',
      String(connections),
      '--rate',
      String(rate),
      '--payload',
      String(payload),
      '--duration',
      duration,
      '--ramp-up',
      '0',
      '--target-health',
      '{{baseUrl}}/health',
      '--allow-critical',
    ],
    {},
  );
  const step = result.steps[0] as StepResult;
  const f = step.ext?.load as LoadFindings | undefined;
  if (!f) throw new Error(`no load findings (failures ${JSON.stringify(step.failures)})`);
  const m = f.messages;
  // CPU while messaging only: the seconds of the history after messaging started.
  const rows = f.history.filter((r) => r.t > 0);
  const cpuS = rows.reduce((a, r) => a + r.cpuPct / 100, 0);
  const sent = rows.reduce((a, r) => a + r.sent, 0);
  const lat = step.phases.message;
  const genCpuPct = rows.length > 0 ? Math.max(...rows.map((r) => r.cpuPct)) : 0;
  const targetEldMs = f.target?.eldP99MaxMs ?? 0;
  const passed =
    m.achievedRate >= rate * 0.97 && m.successRate >= 0.99 && !m.behind && (lat?.p99 ?? Infinity) < 1000;
  return {
    payload,
    rate,
    achieved: m.achievedRate,
    success: m.successRate,
    p50: lat?.p50 ?? NaN,
    p95: lat?.p95 ?? NaN,
    p99: lat?.p99 ?? NaN,
    max: lat?.max ?? NaN,
    cpuSPer100k: sent > 0 ? (cpuS / sent) * 100_000 : NaN,
    genCpuPct,
    targetEldMs,
    passed,
    limit:
      genCpuPct >= 90
        ? 'generator CPU'
        : targetEldMs > 100
          ? 'target event loop'
          : passed
            ? ''
            : 'latency or loss',
  };
}

function row(p: Point): string {
  const c = (s: string | number, w: number): string => String(s).padStart(w);
  return (
    c(p.payload, 7) +
    c(p.rate, 8) +
    c(p.achieved, 10) +
    c(`${(p.success * 100).toFixed(1)}%`, 9) +
    c(p.p50.toFixed(2), 9) +
    c(p.p95.toFixed(2), 9) +
    c(p.p99.toFixed(2), 9) +
    c(p.max.toFixed(1), 9) +
    c(p.cpuSPer100k.toFixed(2), 11) +
    c(p.genCpuPct.toFixed(0), 7) +
    c(p.targetEldMs.toFixed(0), 8) +
    `  ${p.passed ? 'ok' : `FAIL (${p.limit})`}`
  );
}

export async function loadCeiling(rates: number[], duration: string, connections: number): Promise<Point[]> {
  console.log(
    `load-ceiling: ${connections} connections in groups of 2, ${duration} per rate, reference target in its own process`,
  );
  console.log(
    '  chars    rate  achieved  success      p50      p95      p99      max  CPU s/100k  gen%  tgt eld  (ms; CPU of the generator while messaging)',
  );
  const all: Point[] = [];
  for (const payload of [64, 5000]) {
    let best: Point | null = null;
    for (const rate of rates) {
      const p = await point(payload, rate, duration, connections);
      all.push(p);
      console.log(row(p));
      if (!p.passed) break;
      best = p;
    }
    console.log(
      best
        ? `  ceiling at ${payload} chars: ${best.rate} msg/s kept (p50 ${best.p50.toFixed(2)} ms, p99 ${best.p99.toFixed(2)} ms, ${best.cpuSPer100k.toFixed(2)} generator CPU s per 100,000 messages)`
        : `  ceiling at ${payload} chars: below ${rates[0]} msg/s`,
    );
  }
  return all;
}

if (isMain(import.meta.url)) {
  const [r, d, c] = process.argv.slice(2);
  const rates = (r ?? '1000,2000,4000,8000,16000').split(',').map(Number);
  await loadCeiling(rates, d ?? '5s', c ? Number(c) : 200);
}
