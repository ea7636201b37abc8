// `--target-metrics URL`: the target's Prometheus endpoint, read every second of the run, so the
// report shows the server side of each step. An input beside the run: plans never see it.
import type { RunInfo, RunResult, TargetMetrics } from '../contract.js';
import type { Reporter } from '../report/reporter.js';
import { redactUrl } from '../report/redact.js';
import { parsePrometheus, targetFigures } from './prometheus.js';

const EVERY_MS = 1000;
const TIMEOUT_MS = 900;

export class TargetMetricsScraper implements Reporter {
  private readonly data: TargetMetrics;
  private timer: NodeJS.Timeout | null = null;
  private startedAt = 0;
  private lastCpu: { t: number; s: number } | null = null;
  private inFlight: Promise<void> | null = null;

  constructor(private readonly url: string) {
    this.data = { url: redactUrl(url), scrapes: 0, failures: 0, lastError: null, samples: [] };
  }

  runStart(info: RunInfo): void {
    this.startedAt = info.startedAt;
    this.tick();
    this.timer = setInterval(() => this.tick(), EVERY_MS);
    this.timer.unref();
  }

  /** Stops scraping; the figures so far go into the result. */
  finish(result: RunResult): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    result.targetMetrics = this.data;
  }

  private tick(): void {
    if (this.inFlight) return; // a slow endpoint: skip a second rather than pile up
    this.inFlight = this.scrape().finally(() => (this.inFlight = null));
  }

  private async scrape(): Promise<void> {
    const now = Date.now();
    this.data.scrapes++;
    try {
      const res = await fetch(this.url, { signal: AbortSignal.timeout(TIMEOUT_MS) });
      const text = await res.text();
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const f = targetFigures(parsePrometheus(text));
      let cpuPct: number | null = null;
      if (f.cpuSeconds !== null) {
        if (this.lastCpu && now > this.lastCpu.t) {
          cpuPct =
            Math.round(((f.cpuSeconds - this.lastCpu.s) / ((now - this.lastCpu.t) / 1000)) * 1000) / 10;
        }
        this.lastCpu = { t: now, s: f.cpuSeconds };
      }
      this.data.samples.push({
        t: now - this.startedAt,
        cpuPct,
        rssBytes: f.rssBytes,
        connections: f.connections,
        eldP99Ms: f.eldP99Ms,
      });
    } catch (err) {
      this.data.failures++;
      this.data.lastError = redactUrl((err as Error).message);
    }
  }
}
