// How many tasks (containers, pods, machines) hold a target number of connections, given what one
// task holds. Pure arithmetic, kept apart so `holdline plan` and the capacity verdict agree.

import type { TaskRow } from '../contract.js';

export type { TaskRow } from '../contract.js';

/** Decimal places kept before rounding up: 10000 / 2000 * 1.2 is 6.000000000000001 in binary floating point. */
const DECIMALS = 9;

function roundTo(x: number, decimals: number): number {
  return Number(x.toFixed(decimals));
}

function check(target: number, perTask: number, buffer: number): void {
  if (!Number.isFinite(target) || target < 0)
    throw new RangeError(`target must be a number ≥ 0, got ${target}`);
  if (!Number.isFinite(perTask) || perTask <= 0)
    throw new RangeError(`per-task capacity must be a number > 0, got ${perTask}`);
  if (!Number.isFinite(buffer) || buffer < 0)
    throw new RangeError(`buffer must be a fraction ≥ 0, got ${buffer}`);
}

/** Tasks in exact arithmetic: target / perTask × (1 + buffer), with float noise removed. */
export function exactTasks(target: number, perTask: number, buffer = 0.2): number {
  check(target, perTask, buffer);
  return roundTo((target / perTask) * (1 + buffer), DECIMALS);
}

/** ceil(target / perTask × (1 + buffer)); buffer 0.2 = 20% headroom. */
export function tasksNeeded(target: number, perTask: number, buffer = 0.2): number {
  return Math.ceil(exactTasks(target, perTask, buffer));
}

export function taskRow(target: number, perTask: number, buffer = 0.2): TaskRow {
  const exact = exactTasks(target, perTask, buffer);
  const tasks = Math.ceil(exact);
  return {
    target,
    perTask,
    buffer,
    base: roundTo(target / perTask, DECIMALS),
    exact,
    tasks,
    capacity: tasks * perTask,
  };
}

/** One row per target, in the order given. */
export function taskTable(targets: number[], perTask: number, buffer = 0.2): TaskRow[] {
  return targets.map((t) => taskRow(t, perTask, buffer));
}
