import type { IntervalSnapshot, StepResult, StepSpec } from '../contract.js';
import { Engine, type EngineOptions } from '../engine/engine.js';
import type { Fleet } from './fleet.js';

const SNAPSHOT_MS = 1000;

/** A fleet of one: the engine runs in this process. */
export class LocalFleet implements Fleet {
  readonly workers = 1;

  constructor(private readonly opts: EngineOptions) {}

  async runStep(
    spec: StepSpec,
    onSnapshot: (s: IntervalSnapshot) => void,
    signal: AbortSignal,
  ): Promise<StepResult> {
    const engine = new Engine(
      { spec, worker: 0, workers: 1, firstSession: 0, sessions: spec.sessions },
      this.opts,
    );
    const tick = setInterval(() => onSnapshot(engine.snapshot()), SNAPSHOT_MS);
    try {
      await engine.run(signal);
    } finally {
      clearInterval(tick);
    }
    onSnapshot(engine.snapshot()); // the last partial interval: totals must add up
    const result = engine.result();
    await engine.close();
    // Destroyed sockets give their descriptors back on the next loop turns: let them, so the
    // result file can be written even after a step that used every descriptor.
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    return result;
  }

  async close(): Promise<void> {}
}
