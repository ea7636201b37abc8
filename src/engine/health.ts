import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { readdirSync } from 'node:fs';
import type { GeneratorCost, Health } from '../contract.js';

// The generator watches itself: a load tester that saturates must say so.
const SATURATED_CPU_PCT = 90;
const SATURATED_ELD_P99_MS = 50;
const SATURATED_ELD_MAX_MS = 1000;
const ELD_RESOLUTION_MS = 20;

/** The generator was the bottleneck in this interval: busy and late, or stalled. */
export function isSaturated(h: Health): boolean {
  return (
    (h.cpuPct >= SATURATED_CPU_PCT && h.eldP99Ms >= SATURATED_ELD_P99_MS) ||
    h.eldMaxMs >= SATURATED_ELD_MAX_MS
  );
}

export function countOpenFds(): number {
  try {
    return readdirSync('/proc/self/fd').length;
  } catch {
    return -1;
  }
}

/** Samples CPU, event-loop delay, RSS and fds once per interval; tracks peaks over a step. */
export class HealthSampler {
  private eld: IntervalHistogram;
  private readonly baseFds: number;
  private lastCpu = process.cpuUsage();
  private lastT = performance.now();
  private readonly cpuAtStart = process.cpuUsage();
  private readonly baseRss = process.memoryUsage.rss();
  private lastRss = this.baseRss;
  private peakRss = 0;
  private maxCpuPct = 0;
  private maxEld = 0;
  private maxFds = 0;
  private saturated = false;

  /**
   * @param sockets how many sockets this process holds now: listing /proc/self/fd costs ~6 ms per
   *   1,000 descriptors, too much to do every second at 20,000, so the count is the descriptors
   *   open at start plus the sockets the engine holds.
   */
  constructor(private readonly sockets?: () => number) {
    this.baseFds = countOpenFds();
    // Each sample is a timer wakeup of its own: at 20 ms an idle loop wakes 50 times a second
    // (10 ms cost ~100 extra wakeups a second, measured with strace on W3), still 50 samples per
    // interval, plenty to see the 50 ms p99 and 1 s maximum that mean saturation.
    this.eld = monitorEventLoopDelay({ resolution: ELD_RESOLUTION_MS });
    this.eld.enable();
  }

  sample(): Health {
    const now = performance.now();
    const cpu = process.cpuUsage();
    const elapsedUs = Math.max(1, (now - this.lastT) * 1000);
    const usedUs = cpu.user - this.lastCpu.user + (cpu.system - this.lastCpu.system);
    this.lastCpu = cpu;
    this.lastT = now;
    const h: Health = {
      cpuPct: Math.round((usedUs / elapsedUs) * 1000) / 10,
      eldP99Ms: this.eld.count > 0 ? this.eld.percentile(99) / 1e6 : 0,
      eldMaxMs: this.eld.count > 0 ? this.eld.max / 1e6 : 0,
      rssBytes: this.rss(),
      fds: this.sockets && this.baseFds >= 0 ? this.baseFds + this.sockets() : countOpenFds(),
    };
    this.eld.reset();
    this.track(h);
    return h;
  }

  private track(h: Health): void {
    if (h.rssBytes > this.peakRss) this.peakRss = h.rssBytes;
    if (h.cpuPct > this.maxCpuPct) this.maxCpuPct = h.cpuPct;
    if (h.eldMaxMs > this.maxEld) this.maxEld = h.eldMaxMs;
    if (h.fds > this.maxFds) this.maxFds = h.fds;
    if (isSaturated(h)) this.saturated = true;
  }

  /** Reading RSS opens /proc/self/stat: at the open-file cap it fails, and the last value stands. */
  private rss(): number {
    try {
      this.lastRss = process.memoryUsage.rss();
    } catch {
      // EMFILE while every descriptor is a socket
    }
    return this.lastRss;
  }

  cost(): GeneratorCost {
    const cpu = process.cpuUsage(this.cpuAtStart);
    const rss = this.rss();
    return {
      baseRssBytes: this.baseRss,
      peakRssBytes: Math.max(this.peakRss, rss),
      cpuUserMs: Math.round(cpu.user / 1000),
      cpuSystemMs: Math.round(cpu.system / 1000),
      maxCpuPct: this.maxCpuPct,
      maxEldMs: Math.round(this.maxEld * 10) / 10,
      maxFds: this.maxFds,
      saturated: this.saturated,
    };
  }

  close(): void {
    this.eld.disable();
  }
}
