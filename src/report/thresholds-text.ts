import type { RunResult } from '../contract.js';
import { metricText } from './metric-text.js';
import type { Out, Reporter } from './reporter.js';

/** The `--threshold` rules and how each came out, after the command's own text. */
export function thresholdLines(r: RunResult): string[] {
  if (!r.thresholds || r.thresholds.length === 0) return [];
  const out = ['Thresholds:'];
  for (const t of r.thresholds) {
    out.push(`  ${t.passed ? '[OK]  ' : '[FAIL]'} ${t.expr}: ${metricText(t.unit, t.value)}`);
  }
  if (r.abortedBy) out.push(`  ${r.abortedBy.reason}`);
  return out;
}

export class ThresholdsTextReporter implements Reporter {
  constructor(private readonly out: Out) {}

  runEnd(r: RunResult): void {
    const lines = thresholdLines(r);
    if (lines.length > 0) this.out.write(`\n${lines.join('\n')}\n`);
  }
}
