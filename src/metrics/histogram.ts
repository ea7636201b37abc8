import {
  build,
  decodeFromCompressedBase64,
  encodeIntoCompressedBase64,
  type Histogram,
} from 'hdr-histogram-js';
import type { LatencySummary } from '../contract.js';

// Latency histograms in integer microseconds. The pure JS implementation keeps startup free of
// WebAssembly compilation and lets encoded histograms decode anywhere.

export type Hist = Histogram;

const LOWEST_US = 1;
const HIGHEST_US = 3_600_000_000; // one hour; autoResize covers anything longer
const DIGITS = 3;

export function createHist(): Hist {
  return build({
    useWebAssembly: false,
    lowestDiscernibleValue: LOWEST_US,
    highestTrackableValue: HIGHEST_US,
    numberOfSignificantValueDigits: DIGITS,
    autoResize: true,
  });
}

/** Records one duration; sub-microsecond (and negative, from clock skew) values count as 1 µs. */
export function record(h: Hist, us: number): void {
  h.recordValue(us >= 1 ? Math.round(us) : 1);
}

/** HDR V2 compressed base64; an empty histogram encodes too. */
export function encode(h: Hist): string {
  return encodeIntoCompressedBase64(h);
}

export function decode(s: string): Hist {
  const h = decodeFromCompressedBase64(s, 32, false);
  // A decoded histogram is fixed-range; merging may add larger values.
  h.autoResize = true;
  return h;
}

export function addInto(dst: Hist, src: Hist): void {
  if (src.totalCount > 0) dst.add(src);
}

export function reset(h: Hist): void {
  h.reset();
}

const EMPTY: LatencySummary = { count: 0, min: 0, mean: 0, p50: 0, p90: 0, p95: 0, p99: 0, p999: 0, max: 0 };

/** Milliseconds with microsecond precision; all zeros when nothing was recorded. */
export function summarize(h: Hist): LatencySummary {
  const count = h.totalCount;
  if (count === 0) return { ...EMPTY };
  return {
    count,
    min: ms(h.minNonZeroValue),
    mean: ms(h.mean),
    p50: ms(h.getValueAtPercentile(50)),
    p90: ms(h.getValueAtPercentile(90)),
    p95: ms(h.getValueAtPercentile(95)),
    p99: ms(h.getValueAtPercentile(99)),
    p999: ms(h.getValueAtPercentile(99.9)),
    // The top of the highest bucket, as a decoded histogram reports it: same summary on every side.
    max: ms(h.getValueAtPercentile(100)),
  };
}

function ms(us: number): number {
  return Math.round(us) / 1000;
}
