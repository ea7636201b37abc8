// The library API: the reference target, the plan runner and the capacity plan, and the plain
// data types that cross layers and processes.

export { startTarget, type RunningTarget, type StartTargetExtras } from './target/server.js';
export { spawnTarget, type SpawnTargetOptions, type SpawnedTarget } from './target/spawn.js';
export type { TargetOptions } from './target/options.js';
export type { TargetStatsSnapshot } from './target/stats.js';
export type { Bus, BusHandler, BusHealth } from './target/bus.js';

export { runPlan, type RunOptions } from './run.js';
export { CapacityPlan, type CapacityPlanOptions } from './plans/capacity.js';

export type * from './contract.js';
