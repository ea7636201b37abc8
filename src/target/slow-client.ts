// Dropping a client that stopped reading, in O(1): its queue is bounded in bytes and in queued
// writes, and it is destroyed once, with one shared error. Destroyed without an error, a stream
// builds one ERR_STREAM_DESTROYED (with its stack) per queued write, which froze the target for
// seconds when thousands of non-reading clients were dropped at once.

/**
 * Messages queued for one client since its buffer was last empty, at most (then it is dropped).
 * Each queued write is a heap object: 2,000 clients × 4,096 writes made GC pauses of 0.5 s.
 */
export const MAX_QUEUED_WRITES = 1024;

/** The one error every dropped socket is destroyed with (no stack built per client). */
export const SLOW_CLIENT: Error = Object.assign(new Error('client not reading: dropped'), {
  code: 'HOLDLINE_SLOW_CLIENT',
});

/** Per-client count of writes queued since the buffer was last empty. */
export interface QueueState {
  queued: number;
}

interface SocketLike {
  readonly writableNeedDrain: boolean;
  destroy(err?: Error): unknown;
}

/**
 * Call after each write: true when the client must be dropped (more than `maxBytes` waiting, or
 * more than MAX_QUEUED_WRITES writes since its buffer was last empty). `bytes` is what waits.
 */
export function overQueued(q: QueueState, socket: SocketLike, bytes: number, maxBytes: number): boolean {
  if (bytes > maxBytes) return true;
  // needDrain stays set from the write that filled the buffer until the buffer is empty again.
  if (!socket.writableNeedDrain) {
    q.queued = 0;
    return false;
  }
  return ++q.queued > MAX_QUEUED_WRITES;
}

/** Drops the client: one destroy, with the shared error. */
export function dropSlow(socket: SocketLike | null | undefined): void {
  socket?.destroy(SLOW_CLIENT);
}
