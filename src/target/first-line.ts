import type { Socket } from 'node:net';
import type { TargetStats } from './stats.js';

// A connection's first bytes, looked at before Node's parser has a request: blank lines only, or
// a request line without a version (HTTP/0.9), would otherwise hold the socket until the
// headers timeout. Both are cut at once with a 400. The listener goes away at the first byte
// that is not a line end, so it costs one call per connection.

/** RFC 9112 §2.2 asks servers to ignore at least one empty line before the request line. */
const MAX_BLANK_BYTES = 8;
const HTTP_VERSION = Buffer.from(' HTTP/');
const BAD_REQUEST = 'HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n';

const kWatch = Symbol('holdline.target.firstLine');
type Watched = Socket & { [kWatch]?: { stats: TargetStats; blank: number } };

export function watchFirstLine(socket: Socket, stats: TargetStats): void {
  (socket as Watched)[kWatch] = { stats, blank: 0 };
  socket.on('data', onFirstData);
}

function onFirstData(this: Watched, chunk: Buffer): void {
  const w = this[kWatch]!;
  let i = 0;
  while (i < chunk.length && (chunk[i] === 0x0d || chunk[i] === 0x0a)) i++;
  w.blank += i;
  if (i === chunk.length) {
    if (w.blank > MAX_BLANK_BYTES) cut(this, w.stats);
    return;
  }
  stop(this);
  const lf = chunk.indexOf(0x0a, i);
  // A line that goes on in the next chunk is the parser's (and its timeout's) to judge.
  if (lf >= 0 && chunk.subarray(i, lf).indexOf(HTTP_VERSION) < 0) cut(this, w.stats);
}

function stop(socket: Watched): void {
  socket.removeListener('data', onFirstData);
  socket[kWatch] = undefined;
}

function cut(socket: Watched, stats: TargetStats): void {
  stop(socket);
  stats.rejected.bad_http++;
  if (socket.writable) socket.end(BAD_REQUEST);
  socket.destroySoon();
}
