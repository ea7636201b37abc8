import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Ticker } from '../../src/engine/ticker.js';

interface E {
  due: number;
  id: number;
  fired: number;
  at: number[];
}

test('every entry fires once per schedule, never early, including re-adds and far entries', async () => {
  const t0 = performance.now();
  const entries: E[] = [];
  let fired = 0;
  let early = 0;
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));
  const total = 1000 * 3 + 1;
  const ticker = new Ticker<E>(
    (e, now) => {
      if (now < e.due) early++;
      e.fired++;
      e.at.push(now);
      fired++;
      if (e.id >= 0 && e.fired < 3) {
        e.due += 40;
        ticker.add(e);
      }
      if (fired === total) resolveDone();
    },
    5,
    500,
  );
  for (let i = 0; i < 1000; i++) {
    const e: E = { due: t0 + (i % 100) * 2, id: i, fired: 0, at: [] };
    entries.push(e);
    ticker.add(e);
  }
  // Beyond the horizon: held in overflow, then fired on time.
  const far: E = { due: t0 + 700, id: -1, fired: 0, at: [] };
  ticker.add(far);
  await done;
  assert.equal(early, 0);
  assert.ok(entries.every((e) => e.fired === 3));
  assert.equal(far.fired, 1);
  assert.ok(far.at[0] >= t0 + 700);
  assert.equal(ticker.pending, 0);
  ticker.clear();
});
