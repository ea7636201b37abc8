import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deflateSync, inflateSync } from 'node:zlib';
// The reference implementation, a devDependency for these conformance tests only.
import {
  build,
  decodeFromCompressedBase64,
  encodeIntoCompressedBase64,
  type Histogram,
} from 'hdr-histogram-js';
import type { LatencySummary } from '../../src/contract.js';
import { HdrHistogram } from '../../src/metrics/hdr.js';
import {
  decodeCompressedBase64,
  decodeV2,
  encodeCompressedBase64,
  encodeV2,
} from '../../src/metrics/hdr-codec.js';
import {
  addInto,
  createHist,
  decode,
  encode,
  record,
  reset,
  summarize,
  type Hist,
} from '../../src/metrics/histogram.js';

// Every field our histograms report is compared with hdr-histogram-js on the same values: the
// summaries in results must not change with the implementation.

function libHist(lowest = 1, highest = 3_600_000_000, digits = 3): Histogram {
  return build({
    useWebAssembly: false,
    lowestDiscernibleValue: lowest,
    highestTrackableValue: highest,
    numberOfSignificantValueDigits: digits as 1 | 2 | 3 | 4 | 5,
    autoResize: true,
  });
}

function libDecode(s: string): Histogram {
  const h = decodeFromCompressedBase64(s, 32, false);
  h.autoResize = true;
  return h;
}

/** What `summarize` computed when it was built on hdr-histogram-js. */
function libSummarize(h: Histogram): LatencySummary {
  const ms = (us: number) => Math.round(us) / 1000;
  if (h.totalCount === 0)
    return { count: 0, min: 0, mean: 0, p50: 0, p90: 0, p95: 0, p99: 0, p999: 0, max: 0 };
  return {
    count: h.totalCount,
    min: ms(h.minNonZeroValue),
    mean: ms(h.mean),
    p50: ms(h.getValueAtPercentile(50)),
    p90: ms(h.getValueAtPercentile(90)),
    p95: ms(h.getValueAtPercentile(95)),
    p99: ms(h.getValueAtPercentile(99)),
    p999: ms(h.getValueAtPercentile(99.9)),
    max: ms(h.getValueAtPercentile(100)),
  };
}

const PERCENTILES: number[] = [];
for (let p = 0; p <= 100; p += 0.25) PERCENTILES.push(p);
const EXTRA = [0.001, 1 / 3, 33.333, 66.667, 99.9, 99.99, 99.999, 99.9999, 100 - 1e-9, 150, -1];
PERCENTILES.push(...EXTRA);
/** Fewer points for layouts with hundreds of thousands of slots. */
const COARSE = [0, 1, 5, 10, 25, 50, 75, 90, 95, 99, 100, ...EXTRA];

interface View {
  count: number;
  min: number;
  max: number;
  mean: number;
  percentiles: number[];
}

function view(h: Hist | Histogram, withMax = true, ps = PERCENTILES): View {
  const at = (p: number) => (h instanceof HdrHistogram ? h.valueAtPercentile(p) : h.getValueAtPercentile(p));
  return {
    count: h.totalCount,
    min: h.minNonZeroValue,
    max: withMax ? h.maxValue : 0,
    mean: h.mean,
    percentiles: ps.map(at),
  };
}

function same(ours: Hist, lib: Histogram, what: string, withMax = true, ps = PERCENTILES): void {
  assert.deepEqual(view(ours, withMax, ps), view(lib, withMax, ps), what);
  if (ours.lowestDiscernibleValue === 1 && ours.significantDigits === 3) {
    assert.deepEqual(summarize(ours), libSummarize(lib), `${what}: summary`);
  }
}

/** mulberry32: small, fast, and the same sequence on every run. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Values from 1 µs to 10^10 µs, log-uniform, with bucket edges and repeats mixed in. */
function values(seed: number, n: number, maxExp = 10): number[] {
  const r = rng(seed);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const kind = r();
    if (kind < 0.7) out.push(Math.floor(Math.pow(10, r() * maxExp)));
    else if (kind < 0.85) {
      const edge = 2048 * 2 ** Math.floor(r() * (maxExp * 3.3 - 11));
      out.push(Math.max(1, edge + Math.floor(r() * 5) - 2));
    } else if (kind < 0.95) out.push(out.length > 0 ? out[Math.floor(r() * out.length)] : 1);
    else out.push(r() * 3 - 1); // sub-microsecond, zero and negative: clamped to 1 µs
  }
  return out;
}

/** The same clamping `record` applies, fed to the reference. */
function libRecord(h: Histogram, us: number): void {
  h.recordValue(us >= 1 ? Math.round(us) : 1);
}

function both(vals: number[]): [Hist, Histogram] {
  const ours = createHist();
  const lib = libHist();
  for (const v of vals) {
    record(ours, v);
    libRecord(lib, v);
  }
  return [ours, lib];
}

const CASES: [seed: number, n: number, maxExp: number][] = [
  [1, 1, 10],
  [2, 2, 10],
  [3, 10, 10],
  [4, 1000, 10],
  [5, 20_000, 10],
  [6, 5000, 3],
  [7, 5000, 6],
  [8, 3000, 9.5],
  [9, 200, 4],
];

test('recorded histograms: every percentile, min, max, mean and summary as hdr-histogram-js', () => {
  for (const [seed, n, maxExp] of CASES) {
    const [ours, lib] = both(values(seed, n, maxExp));
    same(ours, lib, `seed ${seed}`);
    assert.equal(ours.highestTrackableValue, lib.highestTrackableValue, `seed ${seed}: range`);
  }
});

test('encode: the counts payload is byte for byte what hdr-histogram-js writes', () => {
  for (const [seed, n, maxExp] of CASES) {
    const [ours, lib] = both(values(seed, n, maxExp));
    const a = inflate(encode(ours));
    const b = inflate(encodeIntoCompressedBase64(lib));
    assert.deepEqual(a.subarray(40), b.subarray(40), `seed ${seed}: payload`);
    assert.equal(a.readInt32BE(4), b.readInt32BE(4), `seed ${seed}: payload length`);
    assert.equal(a.readInt32BE(0), b.readInt32BE(0), `seed ${seed}: cookie`);
    for (const at of [12, 16, 20, 24, 28])
      assert.equal(a.readUInt32BE(at), b.readUInt32BE(at), `header @${at}`);
    // Where the reference writes 1 and an integer 1, HdrHistogram (Java) writes 0 and the double 1.0.
    assert.equal(a.readInt32BE(8), 0);
    assert.equal(a.readDoubleBE(32), 1.0);
  }
});

test('round trips: ours -> hdr-histogram-js, hdr-histogram-js -> ours, ours -> lib -> ours', () => {
  for (const [seed, n, maxExp] of CASES) {
    const [ours, lib] = both(values(seed, n, maxExp));
    const libDecoded = libDecode(encodeIntoCompressedBase64(lib));
    same(decode(encode(ours)), libDecoded, `seed ${seed}: ours -> ours`);
    same(decode(encodeIntoCompressedBase64(lib)), libDecoded, `seed ${seed}: lib -> ours`);
    same(decode(encodeIntoCompressedBase64(libDecoded)), libDecoded, `seed ${seed}: lib decoded -> ours`);
    const viaLib = libDecode(encode(ours));
    same(decode(encode(ours)), viaLib, `seed ${seed}: ours -> lib`);
    assert.deepEqual(
      summarize(decode(encodeIntoCompressedBase64(viaLib))),
      summarize(decode(encode(ours))),
      `seed ${seed}: ours -> lib -> ours`,
    );
  }
});

test('addInto: merged parts equal the whole, recorded or decoded, as hdr-histogram-js merges', () => {
  for (const [seed, n, maxExp] of CASES) {
    const vals = values(seed + 100, n, maxExp);
    const parts = [vals.slice(0, n / 3), vals.slice(n / 3, n / 2), vals.slice(n / 2)];
    const oursRaw = createHist();
    const libRaw = libHist();
    const oursDecoded = decode(encode(createHist()));
    const libDecoded = libDecode(encodeIntoCompressedBase64(libHist()));
    for (const part of parts) {
      const [o, l] = both(part);
      addInto(oursRaw, o);
      if (l.totalCount > 0) libRaw.add(l);
      addInto(oursDecoded, decode(encode(o)));
      if (l.totalCount > 0) libDecoded.add(libDecode(encodeIntoCompressedBase64(l)));
    }
    same(oursRaw, libRaw, `seed ${seed}: raw parts`);
    same(oursDecoded, libDecoded, `seed ${seed}: decoded parts`);
    const [whole] = both(vals);
    assert.deepEqual(view(oursRaw).percentiles, view(whole).percentiles, `seed ${seed}: whole`);
    assert.equal(oursRaw.totalCount, whole.totalCount);
  }
});

test('addInto across ranges: a histogram grown past an hour merges both ways as hdr-histogram-js', () => {
  const small = values(21, 3000, 6);
  const large = values(22, 300, 10).concat([9e9, 1e10, 2 ** 40]);
  for (const decodeFirst of [false, true]) {
    const pick = <T>(h: T, enc: (x: T) => string, dec: (s: string) => T) => (decodeFirst ? dec(enc(h)) : h);
    for (const order of ['small+large', 'large+small']) {
      const [os, ls] = both(small);
      const [ol, ll] = both(large);
      const [oDst, oSrc] = order === 'small+large' ? [os, ol] : [ol, os];
      const [lDst, lSrc] = order === 'small+large' ? [ls, ll] : [ll, ls];
      const od = pick(oDst, encode, decode);
      const ld = pick(lDst, encodeIntoCompressedBase64, libDecode);
      addInto(od, pick(oSrc, encode, decode));
      ld.add(pick(lSrc, encodeIntoCompressedBase64, libDecode));
      same(od, ld, `${order}, decoded ${decodeFirst}`);
      same(decode(encode(od)), libDecode(encodeIntoCompressedBase64(ld)), `${order} re-encoded`);
    }
  }
});

test('empty histograms: encode, decode and merge both ways', () => {
  const ours = createHist();
  const lib = libHist();
  same(ours, lib, 'fresh');
  assert.deepEqual(inflate(encode(ours)).subarray(40), inflate(encodeIntoCompressedBase64(lib)).subarray(40));
  same(decode(encode(ours)), libDecode(encodeIntoCompressedBase64(lib)), 'ours decoded');
  same(decode(encodeIntoCompressedBase64(lib)), libDecode(encode(ours)), 'lib decoded');
  const dst = decode(encode(ours));
  addInto(dst, createHist());
  assert.equal(dst.totalCount, 0);
  assert.deepEqual(summarize(dst), summarize(createHist()));
});

test('values beyond the highest trackable value grow the range like hdr-histogram-js', () => {
  const vals = [5, 3_600_000_001, 7_200_000_000, 1e12, 2 ** 40 + 3, 2 ** 48 - 1, 123_456_789_012_345];
  const [ours, lib] = both(vals);
  same(ours, lib, 'grown');
  assert.equal(ours.highestTrackableValue, lib.highestTrackableValue);
  assert.equal(ours.bucketCount, (lib as unknown as { bucketCount: number }).bucketCount);
  same(decode(encode(ours)), libDecode(encodeIntoCompressedBase64(lib)), 'grown, decoded');
  same(decode(encodeIntoCompressedBase64(lib)), libDecode(encode(ours)), 'grown, cross-decoded');
  // One value at a time, each growing the range again.
  const o = createHist();
  const l = libHist();
  for (let e = 9; e <= 15; e++) {
    record(o, 10 ** e);
    libRecord(l, 10 ** e);
    same(o, l, `after 1e${e}`);
  }
});

test('record: zero, negative, fractional and non-finite values are clamped, never thrown', () => {
  const ours = createHist();
  const lib = libHist();
  for (const v of [0, -3, 0.4, 1.49, 1.5, 2.6, -0, NaN]) {
    record(ours, v);
    libRecord(lib, v);
  }
  same(ours, lib, 'clamped');
  record(ours, Infinity);
  record(ours, 1e300);
  assert.equal(ours.totalCount, 10);
  assert.equal(ours.maxValue, Number.MAX_SAFE_INTEGER);
  const back = decode(encode(ours));
  assert.equal(back.totalCount, 10);
  assert.equal(back.valueAtPercentile(50), 1);
});

test('HdrHistogram: raw zeros count but are not the minimum, as in hdr-histogram-js', () => {
  const ours = new HdrHistogram(1, 3_600_000_000, 3);
  const lib = libHist();
  for (const v of [0, 0, 0, 7, 2049, 70_000]) {
    ours.recordValue(v);
    lib.recordValue(v);
  }
  same(ours, lib, 'with zeros');
  same(decode(encode(ours)), libDecode(encodeIntoCompressedBase64(lib)), 'with zeros, decoded');
  const onlyZeros = new HdrHistogram(1, 3_600_000_000, 3);
  const libZeros = libHist();
  onlyZeros.recordValue(0);
  libZeros.recordValue(0);
  same(onlyZeros, libZeros, 'only zeros');
  same(decode(encode(onlyZeros)), libDecode(encodeIntoCompressedBase64(libZeros)), 'only zeros, decoded');
  assert.throws(() => ours.recordValue(-1), RangeError);
  assert.throws(() => ours.recordValue(NaN), RangeError);
  assert.throws(() => ours.recordValue(2 ** 53 + 2), RangeError);
});

test('other layouts: any digits and lowest value hdr-histogram-js supports, recorded and decoded', () => {
  const layouts: [lowest: number, highest: number, digits: number][] = [
    [1, 2, 0],
    [1, 1000, 1],
    [1, 3_600_000_000, 2],
    [1, 1e6, 4],
    [1, 1e6, 5],
    [1000, 3_600_000_000_000, 3],
    [3, 1e9, 2],
    [1, Number.MAX_SAFE_INTEGER, 3],
  ];
  for (const [lowest, highest, digits] of layouts) {
    const ours = new HdrHistogram(lowest, highest, digits);
    const lib = libHist(lowest, highest, digits);
    for (const v of values(lowest + digits, 2000, 8)) {
      const x = v >= 1 ? Math.round(v) : 0;
      ours.recordValue(x);
      lib.recordValue(x);
    }
    const what = `lowest ${lowest}, highest ${highest}, ${digits} digits`;
    // The max value of a lowest > 1 histogram is rounded up to the unit as Java does (see hdr.ts).
    same(ours, lib, what, lowest === 1, COARSE);
    const libDecoded = libDecode(encodeIntoCompressedBase64(lib));
    const fromLib = decode(encodeIntoCompressedBase64(lib));
    same(fromLib, libDecoded, `${what}: lib -> ours`, lowest === 1, COARSE);
    assert.equal(fromLib.significantDigits, digits);
    assert.equal(fromLib.lowestDiscernibleValue, lowest);
    same(decode(encode(ours)), libDecoded, `${what}: ours -> ours`, lowest === 1, COARSE);
    same(decode(encode(ours)), libDecode(encode(ours)), `${what}: ours -> lib`, lowest === 1, COARSE);
  }
});

test('counts beyond 2^32 per bucket stay exact through encode and decode', () => {
  const h = createHist();
  h.recordCount(250, 2 ** 40);
  h.recordCount(5000, 2 ** 52);
  record(h, 1);
  const back = decode(encode(h));
  assert.equal(back.totalCount, 2 ** 40 + 2 ** 52 + 1);
  assert.equal(back.countAt(back.indexOf(250)), 2 ** 40);
  assert.equal(back.countAt(back.indexOf(5000)), 2 ** 52);
  const lib = decodeFromCompressedBase64(encode(h), 64, false);
  assert.equal(lib.totalCount, back.totalCount);
  assert.equal(lib.getValueAtPercentile(50), back.valueAtPercentile(50));
});

test('reset keeps the range and forgets every count, as hdr-histogram-js', () => {
  const [ours, lib] = both(values(31, 2000, 10));
  reset(ours);
  lib.reset();
  same(ours, lib, 'after reset');
  for (const v of values(32, 500, 4)) {
    record(ours, v);
    libRecord(lib, v);
  }
  same(ours, lib, 'refilled');
  assert.deepEqual(inflate(encode(ours)).subarray(40), inflate(encodeIntoCompressedBase64(lib)).subarray(40));
});

test('decode refuses what is not an HdrHistogram V2 histogram, with a reason', () => {
  const good = encodeV2(createHist());
  const wrap = (inner: Buffer) => {
    const z = deflateSync(inner);
    const out = Buffer.alloc(8 + z.length);
    out.writeInt32BE(0x1c849314, 0);
    out.writeInt32BE(z.length, 4);
    z.copy(out, 8);
    return out.toString('base64');
  };
  const patched = (write: (b: Buffer) => void) => {
    const b = Buffer.from(good);
    write(b);
    return wrap(b);
  };
  assert.throws(() => decode(''), /not an HdrHistogram V2 compressed/);
  assert.throws(() => decode('aGVsbG8gd29ybGQ='), /not an HdrHistogram V2 compressed/);
  assert.throws(() => decode(encode(createHist()).slice(0, 16)), /truncated|unexpected end/i);
  assert.throws(
    () => decode(patched((b) => b.writeInt32BE(0x1c849301, 0))),
    /not an HdrHistogram V2 encoding/,
  );
  assert.throws(() => decode(patched((b) => b.writeInt32BE(7, 12))), /7 significant digits/);
  assert.throws(() => decode(patched((b) => b.writeUInt32BE(0, 20))), /lowest discernible value 0/);
  assert.throws(
    () =>
      decode(
        patched((b) => {
          b.writeUInt32BE(0, 24);
          b.writeUInt32BE(1, 28);
        }),
      ),
    /highest/,
  );
  assert.throws(() => decode(patched((b) => b.writeInt32BE(1000, 4))), /truncated HdrHistogram/);
  // Counts beyond the range its header declares.
  const h = createHist();
  record(h, 3_000_000_000);
  const beyond = Buffer.from(encodeV2(h));
  beyond.writeUInt32BE(1000, 28);
  assert.throws(() => decode(wrap(beyond)), /beyond the .* slots its header declares/);
  // The uncompressed form reads back too.
  assert.equal(decodeV2(encodeV2(h)).totalCount, 1);
  // A decoded maximum is the top of its bucket.
  const top = h.highestEquivalentOfIndex(h.indexOf(h.maxValue));
  assert.equal(decodeCompressedBase64(encodeCompressedBase64(h)).maxValue, top);
});

function inflate(b64: string): Buffer {
  const b = Buffer.from(b64, 'base64');
  return inflateSync(b.subarray(8, 8 + b.readInt32BE(4)));
}
