// An HDR histogram of non-negative integers with HdrHistogram's bucket layout, always auto-resizing.
//
// Counts live in one Float64Array (exact up to 2^53 per bucket). The array is allocated lazily, up to
// the bucket that holds the largest value seen, so a histogram of millisecond latencies in µs stays
// far smaller than its nominal one-hour range. Recording allocates nothing: Math.clz32 finds the
// bucket for values below 2^32; larger values take an exact arithmetic path.
//
// Percentiles, mean, min and merging follow HdrHistogram (and hdr-histogram-js) exactly, so results
// are the same whichever side decodes a histogram. The one deliberate difference: the max value is
// rounded up to the unit like Java does (`value | unitMask`), not incremented by the mask; with a
// lowest discernible value of 1 (ours) both are the value itself.

const TWO_32 = 4294967296;
const POW2 = new Float64Array(64);
for (let k = 0; k < 64; k++) POW2[k] = 2 ** k;

/** floor(log2(v)) for integers 0 < v <= 2^53. */
function log2Floor(v: number): number {
  return v < TWO_32 ? 31 - Math.clz32(v) : 63 - Math.clz32(v / TWO_32);
}

/** Why a layout is not supported, or null: what the constructor and the decoder check. */
export function layoutError(lowest: number, highest: number, digits: number): string | null {
  if (!Number.isInteger(lowest) || lowest < 1 || lowest >= TWO_32) {
    return `lowest discernible value ${lowest} (supported: integers in [1, 2^32))`;
  }
  if (!Number.isSafeInteger(highest) || highest < 2 * lowest) {
    return `highest trackable value ${highest} (supported: integers in [2 × lowest, 2^53))`;
  }
  if (!Number.isInteger(digits) || digits < 0 || digits > 5) {
    return `${digits} significant digits (supported: 0 to 5)`;
  }
  return null;
}

export class HdrHistogram {
  readonly lowestDiscernibleValue: number;
  readonly significantDigits: number;
  readonly unitMagnitude: number;
  readonly subBucketHalfCountMagnitude: number;
  readonly subBucketCount: number;
  readonly subBucketHalfCount: number;
  private readonly unitMask: number;
  private readonly shift: number; // unitMagnitude + subBucketHalfCountMagnitude

  private highest = 0;
  private buckets = 0;
  private length = 0; // logical counts length for `highest`; `counts` grows up to it on demand
  private counts: Float64Array = new Float64Array(0);
  private total = 0;
  private max = 0;
  private minNonZero = Number.MAX_SAFE_INTEGER;

  constructor(lowestDiscernibleValue: number, highestTrackableValue: number, significantDigits: number) {
    const invalid = layoutError(lowestDiscernibleValue, highestTrackableValue, significantDigits);
    if (invalid !== null) throw new RangeError(invalid);
    this.lowestDiscernibleValue = lowestDiscernibleValue;
    this.significantDigits = significantDigits;
    // Unit resolution up to 2 × 10^digits, in a power-of-two number of sub-buckets.
    const largestWithUnitResolution = 2 * Math.floor(Math.pow(10, significantDigits));
    const subBucketCountMagnitude = Math.ceil(Math.log2(largestWithUnitResolution));
    this.unitMagnitude = log2Floor(lowestDiscernibleValue);
    this.unitMask = POW2[this.unitMagnitude] - 1;
    this.subBucketHalfCountMagnitude = Math.max(subBucketCountMagnitude, 1) - 1;
    this.subBucketCount = POW2[this.subBucketHalfCountMagnitude + 1];
    this.subBucketHalfCount = this.subBucketCount / 2;
    this.shift = this.unitMagnitude + this.subBucketHalfCountMagnitude;
    this.establishSize(highestTrackableValue);
  }

  get totalCount(): number {
    return this.total;
  }
  /** Largest value recorded (the top of its bucket once decoded); 0 when empty. */
  get maxValue(): number {
    return this.max;
  }
  /** Smallest non-zero value recorded (the bottom of its bucket once decoded). */
  get minNonZeroValue(): number {
    return this.minNonZero;
  }
  get highestTrackableValue(): number {
    return this.highest;
  }
  get bucketCount(): number {
    return this.buckets;
  }
  get countsArrayLength(): number {
    return this.length;
  }

  /** Records one integer value >= 0; grows the range for values above the highest trackable one. */
  recordValue(v: number): void {
    this.recordCount(v, 1);
  }

  /** Records `count` occurrences of one value. */
  recordCount(v: number, count: number): void {
    const i = this.indexOf(v);
    if (i >= this.counts.length) this.makeRoom(i, v);
    this.counts[i] += count;
    if (v > this.max) this.setMax(v);
    if (v < this.minNonZero && v !== 0) this.setMinNonZero(v);
    this.total += count;
  }

  /** Index of the counts slot holding `v`. */
  indexOf(v: number): number {
    if (!(v < TWO_32 && v >= 0)) return this.indexOfLarge(v);
    let b = 31 - Math.clz32(v) - this.shift;
    if (b < 0) b = 0;
    return (b << this.subBucketHalfCountMagnitude) + (v >>> (b + this.unitMagnitude));
  }

  /** Count in slot `i` (0 beyond the allocated slots). */
  countAt(i: number): number {
    return i < this.counts.length ? this.counts[i] : 0;
  }

  /** Lowest value of slot `i`. */
  valueFromIndex(i: number): number {
    const bucket = (i >> this.subBucketHalfCountMagnitude) - 1;
    if (bucket < 0) return i * POW2[this.unitMagnitude]; // the lower half of bucket 0
    return (
      ((i & (this.subBucketHalfCount - 1)) + this.subBucketHalfCount) * POW2[bucket + this.unitMagnitude]
    );
  }

  /** Width of slot `i` in value units. */
  private sizeOfIndex(i: number): number {
    const bucket = (i >> this.subBucketHalfCountMagnitude) - 1;
    return POW2[(bucket < 0 ? 0 : bucket) + this.unitMagnitude];
  }

  /** Highest value equivalent to the values of slot `i`. */
  highestEquivalentOfIndex(i: number): number {
    return this.valueFromIndex(i) + this.sizeOfIndex(i) - 1;
  }

  /**
   * The highest value equivalent to the value that `percentile` % of recorded values are at or below
   * (the lowest equivalent value for percentile 0); 0 when empty.
   */
  valueAtPercentile(percentile: number): number {
    const requested = Math.min(percentile, 100);
    const fpCount = (requested / 100.0) * this.total;
    // Round up, but do not let one ulp of floating-point error skip a count.
    const ulp = Math.pow(2, Math.floor(Math.log2(fpCount)) - 52);
    const countAtPercentile = Math.max(Math.ceil(fpCount - ulp), 1);
    const c = this.counts;
    let seen = 0;
    for (let i = 0; i < c.length; i++) {
      seen += c[i];
      if (seen >= countAtPercentile) {
        return percentile === 0 ? this.valueFromIndex(i) : this.highestEquivalentOfIndex(i);
      }
    }
    return 0;
  }

  /** Mean of the middle (rounded down) value of every slot, weighted by count. */
  get mean(): number {
    if (this.total === 0) return 0;
    const c = this.counts;
    let sum = 0;
    let seen = 0;
    for (let i = 0; i < c.length && seen < this.total; i++) {
      const n = c[i];
      if (n !== 0) {
        sum += (this.valueFromIndex(i) + Math.floor(this.sizeOfIndex(i) / 2)) * n;
        seen += n;
      }
    }
    return sum / this.total;
  }

  /** Adds every count of `other`, growing this range when needed. */
  add(other: HdrHistogram): void {
    if (this.highestEquivalentOfIndex(this.length - 1) < other.max) this.establishSize(other.max);
    if (
      this.buckets === other.buckets &&
      this.subBucketCount === other.subBucketCount &&
      this.unitMagnitude === other.unitMagnitude
    ) {
      // Same layout: add slot by slot.
      const src = other.counts;
      if (src.length > this.counts.length) this.grow(src.length - 1);
      const dst = this.counts;
      let added = 0;
      for (let i = 0; i < src.length; i++) {
        const n = src[i];
        if (n > 0) {
          dst[i] += n;
          added += n;
        }
      }
      this.total += added;
      this.setMax(Math.max(this.max, other.max));
      this.setMinNonZero(Math.min(this.minNonZero, other.minNonZero));
    } else {
      // Different layouts: record each slot's lowest value, the largest first.
      const top = other.indexOf(other.max);
      this.recordCount(other.valueFromIndex(top), other.countAt(top));
      for (let i = 0; i < top; i++) {
        const n = other.countAt(i);
        if (n > 0) this.recordCount(other.valueFromIndex(i), n);
      }
    }
  }

  /** Forgets every value; keeps the range and the allocated slots. */
  reset(): void {
    this.counts.fill(0);
    this.total = 0;
    this.max = 0;
    this.minNonZero = Number.MAX_SAFE_INTEGER;
  }

  /**
   * Replaces every count with `counts` (slot by slot, as decoded, at most `countsArrayLength` slots);
   * total, max and min are then derived from the counts the way HdrHistogram does after decoding.
   */
  loadCounts(counts: Float64Array): void {
    if (counts.length > this.length) {
      throw new RangeError(`${counts.length} count slots exceed this histogram's ${this.length}`);
    }
    this.counts = counts;
    let maxIndex = -1;
    let minIndex = -1;
    let total = 0;
    for (let i = 0; i < counts.length; i++) {
      const n = counts[i];
      if (n > 0) {
        total += n;
        maxIndex = i;
        if (minIndex === -1 && i !== 0) minIndex = i;
      }
    }
    this.total = total;
    this.max = 0;
    this.minNonZero = Number.MAX_VALUE;
    if (maxIndex >= 0) this.setMax(this.highestEquivalentOfIndex(maxIndex));
    if (minIndex >= 0) this.setMinNonZero(this.valueFromIndex(minIndex));
  }

  private indexOfLarge(v: number): number {
    if (!(v >= 0 && v <= Number.MAX_SAFE_INTEGER)) {
      throw new RangeError(`histogram values must be integers in [0, 2^53): ${v}`);
    }
    let b = log2Floor(v) - this.shift;
    if (b < 0) b = 0;
    return b * this.subBucketHalfCount + Math.floor(v / POW2[b + this.unitMagnitude]);
  }

  private setMax(v: number): void {
    this.max =
      this.unitMask === 0 ? v : Math.floor(v / (this.unitMask + 1)) * (this.unitMask + 1) + this.unitMask;
  }

  private setMinNonZero(v: number): void {
    if (v <= this.unitMask) return;
    this.minNonZero = Math.floor(v / (this.unitMask + 1)) * (this.unitMask + 1);
  }

  /** Slot `i` is beyond the allocated slots: extend the range to cover `v` if needed, then grow. */
  private makeRoom(i: number, v: number): void {
    if (i >= this.length) {
      this.establishSize(v);
      this.highest = this.highestEquivalentOfIndex(this.length - 1);
    }
    this.grow(i);
  }

  /** Allocates slots up to the end of the bucket holding slot `i`. */
  private grow(i: number): void {
    const half = this.subBucketHalfCountMagnitude;
    const size = Math.min(this.length, ((i >> half) + 1) << half);
    const next = new Float64Array(size);
    next.set(this.counts);
    this.counts = next;
  }

  private establishSize(highest: number): void {
    this.buckets = this.bucketsToCover(highest);
    this.length = (this.buckets + 1) * this.subBucketHalfCount;
    this.highest = highest;
  }

  /** Buckets needed so that `value` is trackable: bucket k covers [0, subBucketCount × 2^(k + unit)). */
  private bucketsToCover(value: number): number {
    let smallestUntrackable = this.subBucketCount * POW2[this.unitMagnitude];
    let buckets = 1;
    while (smallestUntrackable <= value) {
      if (smallestUntrackable > Number.MAX_SAFE_INTEGER / 2) return buckets + 1;
      smallestUntrackable *= 2;
      buckets++;
    }
    return buckets;
  }
}
