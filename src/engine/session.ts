import type { Conn } from '../transports/transport.js';

// Session states, numeric so a session stays a small monomorphic object.
export const S_IDLE = 0; // not started yet
export const S_HTTP = 1; // started: running its HTTP steps or setup, or about to connect
export const S_CONNECTING = 2; // transport opening
export const S_AWAIT_FIRST = 3; // opened, waiting for the expected first message
export const S_OPEN = 4; // established and healthy
export const S_CLOSING = 5; // we asked it to close
export const S_DONE = 6; // closed after the step was measured
export const S_FAILED = 7; // failed; its class is recorded once
export const S_ENDING = 8; // ended by its own plan (lifetime or messages done): successful, closing
export const S_ENDED = 9; // ended by its own plan and closed

/**
 * One virtual user. No closures, no timers: the engine holds every schedule.
 *
 * Times start as -0, not 0: V8 types a field by its first value, and 0 (a small integer) makes the
 * field an integer one that the first performance.now() must widen to a double, deprecating the
 * shape of every session made before (all of them: they are made up front). Each one then
 * migrates on its next access and optimized code deopts on them again and again (seen: the
 * launch loop recompiled 25 times in one 10,000-session run). -0 is a double, and equals 0.
 */
export class Session implements Conn {
  handle: unknown = null;
  state = S_IDLE;
  /** performance.now() when the session started. */
  t0 = -0;
  /** performance.now() when it became open. */
  tOpen = -0;
  /** Variables captured by HTTP steps (null when the scenario has none). */
  vars: Record<string, string> | null = null;
  /** performance.now() of the last frame this session sent (the open handshake counts). */
  tSent = -0;
  /** The silence that the last send ended (ms): what the server saw if that send crossed its close. */
  gapPrev = -0;
  /** Next heartbeat due (performance.now() ms), or 0. */
  due = -0;
  heartbeats = 0;
  /** performance.now() of the last heartbeat awaiting a reply, or 0. */
  hbSent = -0;
  /** Session messages (scenario `session.messages`) sent or attempted so far. */
  msgCount = 0;
  /** Intended send time of the message awaiting its reply (performance.now() ms), or 0. */
  msgAt = -0;
  /** This session's entry in the message schedule (created on first use), or null. */
  msgEntry: { due: number; readonly s: Session } | null = null;

  constructor(readonly index: number) {}
}

export function isSettled(state: number): boolean {
  return state === S_OPEN || state >= S_CLOSING;
}
