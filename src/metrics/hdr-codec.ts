import { deflateSync, inflateSync } from 'node:zlib';
import { HdrHistogram, layoutError } from './hdr.js';

// HdrHistogram's V2 encoding, as written by the Java, Go and JavaScript implementations:
//
//   compressed: int32 cookie 0x1c849314, int32 length, zlib deflate of the encoding below
//   encoding:   int32 cookie 0x1c849313, int32 payload length, int32 normalizing index offset,
//               int32 significant digits, int64 lowest, int64 highest, float64 conversion ratio (1.0),
//               then the counts slot by slot as ZigZag LEB128-64b9B: n > 0 is a count, -n a run of n zeros
//
// All integers are big-endian. The cookies' 0x10 bits carry the word size, which V2 ignores; the
// base cookies (0x1c849303, 0x1c849304) are what is checked on reading.

const V2_COOKIE_BASE = 0x1c849303;
const V2_COMPRESSED_COOKIE_BASE = 0x1c849304;
const WORD_SIZE_BITS = 0x10;
const HEADER_BYTES = 40;
const MAX_VARINT_BYTES = 9;

/** The uncompressed V2 encoding. */
export function encodeV2(h: HdrHistogram): Buffer {
  const limit = h.indexOf(h.maxValue) + 1;
  const out = Buffer.allocUnsafe(HEADER_BYTES + MAX_VARINT_BYTES * limit);
  let p = HEADER_BYTES;
  let i = 0;
  while (i < limit) {
    const n = h.countAt(i++);
    if (n === 0) {
      let zeros = 1;
      while (i < limit && h.countAt(i) === 0) {
        zeros++;
        i++;
      }
      p = putZigZag(out, p, zeros > 1 ? -zeros : 0);
    } else {
      p = putZigZag(out, p, n);
    }
  }
  out.writeInt32BE(V2_COOKIE_BASE | WORD_SIZE_BITS, 0);
  out.writeInt32BE(p - HEADER_BYTES, 4);
  out.writeInt32BE(0, 8); // normalizing index offset: none
  out.writeInt32BE(h.significantDigits, 12);
  putInt64(out, 16, h.lowestDiscernibleValue);
  putInt64(out, 24, h.highestTrackableValue);
  out.writeDoubleBE(1.0, 32); // integer to double conversion ratio
  return out.subarray(0, p);
}

/** V2 compressed encoding in base64, the form histograms take between processes and in results. */
export function encodeCompressedBase64(h: HdrHistogram): string {
  const compressed = deflateSync(encodeV2(h));
  const out = Buffer.allocUnsafe(8 + compressed.length);
  out.writeInt32BE(V2_COMPRESSED_COOKIE_BASE | WORD_SIZE_BITS, 0);
  out.writeInt32BE(compressed.length, 4);
  compressed.copy(out, 8);
  return out.toString('base64');
}

export function decodeCompressedBase64(s: string): HdrHistogram {
  const buf = Buffer.from(s.trim(), 'base64');
  if (buf.length < 8 || (buf.readInt32BE(0) & ~0xf0) !== V2_COMPRESSED_COOKIE_BASE) {
    throw new Error('not an HdrHistogram V2 compressed histogram (unknown cookie)');
  }
  const length = buf.readInt32BE(4);
  if (length < 0 || 8 + length > buf.length) {
    throw new Error(`truncated HdrHistogram: ${buf.length - 8} of ${length} compressed bytes`);
  }
  return decodeV2(inflateSync(buf.subarray(8, 8 + length)));
}

/**
 * Reads the uncompressed V2 encoding. Any layout HdrHistogram allows is accepted, with a lowest
 * discernible value below 2^32; the normalizing index offset and conversion ratio are ignored, as
 * every JavaScript decoder does (hdr-histogram-js writes 1 and an integer 1 there).
 */
export function decodeV2(buf: Uint8Array): HdrHistogram {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (b.length < HEADER_BYTES || (b.readInt32BE(0) & ~0xf0) !== V2_COOKIE_BASE) {
    throw new Error('not an HdrHistogram V2 encoding (unknown cookie)');
  }
  const payload = b.readInt32BE(4);
  const digits = b.readInt32BE(12);
  const lowest = getInt64(b, 16);
  const highest = Math.min(getInt64(b, 24), Number.MAX_SAFE_INTEGER);
  if (payload < 0 || HEADER_BYTES + payload > b.length) {
    throw new Error(`truncated HdrHistogram: ${b.length - HEADER_BYTES} of ${payload} payload bytes`);
  }
  const invalid = layoutError(lowest, highest, digits);
  if (invalid !== null) throw new Error(`unsupported HdrHistogram: ${invalid}`);
  const h = new HdrHistogram(lowest, highest, digits);
  const end = HEADER_BYTES + payload;
  // First pass: the slot after the last non-zero count, to allocate the counts once.
  let used = 0;
  let i = 0;
  pos = HEADER_BYTES;
  while (pos < end) {
    const v = getZigZag(b, end);
    if (v < 0) i -= v;
    else if (v > 0) used = ++i;
    else i++;
  }
  if (used > h.countsArrayLength) {
    throw new Error(
      `HdrHistogram counts reach slot ${used}, beyond the ${h.countsArrayLength} slots its header declares`,
    );
  }
  const counts = new Float64Array(used);
  i = 0;
  pos = HEADER_BYTES;
  while (pos < end && i < used) {
    const v = getZigZag(b, end);
    if (v < 0) i -= v;
    else counts[i++] = v;
  }
  h.loadCounts(counts);
  return h;
}

function putInt64(b: Buffer, at: number, v: number): void {
  b.writeUInt32BE(Math.floor(v / 4294967296), at);
  b.writeUInt32BE(v % 4294967296, at + 4);
}

/** A signed big-endian int64 as a number; values beyond 2^53 lose precision (callers clamp or refuse). */
function getInt64(b: Buffer, at: number): number {
  return b.readInt32BE(at) * 4294967296 + b.readUInt32BE(at + 4);
}

/** ZigZag, then LEB128 with seven bits per byte for eight bytes and all eight bits in a ninth. */
function putZigZag(b: Buffer, p: number, v: number): number {
  let z = v >= 0 ? v * 2 : -v * 2 - 1;
  for (let k = 0; k < 8; k++) {
    if (z < 0x80) {
      b[p++] = z;
      return p;
    }
    b[p++] = (z % 0x80) | 0x80;
    z = Math.floor(z / 0x80);
  }
  b[p++] = z;
  return p;
}

/** Read position of getZigZag: decoding is synchronous, so one cursor serves every call. */
let pos = 0;

function getZigZag(b: Buffer, end: number): number {
  let z = 0;
  let scale = 1;
  for (let k = 0; k < 8; k++) {
    if (pos >= end) throw new Error('truncated HdrHistogram payload');
    const x = b[pos++];
    z += (x & 0x7f) * scale;
    if (x < 0x80) return unZigZag(z);
    scale *= 0x80;
  }
  if (pos >= end) throw new Error('truncated HdrHistogram payload');
  z += b[pos++] * scale;
  return unZigZag(z);
}

function unZigZag(z: number): number {
  const v = z % 2 === 0 ? z / 2 : -(z + 1) / 2;
  if (v > Number.MAX_SAFE_INTEGER || v < -Number.MAX_SAFE_INTEGER) {
    throw new Error('HdrHistogram count beyond 2^53');
  }
  return v;
}
