import type { StepResult, StepShard } from '../contract.js';
import type { Recorder } from '../metrics/recorder.js';
import type { Session } from './session.js';
import type { Ticker } from './ticker.js';

/**
 * What an engine offers a plan-specific extension (broadcast receipts, chat load messaging). The
 * core engine opens, holds, measures and closes sessions; extensions add what a plan needs on top
 * without changing it.
 */
export interface EngineApi {
  readonly shard: StepShard;
  readonly sessions: readonly Session[];
  readonly recorder: Recorder;
  readonly env: Record<string, string | undefined>;
  /** Variables every template can use (baseUrl, wsBaseUrl, worker, scenario vars). */
  readonly vars: Readonly<Record<string, string>>;
  /** performance.now() when the step started. */
  readonly tStart: number;
  /** Sends one message on an open session; counts it (msgsSent, bytesSent). False when it could not. */
  send(s: Session, data: string | Buffer): boolean;
  isOpen(s: Session): boolean;
  /** A ticker of the extension's own entries (one timer per process). */
  ticker<T extends { due: number }>(fire: (entry: T, now: number) => void, resolutionMs?: number): Ticker<T>;
  /** Ends the hold now: the step is measured and closed (e.g. every code published and collected). */
  endHold(): void;
}

export interface StepExtension {
  /** Before the first session starts (e.g. create groups over HTTP). A rejection fails the step. */
  prepare?(signal: AbortSignal): Promise<void>;
  /** A session became established (after the expected first message, if any). */
  opened?(s: Session, now: number): void;
  /** Every message received on an established session (the buffer may be reused: copy to keep). */
  message?(s: Session, data: Buffer, isBinary: boolean, now: number): void;
  /** An established session closed or failed before the step was measured. */
  lost?(s: Session, now: number): void;
  /** Establishment is over (every session settled, or the deadline passed); the hold begins. */
  holdStart?(now: number): void;
  /** The hold is over; sessions are about to be closed. */
  measure?(now: number): void;
  /** Adds the extension's findings to the step result (`ext`). */
  finish?(r: StepResult): void;
  /** Releases timers, HTTP clients. */
  close?(): Promise<void> | void;
}

export type ExtensionFactory = (api: EngineApi) => StepExtension;
