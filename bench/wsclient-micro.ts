// Micro benchmark of the lean WebSocket client's framing: frames per second encoded (masked,
// as the client sends them) and parsed (unmasked, as a server sends them), by payload size.
//   node dist/bench/wsclient-micro.js [--ms 500]
// Prints one JSON line per case. Masking uses bufferutil when it loads (maskIsNative).
import {
  encodeFrame,
  maskIsNative,
  OP_BINARY,
  OP_TEXT,
  parseFrames,
  type FrameHandler,
  type FrameState,
} from '../src/transports/ws-frame.js';

const msArg = process.argv.indexOf('--ms');
const MS = msArg > 0 ? Number(process.argv[msArg + 1]) : 500;

/** Runs `fn` in rounds for about MS milliseconds; returns operations per second. */
function rate(fn: () => number): number {
  for (let i = 0; i < 3; i++) fn(); // warm up
  let ops = 0;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < MS) {
    ops += fn();
    t = performance.now();
  }
  return (ops / (t - t0)) * 1000;
}

const st: FrameState = {
  hdr: null,
  pay: null,
  payPos: 0,
  payLen: 0,
  payOp: 0,
  payFin: false,
  fragOp: 0,
  frag: null,
  fragLen: 0,
};
let received = 0;
const counter: FrameHandler<FrameState> = {
  message: () => (received++, true),
  ping: () => true,
  pong: () => true,
  close: () => false,
  error: (_s, code, detail) => {
    throw new Error(`${code} ${detail}`);
  },
};

for (const size of [16, 125, 1024, 16 * 1024, 64 * 1024]) {
  const text = 'x'.repeat(size);
  const bin = Buffer.alloc(size, 7);
  const perRound = Math.max(1, Math.floor((256 * 1024) / (size + 16)));
  const encText = rate(() => {
    for (let i = 0; i < perRound; i++) encodeFrame(OP_TEXT, text);
    return perRound;
  });
  const encBin = rate(() => {
    for (let i = 0; i < perRound; i++) encodeFrame(OP_BINARY, bin);
    return perRound;
  });
  // A chunk of whole server frames, parsed in place; text is UTF-8 checked.
  const one = encodeFrame(OP_TEXT, text, true, false);
  const chunk = Buffer.concat(Array.from({ length: perRound }, () => one));
  const parse = rate(() => {
    parseFrames(st, chunk, 0, chunk.length, 1 << 26, counter);
    return perRound;
  });
  // The same stream cut into 1,500-byte reads: headers and payloads split across chunks.
  const cuts: Buffer[] = [];
  for (let o = 0; o < chunk.length; o += 1500) cuts.push(chunk.subarray(o, o + 1500));
  const parseSplit = rate(() => {
    for (const c of cuts) parseFrames(st, c, 0, c.length, 1 << 26, counter);
    return perRound;
  });
  console.log(
    JSON.stringify({
      bench: 'ws-frame',
      size,
      nativeMask: maskIsNative,
      encodeTextPerSec: Math.round(encText),
      encodeBinaryPerSec: Math.round(encBin),
      parsePerSec: Math.round(parse),
      parseSplitPerSec: Math.round(parseSplit),
    }),
  );
}
if (received === 0) throw new Error('nothing parsed');
