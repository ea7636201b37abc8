import { randomFillSync } from 'node:crypto';
import { createRequire } from 'node:module';
import { isUtf8 } from 'node:buffer';

// RFC 6455 framing for a client: an encoder that masks every frame with a fresh key, and an
// incremental parser that works in place on the chunk it is given. The parser keeps bytes
// only while a frame is incomplete (a header fragment, or the payload received so far, collected
// as it arrives and capped by maxPayload, never sized by what a peer declares) and
// hands whole frames to a handler as subarrays of the chunk, so the handler must copy what it
// keeps. Its per-connection state lives on the caller's object (FrameState), so no parser
// object is made per connection.

export const OP_CONT = 0x0;
export const OP_TEXT = 0x1;
export const OP_BINARY = 0x2;
export const OP_CLOSE = 0x8;
export const OP_PING = 0x9;
export const OP_PONG = 0xa;

/** Close codes the client sends when the server breaks the protocol. */
export const CLOSE_PROTOCOL = 1002;
export const CLOSE_INVALID_DATA = 1007;
export const CLOSE_TOO_BIG = 1009;

// ------------------------------------------------------------------ masking

type MaskFn = (source: Buffer, mask: Buffer, output: Buffer, offset: number, length: number) => void;
type UnmaskFn = (buffer: Buffer, mask: Buffer) => void;

function loadBufferUtil(): { mask: MaskFn; unmask: UnmaskFn } | null {
  if (process.env.WS_NO_BUFFER_UTIL) return null; // the same switch as the `ws` library
  try {
    const bu = createRequire(import.meta.url)('bufferutil') as { mask?: MaskFn; unmask?: UnmaskFn };
    return typeof bu.mask === 'function' && typeof bu.unmask === 'function'
      ? { mask: bu.mask, unmask: bu.unmask }
      : null;
  } catch {
    return null;
  }
}

const native = loadBufferUtil();
/** Below this size a JS loop beats the call into native code (the `ws` library uses 48 too). */
const NATIVE_MIN = 48;

/** Whether masking uses bufferutil's native code for large payloads. */
export const maskIsNative = native !== null;

// Mask keys come from one pool of random bytes refilled in large blocks: one randomFillSync per
// 4,096 frames instead of one per frame. Every frame still gets a fresh unpredictable key.
const POOL_SIZE = 16 * 1024;
const pool = Buffer.allocUnsafe(POOL_SIZE);
let poolPos = POOL_SIZE;
const key = Buffer.allocUnsafe(4); // the current frame's key, for the native mask call

/** `n` (≤ 64) fresh random bytes from the pool, copied into `out` at `at`. */
export function randomInto(out: Buffer, at: number, n: number): void {
  if (poolPos + n > POOL_SIZE) {
    randomFillSync(pool);
    poolPos = 0;
  }
  for (let i = 0; i < n; i++) out[at + i] = pool[poolPos + i];
  poolPos += n;
}

// ------------------------------------------------------------------ encoding

/** Strings up to this many characters are tried as ASCII in JS before the UTF-8 encoder. */
const ASCII_MAX = 256;

/**
 * One frame as one Buffer: header, mask key and masked payload. Masking needs a copy of the
 * payload anyway, so header and payload always share a single buffer and a single write.
 * Strings are encoded straight into the frame (short ASCII ones by a JS loop that masks as
 * it goes, others as UTF-8 then masked in place).
 */
export function encodeFrame(op: number, data: string | Buffer, fin = true, masked = true): Buffer {
  if (typeof data !== 'string') return encodeBytes(op, data, fin, masked);
  if (data.length <= ASCII_MAX && isAscii(data)) return encodeAscii(op, data, fin, masked);
  return encodeUtf8(op, data, fin, masked);
}

/** A frame buffer with its header (and a fresh mask key) written; the payload goes last. */
function allocFrame(op: number, fin: boolean, len: number, masked: boolean): Buffer {
  const ext = len < 126 ? 0 : len < 65536 ? 2 : 8;
  const off = 2 + ext + (masked ? 4 : 0);
  const frame = Buffer.allocUnsafe(off + len);
  frame[0] = (fin ? 0x80 : 0) | op;
  if (ext === 0) frame[1] = len;
  else if (ext === 2) {
    frame[1] = 126;
    frame.writeUInt16BE(len, 2);
  } else {
    frame[1] = 127;
    frame.writeUInt32BE(Math.floor(len / 0x100000000), 2);
    frame.writeUInt32BE(len >>> 0, 6);
  }
  if (masked) {
    frame[1] |= 0x80;
    randomInto(frame, off - 4, 4);
  }
  return frame;
}

function encodeBytes(op: number, data: Buffer, fin: boolean, masked: boolean): Buffer {
  const len = data.length;
  const frame = allocFrame(op, fin, len, masked);
  const off = frame.length - len;
  if (!masked) data.copy(frame, off);
  else if (native !== null && len >= NATIVE_MIN) {
    loadKey(frame, off - 4);
    native.mask(data, key, frame, off, len);
  } else {
    const k = off - 4;
    for (let i = 0; i < len; i++) frame[off + i] = data[i] ^ frame[k + (i & 3)];
  }
  return frame;
}

function encodeAscii(op: number, s: string, fin: boolean, masked: boolean): Buffer {
  const len = s.length;
  const frame = allocFrame(op, fin, len, masked);
  const off = frame.length - len;
  if (masked) {
    const k = off - 4;
    for (let i = 0; i < len; i++) frame[off + i] = s.charCodeAt(i) ^ frame[k + (i & 3)];
  } else {
    for (let i = 0; i < len; i++) frame[off + i] = s.charCodeAt(i);
  }
  return frame;
}

function encodeUtf8(op: number, s: string, fin: boolean, masked: boolean): Buffer {
  const len = Buffer.byteLength(s);
  const frame = allocFrame(op, fin, len, masked);
  const off = frame.length - len;
  frame.write(s, off);
  if (!masked) return frame;
  if (native !== null && len >= NATIVE_MIN) {
    loadKey(frame, off - 4);
    native.unmask(frame.subarray(off), key); // XOR in place
  } else {
    const k = off - 4;
    for (let i = 0; i < len; i++) frame[off + i] ^= frame[k + (i & 3)];
  }
  return frame;
}

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
}

function loadKey(frame: Buffer, k: number): void {
  key[0] = frame[k];
  key[1] = frame[k + 1];
  key[2] = frame[k + 2];
  key[3] = frame[k + 3];
}

/** A close frame: the code (omitted for 1005, "no status") and an optional reason. */
export function encodeClose(code: number, reason = ''): Buffer {
  if (code === 1005) return encodeFrame(OP_CLOSE, EMPTY);
  const r = Buffer.byteLength(reason);
  const body = Buffer.allocUnsafe(2 + r);
  body.writeUInt16BE(code, 0);
  if (r > 0) body.write(reason, 2);
  return encodeFrame(OP_CLOSE, body);
}

const EMPTY = Buffer.alloc(0);

// ------------------------------------------------------------------ parsing

/** Parser state, held as fields of the connection's own state object. */
export interface FrameState {
  /** Bytes of an incomplete frame header (< 10 bytes), copied out of the chunk. */
  hdr: Buffer | null;
  /**
   * Payload of an incomplete frame: the bytes received so far (`payPos` of them), in a buffer
   * grown as they arrive, never past the declared `payLen`. A peer that declares a large frame
   * makes us hold only what it really sent.
   */
  pay: Buffer | null;
  payPos: number;
  payLen: number;
  payOp: number;
  payFin: boolean;
  /** Opcode of the fragmented message in progress, 0 when none. */
  fragOp: number;
  /** The fragments received so far (`fragLen` bytes), in one buffer grown like `pay`. */
  frag: Buffer | null;
  fragLen: number;
}

/** Puts the parser fields back to "between frames, no message in progress". */
export function resetFrameState(st: FrameState): void {
  st.hdr = null;
  st.pay = null;
  st.payPos = 0;
  st.payLen = 0;
  st.payOp = 0;
  st.payFin = false;
  st.fragOp = 0;
  st.frag = null;
  st.fragLen = 0;
}

/** Bytes the parser holds for this connection (partial header, frame and message buffers). */
export function frameBytesHeld(st: FrameState): number {
  return (st.hdr?.length ?? 0) + (st.pay?.length ?? 0) + (st.frag?.length ?? 0);
}

/** Default cap on one message, fragments included: larger ones close the connection with 1009. */
export const DEFAULT_MAX_MESSAGE = 16 * 1024 * 1024;

/** First size of a buffer that collects a frame or message arriving in pieces. */
const GROW_MIN = 16 * 1024;

/**
 * `buf` (holding `used` bytes) with room for `need`, reallocated to at least twice its size
 * but never past `limit` (need ≤ limit): amortised linear copying, at most twice what arrived.
 */
function room(buf: Buffer | null, used: number, need: number, limit: number): Buffer {
  if (buf !== null && buf.length >= need) return buf;
  // A first fragment gets its own size; a frame arriving in pieces starts at GROW_MIN.
  const size = Math.min(limit, Math.max(need, buf === null ? 0 : Math.max(GROW_MIN, buf.length * 2)));
  const next = Buffer.allocUnsafe(size);
  if (buf !== null) buf.copy(next, 0, 0, used);
  return next;
}

/**
 * What the parser calls. Buffers are valid only during the call. Each method but `error`
 * returns whether to go on parsing (false once the connection is finished).
 */
export interface FrameHandler<T> {
  message(st: T, data: Buffer, binary: boolean): boolean;
  ping(st: T, payload: Buffer): boolean;
  pong(st: T, payload: Buffer): boolean;
  /** A close frame: `code` is 1005 when it carried none. */
  close(st: T, code: number, reason: string): boolean;
  /** The server broke the protocol: `closeCode` is the code to close with. */
  error(st: T, closeCode: number, detail: string): void;
}

// The header being decoded, in module scope: parsing is synchronous, so no object per frame.
let hFin = false;
let hOp = 0;
let hLen = 0;
let hErrCode = 0;
let hErr = '';

/** Length of the header at b[o, end), 0 if incomplete, -1 on a violation (hErrCode, hErr). */
function decodeHeader(b: Buffer, o: number, end: number): number {
  if (end - o < 2) return 0;
  const b0 = b[o];
  const b1 = b[o + 1];
  hFin = (b0 & 0x80) !== 0;
  hOp = b0 & 0x0f;
  if ((b0 & 0x70) !== 0) return violation(CLOSE_PROTOCOL, 'reserved bits set without an extension');
  if ((b1 & 0x80) !== 0) return violation(CLOSE_PROTOCOL, 'masked frame from the server');
  if (hOp >= 8) {
    if (hOp > OP_PONG) return violation(CLOSE_PROTOCOL, `invalid opcode ${hOp}`);
    if (!hFin) return violation(CLOSE_PROTOCOL, 'fragmented control frame');
    if ((b1 & 0x7f) > 125) return violation(CLOSE_PROTOCOL, 'control frame over 125 bytes');
  } else if (hOp > OP_BINARY) return violation(CLOSE_PROTOCOL, `invalid opcode ${hOp}`);
  const l = b1 & 0x7f;
  if (l < 126) {
    hLen = l;
    return 2;
  }
  if (l === 126) {
    if (end - o < 4) return 0;
    hLen = b.readUInt16BE(o + 2);
    return 4;
  }
  if (end - o < 10) return 0;
  const hi = b.readUInt32BE(o + 2);
  if (hi > 0x1fffff) return violation(CLOSE_TOO_BIG, 'frame length over 2^53 - 1');
  hLen = hi * 0x100000000 + b.readUInt32BE(o + 6);
  return 10;
}

function violation(code: number, detail: string): number {
  hErrCode = code;
  hErr = detail;
  return -1;
}

/** Parses `chunk[start, end)`; whole frames go to `h` as they complete. */
export function parseFrames<T extends FrameState>(
  st: T,
  chunk: Buffer,
  start: number,
  end: number,
  maxPayload: number,
  h: FrameHandler<T>,
): void {
  let i = start;
  for (;;) {
    if (st.pay !== null) {
      const n = Math.min(st.payLen - st.payPos, end - i);
      const pay = room(st.pay, st.payPos, st.payPos + n, st.payLen);
      chunk.copy(pay, st.payPos, i, i + n);
      st.pay = pay;
      st.payPos += n;
      i += n;
      if (st.payPos < st.payLen) return;
      st.pay = null;
      if (!onFrame(st, st.payOp, st.payFin, pay.subarray(0, st.payLen), maxPayload, h)) return;
      continue;
    }
    if (i >= end) return;
    // A header, possibly continuing one cut by the previous chunk.
    let hl: number;
    if (st.hdr !== null) {
      const prev = st.hdr.length;
      const tmp = Buffer.concat([st.hdr, chunk.subarray(i, Math.min(end, i + 10))]);
      hl = decodeHeader(tmp, 0, tmp.length);
      if (hl === 0) {
        st.hdr = tmp; // the whole rest of the chunk was shorter than the header
        return;
      }
      st.hdr = null;
      if (hl > 0) i += hl - prev;
    } else {
      hl = decodeHeader(chunk, i, end);
      if (hl === 0) {
        st.hdr = Buffer.from(chunk.subarray(i, end));
        return;
      }
      if (hl > 0) i += hl;
    }
    if (hl < 0) return h.error(st, hErrCode, hErr);
    const op = hOp;
    const fin = hFin;
    const len = hLen;
    if (op === OP_CONT) {
      if (st.fragOp === 0) return h.error(st, CLOSE_PROTOCOL, 'continuation frame without a message');
    } else if (op < 8 && st.fragOp !== 0) {
      return h.error(st, CLOSE_PROTOCOL, 'new message inside a fragmented one');
    }
    if (op < 8 && len > maxPayload - st.fragLen) {
      return h.error(st, CLOSE_TOO_BIG, `message over maxPayload (${maxPayload} bytes)`);
    }
    if (end - i >= len) {
      // The common case: the whole frame is in this chunk, handed on as a view (no copy).
      const payload = chunk.subarray(i, i + len);
      i += len;
      if (!onFrame(st, op, fin, payload, maxPayload, h)) return;
    } else {
      st.pay = EMPTY; // grown by the branch above as the payload arrives
      st.payPos = 0;
      st.payLen = len;
      st.payOp = op;
      st.payFin = fin;
    }
  }
}

/** One whole frame; its payload may be a view of the chunk, valid only during the call. */
function onFrame<T extends FrameState>(
  st: T,
  op: number,
  fin: boolean,
  payload: Buffer,
  maxPayload: number,
  h: FrameHandler<T>,
): boolean {
  if (op === OP_TEXT || op === OP_BINARY) {
    if (fin) return deliver(st, op, payload, h);
    st.fragOp = op;
    st.fragLen = 0;
    appendFragment(st, payload, maxPayload);
    return true;
  }
  if (op === OP_CONT) {
    appendFragment(st, payload, maxPayload);
    if (!fin) return true;
    const whole = st.frag!.subarray(0, st.fragLen);
    const fop = st.fragOp;
    st.fragOp = 0;
    st.frag = null;
    st.fragLen = 0;
    return deliver(st, fop, whole, h);
  }
  if (op === OP_PING) return h.ping(st, payload);
  if (op === OP_PONG) return h.pong(st, payload);
  // OP_CLOSE
  if (payload.length === 0) return h.close(st, 1005, '');
  if (payload.length === 1) return fail(st, h, CLOSE_PROTOCOL, 'close frame with a 1-byte body');
  const code = payload.readUInt16BE(0);
  if (!isValidCloseCode(code)) return fail(st, h, CLOSE_PROTOCOL, `invalid close code ${code}`);
  const reason = payload.subarray(2);
  if (!isUtf8(reason)) return fail(st, h, CLOSE_INVALID_DATA, 'invalid UTF-8 in the close reason');
  return h.close(st, code, reason.toString());
}

/** The header check keeps fragLen + payload ≤ maxPayload, so the buffer stays within the cap. */
function appendFragment(st: FrameState, payload: Buffer, maxPayload: number): void {
  const need = st.fragLen + payload.length;
  const frag = room(st.frag, st.fragLen, need, maxPayload);
  payload.copy(frag, st.fragLen);
  st.frag = frag;
  st.fragLen = need;
}

function deliver<T extends FrameState>(st: T, op: number, data: Buffer, h: FrameHandler<T>): boolean {
  if (op === OP_TEXT && !isUtf8(data))
    return fail(st, h, CLOSE_INVALID_DATA, 'invalid UTF-8 in a text message');
  return h.message(st, data, op === OP_BINARY);
}

function fail<T>(st: T, h: FrameHandler<T>, code: number, detail: string): false {
  h.error(st, code, detail);
  return false;
}

/** Close codes a peer may send (RFC 6455 7.4, with the IANA registry up to 1014). */
export function isValidCloseCode(code: number): boolean {
  return (
    (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) ||
    (code >= 3000 && code <= 4999)
  );
}
