import type { LatencySummary } from '../contract.js';
import { decodeCompressedBase64, encodeCompressedBase64 } from './hdr-codec.js';
import { HdrHistogram } from './hdr.js';

// Latency histograms in integer microseconds: HDR layout with 3 significant digits from 1 µs to an
// hour, growing for anything longer. Encoded histograms are HdrHistogram V2 compressed base64, so
// any HdrHistogram implementation (Java, Go, hdr-histogram-js) reads them and we read theirs.

export type Hist = HdrHistogram;

const LOWEST_US = 1;
const HIGHEST_US = 3_600_000_000; // one hour; the histogram grows for anything longer
const DIGITS = 3;

export function createHist(): Hist {
  return new HdrHistogram(LOWEST_US, HIGHEST_US, DIGITS);
}

/**
 * Records one duration; sub-microsecond (and negative, from clock skew) values count as 1 µs, values
 * beyond 2^53 µs (or infinite) as 2^53 - 1 µs.
 */
export function record(h: Hist, us: number): void {
  h.recordValue(us >= 1 ? (us <= Number.MAX_SAFE_INTEGER ? Math.round(us) : Number.MAX_SAFE_INTEGER) : 1);
}

/** HDR V2 compressed base64; an empty histogram encodes too. */
export function encode(h: Hist): string {
  return encodeCompressedBase64(h);
}

/** Reads a histogram encoded by `encode` or by any HdrHistogram V2 encoder; it grows like ours. */
export function decode(s: string): Hist {
  return decodeCompressedBase64(s);
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
    p50: ms(h.valueAtPercentile(50)),
    p90: ms(h.valueAtPercentile(90)),
    p95: ms(h.valueAtPercentile(95)),
    p99: ms(h.valueAtPercentile(99)),
    p999: ms(h.valueAtPercentile(99.9)),
    // The top of the highest bucket, as a decoded histogram reports it: same summary on every side.
    max: ms(h.valueAtPercentile(100)),
  };
}

function ms(us: number): number {
  return Math.round(us) / 1000;
}
