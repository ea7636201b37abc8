import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exactTasks, taskRow, taskTable, tasksNeeded } from '../../src/plans/tasks.js';

test('10,000 at 2,000 per task with 20% is exactly 6, not 7', () => {
  assert.equal(tasksNeeded(10000, 2000, 0.2), 6);
  assert.equal(tasksNeeded(10000, 2000), 6);
  assert.equal(exactTasks(10000, 2000, 0.2), 6);
});

test('float noise above a whole number does not add a task', () => {
  // In binary floating point these land just above the whole number; a bare ceil adds one.
  assert.equal((100000 / 2000) * 1.1, 55.00000000000001);
  assert.equal(tasksNeeded(100000, 2000, 0.1), 55);
  assert.equal((10000 / 100) * 1.1, 110.00000000000001);
  assert.equal(tasksNeeded(10000, 100, 0.1), 110);
  assert.equal(tasksNeeded(10000, 100, 0.15), 115); // 114.99999999999999
  assert.equal(tasksNeeded(300, 100, 0.1), 4); // 3.3 → 4
  assert.equal(tasksNeeded(7000, 1000, 0.3), 10); // 9.1 → 10
  assert.equal(tasksNeeded(100000, 2000, 0.2), 60);
});

test('exact multiples and buffer 0', () => {
  assert.equal(tasksNeeded(10000, 2000, 0), 5);
  assert.equal(tasksNeeded(10001, 2000, 0), 6);
  assert.equal(tasksNeeded(9999, 2000, 0), 5);
  assert.equal(tasksNeeded(2000, 2000, 0), 1);
  assert.equal(tasksNeeded(0, 2000), 0);
  assert.equal(tasksNeeded(1, 2000), 1);
});

test('buffers scale the count', () => {
  assert.equal(tasksNeeded(10000, 2000, 0.5), 8); // 7.5 → 8
  assert.equal(tasksNeeded(10000, 2000, 1), 10);
  assert.equal(tasksNeeded(10000, 1500, 0.2), 8); // 8.0000… → 8
  assert.equal(tasksNeeded(10000, 1499, 0.2), 9); // 8.005… → 9
});

test('a row shows the arithmetic; the table keeps the order given', () => {
  assert.deepEqual(taskRow(10000, 2000, 0.2), {
    target: 10000,
    perTask: 2000,
    buffer: 0.2,
    base: 5,
    exact: 6,
    tasks: 6,
    capacity: 12000,
  });
  const rows = taskTable([1000, 10000, 100000], 2000, 0.2);
  assert.deepEqual(
    rows.map((r) => [r.target, r.exact, r.tasks]),
    [
      [1000, 0.6, 1],
      [10000, 6, 6],
      [100000, 60, 60],
    ],
  );
});

test('bad inputs are refused', () => {
  assert.throws(() => tasksNeeded(1000, 0), RangeError);
  assert.throws(() => tasksNeeded(1000, -5), RangeError);
  assert.throws(() => tasksNeeded(-1, 10), RangeError);
  assert.throws(() => tasksNeeded(1000, 10, -0.1), RangeError);
  assert.throws(() => tasksNeeded(Number.NaN, 10), RangeError);
});
